package refmove

import (
	"bytes"
	"context"
	"errors"
	"slices"
	"strings"
	"testing"

	"github.com/ringflow/ringflow/pkg/gitrepo"
)

// fakeRepo keeps refs in maps: local ones and the remote's. Ancestry is a
// chain given as a string, each letter a commit descending from the ones
// before it ("abc": a <- b <- c).
type fakeRepo struct {
	local, remote map[string]string
	chain         string
	checkedOut    string
	dirty         bool
	pushes        [][]gitrepo.RefUpdate
	txns          [][]gitrepo.RefUpdate
}

func (r *fakeRepo) Ref(name string) (string, bool, error) {
	v, ok := r.local[name]
	return v, ok, nil
}

func (r *fakeRepo) IsAncestor(a, b string) (bool, error) {
	i, j := strings.Index(r.chain, a), strings.Index(r.chain, b)
	return i >= 0 && j >= 0 && i <= j, nil
}

func apply(refs map[string]string, updates []gitrepo.RefUpdate) error {
	for _, u := range updates {
		if refs[u.Ref] != u.Old {
			return &gitrepo.RefConflictError{Ref: u.Ref, Expected: u.Old, Actual: refs[u.Ref]}
		}
	}
	for _, u := range updates {
		refs[u.Ref] = u.New
	}
	return nil
}

func (r *fakeRepo) Push(_ context.Context, _ string, updates []gitrepo.RefUpdate) error {
	r.pushes = append(r.pushes, updates)
	return apply(r.remote, updates)
}

func (r *fakeRepo) UpdateRefs(_ context.Context, updates []gitrepo.RefUpdate, _ string) error {
	r.txns = append(r.txns, updates)
	return apply(r.local, updates)
}

func (r *fakeRepo) AdvanceBranch(_ context.Context, branch, old, new string) (gitrepo.Advance, error) {
	if branch == r.checkedOut && r.dirty {
		return gitrepo.Advance{Skipped: true, Reason: "work tree has uncommitted changes"}, nil
	}
	return gitrepo.Advance{Moved: true}, apply(r.local, []gitrepo.RefUpdate{{Ref: "refs/heads/" + branch, Old: old, New: new}})
}

func (r *fakeRepo) CheckedOutBranch() (string, bool) { return r.checkedOut, r.checkedOut != "" }

func (r *fakeRepo) WorktreeClean(context.Context) (bool, error) { return !r.dirty, nil }

const ledgerRef, ledgerTracking = "refs/ringflow/ledger", "refs/ringflow/remotes/origin/ledger"

func promotion() Change {
	return Change{
		Branches: []Branch{{Name: "canary", Old: "a", New: "c"}},
		Own:      []Own{{Ref: ledgerRef, Tracking: ledgerTracking, Old: "x", New: "y"}},
		Why:      "test",
	}
}

// With a remote: one push carries branch and ledger, each leased; then the
// tracking ledger, the local ledger and the local branch follow.
func TestMoveRemoteFollows(t *testing.T) {
	r := &fakeRepo{chain: "abcxy",
		remote: map[string]string{"refs/heads/canary": "a", ledgerRef: "x"},
		local:  map[string]string{"refs/heads/canary": "b", ledgerRef: "x", ledgerTracking: "x"}}
	var log bytes.Buffer
	m := &Mover{Repo: r, Remote: "origin", Log: &log}
	if err := m.Move(context.Background(), promotion()); err != nil {
		t.Fatal(err)
	}
	if len(r.pushes) != 1 || len(r.pushes[0]) != 2 {
		t.Fatalf("pushes = %v, want one push of two refs", r.pushes)
	}
	want := map[string]string{"refs/heads/canary": "c", ledgerRef: "y", ledgerTracking: "y"}
	for ref, v := range want {
		if r.local[ref] != v {
			t.Errorf("local %s = %q, want %q", ref, r.local[ref], v)
		}
	}
	if log.Len() != 0 {
		t.Errorf("notes: %s", log.String())
	}
}

// A lost race moves nothing anywhere; a local copy that cannot follow is
// kept and said, and never fails the move that landed.
func TestMoveRemoteRaceAndDivergedLocal(t *testing.T) {
	r := &fakeRepo{chain: "acxy",
		remote: map[string]string{"refs/heads/canary": "a", ledgerRef: "w"}, // the ledger moved meanwhile
		local:  map[string]string{ledgerTracking: "x"}}
	m := &Mover{Repo: r, Remote: "origin"}
	var conflict *gitrepo.RefConflictError
	if err := m.Move(context.Background(), promotion()); err == nil || !errors.As(err, &conflict) {
		t.Fatalf("err = %v, want a conflict", err)
	}
	if r.remote["refs/heads/canary"] != "a" || len(r.txns) != 0 {
		t.Errorf("after a lost race: remote %v, local transactions %v", r.remote, r.txns)
	}

	r = &fakeRepo{chain: "acxy",
		remote: map[string]string{"refs/heads/canary": "a", ledgerRef: "x"},
		local:  map[string]string{"refs/heads/canary": "z", ledgerRef: "q", ledgerTracking: "x"}} // z, q: not on the chain
	var log bytes.Buffer
	m = &Mover{Repo: r, Remote: "origin", Log: &log}
	if err := m.Move(context.Background(), promotion()); err != nil {
		t.Fatal(err)
	}
	if r.local["refs/heads/canary"] != "z" || r.local[ledgerRef] != "q" || r.local[ledgerTracking] != "y" {
		t.Errorf("local refs %v: want canary and ledger kept, tracking at y", r.local)
	}
	if !strings.Contains(log.String(), "local branch canary is not behind the remote's c") {
		t.Errorf("notes: %q", log.String())
	}
}

// Without a remote everything is one transaction, except a checked-out
// branch, which moves with its work tree after the rest, and not at all
// (nor anything else) when the tree is dirty.
func TestMoveLocal(t *testing.T) {
	r := &fakeRepo{chain: "acxy", checkedOut: "canary",
		local: map[string]string{"refs/heads/canary": "a", "refs/heads/early": "a", ledgerRef: "x"}}
	c := promotion()
	c.Branches = append(c.Branches, Branch{Name: "early", Old: "a", New: "c"})
	c.CreateLocal = []Branch{{Name: "stable", New: "a"}}
	m := &Mover{Repo: r}
	if err := m.Move(context.Background(), c); err != nil {
		t.Fatal(err)
	}
	if len(r.pushes) != 0 || len(r.txns) != 1 {
		t.Fatalf("pushes %v, transactions %v: want one transaction", r.pushes, r.txns)
	}
	var refs []string
	for _, u := range r.txns[0] {
		refs = append(refs, u.Ref)
	}
	if want := []string{"refs/heads/early", "refs/heads/stable", ledgerRef}; !slices.Equal(refs, want) {
		t.Errorf("transaction moved %v, want %v (canary with its work tree)", refs, want)
	}
	if r.local["refs/heads/canary"] != "c" || r.local["refs/heads/stable"] != "a" {
		t.Errorf("local refs %v", r.local)
	}

	r = &fakeRepo{chain: "acxy", checkedOut: "canary", dirty: true,
		local: map[string]string{"refs/heads/canary": "a", ledgerRef: "x"}}
	err := (&Mover{Repo: r}).Move(context.Background(), promotion())
	var co *CheckedOutError
	if !errors.As(err, &co) || co.Branch != "canary" || len(r.txns) != 0 {
		t.Fatalf("dirty work tree: err %v, transactions %v", err, r.txns)
	}
	if want := "branch canary is checked out here and work tree has uncommitted changes"; !strings.Contains(err.Error(), want) {
		t.Errorf("err %q, want it to say %q", err, want)
	}
}

// CatchUp moves only the local copy, only forward, only from where it
// still is.
func TestCatchUp(t *testing.T) {
	r := &fakeRepo{chain: "wxyz", local: map[string]string{ledgerRef: "x"}, remote: map[string]string{ledgerRef: "z"}}
	m := &Mover{Repo: r, Remote: "origin"}
	ctx := context.Background()

	var nf *NotForwardError
	if err := m.CatchUp(ctx, ledgerRef, "x", "w", "back"); !errors.As(err, &nf) {
		t.Fatalf("a rewind: err %v, want a NotForwardError", err)
	}
	var conflict *gitrepo.RefConflictError
	if err := m.CatchUp(ctx, ledgerRef, "w", "z", "stale"); !errors.As(err, &conflict) {
		t.Fatalf("from a value the copy no longer has: err %v, want a RefConflictError", err)
	}
	if r.local[ledgerRef] != "x" {
		t.Fatalf("a refused catch-up moved the copy to %s", r.local[ledgerRef])
	}
	if err := m.CatchUp(ctx, ledgerRef, "x", "y", "catch up"); err != nil {
		t.Fatal(err)
	}
	if r.local[ledgerRef] != "y" || r.remote[ledgerRef] != "z" || len(r.pushes) != 0 {
		t.Fatalf("after catching up: local %s, remote %s, %d push(es)", r.local[ledgerRef], r.remote[ledgerRef], len(r.pushes))
	}
}
