package cmdutil

import (
	"github.com/ringflow/ringflow/pkg/guard"
	"github.com/ringflow/ringflow/pkg/ring"
)

// StoppedJSON is a ring held, or rolled back and held, for its unhealthy
// hosts (cycle -o json, watch -o json); field names are stable.
type StoppedJSON struct {
	Ring      string   `json:"ring"`
	Action    string   `json:"action"` // hold or rollback
	Position  string   `json:"position"`
	Before    string   `json:"before,omitempty"` // rollback: where it went back to
	Unhealthy []string `json:"unhealthy"`        // "host: why"
	Reason    string   `json:"reason"`           // the hold's, as the ledger keeps it
}

// Stopped is what the guard did to a ring, as JSON.
func Stopped(a guard.RingReport) StoppedJSON {
	sj := StoppedJSON{Ring: a.Ring, Action: string(a.Action), Position: a.Position, Before: a.Before, Unhealthy: []string{}}
	if n := len(a.Entries); n > 0 {
		sj.Reason = a.Entries[n-1].Reason
	}
	for _, h := range a.Unhealthy {
		sj.Unhealthy = append(sj.Unhealthy, h.Describe())
	}
	return sj
}

// StoppedLine says what the guard did to a ring, for a terminal: "held:
// …", "rolled back to 64981a1faaed and held: …".
func StoppedLine(a guard.RingReport) string {
	what := "held"
	if a.Action == guard.RolledBack {
		what = "rolled back to " + ring.Short(a.Before) + " and held"
	}
	return what + ": " + Stopped(a).Reason
}
