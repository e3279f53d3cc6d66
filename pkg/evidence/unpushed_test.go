package evidence

import (
	"context"
	"slices"
	"strings"
	"testing"
	"time"
)

// Evidence recorded with no remote (or by a run killed before its push)
// is found, pushed onto the remote's notes, merged with what is there,
// and then no longer pending.
func TestUnpushedPushed(t *testing.T) {
	clone, remote, commit := repoPair(t)
	ctx := context.Background()
	t0 := time.Now().UTC().Truncate(time.Second)
	remoteStore := store(t, clone, "origin")
	if err := remoteStore.Record(ctx, commit, map[string]Host{"db": {Status: Green, Time: t0}}); err != nil {
		t.Fatal(err)
	}
	if p, err := remoteStore.Unpushed(); err != nil || len(p) != 0 {
		t.Fatalf("after a pushed record: pending %+v, %v", p, err)
	}
	localOnly := store(t, clone, "")
	if err := localOnly.Record(ctx, commit, map[string]Host{"web": {Status: Red, Phase: PhaseBuild, Time: t0.Add(time.Second)}}); err != nil {
		t.Fatal(err)
	}
	if err := remoteStore.Fetch(ctx); err != nil {
		t.Fatal(err)
	}
	p, err := remoteStore.Unpushed()
	if err != nil {
		t.Fatal(err)
	}
	if len(p) != 1 || p[0].Commit != commit || !slices.Equal(p[0].Names(), []string{"web"}) {
		t.Fatalf("pending %+v, want web at %s", p, commit)
	}
	pushed, err := remoteStore.PushPending(ctx, p)
	if err != nil || len(pushed) != 1 {
		t.Fatalf("PushPending = %+v, %v", pushed, err)
	}
	out := gitOut(t, "-C", remote, "notes", "--ref", "ringflow/evidence", "show", commit)
	if !strings.Contains(out, `"web": {`) || !strings.Contains(out, `"db": {`) {
		t.Errorf("remote note after the push lacks a host:\n%s", out)
	}
	if p, err := remoteStore.Unpushed(); err != nil || len(p) != 0 {
		t.Errorf("after the push: pending %+v, %v", p, err)
	}
}

// fakeNotes holds notes commits as maps of annotated commit -> blob, and
// their ancestry as a chain.
type fakeNotes struct {
	refs   map[string]string
	trees  map[string]map[string]string
	blobs  map[string]string
	chain  string
	listed int
}

func (f *fakeNotes) Ref(name string) (string, bool, error) {
	v, ok := f.refs[name]
	return v, ok, nil
}

func (f *fakeNotes) IsAncestor(a, b string) (bool, error) {
	i, j := strings.Index(f.chain, a), strings.Index(f.chain, b)
	return i >= 0 && j >= 0 && i <= j, nil
}

func (f *fakeNotes) Notes(c string) (map[string]string, error) {
	f.listed++
	return f.trees[c], nil
}

func (f *fakeNotes) NoteBlob(b string) ([]byte, error) { return []byte(f.blobs[b]), nil }

func TestUnpushedDecides(t *testing.T) {
	const lref, rref = "refs/notes/ringflow/evidence", "refs/ringflow/remotes/origin/notes/evidence"
	blobs := map[string]string{
		"old":     `{"hosts":{"a":{"status":"green","time":"2026-01-01T00:00:00Z"}}}`,
		"new":     `{"hosts":{"a":{"status":"red","time":"2026-01-02T00:00:00Z"},"b":{"status":"green","time":"2026-01-01T00:00:00Z"}}}`,
		"both":    `{"hosts":{"a":{"status":"green","time":"2026-01-03T00:00:00Z"},"b":{"status":"green","time":"2026-01-01T00:00:00Z"}}}`,
		"garbage": `not json`,
	}
	for _, tt := range []struct {
		name       string
		refs       map[string]string
		chain      string
		trees      map[string]map[string]string
		want       string // commit:host,host;…
		listsNotes bool
	}{
		{name: "no local notes", refs: map[string]string{rref: "R"}},
		{name: "same tip", refs: map[string]string{lref: "R", rref: "R"}},
		{name: "local behind the remote's", refs: map[string]string{lref: "L", rref: "R"}, chain: "LR",
			trees: map[string]map[string]string{"L": {"c1": "new"}, "R": {}}}, // removed on the remote on purpose
		{name: "remote has none", refs: map[string]string{lref: "L"},
			trees: map[string]map[string]string{"L": {"c1": "new", "c2": "garbage"}, "": {}}, want: "c1:a,b", listsNotes: true},
		{name: "only newer hosts", refs: map[string]string{lref: "L", rref: "R"},
			trees: map[string]map[string]string{"L": {"c1": "new", "c2": "old"}, "R": {"c1": "old", "c2": "both"}}, want: "c1:a,b", listsNotes: true},
		{name: "the remote holds newer", refs: map[string]string{lref: "L", rref: "R"},
			trees: map[string]map[string]string{"L": {"c1": "new"}, "R": {"c1": "both"}}, listsNotes: true},
		{name: "the remote's note is not evidence", refs: map[string]string{lref: "L", rref: "R"},
			trees: map[string]map[string]string{"L": {"c1": "new"}, "R": {"c1": "garbage"}}, listsNotes: true},
	} {
		t.Run(tt.name, func(t *testing.T) {
			f := &fakeNotes{refs: tt.refs, trees: tt.trees, blobs: blobs, chain: tt.chain}
			p, err := UnpushedIn(f, lref, rref)
			if err != nil {
				t.Fatal(err)
			}
			var got []string
			for _, x := range p {
				got = append(got, x.Commit+":"+strings.Join(x.Names(), ","))
			}
			if strings.Join(got, ";") != tt.want {
				t.Errorf("pending %q, want %q", strings.Join(got, ";"), tt.want)
			}
			if (f.listed > 0) != tt.listsNotes {
				t.Errorf("listed notes %d times; want a listing: %v", f.listed, tt.listsNotes)
			}
		})
	}
}
