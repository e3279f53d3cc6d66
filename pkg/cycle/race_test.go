package cycle

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/ringflow/ringflow/pkg/ledger"
	"github.com/ringflow/ringflow/pkg/promote"
	"github.com/ringflow/ringflow/pkg/ring"
)

// racedSteps: another cycle promoted canary first (this one lost the race
// with nothing left to do), and early's promotion fails.
type racedSteps struct {
	fakeSteps
	failEarly error
}

func (s *racedSteps) Promote(ctx context.Context, name string) (*promote.Promotion, error) {
	if name == "early" && s.failEarly != nil {
		s.calls = append(s.calls, "promote "+name)
		return nil, s.failEarly
	}
	if name == "canary" {
		s.calls = append(s.calls, "promote "+name)
		by := ledger.Entry{Event: ledger.EventPromote, Ring: "canary", To: "c2", Actor: "alice@lab", Time: time.Date(2026, 12, 7, 3, 15, 0, 0, time.UTC)}
		return &promote.Promotion{Plan: &ring.Plan{Ring: name, Candidate: "c2"}, From: "c2", DoneBy: &by}, nil
	}
	return s.fakeSteps.Promote(ctx, name)
}

// A ring another run moved to this cycle's candidate first is up to date,
// with who did it, and the night goes on; a ring whose promotion failed
// says so rather than nothing.
func TestRunLostRace(t *testing.T) {
	s := &racedSteps{}
	c := newCycle(&s.fakeSteps, &fakeLock{})
	c.Steps = s
	rep, err := c.Run(context.Background(), Options{})
	if err != nil {
		t.Fatal(err)
	}
	if o := rep.Rings[0]; o.Moved || o.DoneBy == nil || o.Waiting != "up to date at c2: another run got there first (promote canary to c2 by alice@lab at 2026-12-07T03:15:00Z)" {
		t.Errorf("canary: %+v", o)
	}
	if got := strings.Join(s.calls, ", "); got != "update, build, guard, promote canary, promote early, observe stable, promote field" {
		t.Errorf("steps: %s", got)
	}
	if !rep.Rings[1].Moved {
		t.Errorf("early did not move after canary's lost race: %+v", rep.Rings[1])
	}

	s = &racedSteps{failEarly: errors.New("promotion of early to c2 lost a race")}
	c = newCycle(&s.fakeSteps, &fakeLock{})
	c.Steps = s
	rep, err = c.Run(context.Background(), Options{})
	if err == nil || !strings.Contains(err.Error(), "cycle: promote early: promotion of early to c2 lost a race") {
		t.Fatalf("err = %v", err)
	}
	if w := rep.Rings[len(rep.Rings)-1]; w.Name != "early" || w.Waiting != "not moved: see the error below" {
		t.Errorf("the failed ring: %+v", w)
	}
}
