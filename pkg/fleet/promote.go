package fleet

import (
	"context"
	"fmt"

	"github.com/ringflow/ringflow/pkg/gitrepo"
	"github.com/ringflow/ringflow/pkg/ring"
)

// PromoteOptions says what to promote.
type PromoteOptions struct {
	Ring   string
	Rev    string // "" = the candidate: dev's head or the ring before's position
	DryRun bool
	Gates  []ring.Gate // nil = ring.DefaultGates()
}

// PlanPromotion decides a promotion without moving anything.
func (f *Fleet) PlanPromotion(ctx context.Context, o PromoteOptions) (*ring.Plan, error) {
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
	req := &ring.Request{Ring: st.Rings[i].Ring, Source: srcName, SourceHead: srcHead, Candidate: candidate, Groups: st.Rings[i].Groups}
	if err := f.addEvidence(ctx, req); err != nil {
		return nil, err
	}
	gates := o.Gates
	if gates == nil {
		gates = ring.DefaultGates()
	}
	return ring.Decide(req, f.Repo, gates)
}

// addEvidence fills in the hosts the promotion would move and their
// evidence at the candidate; nothing when no branch would move.
func (f *Fleet) addEvidence(ctx context.Context, req *ring.Request) error {
	moving := map[string]bool{}
	for _, gs := range req.Groups {
		if !gs.Group.Pin.Pinned && gs.Commit != req.Candidate {
			moving[gs.Group.Name] = true
		}
	}
	if len(moving) == 0 {
		return nil
	}
	ps, err := f.Hosts(ctx, req.Candidate)
	if err != nil {
		return err
	}
	note, err := f.Evidence.Get(req.Candidate)
	if err != nil {
		return err
	}
	req.Evidence = map[string]ring.HostEvidence{}
	for _, p := range ps {
		if moving[p.Group] {
			req.Hosts = append(req.Hosts, p.Host)
			if e, ok := note.Hosts[p.Host]; ok {
				req.Evidence[p.Host] = ring.HostEvidence{Status: e.Status, Phase: e.Phase}
			}
		}
	}
	return nil
}

// Promote decides a promotion and, unless it is refused or a dry run,
// moves the ring's unpinned group branches. A refusal is returned as the
// plan and a *ring.GateRefusedError.
func (f *Fleet) Promote(ctx context.Context, o PromoteOptions) (*ring.Plan, error) {
	p, err := f.PlanPromotion(ctx, o)
	if err != nil {
		return nil, err
	}
	if p.Refused() {
		return p, &ring.GateRefusedError{Ring: p.Ring, Refusals: p.Refusals}
	}
	if o.DryRun || p.NothingToDo() {
		return p, nil
	}
	return p, f.Apply(ctx, p.Moves, fmt.Sprintf("ringflow: promote %s to %s", p.Ring, ring.Short(p.Candidate)))
}

// Apply moves branches forward, all or none. With a remote: one atomic
// push carrying every expected old value, and only then the local
// branches that exist follow. Without: one local ref transaction.
func (f *Fleet) Apply(ctx context.Context, moves []ring.Move, why string) error {
	if len(moves) == 0 {
		return nil
	}
	var updates []gitrepo.RefUpdate
	for _, m := range moves {
		updates = append(updates, gitrepo.RefUpdate{Ref: "refs/heads/" + m.Branch, Old: m.From, New: m.To})
	}
	if f.Config.Remote != "" {
		if err := f.Repo.Push(ctx, f.Config.Remote, updates); err != nil {
			return err
		}
		for _, m := range moves {
			f.followLocal(ctx, m.Branch, m.To)
		}
		return nil
	}
	// A checked-out branch must move with its work tree, which a plain ref
	// transaction would not do; move it on its own, after the rest.
	checkedOut, _ := f.Repo.CheckedOutBranch()
	var rest []gitrepo.RefUpdate
	var wt *gitrepo.RefUpdate
	for i, u := range updates {
		if u.Ref == "refs/heads/"+checkedOut {
			wt = &updates[i]
			continue
		}
		rest = append(rest, u)
	}
	if wt != nil {
		if clean, err := f.Repo.WorktreeClean(ctx); err != nil {
			return err
		} else if !clean {
			return fmt.Errorf("branch %s is checked out with uncommitted changes: commit or stash them, or check out another branch", checkedOut)
		}
	}
	if len(rest) > 0 {
		if err := f.Repo.UpdateRefs(ctx, rest, why); err != nil {
			return err
		}
	}
	if wt != nil {
		if _, err := f.Repo.AdvanceBranch(ctx, checkedOut, wt.Old, wt.New); err != nil {
			return err
		}
	}
	return nil
}

// followLocal brings an existing local branch along after the remote
// moved, when that is a fast-forward; anything else is left for the
// operator and said.
func (f *Fleet) followLocal(ctx context.Context, branch, to string) {
	local, ok, err := f.Repo.Ref("refs/heads/" + branch)
	if err != nil || !ok || local == to {
		return
	}
	if ff, err := f.Repo.IsAncestor(local, to); err != nil || !ff {
		fmt.Fprintf(f.Log, "note: local branch %s has commits the remote lacks; left as it was\n", branch)
		return
	}
	adv, err := f.Repo.AdvanceBranch(ctx, branch, local, to)
	switch {
	case err != nil:
		fmt.Fprintf(f.Log, "note: local branch %s not moved: %v\n", branch, err)
	case adv.Skipped:
		fmt.Fprintf(f.Log, "note: local branch %s not moved (%s); the remote moved to %s\n", branch, adv.Reason, ring.Short(to))
	}
}
