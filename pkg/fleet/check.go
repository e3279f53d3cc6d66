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

// CheckReport is what a clean check found, and what it repaired.
type CheckReport struct {
	DevCommit string
	Hosts     int
	Groups    int
	Rings     int
	Repaired  []string // one line per fix, with CheckOptions.Repair
}

// CheckOptions says how Check runs.
type CheckOptions struct {
	// Repair fixes what a killed ringflow or git can leave behind and
	// that can be fixed safely (see repair.go): stale git lock files,
	// stale scratch checkouts, unreadable ref files a remote has a copy
	// of, tracking refs and a local ledger behind the remote. What needs
	// a person stays a problem.
	Repair bool
}

// Check validates the config against the flake at dev's head and the
// repository's invariants, collecting every problem rather than the first.
// It also looks for what a killed run leaves behind (lock files, scratch
// checkouts, ref files cut short, a ledger copy behind the remote's) and,
// with o.Repair, clears what can be cleared.
func (f *Fleet) Check(ctx context.Context, o CheckOptions) (*CheckReport, error) {
	if err := f.RequireRings(); err != nil {
		return nil, err
	}
	rep := &CheckReport{Groups: len(f.Config.Groups())}
	var problems []string
	add := func(format string, args ...any) { problems = append(problems, fmt.Sprintf(format, args...)) }
	apply := func(items []hygiene) {
		for _, it := range items {
			if !o.Repair || it.fix == nil {
				if it.problem != "" {
					problems = append(problems, it.problem)
				}
				continue
			}
			done, err := it.fix(ctx)
			switch {
			case err != nil && it.problem != "":
				add("%s; the repair failed: %v", it.problem, err)
			case err != nil:
				add("repair failed: %v", err)
			case done != "":
				rep.Repaired = append(rep.Repaired, done)
			}
		}
	}

	var restore []brokenRef
	items, err := f.preSync(&restore)
	if err != nil {
		return nil, err
	}
	apply(items)
	var before map[string]string
	if o.Repair {
		before = f.snapshot(f.trackingRefs())
	}
	st, err := f.State(ctx)
	if err != nil {
		if len(problems) > 0 {
			// What was found above is the likely cause: say it all, exit 2.
			add("the branches could not be read: %v", err)
			return rep, &CheckError{Problems: problems}
		}
		return nil, err
	}
	if o.Repair {
		after := f.snapshot(f.trackingRefs())
		for _, r := range f.trackingRefs() {
			if before[r] != "" && after[r] != "" && before[r] != after[r] {
				rep.Repaired = append(rep.Repaired, fmt.Sprintf("%s disagreed with remote %s (at %s); fetched %s",
					r, f.Config.Remote, orNone(before[r]), ring.Short(after[r])))
			}
		}
	}
	apply(f.afterSync(ctx, restore))
	rep.DevCommit, rep.Rings = st.DevCommit, len(st.Rings)

	if st.DevCommit == "" {
		add("dev branch %q does not exist%s (run `ringflow init`)", f.Config.Dev, f.where())
	}
	var names, positions []string
	for _, rs := range st.Rings {
		for j, gs := range rs.Groups {
			cg := rs.Ring.Groups[j]
			if gs.Commit == "" {
				add("branch %s of group %s (ring %s) does not exist%s (run `ringflow init`)", gs.Group.Branch, gs.Group.Name, rs.Ring.Name, f.where())
			}
			if pin := cg.Pin.Commit; pin != "" {
				want, err := f.Repo.ResolveCommit(pin)
				switch {
				case err != nil:
					add("%s.pin: %s is not a commit of the repository", cg.Key, pin)
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

func orNone(c string) string {
	if c == "" {
		return "nothing"
	}
	return ring.Short(c)
}
