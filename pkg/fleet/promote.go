package fleet

import (
	"context"
	"fmt"

	"github.com/ringflow/ringflow/pkg/gitrepo"
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
	e := f.newEntry(ledger.EventPromote, pr.Ring)
	e.From, e.Candidate, e.To, e.Reason, e.NoImpact = pr.From, pr.Candidate, pr.Candidate, o.Reason, pr.NoImpact
	for _, g := range ring.DefaultGates() {
		if g.Name() == "soak" && o.ForceSoak {
			e.Skipped = append(e.Skipped, "soak")
			continue
		}
		e.Gates = append(e.Gates, g.Name())
	}
	moves, err := f.Apply(ctx, pr.Moves, []ledger.Entry{e}, fmt.Sprintf("ringflow: promote %s to %s", pr.Ring, ring.Short(pr.Candidate)))
	if err != nil {
		return nil, err
	}
	pr.Moves, pr.Entry = moves, &e
	return pr, nil
}

// Apply moves branches and appends ledger entries, all or none. Moves
// that land as tree copies (after a rollback) get their commits first.
// With a remote: one atomic push carrying every expected old value,
// ledger included, and only then the local branches that exist follow.
// Without: one local ref transaction.
func (f *Fleet) Apply(ctx context.Context, moves []ring.Move, entries []ledger.Entry, why string) ([]ring.Move, error) {
	moves = append([]ring.Move(nil), moves...)
	for i, m := range moves {
		if !m.NeedsCarry() {
			continue
		}
		msg := fmt.Sprintf("ringflow: %s carries %s\n\n%s\n\n%s: %s\n", m.Branch, ring.Short(m.Carries), why, CarriesTrailer, m.Carries)
		c, err := f.Repo.CommitTreeOf(m.From, m.Carries, msg, f.Config.Update.Author, f.Now())
		if err != nil {
			return nil, err
		}
		moves[i].To = c
	}
	var updates []gitrepo.RefUpdate
	for _, m := range moves {
		updates = append(updates, gitrepo.RefUpdate{Ref: "refs/heads/" + m.Branch, Old: m.From, New: m.To})
	}
	tip, next, err := f.prepareEntries(entries, moves)
	if err != nil {
		return nil, err
	}
	if next != "" {
		updates = append(updates, ledger.Update(tip, next))
	}
	if len(updates) == 0 {
		return moves, nil
	}
	if f.Config.Remote != "" {
		if err := f.Repo.Push(ctx, f.Config.Remote, updates); err != nil {
			return nil, err
		}
		if next != "" {
			f.ledgerTip = next // our own entry: the next one in this run builds on it
			if err := f.Ledger.Landed(ctx, tip, next); err != nil {
				fmt.Fprintf(f.Log, "note: the remote's ledger moved to %s but the local copy did not follow: %v\n", ring.Short(next), err)
			}
		}
		for _, m := range moves {
			f.followLocal(ctx, m.Branch, m.To)
		}
		return moves, nil
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
			return nil, err
		} else if !clean {
			return nil, fmt.Errorf("branch %s is checked out with uncommitted changes: commit or stash them, or check out another branch", checkedOut)
		}
	}
	if len(rest) > 0 {
		if err := f.Repo.UpdateRefs(ctx, rest, why); err != nil {
			return nil, err
		}
	}
	if wt != nil {
		if _, err := f.Repo.AdvanceBranch(ctx, checkedOut, wt.Old, wt.New); err != nil {
			return nil, err
		}
	}
	return moves, nil
}

// prepareEntries chains the entries' commits on the ledger's tip, with
// the group moves filled in; next is "" when there are none.
func (f *Fleet) prepareEntries(entries []ledger.Entry, moves []ring.Move) (tip, next string, err error) {
	if len(entries) == 0 {
		return "", "", nil
	}
	// With a remote, the entry is leased on the ledger as fetched with the
	// branches it reasons about: had anyone moved them since, they appended
	// an entry too, and the whole atomic push fails. (A branch already at
	// our target is "up to date" to git, which then skips its lease.)
	if f.ledgerTipSet {
		tip = f.ledgerTip
	} else if tip, err = f.Ledger.Tip(); err != nil {
		return "", "", err
	}
	next = tip
	for _, e := range entries {
		for _, m := range moves {
			if r, ok := f.groupRing(m.Group); ok && r == e.Ring {
				e.Groups = append(e.Groups, ledger.GroupMove{Group: m.Group, Branch: m.Branch, From: m.From, To: m.To, Carries: carriesIfCopy(m)})
			}
		}
		if next, err = f.Ledger.Prepare(e, next); err != nil {
			return "", "", err
		}
	}
	return tip, next, nil
}

func carriesIfCopy(m ring.Move) string {
	if m.Carries != m.To {
		return m.Carries
	}
	return ""
}

func (f *Fleet) groupRing(group string) (string, bool) {
	for _, g := range f.Config.Groups() {
		if g.Name == group {
			return g.Ring, true
		}
	}
	return "", false
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
		fmt.Fprintf(f.Log, "note: local branch %s is not behind the remote's %s; left as it was\n", branch, ring.Short(to))
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
