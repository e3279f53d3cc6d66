//go:build linux

package observe_test

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/ringflow/ringflow/test/promserver"
)

// cycleRings: canary soaks an hour from when its host switched; stable
// is not auto, so the cycle only observes early for it. %s: the URL.
const cycleRings = `observe:
  prometheus:
    url: %q
    host-label: host
rings:
  - name: canary
    hosts: [lab-1]
    soak: 1h
    auto: true
  - name: early
    hosts: [lab-2]
    soak: 0s
    auto: true
  - name: stable
    hosts: ["*"]
`

// TestCycleObserves: the nightly cycle moves canary, and early waits for
// canary's host to take the move (converge names it); the next cycle
// sees lab-1 running it, records canary converged with the time lab-1
// switched (from its metric, not the cycle's clock), and early waits
// for canary's soak counted from that switch.
func TestCycleObserves(t *testing.T) {
	requireTools(t)
	ctx := context.Background()
	f := newFleet(t, "rings:\n  - name: canary\n    hosts: [lab-1]\n  - name: early\n    hosts: [lab-2]\n  - name: stable\n    hosts: [\"*\"]\n",
		"lab-1", "lab-2", "web-1")
	c0 := f.branch("dev")
	f.ringflow("build")
	lab1 := f.startHost("lab-1", "canary")
	prom := promserver.Start(t, promserver.Target{Addr: lab1.Addr, Labels: map[string]string{"host": "lab-1"}})
	prom.WaitTargetsUp(30 * time.Second)
	if err := os.WriteFile(filepath.Join(f.fg.Repo, "ringflow.yaml"), fmt.Appendf(nil, cycleRings, prom.URL), 0o644); err != nil {
		t.Fatal(err)
	}
	if _, err := f.fg.BumpNixpkgs(ctx); err != nil {
		t.Fatal(err)
	}

	// Night one: the lock update lands on dev, canary takes it, early
	// waits for lab-1, which still runs c0.
	out := f.ringflow("cycle")
	c1 := f.branch("dev")
	if c1 == c0 || f.branch("canary") != c1 || f.branch("early") != c0 {
		t.Fatalf("after night one: dev %s, canary %s, early %s; want canary alone on the new dev commit", f.branch("dev"), f.branch("canary"), f.branch("early"))
	}
	for _, w := range []string{"early   waits: held by converge", "0 of 1 host(s) of canary run " + c1[:12], "lab-1 runs " + c0[:12]} {
		if !strings.Contains(out, w) {
			t.Errorf("night one lacks %q:\n%s", w, out)
		}
	}
	if strings.Contains(out, "converged on") {
		t.Errorf("night one: canary recorded converged before lab-1 switched:\n%s", out)
	}

	want := f.toplevel("lab-1", c1)
	waitFor(t, "lab-1 runs canary's new commit", time.Minute, func() (bool, string) {
		got, err := running(ctx, prom)
		if err != nil {
			return false, err.Error()
		}
		return got["lab-1"] == want, fmt.Sprintf("lab-1 runs %q", got["lab-1"])
	})
	switched, err := switchedAt(ctx, prom, "lab-1")
	if err != nil {
		t.Fatal(err)
	}
	time.Sleep(2 * time.Second) // the converged time must differ from now

	// Night two: canary converged (recorded, with lab-1's switch time);
	// early waits for canary's soak, which counts from that switch.
	out = f.ringflow("cycle")
	for _, w := range []string{"canary  converged on " + c1[:12] + ": 1 of 1 host(s) run", "early   waits: held by soak", "of its 1h soak"} {
		if !strings.Contains(out, w) {
			t.Errorf("night two lacks %q:\n%s", w, out)
		}
	}
	if f.branch("early") != c0 {
		t.Errorf("early moved during canary's soak")
	}
	var hist []struct {
		Event       string    `json:"event"`
		To          string    `json:"to"`
		Time        time.Time `json:"time"`
		ConvergedAt time.Time `json:"converged_at"`
	}
	if err := json.Unmarshal([]byte(f.ringflow("history", "canary", "-o", "json")), &hist); err != nil {
		t.Fatal(err)
	}
	var found bool
	for _, e := range hist {
		if e.Event != "converged" {
			continue
		}
		found = true
		if e.To != c1 || !e.ConvergedAt.Equal(switched) || !e.Time.After(e.ConvergedAt) {
			t.Errorf("converged entry %+v: want to %s, converged_at lab-1's switch %v, recorded after it", e, c1, switched)
		}
	}
	if !found {
		t.Errorf("history of canary has no converged entry")
	}

	// Night three: nothing new; the converged entry is not recorded twice.
	out = f.ringflow("cycle")
	if strings.Contains(out, "converged on") {
		t.Errorf("night three recorded canary converged again:\n%s", out)
	}
}
