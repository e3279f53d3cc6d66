package hold

import (
	"context"
	"testing"
	"time"

	"github.com/ringflow/ringflow/pkg/config"
	"github.com/ringflow/ringflow/pkg/fleet"
	"github.com/ringflow/ringflow/pkg/ledger"
	"github.com/ringflow/ringflow/pkg/ring"
)

type fakePositions struct{ held *ring.Hold }

func (p fakePositions) State(context.Context) (*fleet.State, error) {
	return &fleet.State{Rings: []fleet.RingState{{Ring: config.Ring{Name: "canary"}, Hold: p.held}}}, nil
}

func (p fakePositions) RingIndex(name string) (int, error) {
	if name != "canary" {
		return -1, &fleet.UnknownRingError{Ring: name, Known: []string{"canary"}}
	}
	return 0, nil
}

type fakeLander struct{ landed []fleet.Landing }

func (l *fakeLander) NewEntry(event, ringName string) ledger.Entry {
	return ledger.Entry{Event: event, Ring: ringName, Actor: "ops@x", Time: time.Date(2026, 12, 7, 0, 0, 0, 0, time.UTC)}
}

func (l *fakeLander) Land(_ context.Context, ld fleet.Landing) ([]ring.Move, error) {
	l.landed = append(l.landed, ld)
	return nil, nil
}

// Holding records a hold entry and moves nothing; holding a held ring,
// releasing a free one or a dry run records nothing; release records a
// release; a reason is required; an unknown ring is named.
func TestRun(t *testing.T) {
	held := &ring.Hold{Actor: "ops@x", Reason: "incident"}
	for _, tt := range []struct {
		name      string
		held      *ring.Hold
		o         Options
		wantEvent string // "" = nothing landed
		wantErr   bool
	}{
		{name: "hold", o: Options{Ring: "canary", Reason: "trade show"}, wantEvent: ledger.EventHold},
		{name: "hold a held ring", held: held, o: Options{Ring: "canary", Reason: "again"}},
		{name: "hold, dry run", o: Options{Ring: "canary", Reason: "x", DryRun: true}},
		{name: "release", held: held, o: Options{Ring: "canary", Reason: "fixed", Release: true}, wantEvent: ledger.EventRelease},
		{name: "release a free ring", o: Options{Ring: "canary", Reason: "x", Release: true}},
		{name: "no reason", o: Options{Ring: "canary"}, wantErr: true},
		{name: "unknown ring", o: Options{Ring: "canery", Reason: "x"}, wantErr: true},
	} {
		t.Run(tt.name, func(t *testing.T) {
			l := &fakeLander{}
			h := &Holder{Positions: fakePositions{held: tt.held}, Lander: l}
			res, err := h.Run(context.Background(), tt.o)
			if (err != nil) != tt.wantErr {
				t.Fatalf("err = %v, want error %v", err, tt.wantErr)
			}
			if err != nil {
				return
			}
			if tt.wantEvent == "" {
				if len(l.landed) != 0 || res.Entry != nil {
					t.Fatalf("landed %+v, want nothing", l.landed)
				}
				return
			}
			if len(l.landed) != 1 || len(l.landed[0].Moves) != 0 || len(l.landed[0].Entries) != 1 {
				t.Fatalf("landed %+v, want one entry and no move", l.landed)
			}
			if e := l.landed[0].Entries[0]; e.Event != tt.wantEvent || e.Ring != "canary" || e.Reason != tt.o.Reason || res.Entry == nil {
				t.Errorf("entry %+v, want %s of canary: %s", e, tt.wantEvent, tt.o.Reason)
			}
		})
	}
}
