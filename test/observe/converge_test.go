//go:build linux

package observe_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/ringflow/ringflow/test/promserver"
)

// observedRings reads what the hosts run from the test's Prometheus, by the
// host label; canary needs converge of its hosts before early takes a
// commit. %s: the Prometheus URL, canary's converge.
const observedRings = `observe:
  prometheus:
    url: %q
    host-label: host
rings:
  - name: canary
    hosts: [lab-1, lab-2]
    soak: 0s
    converge: %q
  - name: early
    hosts: ["*"]
    soak: 0s
`

// TestConvergeGate: cause and effect through a real Prometheus. canary
// moves; lab-1 switches to the new commit, lab-2's switch fails. With
// converge 100% early is refused, naming lab-2 and what it runs; with
// converge 1 the gate opens once lab-1 runs it, the ledger records when
// canary converged, and early moves.
func TestConvergeGate(t *testing.T) {
	requireTools(t)
	ctx := context.Background()
	f := newFleet(t, "rings:\n  - name: canary\n    hosts: [lab-1, lab-2]\n  - name: early\n    hosts: [\"*\"]\n", "lab-1", "lab-2", "web-1")
	c0 := f.branch("dev")
	f.ringflow("build") // what the hosts were installed with is known: c0
	lab1 := f.startHost("lab-1", "canary")
	lab2 := f.startHost("lab-2", "canary", "-never-switch")
	prom := promserver.Start(t,
		promserver.Target{Addr: lab1.Addr, Labels: map[string]string{"host": "lab-1"}},
		promserver.Target{Addr: lab2.Addr, Labels: map[string]string{"host": "lab-2"}})
	prom.WaitTargetsUp(30 * time.Second)
	setConfig := func(converge string) {
		t.Helper()
		if err := os.WriteFile(filepath.Join(f.fg.Repo, "ringflow.yaml"), fmt.Appendf(nil, observedRings, prom.URL, converge), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	setConfig("100%")

	if _, err := f.fg.BumpNixpkgs(ctx); err != nil {
		t.Fatal(err)
	}
	c1, err := f.fg.Relock(ctx, "flake.lock: update nixpkgs")
	if err != nil {
		t.Fatal(err)
	}
	f.ringflow("build")
	f.ringflow("promote", "canary")
	want := f.toplevel("lab-1", c1)
	waitFor(t, "lab-1 runs canary's new commit", time.Minute, func() (bool, string) {
		got, err := running(ctx, prom)
		if err != nil {
			return false, err.Error()
		}
		return got["lab-1"] == want, fmt.Sprintf("lab-1 runs %q", got["lab-1"])
	})
	waitFor(t, "lab-2 tries it and fails", time.Minute, func() (bool, string) {
		return strings.Contains(lab2.Log(), "failed (-never-switch)"), "its log says nothing yet"
	})
	time.Sleep(3 * promserver.ScrapeInterval)

	_, stderr, err := f.try(ringflowBin, "promote", "early")
	var ee *exec.ExitError
	if !errors.As(err, &ee) || ee.ExitCode() != 3 {
		t.Fatalf("promote early with lab-2 behind: %v, want exit 3", err)
	}
	for _, w := range []string{"gate converge", "1 of 2 host(s) of canary run " + c1[:12] + ", 2 needed (converge: 100%)", "lab-2 runs " + c0[:12]} {
		if !strings.Contains(stderr, w) {
			t.Errorf("refusal lacks %q:\n%s", w, stderr)
		}
	}
	if got := f.branch("early"); got != c0 {
		t.Fatalf("early moved to %s although refused", got)
	}

	// hosts --running says the same: lab-1 at canary's position, lab-2 on c0.
	if table := f.ringflow("hosts", "--running"); !strings.Contains(table, "lab-2\tcanary\tcanary\t"+c0+"\t") || !strings.Contains(table, "behind its group") {
		t.Errorf("hosts --running table:\n%s", table)
	}
	var rows []struct {
		Host    string `json:"host"`
		Running struct {
			Commit     string `json:"commit"`
			AtPosition bool   `json:"at_position"`
		} `json:"running"`
	}
	if err := json.Unmarshal([]byte(f.ringflow("hosts", "--running", "-o", "json")), &rows); err != nil {
		t.Fatal(err)
	}
	for _, r := range rows {
		switch want := map[string]bool{"lab-1": true, "lab-2": false}; {
		case r.Host == "web-1":
		case r.Running.AtPosition != want[r.Host] || (r.Host == "lab-2" && r.Running.Commit != c0):
			t.Errorf("hosts --running: %s %+v", r.Host, r.Running)
		}
	}

	// status names lab-2, which never switches, and canary shows 1/2.
	if st := f.ringflow("status"); !strings.Contains(st, "observed\tcanary\t1/2\t100%\t0\n") ||
		!strings.Contains(st, "lagging\tcanary\tlab-2\t"+c0+"\t") {
		t.Errorf("status lacks canary's 1/2 and lab-2 on %s:\n%s", c0[:12], st)
	}
	var status struct {
		Rings []struct {
			Name     string `json:"name"`
			Observed struct {
				Hosts     int `json:"hosts"`
				Converged int `json:"converged"`
				Lagging   []struct {
					Host   string `json:"host"`
					Commit string `json:"commit"`
				} `json:"lagging"`
			} `json:"observed"`
		} `json:"rings"`
	}
	if err := json.Unmarshal([]byte(f.ringflow("status", "-o", "json")), &status); err != nil {
		t.Fatal(err)
	}
	if o := status.Rings[0].Observed; status.Rings[0].Name != "canary" || o.Hosts != 2 || o.Converged != 1 ||
		len(o.Lagging) != 1 || o.Lagging[0].Host != "lab-2" || o.Lagging[0].Commit != c0 {
		t.Errorf("status -o json: canary observed %+v", o)
	}

	setConfig("1")
	f.ringflow("promote", "early")
	if got := f.branch("early"); got != c1 {
		t.Errorf("early is at %s, want %s", got, c1)
	}
	if hist := f.ringflow("history", "canary", "-o", "json"); !strings.Contains(hist, `"event": "converged"`) {
		t.Errorf("no converged entry for canary:\n%s", hist)
	}
}
