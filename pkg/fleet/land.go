package fleet

import (
	"context"
	"fmt"

	"github.com/ringflow/ringflow/pkg/ledger"
	"github.com/ringflow/ringflow/pkg/refmove"
	"github.com/ringflow/ringflow/pkg/ring"
)

// Landing is one operation's movement: the branches it moves and the
// ledger entries that record them.
type Landing struct {
	Moves   []ring.Move    // From "" = the branch is created
	Entries []ledger.Entry // each gets the moves of its ring filled in
	// CreateLocal are local branches to create once the rest landed (init).
	CreateLocal []refmove.Branch
	Why         string // the reflog message
}

// Lander is how an operation moves refs: the ledger entry it records and
// Land (*Fleet). Operations take it rather than the whole core.
type Lander interface {
	NewEntry(event, ringName string) ledger.Entry
	Land(ctx context.Context, l Landing) ([]ring.Move, error)
}

// Land moves the branches and appends the entries, all or none, through
// the one ref mover (refmove). Moves that land as tree copies (after a
// rollback) get their commits first. It returns the moves as they landed.
func (f *Fleet) Land(ctx context.Context, l Landing) ([]ring.Move, error) {
	moves := append([]ring.Move(nil), l.Moves...)
	for i, m := range moves {
		if !m.NeedsCarry() {
			continue
		}
		msg := fmt.Sprintf("ringflow: %s carries %s\n\n%s\n\n%s: %s\n", m.Branch, ring.Short(m.Carries), l.Why, CarriesTrailer, m.Carries)
		c, err := f.Repo.CommitTreeOf(m.From, m.Carries, msg, f.Config.Update.Author, f.Now())
		if err != nil {
			return nil, err
		}
		moves[i].To = c
	}
	change := refmove.Change{CreateLocal: l.CreateLocal, Why: l.Why}
	for _, m := range moves {
		change.Branches = append(change.Branches, refmove.Branch{Name: m.Branch, Old: m.From, New: m.To})
	}
	tip, next, err := f.prepareEntries(l.Entries, moves)
	if err != nil {
		return nil, err
	}
	if next != "" {
		change.Own = append(change.Own, refmove.Own{Ref: ledger.Ref, Tracking: f.Ledger.TrackingRef(), Old: tip, New: next})
	}
	if err := f.Mover.Move(ctx, change); err != nil {
		return nil, err
	}
	if next != "" {
		f.ledgerTip, f.ledgerTipSet = next, true // our own entry: the next one in this run builds on it
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
			if !movesBranches(e) {
				break // a pin or hold landed with a move records no move itself
			}
			if r, ok := f.groupRing(m.Group); ok && r == e.Ring && (e.Group == "" || e.Group == m.Group) {
				e.Groups = append(e.Groups, ledger.GroupMove{Group: m.Group, Branch: m.Branch, From: m.From, To: m.To, Carries: carriesIfCopy(m)})
			}
		}
		if next, err = f.Ledger.Prepare(e, next); err != nil {
			return "", "", err
		}
	}
	return tip, next, nil
}

// movesBranches says whether an entry records branch movements; pins and
// holds record decisions about them.
func movesBranches(e ledger.Entry) bool {
	switch e.Event {
	case ledger.EventPin, ledger.EventUnpin, ledger.EventHold, ledger.EventRelease:
		return false
	}
	return true
}

func carriesIfCopy(m ring.Move) string {
	if m.Carries != "" && m.Carries != m.To {
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

// NewEntry starts a ledger entry stamped with the actor and the clock.
func (f *Fleet) NewEntry(event, ringName string) ledger.Entry {
	return ledger.Entry{Event: event, Ring: ringName, Actor: f.Actor, Time: f.Now().UTC()}
}
