package fleet

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/ringflow/ringflow/pkg/gitrepo"
	"github.com/ringflow/ringflow/pkg/metrics"
	"github.com/ringflow/ringflow/pkg/ring"
)

// CycleOptions configures the nightly job.
type CycleOptions struct {
	Wait     bool // wait for a running cycle instead of leaving
	Progress func(BuildEvent)
}

// CycleReport is what a cycle did and what waits.
type CycleReport struct {
	Update   *UpdateResult
	Build    *BuildReport
	Rings    []CycleRing
	Duration time.Duration
}

// CycleRing is one ring's outcome in a cycle.
type CycleRing struct {
	Name     string
	Auto     bool
	Moved    bool
	From, To string         // position before and after, when it moved
	Refusals []ring.Refusal // the gates that held it
	Waiting  string         // why it did not move, in words
}

// Refused says whether any ring was held by a gate.
func (c *CycleReport) Refused() []ring.Refusal {
	var all []ring.Refusal
	for _, r := range c.Rings {
		all = append(all, r.Refusals...)
	}
	return all
}

// CycleRunningError says another cycle holds this repository.
type CycleRunningError struct{ Locked *gitrepo.LockedError }

func (e *CycleRunningError) Error() string {
	holder := e.Locked.Holder
	if holder == "" {
		holder = "another process"
	}
	return fmt.Sprintf("another ringflow cycle is running on this repository (%s); pass --wait to wait for it", holder)
}

func (e *CycleRunningError) Unwrap() error { return e.Locked }

// Cycle is the nightly job: refresh the lock on dev, build dev's head,
// then promote the first ring and every later ring that is auto and whose
// gates pass, in order. A gate holding a ring is part of a normal night
// and is reported, not returned as an error; a red build is returned as a
// *BuildRedError after every ring had its chance. One cycle at a time per
// repository: a second one leaves with a *CycleRunningError, or waits.
func (f *Fleet) Cycle(ctx context.Context, o CycleOptions) (*CycleReport, error) {
	start := f.Now()
	unlock, err := f.Repo.Lock("cycle", o.Wait)
	var locked *gitrepo.LockedError
	if errors.As(err, &locked) {
		return nil, &CycleRunningError{Locked: locked}
	}
	if err != nil {
		return nil, err
	}
	defer unlock()
	if err := f.RequireRings(); err != nil {
		return nil, err
	}
	rep := &CycleReport{}
	if rep.Update, err = f.Update(ctx, UpdateOptions{Inputs: f.Config.Update.Inputs, Now: f.Now}); err != nil {
		return rep, fmt.Errorf("cycle: update: %w", err)
	}
	if rep.Build, err = f.Build(ctx, BuildOptions{Progress: o.Progress}); err != nil {
		return rep, fmt.Errorf("cycle: build: %w", err)
	}
	for _, r := range f.Config.Rings {
		cr := CycleRing{Name: r.Name, Auto: r.Auto}
		if !r.Auto {
			cr.Waiting = fmt.Sprintf("not auto: promote it by hand (ringflow promote %s)", r.Name)
			rep.Rings = append(rep.Rings, cr)
			continue
		}
		pr, err := f.Promote(ctx, PromoteOptions{Ring: r.Name, Reason: "ringflow cycle"})
		var refused *ring.GateRefusedError
		switch {
		case errors.As(err, &refused):
			cr.Refusals = refused.Refusals
			cr.Waiting = "held by " + gateNames(refused.Refusals)
		case err != nil:
			rep.Rings = append(rep.Rings, cr)
			return rep, fmt.Errorf("cycle: promote %s: %w", r.Name, err)
		case pr.NothingToDo():
			cr.Waiting = "up to date at " + ring.Short(pr.Candidate)
		default:
			cr.Moved, cr.From, cr.To = true, pr.From, pr.Candidate
		}
		rep.Rings = append(rep.Rings, cr)
	}
	rep.Duration = f.Now().Sub(start)
	if red := rep.Build.Red(); len(red) > 0 {
		return rep, &BuildRedError{Commit: rep.Build.Commit, Red: red}
	}
	return rep, nil
}

func gateNames(rs []ring.Refusal) string {
	s := ""
	for i, r := range rs {
		if i > 0 {
			s += ", "
		}
		s += r.Gate
	}
	return s
}

// Snapshot gathers the metrics of every ring as they stand.
func (f *Fleet) Snapshot(ctx context.Context) (metrics.Snapshot, error) {
	now := f.Now()
	snap := metrics.Snapshot{Time: now}
	st, err := f.State(ctx)
	if err != nil {
		return snap, err
	}
	if st.DevCommit != "" {
		ci, err := f.Repo.Commit(st.DevCommit)
		if err != nil {
			return snap, err
		}
		snap.DevCommitAge = now.Sub(ci.Time)
	}
	tallies, _, err := f.GroupEvidence(ctx, st)
	if err != nil {
		return snap, err
	}
	for i, rs := range st.Rings {
		m := metrics.Ring{Name: rs.Ring.Name, Frozen: f.Frozen(i) != nil}
		if rs.Position != "" {
			ci, err := f.Repo.Commit(rs.Position)
			if err != nil {
				return snap, err
			}
			m.PositionAge = now.Sub(ci.Time)
			if _, src := st.Source(i); src != "" {
				if m.Behind, err = f.Repo.CountBetween(rs.Position, src); err != nil {
					return snap, err
				}
			}
			if m.SoakLeft, err = f.SoakLeft(i, rs.Position); err != nil {
				return snap, err
			}
		}
		for _, gs := range rs.Groups {
			if gs.Group.Pinned {
				m.PinnedGroups++
			}
			t := tallies[gs.Group.Name]
			m.Green, m.Red, m.Missing = m.Green+t.Green, m.Red+t.Red, m.Missing+t.Missing
		}
		snap.Rings = append(snap.Rings, m)
	}
	return snap, nil
}
