package build

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/ringflow/ringflow/pkg/evidence"
	"github.com/ringflow/ringflow/pkg/nix"
)

// The bounds reach nix; a host nix stopped for time is red with phase
// timeout, its error naming the build, the bound and the key to raise,
// then nix's words; it is recorded so and counts as red.
func TestRunTimedOut(t *testing.T) {
	f := newFakes("hang", "quiet", "needshang", "fails", "ok")
	f.builder.Settings.Timeout, f.builder.Settings.MaxSilent = 2*time.Hour, 10*time.Minute
	f.nix.fail = map[string]string{
		"/nix/store/hang.drv":      "last log lines:\n> start-hang",
		"/nix/store/quiet.drv":     "last log lines:\n> started",
		"/nix/store/needshang.drv": "error: building of '/nix/store/dep.drv' timed out after 7200 seconds",
		"/nix/store/fails.drv":     "error: builder failed",
	}
	f.nix.stopped = map[string]nix.BuildResult{
		"/nix/store/hang.drv":      {TimedOut: nix.LimitTimeout, TimedOutDrv: "/nix/store/hang.drv"},
		"/nix/store/quiet.drv":     {TimedOut: nix.LimitMaxSilent, TimedOutDrv: "/nix/store/quiet.drv"},
		"/nix/store/needshang.drv": {TimedOut: nix.LimitTimeout, TimedOutDrv: "/nix/store/dep.drv"},
	}
	rep, err := f.builder.Run(context.Background(), Options{})
	if err != nil {
		t.Fatal(err)
	}
	for _, o := range f.nix.options {
		if o.Timeout != 2*time.Hour || o.MaxSilent != 10*time.Minute {
			t.Errorf("Realise got timeout %v, max-silent %v; want 2h and 10m", o.Timeout, o.MaxSilent)
		}
	}
	got := outcomes(rep)
	wants := map[string][]string{
		"hang": {"timed out: nix stopped the build of /nix/store/hang.drv when it had run for 2h (build.timeout); " +
			"if it needs longer, raise build.timeout in ringflow.yaml (or RINGFLOW_BUILD_TIMEOUT, or ringflow build/cycle --timeout)\nlast log lines:\n> start-hang"},
		"quiet": {"nix stopped the build of /nix/store/quiet.drv when it had printed nothing for 10m (build.max-silent)", "RINGFLOW_BUILD_MAX_SILENT", "--max-silent"},
		"needshang": {"nix stopped the build of /nix/store/dep.drv, which /nix/store/needshang.drv needs, when it had run for 2h (build.timeout)",
			"timed out after 7200 seconds"},
	}
	for host, want := range wants {
		h := got[host]
		if h.Status != evidence.Red || h.Phase != evidence.PhaseTimeout {
			t.Errorf("%s: %s, phase %s; want red, phase timeout", host, h.Status, h.Phase)
		}
		for _, w := range want {
			if !strings.Contains(h.Error, w) {
				t.Errorf("%s: error %q, want it to contain %q", host, h.Error, w)
			}
		}
		if rec := f.evidence.recorded["c1"][host]; rec.Phase != evidence.PhaseTimeout || rec.Error != h.Error {
			t.Errorf("%s recorded as %+v", host, rec)
		}
	}
	if h := got["fails"]; h.Phase != evidence.PhaseBuild || h.Error != "error: builder failed" {
		t.Errorf("fails: %+v, want red in phase build with nix's error alone", h)
	}
	if got["ok"].Status != evidence.Green {
		t.Errorf("ok: %+v", got["ok"])
	}
	if err := (&RedError{Commit: rep.Commit, Red: rep.Red()}); !strings.Contains(err.Error(), "hang (timeout), needshang (timeout), quiet (timeout)") ||
		!strings.Contains(err.Error(), "4 host(s) red") {
		t.Errorf("RedError = %v", err)
	}
}

// A bound of nix.conf, not ringflow's, is named as such.
func TestRunTimedOutByNixConf(t *testing.T) {
	f := newFakes("hang")
	f.builder.Settings.Timeout = 0
	f.nix.fail = map[string]string{"/nix/store/hang.drv": "error: timed out"}
	f.nix.stopped = map[string]nix.BuildResult{"/nix/store/hang.drv": {TimedOut: nix.LimitTimeout, TimedOutDrv: "/nix/store/hang.drv"}}
	rep, err := f.builder.Run(context.Background(), Options{})
	if err != nil {
		t.Fatal(err)
	}
	if h := rep.Hosts[0]; h.Phase != evidence.PhaseTimeout || !strings.Contains(h.Error, "at a time bound of nix.conf (timeout or max-silent-time)") {
		t.Errorf("hang: %+v", h)
	}
	if o := f.nix.options[0]; o.Timeout != 0 || o.MaxSilent != 0 {
		t.Errorf("Realise got bounds %v, %v; want none", o.Timeout, o.MaxSilent)
	}
}

func TestShowBound(t *testing.T) {
	for d, want := range map[time.Duration]string{0: "none", 2 * time.Hour: "2h", 90 * time.Minute: "1h30m", 45 * time.Second: "45s",
		10 * time.Minute: "10m", 1500 * time.Millisecond: "1.5s", 26 * time.Hour: "26h"} {
		if got := ShowBound(d); got != want {
			t.Errorf("ShowBound(%v) = %q, want %q", d, got, want)
		}
	}
}
