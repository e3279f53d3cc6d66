// Package watch is `ringflow watch`: between nightly cycles it looks at
// the fleet every interval — stops a ring whose hosts turned unhealthy
// (guard) and records the rings that converged, so their soak counts from
// their hosts' switch — until it is told to stop.
package watch

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/ringflow/ringflow/pkg/fleet"
	"github.com/ringflow/ringflow/pkg/gitrepo"
	"github.com/ringflow/ringflow/pkg/guard"
	"github.com/ringflow/ringflow/pkg/ledger"
	"github.com/ringflow/ringflow/pkg/promote"
)

// Look is what one look found and did.
type Look struct {
	At time.Time
	// Busy: a cycle held the repository, so this look did nothing (the
	// cycle guards the rings itself).
	Busy      string
	Guard     *guard.Report
	Converged []ledger.Entry // rings seen converged for the first time
	// Problems are what kept a ring from being looked at (it cannot be
	// planned now: diverged, no branch, hosts that do not evaluate).
	Problems []string
}

// Looker takes one look at the fleet.
type Looker interface {
	Look(ctx context.Context) (*Look, error)
}

// Options configures a watch.
type Options struct {
	Interval time.Duration
	Once     bool // one look, then return its error
	// Report hears every look, or why it failed; a failed look does not
	// end the watch (the next may do better), except with Once.
	Report func(*Look, error)
}

// Run looks at once, then every interval, until ctx is done; then it
// returns nil at once, also in the middle of a look (what the look had
// landed stays landed; what it had not, is not).
func Run(ctx context.Context, l Looker, o Options) error {
	if o.Interval <= 0 && !o.Once {
		return fmt.Errorf("watch: the interval must be more than 0, got %s", o.Interval)
	}
	for {
		look, err := l.Look(ctx)
		if ctx.Err() != nil {
			return nil
		}
		if o.Report != nil {
			o.Report(look, err)
		}
		if o.Once {
			return err
		}
		select {
		case <-ctx.Done():
			return nil
		case <-time.After(o.Interval):
		}
	}
}

// FleetLooker looks at a fleet opened afresh for every look, so that a
// long watch sees what others pushed.
type FleetLooker struct {
	Open func() (*fleet.Fleet, error)
	Now  func() time.Time
}

// Look implements Looker: under the repository's cycle lock, the guard,
// then each ring's source recorded converged where it has.
func (f FleetLooker) Look(ctx context.Context) (*Look, error) {
	fl, err := f.Open()
	if err != nil {
		return nil, err
	}
	look := &Look{At: f.Now()}
	unlock, err := fl.Repo.LockContext(ctx, "cycle", false)
	var locked *gitrepo.LockedError
	if errors.As(err, &locked) {
		look.Busy = "a ringflow cycle is running on this repository (" + locked.Holder + "); it looks at the rings itself"
		return look, nil
	}
	if err != nil {
		return nil, err
	}
	defer unlock()
	g := guard.New(fl)
	if g == nil {
		return nil, errors.New("watch: the config has no observe section: there is nothing to watch (README: Observing the fleet)")
	}
	if look.Guard, err = g.Run(ctx, guard.Options{Rings: fl.Config.Rings, Actor: "ringflow watch"}); err != nil {
		return look, err
	}
	for i, r := range fl.Config.Rings {
		if i == 0 {
			continue
		}
		pr, err := promote.New(fl).Run(ctx, promote.Options{Ring: r.Name, ObserveOnly: true})
		if err != nil {
			if ctx.Err() != nil {
				return look, ctx.Err()
			}
			look.Problems = append(look.Problems, fmt.Sprintf("%s's hosts were not looked at for %s: %v", fl.Config.Rings[i-1].Name, r.Name, err))
			continue
		}
		if pr.Converged != nil {
			look.Converged = append(look.Converged, *pr.Converged)
		}
	}
	return look, nil
}
