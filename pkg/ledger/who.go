package ledger

import (
	"fmt"
	"time"

	"github.com/ringflow/ringflow/pkg/ring"
)

// MovedTo returns the newest of entries (newest first, as Entries reads
// them) that moved branch to head: which run put it there.
func MovedTo(entries []Entry, branch, head string) (Entry, bool) {
	for _, e := range entries {
		for _, g := range e.Groups {
			if g.Branch == branch && g.To == head && head != "" {
				return e, true
			}
		}
	}
	return Entry{}, false
}

// Who says what an entry recorded, who made it and when, for messages:
// "promote canary to 8deac5cd1acd by alice@lab at 2026-11-22T03:15:07Z".
func (e Entry) Who() string {
	s := e.Event
	if e.Ring != "" {
		s += " " + e.Ring
	}
	if e.To != "" {
		s += " to " + ring.Short(e.To)
	}
	actor := e.Actor
	if actor == "" {
		actor = "an unknown actor"
	}
	return fmt.Sprintf("%s by %s at %s", s, actor, e.Time.UTC().Format(time.RFC3339))
}
