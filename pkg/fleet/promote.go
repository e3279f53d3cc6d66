package fleet

import (
	"context"
	"fmt"

	"github.com/ringflow/ringflow/pkg/ledger"
	"github.com/ringflow/ringflow/pkg/ring"
)

// PromoteOptions says what to promote.
type PromoteOptions struct {
	Ring      string
	Rev       string // "" = the candidate: dev's head or the ring before's position
	DryRun    bool
	ForceSoak bool   // skip the soak gate only
	Reason    string // why, for the ledger (required with ForceSoak)
	Gates     []ring.Gate
}

// Promotion is a decided promotion and what it did.
type Promotion struct {
	*ring.Plan
	// NoImpact: no host of the ring changes derivation between its position
	// and the candidate (by the evidence), so its soak is waived for the
	// next ring.
	NoImpact bool
	From     string        // the ring's position before
	Entry    *ledger.Entry // the ledger entry written, when something moved
}

// PlanPromotion decides a promotion without moving anything.
func (f *Fleet) PlanPromotion(ctx context.Context, o PromoteOptions) (*Promotion, error) {
	if err := f.RequireRings(); err != nil {
		return nil, err
	}
	i, err := f.RingIndex(o.Ring)
	if err != nil {
		return nil, err
	}
	st, err := f.State(ctx)
	if err != nil {
		return nil, err
	}
	if st.DevCommit == "" {
		if _, err := f.DevCommit(); err != nil {
			return nil, err
		}
	}
	srcName, srcHead := st.Source(i)
	if i > 0 && st.Rings[i-1].Err != nil {
		return nil, st.Rings[i-1].Err
	}
	candidate := srcHead
	if o.Rev != "" {
		if candidate, err = f.Resolve(ctx, o.Rev); err != nil {
			return nil, err
		}
	} else if candidate == "" {
		return nil, fmt.Errorf("ring %s has no branch to take a candidate from: run `ringflow init` or promote %s first", srcName, srcName)
	}
	rs := st.Rings[i]
	req := &ring.Request{Ring: rs.Ring.Name, Source: srcName, SourceHead: srcHead, Candidate: candidate, Groups: rs.Groups}
	pr := &Promotion{From: rs.Position}
	if moving(req) {
		if pr.NoImpact, err = f.addEvidence(ctx, req, rs.Position); err != nil {
			return nil, err
		}
		if err := f.gateFacts(ctx, i, req, o.ForceSoak); err != nil {
			return nil, err
		}
	}
	gates := o.Gates
	if gates == nil {
		gates = ring.DefaultGates()
	}
	if pr.Plan, err = ring.Decide(req, f.Repo, gates); err != nil {
		return nil, err
	}
	return pr, nil
}

// moving says whether any unpinned group would move.
func moving(req *ring.Request) bool {
	for _, gs := range req.Groups {
		if !gs.Group.Pinned && gs.Commit != req.Candidate {
			return true
		}
	}
	return false
}

// addEvidence fills in the hosts the promotion would move and their
// evidence at the candidate, and says whether none of them changes
// derivation from the ring's position (every one with evidence at both).
func (f *Fleet) addEvidence(ctx context.Context, req *ring.Request, position string) (noImpact bool, err error) {
	moves := map[string]bool{}
	for _, gs := range req.Groups {
		if !gs.Group.Pinned && gs.Commit != req.Candidate {
			moves[gs.Group.Name] = true
		}
	}
	ps, err := f.Hosts(ctx, req.Candidate)
	if err != nil {
		return false, err
	}
	note, err := f.Evidence.Get(req.Candidate)
	if err != nil {
		return false, err
	}
	before := note
	if position != "" {
		if before, err = f.Evidence.Get(position); err != nil {
			return false, err
		}
	}
	req.Evidence = map[string]ring.HostEvidence{}
	noImpact = position != ""
	for _, p := range ps {
		if !moves[p.Group] {
			continue
		}
		req.Hosts = append(req.Hosts, p.Host)
		e, ok := note.Hosts[p.Host]
		if ok {
			req.Evidence[p.Host] = ring.HostEvidence{Status: e.Status, Phase: e.Phase}
		}
		if b := before.Hosts[p.Host]; !ok || e.Drv == "" || b.Drv != e.Drv {
			noImpact = false
		}
	}
	return noImpact && len(req.Hosts) > 0, nil
}

// Promote decides a promotion and, unless it is refused or a dry run,
// moves the ring's unpinned group branches and records it in the ledger,
// all in one atomic change. A refusal returns the plan and a
// *ring.GateRefusedError.
func (f *Fleet) Promote(ctx context.Context, o PromoteOptions) (*Promotion, error) {
	pr, err := f.PlanPromotion(ctx, o)
	if err != nil {
		return nil, err
	}
	if pr.Refused() {
		return pr, &ring.GateRefusedError{Ring: pr.Ring, Refusals: pr.Refusals}
	}
	if o.DryRun || pr.NothingToDo() {
		return pr, nil
	}
	e := f.NewEntry(ledger.EventPromote, pr.Ring)
	e.From, e.Candidate, e.To, e.Reason, e.NoImpact = pr.From, pr.Candidate, pr.Candidate, o.Reason, pr.NoImpact
	for _, g := range ring.DefaultGates() {
		if g.Name() == "soak" && o.ForceSoak {
			e.Skipped = append(e.Skipped, "soak")
			continue
		}
		e.Gates = append(e.Gates, g.Name())
	}
	moves, err := f.Land(ctx, Landing{Moves: pr.Moves, Entries: []ledger.Entry{e}, Why: fmt.Sprintf("ringflow: promote %s to %s", pr.Ring, ring.Short(pr.Candidate))})
	if err != nil {
		return nil, err
	}
	pr.Moves, pr.Entry = moves, &e
	return pr, nil
}
