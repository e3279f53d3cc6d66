package rollback

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/ringflow/ringflow/pkg/config"
	"github.com/ringflow/ringflow/pkg/fleet"
	"github.com/ringflow/ringflow/pkg/ledger"
	"github.com/ringflow/ringflow/pkg/ring"
)

type fakes struct {
	state   *fleet.State
	entries []ledger.Entry
	landed  []fleet.Landing
}

func (f *fakes) State(context.Context) (*fleet.State, error)           { return f.state, nil }
func (f *fakes) Resolve(_ context.Context, rev string) (string, error) { return rev, nil }
func (f *fakes) RingIndex(name string) (int, error) {
	for i, rs := range f.state.Rings {
		if rs.Ring.Name == name {
			return i, nil
		}
	}
	return -1, &fleet.UnknownRingError{Ring: name}
}
func (f *fakes) Entries(int) ([]ledger.Entry, error) { return f.entries, nil }
func (f *fakes) NewEntry(event, ringName string) ledger.Entry {
	return ledger.Entry{Event: event, Ring: ringName, Time: time.Unix(0, 0)}
}
func (f *fakes) Land(_ context.Context, l fleet.Landing) ([]ring.Move, error) {
	f.landed = append(f.landed, l)
	return l.Moves, nil
}

// Ring stable at c: group stable (head c), group west (head R, a rollback
// commit already carrying c), group field pinned at a. The ledger shows
// stable holding b once.
func newFakes() (*fakes, *Rollbacker) {
	g := func(name string, pinned bool) ring.GroupState {
		return ring.GroupState{Group: ring.Group{Name: name, Ring: "stable", Branch: name, Pinned: pinned}}
	}
	st, we, fi := g("stable", false), g("west", false), g("field", true)
	st.Commit, st.Head = "c", "c"
	we.Commit, we.Head = "c", "R"
	fi.Commit, fi.Head = "a", "a"
	f := &fakes{
		state:   &fleet.State{DevCommit: "d", Rings: []fleet.RingState{{Ring: config.Ring{Name: "stable"}, Position: "c", Groups: []ring.GroupState{st, we, fi}}}},
		entries: []ledger.Entry{{Event: "promote", Ring: "stable", From: "b", To: "c"}},
	}
	return f, &Rollbacker{Positions: f, Ledger: f, Lander: f}
}

// Forward by default: every unpinned group gets a commit on top carrying
// b (made when it lands), from its raw head; the entry records it.
func TestRollbackForward(t *testing.T) {
	f, r := newFakes()
	res, err := r.Run(context.Background(), Options{Ring: "stable", To: "b", Reason: "kernel panic"})
	if err != nil {
		t.Fatal(err)
	}
	if len(res.Moves) != 2 || res.Moves[0].From != "c" || res.Moves[1].From != "R" {
		t.Fatalf("moves = %+v", res.Moves)
	}
	for _, m := range res.Moves {
		if m.To != "" || m.Carries != "b" || !m.NeedsCarry() {
			t.Errorf("move %+v: want a carry commit of b", m)
		}
	}
	e := f.landed[0].Entries[0]
	if e.Event != ledger.EventRollback || e.From != "c" || e.To != "b" || e.Reason != "kernel panic" || e.Reset {
		t.Errorf("entry = %+v", e)
	}
}

// --reset rewinds instead; --dry-run lands nothing; a commit the ledger
// never shows the ring holding needs --force.
func TestRollbackResetDryRunNotHeld(t *testing.T) {
	f, r := newFakes()
	res, err := r.Run(context.Background(), Options{Ring: "stable", To: "b", Reset: true, DryRun: true})
	if err != nil || len(res.Moves) != 2 || res.Moves[0].To != "b" || len(f.landed) != 0 {
		t.Fatalf("reset dry run: %+v, %v, landed %+v", res, err, f.landed)
	}
	var notHeld *NotHeldError
	if _, err := r.Run(context.Background(), Options{Ring: "stable", To: "a"}); !errors.As(err, &notHeld) || notHeld.Commit != "a" {
		t.Fatalf("not held: %v", err)
	}
	if _, err := r.Run(context.Background(), Options{Ring: "stable", To: "a", Force: true}); err != nil || len(f.landed) != 1 {
		t.Fatalf("forced: %v, landed %+v", err, f.landed)
	}
	// Already carrying the commit: nothing to do, nothing lands.
	res, err = r.Run(context.Background(), Options{Ring: "stable", To: "c"})
	if err != nil || len(res.Moves) != 0 || len(f.landed) != 1 {
		t.Errorf("at c already: %+v, %v", res, err)
	}
}
