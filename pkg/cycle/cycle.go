// Package cycle is the nightly job: refresh the lock on dev, build dev's
// head, stop any ring whose hosts turned unhealthy (observe:), then promote the first ring and every later ring that is auto and
// whose gates pass, in order. It owns the order and what a night reports;
// each step is another package's operation, reached through Steps.
package cycle

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/ringflow/ringflow/pkg/build"
	"github.com/ringflow/ringflow/pkg/fleet"
	"github.com/ringflow/ringflow/pkg/gitrepo"
	"github.com/ringflow/ringflow/pkg/guard"
	"github.com/ringflow/ringflow/pkg/ledger"
	"github.com/ringflow/ringflow/pkg/promote"
	"github.com/ringflow/ringflow/pkg/ring"
	"github.com/ringflow/ringflow/pkg/update"
)

// Steps are the operations a night runs, in order.
type Steps interface {
	Update(ctx context.Context) (*update.Result, error)
	Build(ctx context.Context, progress func(build.Event)) (*build.Report, error)
	// Promote promotes ring to its candidate as `ringflow promote` would;
	// a refusal is a *ring.GateRefusedError.
	Promote(ctx context.Context, ringName string) (*promote.Promotion, error)
	// Observe records that the ring before ringName converged on
	// ringName's candidate, as Promote does, and moves nothing; nil
	// when it did not, or the fleet is not observed.
	Observe(ctx context.Context, ringName string) (*ledger.Entry, error)
	// Guard holds, or rolls back and holds, every ring whose hosts turned
	// unhealthy (observe:); nil when the fleet is not observed.
	Guard(ctx context.Context) (*guard.Report, error)
}

// Ring is what the cycle needs to know of a ring.
type Ring struct {
	Name string
	Auto bool // the cycle may promote it unattended
}

// Locker takes the repository's cycle lock (gitrepo.Repo.LockContext); a
// wait ends when ctx is done.
type Locker interface {
	LockContext(ctx context.Context, name string, wait bool) (unlock func(), err error)
}

// Cycle runs nights on one repository.
type Cycle struct {
	Steps Steps
	Lock  Locker
	Rings []Ring // in promotion order
	Now   func() time.Time
}

// Options configures one night.
type Options struct {
	Wait bool // wait for a running cycle instead of leaving
	// OnWait, when set, hears that Wait waits for a running cycle, and
	// what holds it, before the wait begins.
	OnWait   func(holder string)
	Progress func(build.Event)
	// OnStep, when set, hears each step as it begins: "update", "build",
	// "health", "promote RING".
	OnStep func(step string)
}

// Report is what a cycle did and what waits.
type Report struct {
	Update   *update.Result
	Build    *build.Report
	Guard    *guard.Report // how the rings' hosts were, and what was stopped
	Rings    []RingOutcome
	Duration time.Duration
}

// RingOutcome is one ring's outcome in a cycle.
type RingOutcome struct {
	Name     string
	Auto     bool
	Moved    bool
	From, To string         // position before and after, when it moved
	Refusals []ring.Refusal // the gates that held it
	Waiting  string         // why it did not move, in words
	// Converged is the entry recorded while deciding this ring: the ring
	// before it was seen running the candidate (observe:), its soak
	// counting from then.
	Converged *ledger.Entry
	// DoneBy: another run moved the ring to this cycle's candidate while
	// it was deciding (this cycle lost the race, with nothing left to do).
	DoneBy *ledger.Entry
}

// Refused lists the refusals of every ring a gate held.
func (c *Report) Refused() []ring.Refusal {
	var all []ring.Refusal
	for _, r := range c.Rings {
		all = append(all, r.Refusals...)
	}
	return all
}

// RunningError says another cycle holds this repository.
type RunningError struct{ Locked *gitrepo.LockedError }

func (e *RunningError) Error() string {
	holder := e.Locked.Holder
	if holder == "" {
		holder = "another process"
	}
	return fmt.Sprintf("another ringflow cycle is running on this repository (%s); pass --wait to wait for it", holder)
}

func (e *RunningError) Unwrap() error { return e.Locked }

// Run is one night: refresh the lock on dev, build dev's head, then
// promote the first ring and every later ring that is auto and whose gates
// pass, in order. A gate holding a ring is part of a normal night and is
// reported, not returned as an error; a red build is returned as a
// *build.RedError, and hosts no remote builder took as a
// *build.NoBuilderError, after every ring had its chance (the evidence
// gate holds every ring that lacks them). One cycle at a
// time per repository: a second one leaves with a *RunningError, or waits.
func (c *Cycle) Run(ctx context.Context, o Options) (*Report, error) {
	start := c.Now()
	unlock, err := c.lock(ctx, o)
	if err != nil {
		return nil, err
	}
	defer unlock()
	step := func(name string) {
		if o.OnStep != nil {
			o.OnStep(name)
		}
	}
	rep := &Report{}
	step("update")
	if rep.Update, err = c.Steps.Update(ctx); err != nil {
		return rep, fmt.Errorf("cycle: update: %w", err)
	}
	var notTaken *build.NoBuilderError
	step("build")
	if rep.Build, err = c.Steps.Build(ctx, o.Progress); err != nil && (rep.Build == nil || !errors.As(err, &notTaken)) {
		return rep, fmt.Errorf("cycle: build: %w", err)
	}
	// Before anything moves: a ring gone bad stops here, and the rings
	// after it see it held (or unhealthy) when they decide.
	step("health")
	if rep.Guard, err = c.Steps.Guard(ctx); err != nil {
		return rep, fmt.Errorf("cycle: guard: %w", err)
	}
	for i, r := range c.Rings {
		step("promote " + r.Name)
		out := RingOutcome{Name: r.Name, Auto: r.Auto}
		if !r.Auto {
			out.Waiting = fmt.Sprintf("not auto: promote it by hand (ringflow promote %s)", r.Name)
			if i > 0 {
				// Observed all the same: the ring before soaks from its
				// hosts' switch, not from when someone comes to promote.
				if out.Converged, err = c.Steps.Observe(ctx, r.Name); err != nil {
					if ctx.Err() != nil {
						return rep, fmt.Errorf("cycle: observe %s: %w", c.Rings[i-1].Name, ctx.Err())
					}
					out.Waiting += fmt.Sprintf("; what %s runs was not recorded: %v", c.Rings[i-1].Name, err)
				}
			}
			rep.Rings = append(rep.Rings, out)
			continue
		}
		pr, err := c.Steps.Promote(ctx, r.Name)
		if pr != nil {
			out.Converged = pr.Converged
		}
		var refused *ring.GateRefusedError
		switch {
		case errors.As(err, &refused):
			out.Refusals = refused.Refusals
			out.Waiting = "held by " + gateNames(refused.Refusals)
		case err != nil:
			out.Waiting = "not moved: see the error below"
			rep.Rings = append(rep.Rings, out)
			return rep, fmt.Errorf("cycle: promote %s: %w", r.Name, err)
		case pr.DoneBy != nil:
			out.Waiting = fmt.Sprintf("up to date at %s: another run got there first (%s)", ring.Short(pr.Candidate), pr.DoneBy.Who())
			out.DoneBy = pr.DoneBy
		case pr.NothingToDo():
			out.Waiting = "up to date at " + ring.Short(pr.Candidate)
		default:
			out.Moved, out.From, out.To = true, pr.From, pr.Candidate
		}
		rep.Rings = append(rep.Rings, out)
	}
	rep.Duration = c.Now().Sub(start)
	var errs []error
	if red := rep.Build.Red(); len(red) > 0 {
		errs = append(errs, &build.RedError{Commit: rep.Build.Commit, Red: red})
	}
	if notTaken != nil {
		errs = append(errs, fmt.Errorf("cycle: build: %w", notTaken))
	}
	return rep, errors.Join(errs...)
}

func gateNames(rs []ring.Refusal) string {
	names := make([]string, len(rs))
	for i, r := range rs {
		names[i] = r.Gate
	}
	return strings.Join(names, ", ")
}

// New is the cycle of a fleet, its steps the fleet's operations with the
// config's settings.
func New(fl *fleet.Fleet) *Cycle {
	c := &Cycle{Steps: fleetSteps{fl}, Lock: fl.Repo, Now: fl.Now}
	for _, r := range fl.Config.Rings {
		c.Rings = append(c.Rings, Ring{Name: r.Name, Auto: r.Auto})
	}
	return c
}

type fleetSteps struct{ fl *fleet.Fleet }

func (s fleetSteps) Update(ctx context.Context) (*update.Result, error) {
	return update.New(s.fl).Run(ctx, update.Options{Inputs: s.fl.Config.Update.Inputs})
}

func (s fleetSteps) Build(ctx context.Context, progress func(build.Event)) (*build.Report, error) {
	return build.New(s.fl).Run(ctx, build.Options{Progress: progress})
}

func (s fleetSteps) Promote(ctx context.Context, ringName string) (*promote.Promotion, error) {
	return promote.New(s.fl).Run(ctx, promote.Options{Ring: ringName, Reason: "ringflow cycle"})
}

func (s fleetSteps) Guard(ctx context.Context) (*guard.Report, error) {
	g := guard.New(s.fl)
	if g == nil {
		return nil, nil
	}
	return g.Run(ctx, guard.Options{Rings: s.fl.Config.Rings, Actor: "ringflow cycle"})
}

func (s fleetSteps) Observe(ctx context.Context, ringName string) (*ledger.Entry, error) {
	if s.fl.Observer() == nil {
		return nil, nil
	}
	pr, err := promote.New(s.fl).Run(ctx, promote.Options{Ring: ringName, ObserveOnly: true})
	if err != nil {
		return nil, err
	}
	return pr.Converged, nil
}
