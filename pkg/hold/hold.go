// Package hold is `ringflow hold RING` and `ringflow release RING`: a
// person stops a ring from taking any promotion for a while (an incident on
// canary, a trade show), and lets it go again. Nothing moves but the
// ledger, which records who, when and why; the hold gate reads it.
package hold

import (
	"context"
	"fmt"

	"github.com/ringflow/ringflow/pkg/fleet"
	"github.com/ringflow/ringflow/pkg/ledger"
	"github.com/ringflow/ringflow/pkg/ring"
)

// Positions reads where the rings stand, with their holds (*fleet.Fleet).
type Positions interface {
	State(ctx context.Context) (*fleet.State, error)
	RingIndex(name string) (int, error)
}

// Holder holds and releases the rings of a fleet.
type Holder struct {
	Positions Positions
	Lander    fleet.Lander
}

// New is the holder of a fleet.
func New(fl *fleet.Fleet) *Holder {
	return &Holder{Positions: fl, Lander: fl}
}

// Options says which ring to hold or release, and why.
type Options struct {
	Ring    string
	Release bool   // release the ring instead of holding it
	Reason  string // required: the ledger keeps it
	DryRun  bool
}

// Result is what holding or releasing recorded.
type Result struct {
	Ring string
	// Was is the hold the ring was under before ("" Actor: none).
	Was *ring.Hold
	// Entry is the ledger entry written; nil when there was nothing to do
	// (holding a held ring, releasing a free one) or on a dry run.
	Entry *ledger.Entry
}

// NothingToDo says the ring already was as asked.
func (r *Result) NothingToDo(o Options) bool { return (r.Was != nil) != o.Release }

// Run records a hold or a release of the ring in the ledger. Holding a
// held ring, or releasing a free one, records nothing.
func (h *Holder) Run(ctx context.Context, o Options) (*Result, error) {
	if o.Reason == "" {
		return nil, fmt.Errorf("hold: a reason is required: the ledger keeps why %s was held or released", o.Ring)
	}
	i, err := h.Positions.RingIndex(o.Ring)
	if err != nil {
		return nil, err
	}
	st, err := h.Positions.State(ctx)
	if err != nil {
		return nil, err
	}
	res := &Result{Ring: o.Ring, Was: st.Rings[i].Hold}
	if res.NothingToDo(o) || o.DryRun {
		return res, nil
	}
	event, verb := ledger.EventHold, "hold"
	if o.Release {
		event, verb = ledger.EventRelease, "release"
	}
	e := h.Lander.NewEntry(event, o.Ring)
	e.Reason = o.Reason
	if _, err := h.Lander.Land(ctx, fleet.Landing{Entries: []ledger.Entry{e}, Why: fmt.Sprintf("ringflow: %s %s: %s", verb, o.Ring, o.Reason)}); err != nil {
		return nil, err
	}
	res.Entry = &e
	return res, nil
}
