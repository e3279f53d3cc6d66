package check

import (
	"context"
	"fmt"
	"time"

	"github.com/ringflow/ringflow/pkg/gitrepo"
	"github.com/ringflow/ringflow/pkg/ledger"
	"github.com/ringflow/ringflow/pkg/ring"
)

// The ledger as check sees it: a commit on it that holds no entry is a
// problem to name (nothing to repair: the ledger is append-only and every
// command passes over it), and a local copy behind the remote's is caught
// up by --repair (as by the next ordinary command) — over entries that
// decode only, never onto one that does not.

// Ledger is what Check reads of the ledger (*ledger.Store).
type Ledger interface {
	// Read reads every ledger commit newest first, those that hold no
	// entry included (ledger.Entry.Undecodable).
	Read(max int) ([]ledger.Entry, error)
	// Lag compares the local ledger with the remote's as last fetched.
	Lag() (ledger.Lag, error)
}

// ledgerItems finds the ledger's commits that hold no entry and a local
// ledger behind the remote's.
func (c *checker) ledgerItems() []hygiene {
	if c.ledger == nil {
		return nil
	}
	var items []hygiene
	lag, lagErr := c.ledger.Lag()
	if lagErr != nil {
		items = append(items, hygiene{problem: fmt.Sprintf("the local ledger %s could not be compared with remote %s's: %v", ledger.Ref, c.s.Remote, lagErr)})
	}
	all, err := c.ledger.Read(0)
	if err != nil {
		return append(items, hygiene{problem: fmt.Sprintf("the ledger could not be read: %v", err)})
	}
	bad := ledger.Undecodables(all)
	for i := len(bad) - 1; i >= 0; i-- { // oldest first, as they were written
		e := bad[i]
		u := e.Undecodable
		p := fmt.Sprintf("ledger entry %s (%q, by %s, %s) %s: it is not an entry ringflow wrote, so every command passes over it (soak, rollback and history read the entries around it); the ledger is append-only, so it stays and there is nothing to repair (`git show %s` shows it)",
			ring.Short(e.Commit), u.Subject, u.Author, u.Time.UTC().Format(time.RFC3339), u.Err.What, ring.Short(e.Commit))
		if lag.Stop != nil && lag.Stop.Commit == e.Commit {
			p += fmt.Sprintf("; the local ledger %s stays before it, as neither ringflow nor check --repair moves it onto an entry that does not decode (`git update-ref %s %s` does, once you are sure)",
				ledger.Ref, ledger.Ref, c.s.LedgerTracking)
		}
		items = append(items, hygiene{problem: p})
	}
	if lag.To == "" || lag.To == lag.Local {
		return items
	}
	n := lag.Taken
	problem := fmt.Sprintf("the local ledger %s (%s) is %d entr%s behind remote %s's (%s): another clone appended, or a run stopped between its push and the local copy (the next ringflow command, or ringflow check --repair, fast-forwards it)",
		ledger.Ref, ring.Short(lag.Local), len(lag.Behind), plural(len(lag.Behind), "y", "ies"), c.s.Remote, ring.Short(lag.Remote))
	if lag.To != lag.Remote {
		problem = fmt.Sprintf("the local ledger %s (%s) is %d entr%s behind remote %s's (%s): the next ringflow command, or ringflow check --repair, fast-forwards it over the %d that decode, to %s",
			ledger.Ref, ring.Short(lag.Local), len(lag.Behind), plural(len(lag.Behind), "y", "ies"), c.s.Remote, ring.Short(lag.Remote), n, ring.Short(lag.To))
	}
	items = append(items, hygiene{
		problem: problem,
		fix: func(ctx context.Context) (string, error) {
			// Lag found To descending from Local: a fast-forward, and a
			// compare-and-swap on where the copy stood.
			err := c.repo.UpdateRefs(ctx, []gitrepo.RefUpdate{{Ref: ledger.Ref, Old: lag.Local, New: lag.To}}, "ringflow: check --repair: follow the remote's ledger")
			if err != nil {
				return "", err
			}
			done := fmt.Sprintf("fast-forwarded the local ledger %s %s -> %s (remote %s's)", ledger.Ref, ring.Short(lag.Local), ring.Short(lag.To), c.s.Remote)
			if lag.Stop != nil {
				done += fmt.Sprintf(", stopping before entry %s, which does not decode", ring.Short(lag.Stop.Commit))
			}
			return done, nil
		},
	})
	return items
}
