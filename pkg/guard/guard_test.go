package guard

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/ringflow/ringflow/pkg/config"
	"github.com/ringflow/ringflow/pkg/fleet"
	"github.com/ringflow/ringflow/pkg/ledger"
	"github.com/ringflow/ringflow/pkg/membership"
	"github.com/ringflow/ringflow/pkg/observe"
	"github.com/ringflow/ringflow/pkg/ring"
)

// fakeFleet: canary (lab-1, lab-2) at B, moved there from A; stable
// (web-1) at A. What each host runs and how it is are set per test.
type fakeFleet struct {
	hold    *ring.Hold
	atRing  map[string]bool // hosts running their ring's position
	srcErr  error
	health  map[string]observe.Health
	entries []ledger.Entry // newest first
	landed  []fleet.Landing
	rings   []config.Ring
}

func newFake() *fakeFleet {
	return &fakeFleet{
		atRing: map[string]bool{"lab-1": true, "lab-2": true, "web-1": true},
		health: map[string]observe.Health{},
		entries: []ledger.Entry{
			{Event: ledger.EventConverged, Ring: "canary", To: "B"},
			{Event: ledger.EventPromote, Ring: "canary", From: "A", To: "B"},
			{Event: ledger.EventPromote, Ring: "stable", From: "0", To: "A"},
			{Event: ledger.EventPromote, Ring: "canary", From: "0", To: "A"},
		},
		rings: []config.Ring{
			{Name: "canary", OnUnhealthy: config.OnUnhealthyHold},
			{Name: "stable", OnUnhealthy: config.OnUnhealthyHold},
		},
	}
}

func (f *fakeFleet) State(context.Context) (*fleet.State, error) {
	g := func(name, at string) ring.GroupState {
		return ring.GroupState{Group: ring.Group{Name: name, Branch: "deploy/" + name}, Commit: at, Head: at}
	}
	return &fleet.State{Rings: []fleet.RingState{
		{Ring: f.rings[0], Position: "B", Hold: f.hold, Groups: []ring.GroupState{g("canary", "B")}},
		{Ring: f.rings[1], Position: "A", Groups: []ring.GroupState{g("stable", "A")}},
	}}, nil
}

func (f *fakeFleet) RingHosts(context.Context, *fleet.State) ([]membership.Placement, error) {
	return []membership.Placement{{Host: "lab-1", Ring: "canary"}, {Host: "lab-2", Ring: "canary"}, {Host: "web-1", Ring: "stable"}}, nil
}

func (f *fakeFleet) Observe(_ context.Context, _ *fleet.State, ps []membership.Placement) (*fleet.Observation, error) {
	o := &fleet.Observation{Err: f.srcErr}
	for _, p := range ps {
		o.Hosts = append(o.Hosts, fleet.HostObservation{Host: p.Host, Ring: p.Ring, AtRing: f.atRing[p.Host]})
	}
	return o, nil
}

func (f *fakeFleet) Health(_ context.Context, hosts []string) (map[string]observe.Health, error) {
	out := map[string]observe.Health{}
	for _, h := range hosts {
		hh, ok := f.health[h]
		if !ok {
			hh = observe.Health{Known: true, Healthy: true}
		}
		hh.Host = h
		out[h] = hh
	}
	return out, nil
}

func (f *fakeFleet) Entries(int) ([]ledger.Entry, error) { return f.entries, nil }

func (f *fakeFleet) NewEntry(event, ringName string) ledger.Entry {
	return ledger.Entry{Event: event, Ring: ringName, Actor: "ops@test", Time: time.Date(2026, 12, 7, 12, 0, 0, 0, time.UTC)}
}

func (f *fakeFleet) Land(_ context.Context, l fleet.Landing) ([]ring.Move, error) {
	f.landed = append(f.landed, l)
	return l.Moves, nil
}

func (f *fakeFleet) guard() *Guard {
	return &Guard{Fleet: f, Ledger: f, Lander: f, Health: func() (observe.HealthSource, error) { return f, nil }}
}

func (f *fakeFleet) run(t *testing.T) *Report {
	t.Helper()
	rep, err := f.guard().Run(context.Background(), Options{Rings: f.rings, Actor: "ringflow watch"})
	if err != nil {
		t.Fatal(err)
	}
	return rep
}

var failed = observe.Health{Known: true, Reasons: []string{"failed units: nginx.service"}, FailedUnits: []string{"nginx.service"}}

func TestHealthyFleetIsLeftAlone(t *testing.T) {
	f := newFake()
	f.health["lab-2"] = observe.Health{Reasons: []string{"no up series"}} // not known: never acted on
	rep := f.run(t)
	if len(rep.Acted()) != 0 || len(f.landed) != 0 {
		t.Fatalf("acted %+v, landed %+v", rep.Acted(), f.landed)
	}
}

func TestUnhealthyRingIsHeld(t *testing.T) {
	f := newFake()
	f.health["lab-2"] = failed
	rep := f.run(t)
	acted := rep.Acted()
	if len(acted) != 1 || acted[0].Ring != "canary" || acted[0].Action != Held || len(f.landed) != 1 {
		t.Fatalf("acted %+v, landed %+v", acted, f.landed)
	}
	l := f.landed[0]
	if len(l.Moves) != 0 || len(l.Entries) != 1 || l.Entries[0].Event != ledger.EventHold ||
		l.Entries[0].Reason != "ringflow watch: 1 of 2 host(s) unhealthy on B, 0 allowed (max-unhealthy: 0): lab-2: failed units: nginx.service" {
		t.Errorf("landing %+v", l)
	}
}

func TestUnhealthyWithinAllowanceOrNotOnPosition(t *testing.T) {
	f := newFake()
	f.health["lab-2"] = failed
	f.rings[0].MaxUnhealthy = config.Tolerance{Count: 1}
	if rep := f.run(t); len(rep.Acted()) != 0 {
		t.Errorf("within max-unhealthy 1: acted %+v", rep.Acted())
	}
	f = newFake()
	f.health["lab-2"] = failed
	f.atRing["lab-2"] = false // it never took B: the move did not do it
	if rep := f.run(t); len(rep.Acted()) != 0 {
		t.Errorf("lab-2 not on canary's position: acted %+v", rep.Acted())
	}
}

func TestUnhealthyRingIsRolledBackAndHeld(t *testing.T) {
	f := newFake()
	f.health["lab-1"] = failed
	f.rings[0].OnUnhealthy = config.OnUnhealthyRollback
	rep := f.run(t)
	acted := rep.Acted()
	if len(acted) != 1 || acted[0].Action != RolledBack || acted[0].Before != "A" || len(f.landed) != 1 {
		t.Fatalf("acted %+v, landed %+v", acted, f.landed)
	}
	l := f.landed[0]
	if len(l.Moves) != 1 || l.Moves[0].Branch != "deploy/canary" || l.Moves[0].Carries != "A" || l.Moves[0].From != "B" {
		t.Errorf("moves %+v: want deploy/canary forward to A's tree", l.Moves)
	}
	if len(l.Entries) != 2 || l.Entries[0].Event != ledger.EventRollback || l.Entries[0].From != "B" || l.Entries[0].To != "A" ||
		l.Entries[1].Event != ledger.EventHold || !strings.Contains(l.Entries[1].Reason, "lab-1: failed units: nginx.service") {
		t.Errorf("entries %+v: want the rollback and the hold, together", l.Entries)
	}
}

func TestRollbackWithoutPositionBeforeHolds(t *testing.T) {
	f := newFake()
	f.health["lab-1"] = failed
	f.rings[0].OnUnhealthy = config.OnUnhealthyRollback
	f.entries = []ledger.Entry{{Event: ledger.EventInit, Ring: "canary", To: "B"}}
	rep := f.run(t)
	if a := rep.Acted(); len(a) != 1 || a[0].Action != Held || !strings.Contains(a[0].Entries[0].Reason, "the ledger shows no position of canary before B: held only") {
		t.Fatalf("acted %+v", a)
	}
}

func TestHeldOrReleasedRingIsLeftAlone(t *testing.T) {
	f := newFake()
	f.health["lab-1"] = failed
	f.hold = &ring.Hold{Actor: "ops@x", Reason: "incident 42"}
	if rep := f.run(t); len(rep.Acted()) != 0 || !strings.HasPrefix(rep.Rings[0].Skipped, "already held by ops@x") {
		t.Errorf("held ring: %+v", rep.Rings[0])
	}
	f = newFake()
	f.health["lab-1"] = failed
	f.entries = append([]ledger.Entry{{Event: ledger.EventRelease, Ring: "canary", Actor: "ops@x", Reason: "fix coming"},
		{Event: ledger.EventHold, Ring: "canary", Actor: "ringflow"}}, f.entries...)
	if rep := f.run(t); len(rep.Acted()) != 0 || !strings.Contains(rep.Rings[0].Skipped, "released on B by") {
		t.Errorf("released ring: %+v", rep.Rings[0])
	}
	// Once it moves, it is watched again.
	f.entries = append([]ledger.Entry{{Event: ledger.EventPromote, Ring: "canary", From: "B", To: "C"}}, f.entries...)
	if rep := f.run(t); len(rep.Acted()) != 1 {
		t.Errorf("moved after the release: acted %+v", rep.Acted())
	}
}

func TestSourceFailureDoesNothing(t *testing.T) {
	f := newFake()
	f.health["lab-1"] = failed
	f.srcErr = errors.New("prometheus at http://p:9090: connection refused")
	rep := f.run(t)
	if rep.Err == "" || len(rep.Acted()) != 0 || len(f.landed) != 0 {
		t.Errorf("source down: %+v, landed %+v", rep, f.landed)
	}
}
