package cycle

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/ringflow/ringflow/pkg/build"
	"github.com/ringflow/ringflow/pkg/evidence"
	"github.com/ringflow/ringflow/pkg/gitrepo"
	"github.com/ringflow/ringflow/pkg/guard"
	"github.com/ringflow/ringflow/pkg/ledger"
	"github.com/ringflow/ringflow/pkg/promote"
	"github.com/ringflow/ringflow/pkg/ring"
	"github.com/ringflow/ringflow/pkg/update"
)

type fakeSteps struct {
	calls    []string
	red      bool
	notBuilt bool // host c: no remote builder took it
	refuse   map[string]bool
	current  map[string]bool // rings already at the candidate
	// converged: the ring before this one is seen running its candidate
	// (observe:) while deciding it.
	converged map[string]bool
	guard     *guard.Report
}

func (s *fakeSteps) convergedFor(name string) *ledger.Entry {
	if !s.converged[name] {
		return nil
	}
	return &ledger.Entry{Event: ledger.EventConverged, Ring: "before-" + name, To: "c2"}
}

func (s *fakeSteps) Guard(context.Context) (*guard.Report, error) {
	s.calls = append(s.calls, "guard")
	return s.guard, nil
}

func (s *fakeSteps) Observe(_ context.Context, name string) (*ledger.Entry, error) {
	s.calls = append(s.calls, "observe "+name)
	return s.convergedFor(name), nil
}

func (s *fakeSteps) Update(context.Context) (*update.Result, error) {
	s.calls = append(s.calls, "update")
	return &update.Result{Committed: true, Commit: "c2", Base: "c1"}, nil
}

func (s *fakeSteps) Build(context.Context, func(build.Event)) (*build.Report, error) {
	s.calls = append(s.calls, "build")
	rep := &build.Report{Commit: "c2", Hosts: []build.HostOutcome{{Host: "a", Status: evidence.Green}}}
	if s.red {
		rep.Hosts = append(rep.Hosts, build.HostOutcome{Host: "b", Status: evidence.Red, Phase: evidence.PhaseBuild})
	}
	if s.notBuilt {
		rep.Hosts = append(rep.Hosts, build.HostOutcome{Host: "c", Status: build.NotBuilt, Phase: evidence.PhaseBuild})
		return rep, &build.NoBuilderError{Machines: []string{"ssh-ng://big"}, Reason: "unable to start any build", Hosts: []string{"c"}}
	}
	return rep, nil
}

func (s *fakeSteps) Promote(_ context.Context, name string) (*promote.Promotion, error) {
	s.calls = append(s.calls, "promote "+name)
	p := &promote.Promotion{Plan: &ring.Plan{Ring: name, Candidate: "c2"}, From: "c1", Converged: s.convergedFor(name)}
	if s.refuse[name] {
		return p, &ring.GateRefusedError{Ring: name, Refusals: []ring.Refusal{{Gate: "soak", Reason: "1h left"}, {Gate: "evidence", Reason: "red"}}}
	}
	if !s.current[name] {
		p.Moves = []ring.Move{{Group: name, Branch: name, From: "c1", To: "c2"}}
	}
	return p, nil
}

// fakeLock is the cycle lock. held: another cycle holds it; a wait then
// lasts until ctx is done, or, with freed, until the holder lets go.
type fakeLock struct {
	held, freed, released bool
	waited                bool
}

func (l *fakeLock) LockContext(ctx context.Context, _ string, wait bool) (func(), error) {
	if l.held && !wait {
		return nil, &gitrepo.LockedError{Holder: "pid 42"}
	}
	if l.held && !l.freed {
		l.waited = true
		<-ctx.Done()
		return nil, &gitrepo.LockWaitError{Name: "cycle", Holder: "pid 42", Err: ctx.Err()}
	}
	l.waited = l.held
	return func() { l.released = true }, nil
}

func newCycle(s *fakeSteps, l *fakeLock) *Cycle {
	t := time.Date(2026, 12, 7, 0, 0, 0, 0, time.UTC)
	return &Cycle{Steps: s, Lock: l, Now: func() time.Time { t = t.Add(time.Second); return t },
		Rings: []Ring{{"canary", true}, {"early", true}, {"stable", false}, {"field", true}}}
}

// OnStep hears each step just before it runs, so that a progress line can
// say which one the night is in.
func TestRunSteps(t *testing.T) {
	s := &fakeSteps{}
	_, err := newCycle(s, &fakeLock{}).Run(context.Background(), Options{OnStep: func(step string) { s.calls = append(s.calls, "["+step+"]") }})
	if err != nil {
		t.Fatal(err)
	}
	want := "[update], update, [build], build, [health], guard, [promote canary], promote canary, [promote early], promote early, " +
		"[promote stable], observe stable, [promote field], promote field"
	if got := strings.Join(s.calls, ", "); got != want {
		t.Errorf("steps:\n%s\nwant\n%s", got, want)
	}
}

// Every auto ring gets its chance in order; a refusal is reported, not an
// error; a ring not auto is left for a person; the lock is let go.
func TestRunOrderAndOutcomes(t *testing.T) {
	s := &fakeSteps{refuse: map[string]bool{"early": true}, current: map[string]bool{"field": true},
		converged: map[string]bool{"early": true, "stable": true}}
	l := &fakeLock{}
	rep, err := newCycle(s, l).Run(context.Background(), Options{})
	if err != nil {
		t.Fatal(err)
	}
	if got := strings.Join(s.calls, ", "); got != "update, build, guard, promote canary, promote early, observe stable, promote field" {
		t.Errorf("steps: %s", got)
	}
	want := []RingOutcome{
		{Name: "canary", Auto: true, Moved: true, From: "c1", To: "c2"},
		{Name: "early", Auto: true, Waiting: "held by soak, evidence"},
		{Name: "stable", Waiting: "not auto: promote it by hand (ringflow promote stable)"},
		{Name: "field", Auto: true, Waiting: "up to date at c2"},
	}
	for i, w := range want {
		g := rep.Rings[i]
		if g.Name != w.Name || g.Auto != w.Auto || g.Moved != w.Moved || g.From != w.From || g.To != w.To || g.Waiting != w.Waiting {
			t.Errorf("ring %d: %+v, want %+v", i, g, w)
		}
	}
	// What the rings before early and stable run was recorded, early's
	// though a gate held it, stable's though it is not auto.
	for i, w := range []bool{false, true, true, false} {
		if got := rep.Rings[i].Converged != nil; got != w {
			t.Errorf("ring %s: converged recorded %v, want %v", rep.Rings[i].Name, got, w)
		}
	}
	if len(rep.Refused()) != 2 || !l.released || rep.Duration <= 0 {
		t.Errorf("refused %v, lock released %v, duration %v", rep.Refused(), l.released, rep.Duration)
	}
}

// A red build still lets every ring have its chance, then is the error.
func TestRunRedBuild(t *testing.T) {
	s := &fakeSteps{red: true}
	rep, err := newCycle(s, &fakeLock{}).Run(context.Background(), Options{})
	var red *build.RedError
	if !errors.As(err, &red) || len(red.Red) != 1 || red.Red[0].Host != "b" {
		t.Fatalf("err = %v, want the red host b", err)
	}
	if len(rep.Rings) != 4 {
		t.Errorf("rings = %+v", rep.Rings)
	}
}

// Hosts no remote builder took let every ring have its chance too (the
// evidence gate holds those that lack them), then are the error; with a red
// host as well, both are said and red decides (exit 4).
func TestRunNotBuilt(t *testing.T) {
	s := &fakeSteps{notBuilt: true}
	rep, err := newCycle(s, &fakeLock{}).Run(context.Background(), Options{})
	var nb *build.NoBuilderError
	if !errors.As(err, &nb) || len(nb.Hosts) != 1 || nb.Hosts[0] != "c" || len(rep.Rings) != 4 {
		t.Fatalf("err = %v, rings %+v; want host c not built after every ring", err, rep.Rings)
	}
	s = &fakeSteps{notBuilt: true, red: true}
	_, err = newCycle(s, &fakeLock{}).Run(context.Background(), Options{})
	var red *build.RedError
	if !errors.As(err, &red) || !errors.As(err, &nb) {
		t.Fatalf("err = %v, want both the red host and the host not built", err)
	}
}

// A second cycle leaves without running anything.
func TestRunLocked(t *testing.T) {
	s := &fakeSteps{}
	_, err := newCycle(s, &fakeLock{held: true}).Run(context.Background(), Options{})
	var running *RunningError
	if !errors.As(err, &running) || !strings.Contains(err.Error(), "pid 42") || len(s.calls) != 0 {
		t.Fatalf("err = %v, calls %v", err, s.calls)
	}
}
