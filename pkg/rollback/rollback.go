// Package rollback is `ringflow rollback`: it puts a ring's unpinned group
// branches back on a commit the ring held before, by default forward (a
// commit on top carrying that commit's tree), and lands the movement with
// its ledger entry through the core's one ref-moving path.
package rollback

import (
	"context"
	"fmt"

	"github.com/ringflow/ringflow/pkg/fleet"
	"github.com/ringflow/ringflow/pkg/ledger"
	"github.com/ringflow/ringflow/pkg/ring"
)

// Positions reads where the rings stand and resolves what a user typed
// (*fleet.Fleet).
type Positions interface {
	State(ctx context.Context) (*fleet.State, error)
	Resolve(ctx context.Context, rev string) (string, error)
	RingIndex(name string) (int, error)
}

// Rollbacker rolls rings of one fleet back.
type Rollbacker struct {
	Positions Positions
	Ledger    ledger.Reader
	Lander    fleet.Lander
}

// New is the rollbacker of a fleet.
func New(fl *fleet.Fleet) *Rollbacker {
	return &Rollbacker{Positions: fl, Ledger: fl.Ledger, Lander: fl}
}

// Options says where to put a ring back.
type Options struct {
	Ring   string
	To     string // a commit the ring held before
	Reason string // required: the ledger keeps it
	Force  bool   // allow a commit the ledger does not show the ring holding
	Reset  bool   // rewind the branches instead of committing on top
	DryRun bool
}

// NotHeldError says the ring never held the commit (by its ledger).
type NotHeldError struct {
	Ring, Commit string
}

func (e *NotHeldError) Error() string {
	return fmt.Sprintf("ring %s never held %s according to the ledger (pass --force to roll back to it anyway)", e.Ring, ring.Short(e.Commit))
}

// Result is what a rollback did.
type Result struct {
	Ring  string
	To    string // the dev commit the ring carries afterwards
	Moves []ring.Move
	Entry *ledger.Entry
}

// Run puts a ring's unpinned group branches back on an earlier
// commit. By default each branch gets a new commit on top whose tree is
// that commit's tree, so it only moves forward and pull agents that refuse
// rewinds keep working; with Reset the branches are rewound instead. The
// movement and its ledger entry land together. A rollback is an emergency
// brake: freeze windows and the other gates do not hold it.
func (r *Rollbacker) Run(ctx context.Context, o Options) (*Result, error) {
	i, err := r.Positions.RingIndex(o.Ring)
	if err != nil {
		return nil, err
	}
	st, err := r.Positions.State(ctx)
	if err != nil {
		return nil, err
	}
	to, err := r.Positions.Resolve(ctx, o.To)
	if err != nil {
		return nil, err
	}
	if !o.Force {
		held, err := r.ringHeld(o.Ring, to)
		if err != nil {
			return nil, err
		}
		if !held {
			return nil, &NotHeldError{Ring: o.Ring, Commit: to}
		}
	}
	res := &Result{Ring: o.Ring, To: to}
	rs := st.Rings[i]
	for _, gs := range rs.Groups {
		if gs.Group.Pinned || gs.Commit == "" || gs.Commit == to {
			continue
		}
		m := ring.Move{Group: gs.Group.Name, Branch: gs.Group.Branch, From: gs.Head, Carries: to}
		if o.Reset {
			m.To = to
		}
		res.Moves = append(res.Moves, m)
	}
	if o.DryRun || len(res.Moves) == 0 {
		return res, nil
	}
	e := r.Lander.NewEntry(ledger.EventRollback, o.Ring)
	e.From, e.To, e.Candidate, e.Reason, e.Reset = rs.Position, to, to, o.Reason, o.Reset
	moves, err := r.Lander.Land(ctx, fleet.Landing{Moves: res.Moves, Entries: []ledger.Entry{e}, Why: fmt.Sprintf("ringflow: roll back %s to %s: %s", o.Ring, ring.Short(to), o.Reason)})
	if err != nil {
		return nil, err
	}
	res.Moves, res.Entry = moves, &e
	return res, nil
}

// ringHeld says whether the ledger shows ring ever holding commit.
func (r *Rollbacker) ringHeld(ringName, commit string) (bool, error) {
	entries, err := r.Ledger.Entries(0)
	if err != nil {
		return false, err
	}
	for _, e := range entries {
		if e.Ring == ringName && e.Group == "" && (e.To == commit || e.From == commit) {
			return true, nil
		}
	}
	return false, nil
}
