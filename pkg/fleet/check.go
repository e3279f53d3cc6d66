package fleet

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/ringflow/ringflow/pkg/membership"
	"github.com/ringflow/ringflow/pkg/ring"
)

// CheckError lists every problem `check` found. It exits 2.
type CheckError struct{ Problems []string }

func (e *CheckError) Error() string {
	return fmt.Sprintf("%d problem(s) found:\n  %s", len(e.Problems), strings.Join(e.Problems, "\n  "))
}

// CheckReport is what a clean check found.
type CheckReport struct {
	DevCommit string
	Hosts     int
	Groups    int
	Rings     int
}

// Check validates the config against the flake at dev's head and the
// repository's invariants, collecting every problem rather than the first.
func (f *Fleet) Check(ctx context.Context) (*CheckReport, error) {
	if err := f.RequireRings(); err != nil {
		return nil, err
	}
	st, err := f.State(ctx)
	if err != nil {
		return nil, err
	}
	rep := &CheckReport{DevCommit: st.DevCommit, Rings: len(st.Rings), Groups: len(f.Config.Groups())}
	var problems []string
	add := func(format string, args ...any) { problems = append(problems, fmt.Sprintf(format, args...)) }

	if st.DevCommit == "" {
		add("dev branch %q does not exist%s (run `ringflow init`)", f.Config.Dev, f.where())
	}
	var names, positions []string
	for _, rs := range st.Rings {
		for _, gs := range rs.Groups {
			if gs.Commit == "" {
				add("branch %s of group %s (ring %s) does not exist%s (run `ringflow init`)", gs.Group.Branch, gs.Group.Name, rs.Ring.Name, f.where())
			}
			if pin := gs.Group.Pin.Commit; pin != "" {
				want, err := f.Repo.ResolveCommit(pin)
				switch {
				case err != nil:
					add("%s.pin: %s is not a commit of the repository", gs.Group.Key, pin)
				case gs.Commit != "" && gs.Commit != want:
					add("group %s is pinned at %s but branch %s is at %s", gs.Group.Name, ring.Short(want), gs.Group.Branch, ring.Short(gs.Commit))
				}
			}
		}
		if rs.Err != nil {
			add("%v", rs.Err)
		}
		names = append(names, rs.Ring.Name)
		positions = append(positions, rs.Position)
	}
	order, err := ring.OrderProblems(f.Config.Dev, st.DevCommit, names, positions, f.Repo)
	if err != nil {
		return nil, err
	}
	problems = append(problems, order...)

	if st.DevCommit != "" {
		ps, err := f.Hosts(ctx, st.DevCommit)
		var merr *membership.Error
		switch {
		case errors.As(err, &merr):
			problems = append(problems, merr.Problems()...)
		case err != nil:
			add("hosts at %s %s: %v", f.Config.Dev, ring.Short(st.DevCommit), err)
		default:
			rep.Hosts = len(ps)
		}
	}
	if len(problems) > 0 {
		return rep, &CheckError{Problems: problems}
	}
	return rep, nil
}
