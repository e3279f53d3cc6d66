package cmdutil

import (
	"strings"
	"testing"
	"time"

	"github.com/ringflow/ringflow/pkg/ring"
)

func TestPinCell(t *testing.T) {
	at := time.Date(2026, 12, 7, 10, 0, 0, 0, time.UTC)
	key := "rings[2].groups[1].pin"
	full := "734a2e021aca" + strings.Repeat("0", 28)
	for _, tt := range []struct {
		pin       *ring.Pin
		tty, pipe string
	}{
		{nil, "-", "-"},
		{&ring.Pin{Config: key}, "config", "pinned by the config (" + key + ")"},
		{&ring.Pin{Config: key, Commit: full}, "config@734a2e0", "pinned at " + full + " by the config (" + key + ")"},
		{&ring.Pin{Config: key, Commit: "abcd"}, "config@abcd", "pinned at abcd by the config (" + key + ")"},
		{&ring.Pin{Actor: "ops@host", Time: at, Reason: "trade show"}, "ops@host: trade show",
			"pinned by ops@host at 2026-12-07T10:00:00Z: trade show"},
		{&ring.Pin{Actor: "ops@host", Time: at}, "ops@host", "pinned by ops@host at 2026-12-07T10:00:00Z"},
		{&ring.Pin{Actor: "ops@host", Time: at, Reason: "boards at the trade show in Essen\nback on Monday"}, "ops@host: boards at the…",
			"pinned by ops@host at 2026-12-07T10:00:00Z: boards at the trade show in Essen\nback on Monday"},
		{&ring.Pin{Config: key, Commit: full, Actor: "ops@host", Time: at, Reason: "trade show"}, "config@734a2e0, ops@host",
			"pinned at " + full + " by the config (" + key + "), and by ops@host at 2026-12-07T10:00:00Z: trade show"},
		{&ring.Pin{Config: key, Actor: "ops@host", Time: at, Reason: "fair"}, "config, ops@host: fair",
			"pinned by the config (" + key + "), and by ops@host at 2026-12-07T10:00:00Z: fair"},
		{&ring.Pin{Config: key, Commit: full, Actor: "ringflow@ops-1.example.org", Time: at}, "config@734a2e0, ringflo…",
			"pinned at " + full + " by the config (" + key + "), and by ringflow@ops-1.example.org at 2026-12-07T10:00:00Z"},
	} {
		if got := PinCell(tt.pin, true); got != tt.tty {
			t.Errorf("PinCell(%+v, tty) = %q, want %q", tt.pin, got, tt.tty)
		}
		if n := len([]rune(PinCell(tt.pin, true))); n > PinWidth {
			t.Errorf("PinCell(%+v, tty) is %d wide, more than %d", tt.pin, n, PinWidth)
		}
		if got := PinCell(tt.pin, false); got != tt.pipe {
			t.Errorf("PinCell(%+v, pipe) = %q, want %q", tt.pin, got, tt.pipe)
		}
	}
}

func TestPin(t *testing.T) {
	if Pin(nil) != nil {
		t.Error("Pin(nil) is not nil: an unpinned group's pin must be null")
	}
	at := time.Date(2026, 12, 7, 11, 0, 0, 0, time.FixedZone("CET", 3600))
	got := *Pin(&ring.Pin{Config: "rings[2].groups[1].pin", Commit: "c0ffee", Actor: "ops@x", Time: at, Reason: "r"})
	want := PinJSON{Config: "rings[2].groups[1].pin", Commit: "c0ffee", Actor: "ops@x", Time: "2026-12-07T10:00:00Z", Reason: "r"}
	if got != want {
		t.Errorf("Pin = %+v, want %+v", got, want)
	}
	if got := *Pin(&ring.Pin{Config: "k"}); got != (PinJSON{Config: "k"}) {
		t.Errorf("a config pin = %+v, want no time", got)
	}
}

func TestTruncate(t *testing.T) {
	for _, tt := range []struct {
		s    string
		n    int
		want string
	}{
		{"short", 10, "short"},
		{"exactly10!", 10, "exactly10!"},
		{"ops@host: trade show", 10, "ops@host…"},
		{"ops@host: trade show", 11, "ops@host…"},
		{"äöüäöüäöüäöü", 5, "äöüä…"},
		{"held by ops@ops-1: incident 42: disk full", 30, "held by ops@ops-1: incident…"},
		{"ops@ops-1: trade show until Friday", 24, "ops@ops-1: trade show…"},
		{"ops@ops-1: tradeshowuntilFriday", 24, "ops@ops-1: tradeshowunt…"},
	} {
		if got := Truncate(tt.s, tt.n); got != tt.want {
			t.Errorf("Truncate(%q, %d) = %q, want %q", tt.s, tt.n, got, tt.want)
		}
	}
}
