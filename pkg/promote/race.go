package promote

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/ringflow/ringflow/pkg/gitrepo"
	"github.com/ringflow/ringflow/pkg/ledger"
	"github.com/ringflow/ringflow/pkg/refmove"
	"github.com/ringflow/ringflow/pkg/ring"
)

// What a promotion does when it lost a race: another run moved a ref it
// leased (a branch of the ring, or the ledger) between its fetch and its
// push, so nothing of it landed. It fetches again and looks. Is the ring
// where this run would have put it, by a ledger entry, the work is done:
// the promotion has nothing to do and says who did it. Otherwise the
// gates were decided on facts that no longer hold, so it refuses, naming
// what moved and the command that decides again.

// Refresher fetches the remote's refs again, even when this run already
// did (*fleet.Fleet).
type Refresher interface {
	Refresh(ctx context.Context) error
}

// recentEntries bounds how far back the ledger is read for who won a
// race: the winner's entry landed moments ago.
const recentEntries = 200

// BranchMoved is a branch that moved while a promotion was deciding.
type BranchMoved struct {
	Branch   string
	From, To string // where this run found it, where it is now ("" = gone)
}

// LostRaceError says a promotion lost a race and there is still something
// to do: nothing of it landed. It exits 1.
type LostRaceError struct {
	Ring      string
	Candidate string
	Remote    string        // where the race was lost; "" = in this repository
	Moved     []BranchMoved // the ring's branches that moved meanwhile
	By        *ledger.Entry // the ledger entry that moved them (or the newest one); nil = none known
	Outside   bool          // a branch moved and no ledger entry records it
	Err       error         // the lost compare-and-swap
	FetchErr  error         // fetching again failed: where things stand is unknown
}

func (e *LostRaceError) Error() string {
	var b strings.Builder
	fmt.Fprintf(&b, "promotion of %s to %s lost a race", e.Ring, ring.Short(e.Candidate))
	if e.Remote != "" {
		fmt.Fprintf(&b, " on remote %s", e.Remote)
	}
	b.WriteString(": ")
	switch {
	case e.FetchErr != nil:
		fmt.Fprintf(&b, "a ref it leased moved meanwhile, and fetching again to see where failed (%v)", e.FetchErr)
	case len(e.Moved) > 0:
		var moved []string
		for _, m := range e.Moved {
			moved = append(moved, fmt.Sprintf("branch %s moved from %s to %s", m.Branch, short(m.From), short(m.To)))
		}
		b.WriteString("while it was deciding, " + strings.Join(moved, ", "))
		switch {
		case e.By != nil:
			fmt.Fprintf(&b, " (%s)", e.By.Who())
		case e.Outside:
			b.WriteString(" (no ledger entry records it: it was moved outside ringflow)")
		}
	default:
		b.WriteString("while it was deciding, the ledger took another entry")
		if e.By != nil {
			fmt.Fprintf(&b, " (%s)", e.By.Who())
		}
	}
	b.WriteString("; nothing of this promotion landed: ")
	if e.Outside {
		// The drift gate holds the ring until a person says which stands.
		fmt.Fprintf(&b, "`ringflow restore %s` puts it back where the ledger has it, or `ringflow adopt %s --reason TEXT` records where it stands; then `ringflow promote %s`", e.Ring, e.Ring, e.Ring)
	} else {
		fmt.Fprintf(&b, "run `ringflow promote %s` to decide again from where the rings now stand", e.Ring)
	}
	return b.String()
}

// ledgerOnly says the race was lost on the ledger alone: fetched again,
// none of the ring's branches had moved.
func (e *LostRaceError) ledgerOnly() bool {
	return e.FetchErr == nil && len(e.Moved) == 0 && !e.Outside
}

// Unwrap gives the lost compare-and-swap, and why fetching again failed
// (an interruption there still exits 130).
func (e *LostRaceError) Unwrap() []error {
	if e.FetchErr != nil {
		return []error{e.Err, e.FetchErr}
	}
	return []error{e.Err}
}

func short(c string) string {
	if c == "" {
		return "nothing (gone)"
	}
	return ring.Short(c)
}

// afterLostRace fetches again and looks at ring pr.Ring: at the candidate
// by a ledger entry, the promotion is done (Moves emptied, DoneBy set);
// otherwise a *LostRaceError.
func (p *Promoter) afterLostRace(ctx context.Context, pr *Promotion, lost error) (*Promotion, error) {
	lre := &LostRaceError{Ring: pr.Ring, Candidate: pr.Candidate, Err: lost}
	var rejected *gitrepo.PushRejectedError
	if errors.As(lost, &rejected) {
		lre.Remote = rejected.Remote
	}
	if err := p.Fresh.Refresh(ctx); err != nil {
		lre.FetchErr = err
		return nil, lre
	}
	i, err := p.ringIndex(pr.Ring)
	if err != nil {
		return nil, err
	}
	st, err := p.Positions.State(ctx)
	if err != nil {
		lre.FetchErr = err
		return nil, lre
	}
	entries, err := p.Ledger.Entries(recentEntries)
	if err != nil {
		return nil, fmt.Errorf("%w; reading the ledger to see who won: %w", lre, err)
	}
	done := true
	var by *ledger.Entry
	for _, m := range pr.Moves {
		now, carried := "", ""
		for _, gs := range st.Rings[i].Groups {
			if gs.Group.Branch == m.Branch {
				now, carried = gs.Head, gs.Commit
				if now == "" {
					now = carried
				}
			}
		}
		if now == m.From {
			done = false // still where this run found it: only the ledger moved
			continue
		}
		e, recorded := ledger.MovedTo(entries, m.Branch, now)
		if carried != pr.Candidate || !recorded {
			done = false
		}
		if recorded && by == nil {
			by = &e
		}
		lre.Moved = append(lre.Moved, BranchMoved{Branch: m.Branch, From: m.From, To: now})
		lre.Outside = lre.Outside || !recorded
	}
	if done && by != nil {
		pr.Moves, pr.DoneBy = nil, by
		return pr, nil
	}
	if by == nil && len(lre.Moved) == 0 && len(entries) > 0 {
		by = &entries[0] // only the ledger moved: its newest entry is why
	}
	lre.By = by
	return nil, lre
}

// lostRace is refmove.LostRace, when this promoter can fetch again.
func (p *Promoter) lostRace(err error) bool { return p.Fresh != nil && refmove.LostRace(err) }
