package flakelock

import (
	"bufio"
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"testing"
)

// corpusDir holds real flake.lock updates with the change list Nix wrote
// for each (see its README).
const corpusDir = "../../../shared/corpus/flake-lock-updates"

// corpusCases lists the case folders, skipping the test when the corpus
// is not there (it lives outside the module), except in CI.
func corpusCases(t testing.TB) []string {
	t.Helper()
	entries, err := os.ReadDir(corpusDir)
	if err != nil {
		if os.Getenv("CI") != "" {
			t.Fatalf("corpus missing: %v", err)
		}
		t.Skipf("corpus not available: %v", err)
	}
	var dirs []string
	for _, e := range entries {
		if e.IsDir() {
			dirs = append(dirs, e.Name())
		}
	}
	if len(dirs) == 0 {
		t.Fatalf("no cases in %s", corpusDir)
	}
	return dirs
}

// nixEvent is one "• … input" entry of a Nix change list. From and To are
// Nix's text for each side: "'<url>' (<date>)", "'<url>'" or "follows '<path>'".
type nixEvent struct {
	Path, Kind, From, To string
}

// parseChangelog reads the entries of Nix's "Flake lock file updates:"
// lists in text; other lines (subjects, trailers, other tools' notes) are
// ignored.
func parseChangelog(text string) ([]nixEvent, error) {
	var events []nixEvent
	var lines []string
	sc := bufio.NewScanner(strings.NewReader(text))
	for sc.Scan() {
		lines = append(lines, strings.TrimRight(sc.Text(), "\r"))
	}
	quoted := func(s, prefix, suffix string) (string, bool) {
		if !strings.HasPrefix(s, prefix) || !strings.HasSuffix(s, suffix) {
			return "", false
		}
		return s[len(prefix) : len(s)-len(suffix)], true
	}
	next := func(i int, prefix string) (string, error) {
		if i >= len(lines) || !strings.HasPrefix(lines[i], prefix) {
			return "", fmt.Errorf("line %d: want a line starting %q after the entry", i+1, prefix)
		}
		return strings.TrimPrefix(lines[i], prefix), nil
	}
	for i := 0; i < len(lines); i++ {
		line := lines[i]
		if name, ok := quoted(line, "• Updated input '", "':"); ok {
			from, err := next(i+1, "    ")
			if err != nil {
				return nil, err
			}
			to, err := next(i+2, "  → ")
			if err != nil {
				return nil, err
			}
			events = append(events, nixEvent{Path: name, Kind: Updated, From: from, To: to})
			i += 2
		} else if name, ok := quoted(line, "• Added input '", "':"); ok {
			to, err := next(i+1, "    ")
			if err != nil {
				return nil, err
			}
			events = append(events, nixEvent{Path: name, Kind: Added, To: to})
			i++
		} else if name, ok := quoted(line, "• Removed input '", "'"); ok {
			events = append(events, nixEvent{Path: name, Kind: Removed})
		} else if strings.HasPrefix(line, "• ") {
			return nil, fmt.Errorf("line %d: unknown entry %q", i+1, line)
		}
	}
	return events, nil
}

// netEvents folds the entries per input. A message may hold several Nix
// lists when commits were squashed (case 050 has three srvos updates, one
// of them from a parallel branch): the net update starts at the first
// entry's old version and follows the chain of old → new links from there.
func netEvents(events []nixEvent) (map[string]nixEvent, error) {
	byPath := map[string][]nixEvent{}
	var order []string
	for _, e := range events {
		if _, ok := byPath[e.Path]; !ok {
			order = append(order, e.Path)
		}
		byPath[e.Path] = append(byPath[e.Path], e)
	}
	net := map[string]nixEvent{}
	for _, p := range order {
		es := byPath[p]
		if len(es) == 1 {
			net[p] = es[0]
			continue
		}
		for _, e := range es {
			if e.Kind != Updated {
				return nil, fmt.Errorf("input %q: cannot fold %d entries that are not all updates", p, len(es))
			}
		}
		cur, used := es[0].To, map[int]bool{0: true}
		for moved := true; moved; {
			moved = false
			for k, e := range es {
				if !used[k] && e.From == cur {
					cur, used[k], moved = e.To, true, true
				}
			}
		}
		if cur != es[0].From {
			net[p] = nixEvent{Path: p, Kind: Updated, From: es[0].From, To: cur}
		}
	}
	return net, nil
}

// nixDescribe is Nix's text for one side of a change (describe() in
// lockfile.cc): the quoted reference and its date, or the follows path.
func nixDescribe(r Ref, follows []string, legacy bool) string {
	if follows != nil {
		return "follows '" + strings.Join(follows, "/") + "'"
	}
	s := r.String()
	if legacy {
		s = r.LegacyString()
	}
	s = "'" + s + "'"
	if !r.LastModified.IsZero() {
		s += " (" + r.LastModified.Format("2006-01-02") + ")"
	}
	return s
}

// messageOmits lists inputs that a case's lock files really do change but
// whose commit message, written by Nix for an earlier state of the commit,
// does not mention. Each entry says why; the test checks that evidence and
// still compares everything else exactly.
var messageOmits = map[string]map[string]string{
	// flake.nix re-pinned nixpkgs in the same commit: "original" went from
	// rev 34274e6 to ref nixos-unstable-small, so Nix re-locked it. The
	// message is the one Nix wrote when nur-update was added, before that
	// edit was amended in.
	"062": {"nixpkgs": "original changed from a pinned rev to a branch"},
}

func readLock(t testing.TB, path string) *Lock {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	l, err := Parse(data)
	if err != nil {
		t.Fatalf("%s: %v", path, err)
	}
	return l
}

func TestCorpusMatchesNix(t *testing.T) {
	cases := corpusCases(t)
	passed := 0
	for _, name := range cases {
		ok := t.Run(name, func(t *testing.T) {
			dir := filepath.Join(corpusDir, name)
			oldL := readLock(t, filepath.Join(dir, "old.lock"))
			newL := readLock(t, filepath.Join(dir, "new.lock"))
			text, err := os.ReadFile(filepath.Join(dir, "nix-changelog.txt"))
			if err != nil {
				t.Fatal(err)
			}
			events, err := parseChangelog(string(text))
			if err != nil {
				t.Fatalf("nix-changelog.txt: %v", err)
			}
			want, err := netEvents(events)
			if err != nil {
				t.Fatalf("nix-changelog.txt: %v", err)
			}
			// Nix 2.21 started printing narHash in github references; the
			// lock does not say which Nix wrote it, the message does.
			legacy := !strings.Contains(string(text), "narHash=")

			changes, err := Diff(oldL, newL)
			if err != nil {
				t.Fatalf("Diff: %v", err)
			}
			got := map[string]nixEvent{}
			for _, c := range changes {
				e := nixEvent{Path: c.Path, Kind: c.Kind}
				if c.Kind != Added {
					if c.Kind == Updated {
						e.From = nixDescribe(c.From, c.FromFollows, legacy)
					}
				}
				if c.Kind != Removed {
					e.To = nixDescribe(c.To, c.ToFollows, legacy)
				}
				got[c.Path] = e
			}
			for _, p := range sortedKeys(want) {
				w, g := want[p], got[p]
				switch {
				case g.Kind == "":
					t.Errorf("%s: Nix reported %s input %q, Diff did not", name, w.Kind, p)
				case g != w:
					t.Errorf("%s: input %q:\n got  %s %s → %s\n want %s %s → %s", name, p, g.Kind, g.From, g.To, w.Kind, w.From, w.To)
				}
			}
			for p := range messageOmits[name] {
				ov, nv := oldL.Nodes[p], newL.Nodes[p]
				if ov == nil || nv == nil || reflect.DeepEqual(ov.Original, nv.Original) {
					t.Errorf("%s: known omission of %q no longer holds: its original did not change", name, p)
				}
				if _, ok := got[p]; !ok {
					t.Errorf("%s: known omission of %q: Diff no longer reports it", name, p)
				}
			}
			for _, p := range sortedKeys(got) {
				if _, ok := messageOmits[name][p]; ok {
					continue
				}
				if _, ok := want[p]; !ok {
					t.Errorf("%s: Diff reported %s input %q (%s → %s), Nix did not", name, got[p].Kind, p, got[p].From, got[p].To)
				}
			}
			// Nix's order, too.
			paths := make([]string, len(changes))
			for i, c := range changes {
				paths[i] = c.Path
			}
			if !slices.IsSortedFunc(paths, comparePaths) {
				t.Errorf("%s: changes not in Nix's order: %v", name, paths)
			}
		})
		if ok {
			passed++
		}
	}
	t.Logf("corpus: %d/%d cases match Nix (with %d known omissions from Nix's messages, see messageOmits)", passed, len(cases), len(messageOmits))
}
