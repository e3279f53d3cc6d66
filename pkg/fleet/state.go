package fleet

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/ringflow/ringflow/pkg/suggest"

	"github.com/ringflow/ringflow/pkg/config"
	"github.com/ringflow/ringflow/pkg/evidence"
	"github.com/ringflow/ringflow/pkg/gitrepo"
	"github.com/ringflow/ringflow/pkg/ledger"
	"github.com/ringflow/ringflow/pkg/ring"
)

// Branches returns dev followed by every group branch, in file order.
func (f *Fleet) Branches() []string {
	bs := []string{f.Config.Dev}
	for _, g := range f.Config.Groups() {
		bs = append(bs, g.Branch)
	}
	return bs
}

// Sync fetches dev, every group branch, the evidence and the ledger from
// the remote in one fetch, once per run. Without a remote the local refs
// are the truth.
func (f *Fleet) Sync(ctx context.Context) error {
	if f.Config.Remote == "" || f.synced {
		return nil
	}
	var specs []gitrepo.RefSpec
	for _, b := range f.Branches() {
		specs = append(specs, gitrepo.RefSpec{Src: "refs/heads/" + b, Dst: f.BranchRef(b)})
	}
	specs = append(specs, gitrepo.RefSpec{Src: evidence.Ref, Dst: f.Evidence.TrackingRef()}, f.Ledger.FetchSpec())
	if err := f.Repo.FetchRefs(ctx, f.Config.Remote, specs); err != nil {
		return err
	}
	tip, err := f.Ledger.Tip()
	if err != nil {
		return err
	}
	f.synced, f.ledgerTip, f.ledgerTipSet = true, tip, true
	return f.heal(ctx)
}

// Refresh fetches again, even when this run already did: an operation
// that lost a race starts over from the remote's refs.
func (f *Fleet) Refresh(ctx context.Context) error {
	f.synced = false
	return f.Sync(ctx)
}

// CarriesTrailer marks a commit ringflow made on a group branch whose
// tree is a dev commit's tree (a rollback, or a promotion landed on top of
// one): "Ringflow-Carries: <dev commit>".
const CarriesTrailer = "Ringflow-Carries"

// Carried returns the dev commit a branch head carries: the head itself,
// or the commit its Ringflow-Carries trailer names.
func (f *Fleet) Carried(head string) (string, error) {
	ci, err := f.Repo.Commit(head)
	if err != nil {
		return "", err
	}
	lines := strings.Split(strings.TrimRight(ci.Body, "\n"), "\n")
	for i := len(lines) - 1; i >= 0 && lines[i] != ""; i-- {
		if v, ok := strings.CutPrefix(lines[i], CarriesTrailer+": "); ok {
			return strings.TrimSpace(v), nil
		}
	}
	return head, nil
}

// BranchRef is the ref holding a branch's true position: the remote's copy
// when there is a remote, else the local branch.
func (f *Fleet) BranchRef(branch string) string {
	if f.Config.Remote != "" {
		return "refs/remotes/" + f.Config.Remote + "/" + branch
	}
	return "refs/heads/" + branch
}

// BranchCommit returns where branch stands ("" when it does not exist).
func (f *Fleet) BranchCommit(branch string) (string, error) {
	c, ok, err := f.Repo.Ref(f.BranchRef(branch))
	if err != nil || !ok {
		return "", err
	}
	return c, nil
}

// DevCommit returns dev's head, or an error naming the missing branch.
func (f *Fleet) DevCommit() (string, error) {
	c, err := f.BranchCommit(f.Config.Dev)
	if err != nil {
		return "", err
	}
	if c == "" {
		return "", fmt.Errorf("dev branch %q does not exist%s: create it or run `ringflow init`", f.Config.Dev, f.where())
	}
	return c, nil
}

func (f *Fleet) where() string {
	if f.Config.Remote != "" {
		return " on remote " + f.Config.Remote
	}
	return ""
}

// RingState is where one ring stands.
type RingState struct {
	Ring     config.Ring
	Groups   []ring.GroupState
	Position string     // "" when no branch exists or the groups diverged
	Err      error      // *ring.DivergedError
	Hold     *ring.Hold // the ring's hold (ringflow hold); nil = not held
}

// State is where dev and every ring stand.
type State struct {
	Dev       string
	DevCommit string // "" when dev is missing
	Rings     []RingState
}

// State reads dev and every group branch (after Sync).
func (f *Fleet) State(ctx context.Context) (*State, error) {
	if err := f.Sync(ctx); err != nil {
		return nil, err
	}
	st := &State{Dev: f.Config.Dev}
	var err error
	if st.DevCommit, err = f.BranchCommit(f.Config.Dev); err != nil {
		return nil, err
	}
	facts, err := f.readLedgerFacts()
	if err != nil {
		return nil, err
	}
	for _, r := range f.Config.Rings {
		rs := RingState{Ring: r}
		if h, ok := facts.holds[r.Name]; ok {
			rs.Hold = &ring.Hold{Actor: h.Actor, Time: h.Time, Reason: h.Reason}
		}
		for _, g := range r.Groups {
			head, err := f.BranchCommit(g.Branch)
			if err != nil {
				return nil, err
			}
			gs := ring.GroupState{Group: facts.group(g), Commit: head, Head: head, Recorded: facts.recorded[g.Branch]}
			if head != "" {
				if gs.Commit, err = f.Carried(head); err != nil {
					return nil, err
				}
			}
			rs.Groups = append(rs.Groups, gs)
		}
		rs.Position, rs.Err = ring.Position(rs.Groups, f.Repo)
		var de *ring.DivergedError
		if rs.Err != nil && !errors.As(rs.Err, &de) {
			return nil, rs.Err
		}
		st.Rings = append(st.Rings, rs)
	}
	return st, nil
}

// RecordedHeads reads from the ledger where ringflow last put each group
// branch: the newest entry that moved it (init, promote, rollback, adopt,
// restore). A branch elsewhere moved outside ringflow (ring.DriftOf). Read
// once per ledger tip: the ledger and the branches are fetched together.
func (f *Fleet) RecordedHeads() (map[string]string, error) {
	facts, err := f.readLedgerFacts()
	if err != nil {
		return nil, err
	}
	return facts.recorded, nil
}

// ledgerFacts is what the state reads from the ledger: where ringflow last
// put each branch, the groups pinned and the rings held.
type ledgerFacts struct {
	recorded map[string]string       // branch → head
	pins     map[string]ledger.Entry // group → its pin
	holds    map[string]ledger.Entry // ring → its hold
}

// readLedgerFacts reads the ledger once per tip: the ledger and the
// branches are fetched together.
func (f *Fleet) readLedgerFacts() (*ledgerFacts, error) {
	tip, err := f.Ledger.Tip()
	if err != nil {
		return nil, err
	}
	if f.facts != nil && f.factsTip == tip {
		return f.facts, nil
	}
	entries, err := f.Ledger.Entries(0)
	if err != nil {
		return nil, err
	}
	rec := map[string]string{}
	for _, e := range entries { // newest first
		for _, g := range e.Groups {
			if _, seen := rec[g.Branch]; !seen && g.To != "" {
				rec[g.Branch] = g.To
			}
		}
	}
	f.facts = &ledgerFacts{recorded: rec, pins: ledger.Pins(entries), holds: ledger.Holds(entries)}
	f.factsTip = tip
	return f.facts, nil
}

// Drifts are the group branches moved outside ringflow, ring by ring.
func (st *State) Drifts(a ring.Ancestry) ([]ring.Drift, error) {
	var out []ring.Drift
	for _, rs := range st.Rings {
		ds, err := ring.Drifts(rs.Groups, a)
		if err != nil {
			return nil, err
		}
		out = append(out, ds...)
	}
	return out, nil
}

// GroupOf is a config group as the gates see it, pinned by the config
// when it says so.
func GroupOf(g config.Group) ring.Group {
	gr := ring.Group{Name: g.Name, Ring: g.Ring, Branch: g.Branch, Pinned: g.Pin.Pinned}
	if g.Pin.Pinned {
		gr.Pin = &ring.Pin{Config: g.Key + ".pin", Commit: g.Pin.Commit}
	}
	return gr
}

// PinnedByLedger is a group pinned by a ledger pin entry as well.
func PinnedByLedger(g ring.Group, pin ledger.Entry) ring.Group {
	p := ring.Pin{}
	if g.Pin != nil {
		p = *g.Pin
	}
	p.Actor, p.Time, p.Reason = pin.Actor, pin.Time, pin.Reason
	g.Pinned, g.Pin = true, &p
	return g
}

// Source returns the name and position a ring takes candidates from.
func (st *State) Source(i int) (name, commit string) {
	if i == 0 {
		return st.Dev, st.DevCommit
	}
	return st.Rings[i-1].Ring.Name, st.Rings[i-1].Position
}

// RingIndex finds a ring by name, or returns a usage error listing them.
func (f *Fleet) RingIndex(name string) (int, error) {
	for i, r := range f.Config.Rings {
		if r.Name == name {
			return i, nil
		}
	}
	return -1, &UnknownRingError{Ring: name, Known: f.Config.RingNames()}
}

// UnknownRingError names a ring the config does not have.
type UnknownRingError struct {
	Ring  string
	Known []string
}

func (e *UnknownRingError) Error() string {
	return fmt.Sprintf("unknown ring %q%s (rings: %s)", e.Ring, didYouMean(e.Ring, e.Known), strings.Join(e.Known, ", "))
}

// didYouMean is ": did you mean X?" when name is plausibly a typo of X.
func didYouMean(name string, known []string) string {
	if s := suggest.Nearest(name, known); s != "" {
		return ": did you mean " + s + "?"
	}
	return ""
}

// Resolve turns what a user typed into a commit: dev or a group branch
// (read from the remote when there is one), a ring name (its position), or
// anything git can resolve.
func (f *Fleet) Resolve(ctx context.Context, rev string) (string, error) {
	if err := f.Sync(ctx); err != nil {
		return "", err
	}
	for _, b := range f.Branches() {
		if rev == b {
			c, err := f.BranchCommit(b)
			if err == nil && c == "" {
				err = fmt.Errorf("branch %q does not exist%s", b, f.where())
			}
			return c, err
		}
	}
	if i, err := f.RingIndex(rev); err == nil {
		st, err := f.State(ctx)
		if err != nil {
			return "", err
		}
		rs := st.Rings[i]
		if rs.Err != nil {
			return "", rs.Err
		}
		if rs.Position == "" {
			return "", fmt.Errorf("ring %q has no branch yet", rev)
		}
		return rs.Position, nil
	}
	return f.Repo.ResolveCommit(rev)
}
