package pin

import (
	"context"
	"errors"
	"slices"
	"testing"
	"time"

	"github.com/ringflow/ringflow/pkg/config"
	"github.com/ringflow/ringflow/pkg/evidence"
	"github.com/ringflow/ringflow/pkg/fleet"
	"github.com/ringflow/ringflow/pkg/ledger"
	"github.com/ringflow/ringflow/pkg/membership"
	"github.com/ringflow/ringflow/pkg/promote"
	"github.com/ringflow/ringflow/pkg/ring"
)

// fakes: ring stable at C with groups stable (at C) and sbc (at A, pinned
// as given); sbc-1 changes derivation from A to C, sbc-2 does not, sbc-3
// has no evidence at A.
type fakes struct {
	pin     *ring.Pin
	landed  []fleet.Landing
	planned []promote.Options
}

func (f *fakes) State(context.Context) (*fleet.State, error) {
	sbc := ring.Group{Name: "sbc", Ring: "stable", Branch: "sbc", Pinned: f.pin != nil, Pin: f.pin}
	return &fleet.State{Rings: []fleet.RingState{{Ring: config.Ring{Name: "stable"}, Position: "C",
		Groups: []ring.GroupState{{Group: ring.Group{Name: "stable", Ring: "stable", Branch: "stable"}, Commit: "C"}, {Group: sbc, Commit: "A"}}}}}, nil
}

func (f *fakes) Hosts(context.Context, string) ([]membership.Placement, error) {
	return []membership.Placement{{Host: "web-1", Group: "stable"}, {Host: "sbc-1", Group: "sbc"}, {Host: "sbc-2", Group: "sbc"}, {Host: "sbc-3", Group: "sbc"}}, nil
}

func (f *fakes) Get(commit string) (*evidence.Note, error) {
	g := func(drv string) evidence.Host { return evidence.Host{Status: evidence.Green, Drv: drv} }
	hosts := map[string]evidence.Host{"sbc-1": g("1-" + commit), "sbc-2": g("2"), "sbc-3": g("3")}
	if commit == "A" {
		delete(hosts, "sbc-3")
	}
	return &evidence.Note{Commit: commit, Hosts: hosts}, nil
}

func (f *fakes) Plan(_ context.Context, o promote.Options) (*promote.Promotion, error) {
	f.planned = append(f.planned, o)
	return &promote.Promotion{Group: o.Group, Plan: &ring.Plan{Ring: o.Ring, Candidate: "B",
		Moves: []ring.Move{{Group: "sbc", Branch: "sbc", From: "A", To: "B", Carries: "B"}}}}, nil
}

func (f *fakes) Entry(pr *promote.Promotion, _ promote.Options) ledger.Entry {
	return ledger.Entry{Event: ledger.EventPromote, Ring: pr.Ring, Group: pr.Group, To: pr.Candidate}
}

func (f *fakes) NewEntry(event, ringName string) ledger.Entry {
	return ledger.Entry{Event: event, Ring: ringName, Actor: "ops@x", Time: time.Date(2026, 12, 7, 0, 0, 0, 0, time.UTC)}
}

func (f *fakes) Land(_ context.Context, l fleet.Landing) ([]ring.Move, error) {
	f.landed = append(f.landed, l)
	return l.Moves, nil
}

func (f *fakes) pinner() *Pinner {
	return &Pinner{Positions: f, Hosts: f, Evidence: f, Mover: f, Lander: f}
}

func events(ls []fleet.Landing) []string {
	var out []string
	for _, l := range ls {
		for _, e := range l.Entries {
			out = append(out, e.Event+" "+e.Group+" "+e.To)
		}
	}
	return out
}

func TestPin(t *testing.T) {
	ctx := context.Background()
	ledgerPin := &ring.Pin{Actor: "ops@x", Time: time.Date(2026, 12, 6, 0, 0, 0, 0, time.UTC), Reason: "fair"}

	// pin: one pin entry at the group's commit, nothing moves
	f := &fakes{}
	res, err := f.pinner().Run(ctx, Options{Group: "sbc", Reason: "fair"})
	if err != nil || res.Entry == nil || !slices.Equal(events(f.landed), []string{"pin sbc A"}) || len(f.landed[0].Moves) != 0 {
		t.Fatalf("pin: %v, landed %v", err, events(f.landed))
	}
	// pin of a group the ledger pins: nothing
	f = &fakes{pin: ledgerPin}
	if res, err = f.pinner().Run(ctx, Options{Group: "sbc", Reason: "again"}); err != nil || res.Entry != nil || len(f.landed) != 0 {
		t.Fatalf("pin again: %v, landed %v", err, events(f.landed))
	}
	// pin REV: the group's promotion and the pin land together, the pin at REV
	f = &fakes{pin: ledgerPin}
	res, err = f.pinner().Run(ctx, Options{Group: "sbc", Rev: "B", Reason: "kernel"})
	if err != nil || len(f.landed) != 1 || !slices.Equal(events(f.landed), []string{"promote sbc B", "pin sbc B"}) || len(f.landed[0].Moves) != 1 {
		t.Fatalf("pin REV: %v, landed %v", err, events(f.landed))
	}
	if o := f.planned[0]; o.Ring != "stable" || o.Group != "sbc" || o.Rev != "B" || res.Commit != "B" {
		t.Errorf("planned %+v, commit %s", o, res.Commit)
	}
	// unknown group
	var unknown *UnknownGroupError
	if _, err = (&fakes{}).pinner().Run(ctx, Options{Group: "sbx", Reason: "x"}); !errors.As(err, &unknown) || unknown.Error() != `unknown group "sbx": did you mean sbc? (groups: stable, sbc)` {
		t.Errorf("unknown group: %v", err)
	}
}

func TestUnpin(t *testing.T) {
	ctx := context.Background()
	// unpin of a ledger pin: an unpin entry, and what the hosts meet at C
	f := &fakes{pin: &ring.Pin{Actor: "ops@x", Time: time.Date(2026, 12, 6, 0, 0, 0, 0, time.UTC)}}
	res, err := f.pinner().Run(ctx, Options{Group: "sbc", Unpin: true, Reason: "back"})
	if err != nil || !slices.Equal(events(f.landed), []string{"unpin sbc "}) {
		t.Fatalf("unpin: %v, landed %v", err, events(f.landed))
	}
	im := res.Impact
	if im == nil || im.From != "A" || im.To != "C" || !slices.Equal(im.Hosts, []string{"sbc-1", "sbc-2", "sbc-3"}) ||
		!slices.Equal(im.Changed, []string{"sbc-1"}) || !slices.Equal(im.Unknown, []string{"sbc-3"}) {
		t.Errorf("impact %+v", im)
	}
	// not pinned: nothing
	f = &fakes{}
	if res, err = f.pinner().Run(ctx, Options{Group: "sbc", Unpin: true, Reason: "x"}); err != nil || res.Entry != nil || len(f.landed) != 0 {
		t.Errorf("unpin of a free group: %v, landed %v", err, events(f.landed))
	}
	// pinned by the config only: refused, naming the key
	f = &fakes{pin: &ring.Pin{Config: "rings[2].groups[1].pin"}}
	var cp *ConfigPinError
	if _, err = f.pinner().Run(ctx, Options{Group: "sbc", Unpin: true, Reason: "x"}); !errors.As(err, &cp) || cp.Key != "rings[2].groups[1].pin" || len(f.landed) != 0 {
		t.Errorf("unpin of a config pin: %v", err)
	}
}
