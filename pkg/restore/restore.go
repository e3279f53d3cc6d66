// Package restore is `ringflow restore RING`: a ring's branches, moved
// outside ringflow, go back where the ledger last recorded them, forward:
// a branch rewound is fast-forwarded back, a branch deleted is created
// again there, and a branch moved on or rewritten gets a commit on top
// with the recorded commit's tree (as a rollback makes), so pull agents
// that refuse rewinds keep working. The moves and a ledger entry land
// together, by compare-and-swap.
package restore

import (
	"context"
	"fmt"

	"github.com/ringflow/ringflow/pkg/fleet"
	"github.com/ringflow/ringflow/pkg/ledger"
	"github.com/ringflow/ringflow/pkg/ring"
)

// Positions reads where the rings stand, with what the ledger last recorded
// of each branch, and what a recorded head carries (*fleet.Fleet).
type Positions interface {
	State(ctx context.Context) (*fleet.State, error)
	RingIndex(name string) (int, error)
	Carried(head string) (string, error)
}

// Restorer puts drifted branches of a fleet's rings back.
type Restorer struct {
	Positions Positions
	Ancestry  ring.Ancestry
	Lander    fleet.Lander
}

// New is the restorer of a fleet.
func New(fl *fleet.Fleet) *Restorer {
	return &Restorer{Positions: fl, Ancestry: fl.Repo, Lander: fl}
}

// Options says which ring to restore.
type Options struct {
	Ring   string
	Reason string // optional, for the ledger
	DryRun bool
}

// Result is what restoring moved.
type Result struct {
	Ring     string
	Restored []ring.Drift // none: nothing had drifted
	Moves    []ring.Move
	Entry    *ledger.Entry
}

// Run moves every drifted branch of the ring back to the head the ledger
// last recorded, forward, in one change with one ledger entry.
func (r *Restorer) Run(ctx context.Context, o Options) (*Result, error) {
	i, err := r.Positions.RingIndex(o.Ring)
	if err != nil {
		return nil, err
	}
	st, err := r.Positions.State(ctx)
	if err != nil {
		return nil, err
	}
	rs := st.Rings[i]
	drifts, err := ring.Drifts(rs.Groups, r.Ancestry)
	if err != nil {
		return nil, err
	}
	res := &Result{Ring: o.Ring, Restored: drifts}
	after := append([]ring.GroupState(nil), rs.Groups...)
	for _, d := range drifts {
		carries, err := r.Positions.Carried(d.Recorded)
		if err != nil {
			return nil, fmt.Errorf("branch %s: the ledger has it at %s, which this repository cannot read (fetch it, or `ringflow adopt %s --reason TEXT`): %w",
				d.Branch, ring.Short(d.Recorded), o.Ring, err)
		}
		m := ring.Move{Group: d.Group, Branch: d.Branch, From: d.Head, To: d.Recorded, Carries: carries}
		if d.Kind == ring.DriftForward || d.Kind == ring.DriftRewritten {
			m.To = "" // a commit on top of the head with the recorded tree
		}
		res.Moves = append(res.Moves, m)
		for j := range after {
			if after[j].Group.Branch == d.Branch {
				after[j].Commit, after[j].Head = carries, d.Recorded
			}
		}
	}
	if o.DryRun || len(res.Moves) == 0 {
		return res, nil
	}
	e := r.Lander.NewEntry(ledger.EventRestore, o.Ring)
	e.From, e.Reason = rs.Position, o.Reason
	e.To, _ = ring.Position(after, r.Ancestry) // "" when the groups still differ
	moves, err := r.Lander.Land(ctx, fleet.Landing{Moves: res.Moves, Entries: []ledger.Entry{e}, Why: "ringflow: restore " + o.Ring})
	if err != nil {
		return nil, err
	}
	res.Moves, res.Entry = moves, &e
	return res, nil
}
