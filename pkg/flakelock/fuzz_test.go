package flakelock

import (
	"os"
	"path/filepath"
	"slices"
	"testing"
	"unicode/utf8"
)

// seedLocks are the fuzz seeds: real locks from testdata/locks and the
// hand-written shapes of the table tests.
func seedLocks(t testing.TB) [][]byte {
	files, err := filepath.Glob("testdata/locks/*.lock")
	if err != nil || len(files) == 0 {
		t.Fatalf("no seed locks: %v", err)
	}
	var seeds [][]byte
	for _, f := range files {
		data, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		seeds = append(seeds, data)
	}
	for _, s := range []string{
		fleetLock,
		lockJSON(5, `"n": {"info": {"lastModified": 5, "narHash": "`+hash+`"}, "locked": {"type": "github", "owner": "o", "repo": "r", "rev": "`+revA+`"}, "original": {"type": "indirect", "id": "n"}}, "root": {"inputs": {"n": "n"}}`),
		lockJSON(6, `"a": {`+ghNode("a", revA, 1, `"b": ["c", "d"]`)+`}, "c": {`+ghNode("c", revB, 1, `"d": ["a"]`)+`}, "root": {"inputs": {"a": "a", "c": "c", "e": []}}`),
		lockJSON(7, `"root": {"inputs": {"p": ["q"], "q": ["p"]}}`),
		lockJSON(7, `"t": {"locked": {"narHash": "`+hash+`", "type": "tarball", "url": "https://x/y.tar.gz?a=%2F&b"}, "original": {"type": "tarball", "url": "https://x/y.tar.gz"}}, "root": {"inputs": {"t": "t"}}`),
	} {
		seeds = append(seeds, []byte(s))
	}
	return seeds
}

// checkLock exercises everything a parsed lock offers and checks the
// invariants that hold for any lock: no panics, and no changes against itself.
func checkLock(t *testing.T, l *Lock) {
	ins, err := l.Inputs()
	if _, derr := Diff(l, l); (err == nil) != (derr == nil) {
		t.Fatalf("Inputs error %v but Diff(l, l) error %v", err, derr)
	}
	if err != nil {
		return
	}
	for p, in := range ins {
		if in.Path != p {
			t.Fatalf("Inputs[%q].Path = %q", p, in.Path)
		}
		if in.IsFollows() != in.Locked.IsZero() {
			t.Fatalf("input %q: follows %v but locked %+v", p, in.Follows, in.Locked)
		}
		if l.Nodes[in.Node] == nil {
			t.Fatalf("input %q: node %q does not exist", p, in.Node)
		}
		r := in.Locked
		_, _, _, _ = r.String(), r.LegacyString(), r.Short(), r.ShortRev()
		_ = r.CompareURL(r)
		if !in.IsFollows() && r.String() == "" {
			t.Fatalf("input %q prints as nothing", p)
		}
	}
	changes, err := Diff(l, l)
	if err != nil || len(changes) != 0 {
		t.Fatalf("Diff(l, l) = %v, %v", changes, err)
	}
	if _, err := l.KeyInputs(); err != nil {
		t.Fatalf("KeyInputs: %v", err)
	}
}

func FuzzParse(f *testing.F) {
	for _, s := range seedLocks(f) {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		l, err := Parse(data)
		if err != nil {
			if l != nil {
				t.Fatalf("Parse returned a lock and an error")
			}
			return
		}
		checkLock(t, l)
	})
}

func FuzzDiff(f *testing.F) {
	seeds := seedLocks(f)
	for i, a := range seeds {
		for j, b := range seeds {
			if i != j {
				f.Add(a, b)
			}
		}
	}
	f.Fuzz(func(t *testing.T, a, b []byte) {
		la, err := Parse(a)
		if err != nil {
			return
		}
		lb, err := Parse(b)
		if err != nil {
			return
		}
		fwd, err := Diff(la, lb)
		if err != nil {
			return
		}
		back, err := Diff(lb, la)
		if err != nil {
			t.Fatalf("Diff(a, b) works but Diff(b, a) fails: %v", err)
		}
		if !slices.IsSortedFunc(fwd, func(x, y Change) int { return comparePaths(x.Path, y.Path) }) {
			t.Fatalf("changes not sorted")
		}
		if len(fwd) != len(back) {
			t.Fatalf("Diff(a, b) has %d changes, Diff(b, a) %d", len(fwd), len(back))
		}
		mirror := map[string]string{Added: Removed, Removed: Added, Updated: Updated}
		for i, c := range fwd {
			if i > 0 && fwd[i-1].Path == c.Path {
				t.Fatalf("input %q listed twice", c.Path)
			}
			if back[i].Path != c.Path || back[i].Kind != mirror[c.Kind] {
				t.Fatalf("Diff(b, a)[%d] = %s %s, want %s %s", i, back[i].Kind, back[i].Path, mirror[c.Kind], c.Path)
			}
			switch c.Kind {
			case Added:
				if !c.From.IsZero() || c.FromFollows != nil {
					t.Fatalf("added %q has an old side", c.Path)
				}
			case Removed:
				if !c.To.IsZero() || c.ToFollows != nil {
					t.Fatalf("removed %q has a new side", c.Path)
				}
			case Updated:
				if (c.From.IsZero() == (c.FromFollows == nil)) || (c.To.IsZero() == (c.ToFollows == nil)) {
					t.Fatalf("updated %q lacks a side: %+v", c.Path, c)
				}
			default:
				t.Fatalf("kind %q", c.Kind)
			}
			_ = c.JSON()
		}
		if s := Summary(fwd); utf8.RuneCountInString(s) > SummaryMax {
			t.Fatalf("Summary too long: %q", s)
		}
		_ = Body(fwd)
	})
}
