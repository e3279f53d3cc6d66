package promote

import (
	"testing"

	"github.com/ringflow/ringflow/pkg/config"
	"github.com/ringflow/ringflow/pkg/fleet"
)

type countFake map[[2]string]int

func (c countFake) CountBetween(base, tip string) (int, error) { return c[[2]string{base, tip}], nil }

func idleState(dev string, positions ...string) *fleet.State {
	st := &fleet.State{Dev: "dev", DevCommit: dev}
	for i, pos := range positions {
		st.Rings = append(st.Rings, fleet.RingState{Ring: config.Ring{Name: []string{"canary", "early", "stable"}[i]}, Position: pos})
	}
	return st
}

func TestIdle(t *testing.T) {
	a, b := "aaaaaaaaaaaa0000", "bbbbbbbbbbbb0000"
	p := &Promoter{Count: countFake{{a, b}: 2}}
	tests := []struct {
		name string
		st   *fleet.State
		ring int
		why  string
		next string
	}{
		{"early lags canary", idleState(b, b, a, a), 2,
			"ring stable already holds aaaaaaaaaaaa, as does early; early is 2 commits behind canary (at bbbbbbbbbbbb): promote early first (`ringflow promote early`)",
			"ringflow promote early"},
		{"canary lags dev", idleState(b, a, a, a), 2,
			"ring stable already holds aaaaaaaaaaaa, as do early and canary; canary is 2 commits behind dev (at bbbbbbbbbbbb): promote canary first (`ringflow promote canary`)",
			"ringflow promote canary"},
		{"all at dev", idleState(a, a, a, a), 2, "ring stable already holds aaaaaaaaaaaa, as do early and canary, and dev is there too", ""},
		{"first ring at dev", idleState(a, a, b, b), 0, "ring canary already holds aaaaaaaaaaaa, dev's head", ""},
	}
	for _, tt := range tests {
		id := p.idle(tt.st, tt.ring, a)
		if id == nil {
			t.Errorf("%s: no Idle", tt.name)
			continue
		}
		if id.Why() != tt.why || id.Next() != tt.next {
			t.Errorf("%s:\n got %q, %q\nwant %q, %q", tt.name, id.Why(), id.Next(), tt.why, tt.next)
		}
	}
	// The source does not hold what the ring does: nothing to tell.
	if id := p.idle(idleState(b, b, b, a), 2, a); id != nil {
		t.Errorf("source elsewhere: %+v, want nil", id)
	}
}
