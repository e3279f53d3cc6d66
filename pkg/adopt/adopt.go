// Package adopt is `ringflow adopt RING --reason TEXT`: a person decides
// that a ring's branches, moved outside ringflow, stay where they stand.
// Nothing moves but the ledger, which records each branch's new head (so
// drift is measured from there on) with the actor and the reason.
package adopt

import (
	"context"
	"fmt"
	"strings"

	"github.com/ringflow/ringflow/pkg/fleet"
	"github.com/ringflow/ringflow/pkg/ledger"
	"github.com/ringflow/ringflow/pkg/ring"
)

// Positions reads where dev and the rings stand, with what the ledger last
// recorded of each branch (*fleet.Fleet).
type Positions interface {
	State(ctx context.Context) (*fleet.State, error)
	RingIndex(name string) (int, error)
}

// Adopter adopts the drifted branches of a fleet's rings.
type Adopter struct {
	Positions Positions
	Ancestry  ring.Ancestry
	Lander    fleet.Lander
}

// New is the adopter of a fleet.
func New(fl *fleet.Fleet) *Adopter {
	return &Adopter{Positions: fl, Ancestry: fl.Repo, Lander: fl}
}

// Options says which ring to adopt, and why.
type Options struct {
	Ring   string
	Reason string // required: the ledger keeps it
	DryRun bool
}

// Result is what adopting recorded.
type Result struct {
	Ring    string
	Adopted []ring.Drift // none: nothing had drifted
	Entry   *ledger.Entry
}

// RefusedError says a drifted branch cannot be adopted where it stands. It
// exits 3, as a refused gate.
type RefusedError struct {
	Ring    string
	Reasons []string
}

func (e *RefusedError) Error() string {
	return fmt.Sprintf("ring %s cannot be adopted where it stands: %s", e.Ring, strings.Join(e.Reasons, "; "))
}

// Run records every drifted branch of the ring where it stands, in one
// ledger entry. A deleted branch cannot be adopted (restore it), nor can a
// branch whose head carries a commit that is not on dev: a ring only ever
// holds commits that lie on dev.
func (a *Adopter) Run(ctx context.Context, o Options) (*Result, error) {
	i, err := a.Positions.RingIndex(o.Ring)
	if err != nil {
		return nil, err
	}
	st, err := a.Positions.State(ctx)
	if err != nil {
		return nil, err
	}
	rs := st.Rings[i]
	drifts, err := ring.Drifts(rs.Groups, a.Ancestry)
	if err != nil {
		return nil, err
	}
	res := &Result{Ring: o.Ring, Adopted: drifts}
	if len(drifts) == 0 {
		return res, nil
	}
	var refusals []string
	var groups []ledger.GroupMove
	for _, d := range drifts {
		gs := groupState(rs.Groups, d.Branch)
		if d.Kind == ring.DriftDeleted {
			refusals = append(refusals, fmt.Sprintf("branch %s was deleted: there is nothing to adopt (`ringflow restore %s` puts it back at %s)",
				d.Branch, o.Ring, ring.Short(d.Recorded)))
			continue
		}
		onDev := false
		if st.DevCommit != "" {
			if onDev, err = a.Ancestry.IsAncestor(gs.Commit, st.DevCommit); err != nil {
				return nil, err
			}
		}
		if !onDev {
			refusals = append(refusals, fmt.Sprintf("branch %s is at %s, which is not on %s: a ring only holds commits that lie on %s (`ringflow restore %s` puts it back at %s; or bring %s onto %s first, then adopt)",
				d.Branch, ring.Short(gs.Commit), st.Dev, st.Dev, o.Ring, ring.Short(d.Recorded), ring.Short(gs.Commit), st.Dev))
			continue
		}
		g := ledger.GroupMove{Group: d.Group, Branch: d.Branch, From: d.Recorded, To: d.Head}
		if gs.Commit != d.Head {
			g.Carries = gs.Commit
		}
		groups = append(groups, g)
	}
	if len(refusals) > 0 {
		return res, &RefusedError{Ring: o.Ring, Reasons: refusals}
	}
	if o.DryRun {
		return res, nil
	}
	e := a.Lander.NewEntry(ledger.EventAdopt, o.Ring)
	e.To, e.Reason, e.Groups = rs.Position, o.Reason, groups
	if _, err := a.Lander.Land(ctx, fleet.Landing{Entries: []ledger.Entry{e}, Why: "ringflow: adopt " + o.Ring + ": " + o.Reason}); err != nil {
		return nil, err
	}
	res.Entry = &e
	return res, nil
}

func groupState(groups []ring.GroupState, branch string) ring.GroupState {
	for _, gs := range groups {
		if gs.Group.Branch == branch {
			return gs
		}
	}
	return ring.GroupState{}
}
