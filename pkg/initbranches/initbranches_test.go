package initbranches

import (
	"context"
	"testing"

	"github.com/ringflow/ringflow/pkg/config"
	"github.com/ringflow/ringflow/pkg/fleet"
	"github.com/ringflow/ringflow/pkg/ledger"
	"github.com/ringflow/ringflow/pkg/ring"
)

type fakes struct {
	remote   map[string]string // branch -> commit, as fetched
	local    map[string]string // refs/heads/<branch> -> commit
	recorded map[string]string // branch -> head the ledger last recorded
	landed   []fleet.Landing
}

func (f *fakes) RecordedHeads() (map[string]string, error) { return f.recorded, nil }

func (f *fakes) Sync(context.Context) error { return nil }
func (f *fakes) Branches() []string         { return []string{"dev", "canary", "stable", "field"} }
func (f *fakes) BranchCommit(b string) (string, error) {
	return f.remote[b], nil
}
func (f *fakes) Ref(name string) (string, bool, error) {
	c, ok := f.local[name]
	return c, ok, nil
}
func (f *fakes) NewEntry(event, ringName string) ledger.Entry {
	return ledger.Entry{Event: event, Ring: ringName}
}
func (f *fakes) Land(_ context.Context, l fleet.Landing) ([]ring.Move, error) {
	f.landed = append(f.landed, l)
	return l.Moves, nil
}

var rings = []config.Ring{
	{Name: "canary", Groups: []config.Group{{Name: "canary", Ring: "canary", Branch: "canary"}}},
	{Name: "stable", Groups: []config.Group{{Name: "stable", Ring: "stable", Branch: "stable"}, {Name: "field", Ring: "stable", Branch: "field"}}},
}

// With a remote: branches missing there are created there at the commit
// (one init entry per ring that got any, naming those groups); local
// copies missing here follow at the remote's position.
func TestCreateMissingWithRemote(t *testing.T) {
	f := &fakes{remote: map[string]string{"dev": "d", "stable": "s"}, local: map[string]string{"refs/heads/dev": "d"}}
	in := &Initializer{Remote: "origin", Rings: rings, Positions: f, Local: f, Lander: f}
	created, err := in.CreateMissingBranches(context.Background(), "h", false)
	if err != nil {
		t.Fatal(err)
	}
	if len(created) != 2 || created[0] != (BranchCreation{Branch: "canary", Commit: "h", Remote: true}) || created[1].Branch != "field" {
		t.Fatalf("created = %+v", created)
	}
	l := f.landed[0]
	if len(l.Moves) != 2 || l.Moves[0].From != "" || l.Moves[0].To != "h" {
		t.Errorf("moves = %+v", l.Moves)
	}
	// Local copies: canary and field at h, stable at the remote's s.
	want := map[string]string{"canary": "h", "stable": "s", "field": "h"}
	if len(l.CreateLocal) != 3 {
		t.Fatalf("local = %+v", l.CreateLocal)
	}
	for _, b := range l.CreateLocal {
		if want[b.Name] != b.New || b.Old != "" {
			t.Errorf("local %+v, want at %s", b, want[b.Name])
		}
	}
	if len(l.Entries) != 2 || l.Entries[0].Ring != "canary" || len(l.Entries[1].Groups) != 1 || l.Entries[1].Groups[0].Group != "field" {
		t.Errorf("entries = %+v", l.Entries)
	}
}

// Without a remote the local branches are the truth; a dry run lands
// nothing; with every branch there, nothing is created.
func TestCreateMissingLocal(t *testing.T) {
	f := &fakes{local: map[string]string{"refs/heads/dev": "d", "refs/heads/canary": "d"}}
	in := &Initializer{Rings: rings, Positions: f, Local: f, Lander: f}
	created, err := in.CreateMissingBranches(context.Background(), "h", true)
	if err != nil || len(created) != 2 || created[0].Remote || len(f.landed) != 0 {
		t.Fatalf("dry run: %+v, %v, landed %+v", created, err, f.landed)
	}
	f.local["refs/heads/stable"], f.local["refs/heads/field"] = "d", "d"
	created, err = in.CreateMissingBranches(context.Background(), "h", false)
	if err != nil || len(created) != 0 || len(f.landed) != 1 || len(f.landed[0].Moves)+len(f.landed[0].Entries) != 0 {
		t.Errorf("nothing missing: %+v, %v, landed %+v", created, err, f.landed)
	}
}

// A branch the ledger knows, deleted outside ringflow, is created again
// where the ledger last had it (a pinned group at its pin), never at HEAD,
// and a restore entry says so; a branch the ledger never knew starts at
// HEAD with an init entry.
func TestCreateMissingRestoresWhatTheLedgerKnows(t *testing.T) {
	f := &fakes{remote: map[string]string{"dev": "d", "canary": "c"}, local: map[string]string{"refs/heads/dev": "d", "refs/heads/canary": "c", "refs/heads/stable": "s0", "refs/heads/field": "p"},
		recorded: map[string]string{"canary": "c", "stable": "s1", "field": "p"}}
	in := &Initializer{Remote: "origin", Rings: rings, Positions: f, Local: f, Lander: f}
	created, err := in.CreateMissingBranches(context.Background(), "h", false)
	if err != nil {
		t.Fatal(err)
	}
	want := []BranchCreation{{Branch: "stable", Commit: "s1", Remote: true, Restored: true}, {Branch: "field", Commit: "p", Remote: true, Restored: true}}
	if len(created) != 2 || created[0] != want[0] || created[1] != want[1] {
		t.Fatalf("created = %+v, want %+v", created, want)
	}
	l := f.landed[0]
	if len(l.Entries) != 1 || l.Entries[0].Event != ledger.EventRestore || l.Entries[0].Ring != "stable" || len(l.Entries[0].Groups) != 2 {
		t.Errorf("entries = %+v, want one restore entry of stable's two groups", l.Entries)
	}
	for _, m := range l.Moves {
		if m.To == "h" {
			t.Errorf("move %+v puts a branch the ledger knows at HEAD", m)
		}
	}
}
