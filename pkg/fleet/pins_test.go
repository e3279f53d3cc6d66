package fleet

import (
	"context"
	"testing"
	"time"

	"github.com/ringflow/ringflow/pkg/config"
	"github.com/ringflow/ringflow/pkg/ledger"
	"github.com/ringflow/ringflow/pkg/ring"
)

// Pins reads, after fetching the remote's ledger, what pins each group:
// the config, a ledger pin (until unpinned), or both; State says the same
// and who holds each ring.
func TestPins(t *testing.T) {
	r := newHealRepos(t)
	at := time.Date(2026, 12, 7, 10, 0, 0, 0, time.UTC)
	entry := func(event, ringName, group, reason string) string {
		at = at.Add(time.Hour)
		return ledger.Message(ledger.Entry{Event: event, Ring: ringName, Group: group, Actor: "ops@there", Time: at, Reason: reason})
	}
	r.appendEntry(t, entry(ledger.EventPin, "stable", "stable", "trade show"))
	r.appendEntry(t, entry(ledger.EventPin, "stable", "sbc", "fair"))
	r.appendEntry(t, entry(ledger.EventPin, "canary", "canary", ""))
	r.appendEntry(t, entry(ledger.EventUnpin, "canary", "canary", ""))
	r.appendEntry(t, entry(ledger.EventHold, "stable", "", "incident 42"))

	fl, _ := openHere(t, r, "origin")
	fl.Config.Rings = []config.Ring{
		{Name: "canary", Groups: []config.Group{{Name: "canary", Ring: "canary", Branch: "canary", Key: "rings[0].groups[0]"}}},
		{Name: "stable", Groups: []config.Group{
			{Name: "stable", Ring: "stable", Branch: "stable", Key: "rings[1].groups[0]"},
			{Name: "sbc", Ring: "stable", Branch: "sbc", Key: "rings[1].groups[1]", Pin: config.Pin{Pinned: true, Commit: "734a2e0"}},
			{Name: "lab", Ring: "stable", Branch: "lab", Key: "rings[1].groups[2]", Pin: config.Pin{Pinned: true}},
		}},
	}
	pins, err := fl.Pins(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	hour := func(h int) time.Time { return time.Date(2026, 12, 7, 10+h, 0, 0, 0, time.UTC) }
	want := map[string]ring.Pin{
		"stable": {Actor: "ops@there", Time: hour(1), Reason: "trade show"},
		"sbc":    {Config: "rings[1].groups[1].pin", Commit: "734a2e0", Actor: "ops@there", Time: hour(2), Reason: "fair"},
		"lab":    {Config: "rings[1].groups[2].pin"},
	}
	if len(pins) != len(want) {
		t.Errorf("pins = %v, want %v (canary was unpinned)", pins, want)
	}
	for g, w := range want {
		if p := pins[g]; p == nil || !p.Time.Equal(w.Time) || p.Config != w.Config || p.Commit != w.Commit || p.Actor != w.Actor || p.Reason != w.Reason {
			t.Errorf("pin of %s = %+v, want %+v", g, p, w)
		}
	}

	st, err := fl.State(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	for _, rs := range st.Rings {
		for _, gs := range rs.Groups {
			if got, w := gs.Group.Pin, pins[gs.Group.Name]; (got == nil) != (w == nil) || got != nil && *got != *w || gs.Group.Pinned != (w != nil) {
				t.Errorf("State: group %s pinned %v by %+v; Pins says %+v", gs.Group.Name, gs.Group.Pinned, got, w)
			}
		}
	}
	if h := st.Rings[1].Hold; st.Rings[0].Hold != nil || h == nil || h.Reason != "incident 42" || !h.Time.Equal(hour(5)) {
		t.Errorf("holds: canary %+v, stable %+v; want stable's alone", st.Rings[0].Hold, h)
	}
}
