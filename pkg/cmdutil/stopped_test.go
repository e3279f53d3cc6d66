package cmdutil

import (
	"testing"

	"github.com/ringflow/ringflow/pkg/guard"
	"github.com/ringflow/ringflow/pkg/ledger"
	"github.com/ringflow/ringflow/pkg/ring"
)

func TestStopped(t *testing.T) {
	a := guard.RingReport{Ring: "canary", Position: "b", Action: guard.RolledBack, Before: "a0123456789abcdef",
		Unhealthy: []ring.HostHealth{{Host: "lab-1", Known: true, FailedUnits: []string{"nginx.service"}}},
		Entries:   []ledger.Entry{{Event: ledger.EventRollback}, {Event: ledger.EventHold, Reason: "ringflow watch: 1 of 2 host(s) unhealthy"}}}
	sj := Stopped(a)
	if sj.Action != "rollback" || sj.Before != a.Before || sj.Reason != "ringflow watch: 1 of 2 host(s) unhealthy" ||
		len(sj.Unhealthy) != 1 || sj.Unhealthy[0] != "lab-1: failed units: nginx.service" {
		t.Errorf("Stopped = %+v", sj)
	}
	if got, want := StoppedLine(a), "rolled back to a0123456789a and held: ringflow watch: 1 of 2 host(s) unhealthy"; got != want {
		t.Errorf("StoppedLine = %q, want %q", got, want)
	}
	a.Action, a.Entries = guard.Held, a.Entries[1:]
	if got := StoppedLine(a); got != "held: ringflow watch: 1 of 2 host(s) unhealthy" {
		t.Errorf("held: %q", got)
	}
}
