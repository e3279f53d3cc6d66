// Package soak tells, from the ledger, since when a ring has held a commit
// and how much of its soak is left. Promotion gates on it; status and the
// metrics show it.
package soak

import (
	"errors"
	"time"

	"github.com/ringflow/ringflow/pkg/gitrepo"
	"github.com/ringflow/ringflow/pkg/ledger"
	"github.com/ringflow/ringflow/pkg/ring"
)

// HeldSince reads entries (newest first, as the ledger lists them) for
// when ring first held commit or a descendant of it without letting go
// since; zero when it never did (or no entry says so). waived says the
// entry that took it changed no host.
func HeldSince(entries []ledger.Entry, ringName, commit string, a ring.Ancestry) (since time.Time, waived bool, err error) {
	return since0(entries, ringName, commit, a, false)
}

// ConvergedSince is HeldSince for an observed fleet (observe:): the soak
// counts from when the ring's hosts were first seen running commit or a
// descendant (a converged entry), not from when its branches moved; zero
// until then. A move of the ring off commit starts it over, as in
// HeldSince.
func ConvergedSince(entries []ledger.Entry, ringName, commit string, a ring.Ancestry) (since time.Time, waived bool, err error) {
	return since0(entries, ringName, commit, a, true)
}

func since0(entries []ledger.Entry, ringName, commit string, a ring.Ancestry, converged bool) (since time.Time, waived bool, err error) {
	var movedAt time.Time                    // the ring's move onto commit, observed fleets
	for i := len(entries) - 1; i >= 0; i-- { // oldest first
		e := entries[i]
		if e.Ring != ringName || e.To == "" || e.Group != "" { // a group moved alone (promote --group) is not the ring
			continue
		}
		holds, err := a.IsAncestor(commit, e.To)
		if err != nil {
			// A position the repository no longer has cannot hold commit.
			if !errors.Is(err, gitrepo.ErrUnknownRevision) {
				return time.Time{}, false, err
			}
			holds = false
		}
		if converged && e.Event != ledger.EventConverged {
			// A move: off commit starts over; onto it counts nothing yet
			// (the hosts have not taken it), but carries the waiver.
			if !holds {
				since, waived, movedAt = time.Time{}, false, time.Time{}
			} else if since.IsZero() {
				waived = e.NoImpact
				if movedAt.IsZero() {
					movedAt = e.Time
				}
			}
			continue
		}
		switch {
		case holds && since.IsZero():
			since = e.Time
			if converged && !e.ConvergedAt.IsZero() {
				// When the hosts switched, not when ringflow saw it; yet
				// never before the ring moved there (a host may have run
				// the same system from an older commit).
				since = e.ConvergedAt
				if since.Before(movedAt) {
					since = movedAt
				}
			}
			if !converged {
				waived = e.NoImpact
			}
		case !holds:
			since, waived = time.Time{}, false
		}
	}
	return since, waived, nil
}

// Left says how much longer position must sit on ring before the next
// ring may take it (0 when it may, or when nothing says since when).
func Left(entries []ledger.Entry, ringName string, soak time.Duration, position string, now time.Time, a ring.Ancestry) (time.Duration, error) {
	if soak <= 0 || position == "" {
		return 0, nil
	}
	since, waived, err := HeldSince(entries, ringName, position, a)
	if err != nil || waived || since.IsZero() {
		return 0, err
	}
	return ring.SoakLeft(soak, since, now), nil
}
