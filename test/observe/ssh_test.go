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

	"github.com/ringflow/ringflow/test/sshd"
	"github.com/ringflow/ringflow/test/testenv"
)

// sshObserved asks each host over ssh what it runs; canary needs all its
// hosts on a commit before early takes it. %q: ssh's command. The
// simulated hosts run no systemd (the sshd is this machine's, where
// systemctl says "offline"), so their health command says they run.
const sshObserved = `observe:
  ssh:
    target: "{host}"
    command: %q
    health-command: echo running
    timeout: 20s
rings:
  - name: canary
    hosts: [lab-1, lab-2]
    soak: 0s
  - name: early
    hosts: ["*"]
    soak: 0s
`

// TestSSHConverge: the converge gate and hosts --running through the ssh
// source, against a real sshd. lab-1, lab-2 and web-1 are Host aliases of
// one loopback sshd (test/sshd); each connection sends the alias it was
// reached as, and the command reads that simulated host's current-system
// link, as the default command reads /run/current-system. lab-1 switches
// to canary's new commit, lab-2's switch fails: early is refused, naming
// lab-2 and what it runs. web-1's key is not in known_hosts: it is shown as
// not observed, with ssh's reason, and the others are read all the same.
// Once lab-2 runs the commit (a fresh hostsim takes its place), the same
// gate opens and early moves.
func TestSSHConverge(t *testing.T) {
	requireSSHTools(t)
	ctx := context.Background()
	f := newFleet(t, "rings:\n  - name: canary\n    hosts: [lab-1, lab-2]\n  - name: early\n    hosts: [\"*\"]\n", "lab-1", "lab-2", "web-1")
	srv := sshd.Start(t, sshd.Options{Hosts: []string{"lab-1", "lab-2"}, UnknownHosts: []string{"web-1"}})
	// ringflow runs plain ssh: the wrapper first on its PATH hands it the
	// test's client config (OpenSSH reads ~/.ssh from the passwd entry,
	// not $HOME).
	f.env = srv.Env(f.env)

	c0 := f.branch("dev")
	f.ringflow("build") // what the hosts were installed with is known: c0
	lab1 := f.startHost("lab-1", "canary")
	lab2 := f.startHost("lab-2", "canary", "-never-switch")

	// simroot/<host> is the state directory of the host ssh reaches under
	// that name: the command finds it by the name the connection sent.
	simroot := t.TempDir()
	point := func(name, state string) {
		t.Helper()
		link := filepath.Join(simroot, name)
		os.Remove(link)
		if err := os.Symlink(state, link); err != nil {
			t.Fatal(err)
		}
	}
	point("lab-1", lab1.State)
	point("lab-2", lab2.State)
	command := fmt.Sprintf(`readlink -f "%s/$%s/current-system"`, simroot, sshd.HostVar)
	if err := os.WriteFile(filepath.Join(f.fg.Repo, "ringflow.yaml"), fmt.Appendf(nil, sshObserved, command), 0o644); err != nil {
		t.Fatal(err)
	}
	current := func(h *host) string {
		top, _ := filepath.EvalSymlinks(filepath.Join(h.State, "current-system"))
		return top
	}
	want0 := f.toplevel("lab-2", c0)
	waitFor(t, "lab-2 runs what it was installed with", time.Minute, func() (bool, string) {
		got := current(lab2)
		return got == want0, fmt.Sprintf("lab-2 runs %q", got)
	})

	if _, err := f.fg.BumpNixpkgs(ctx); err != nil {
		t.Fatal(err)
	}
	c1, err := f.fg.Relock(ctx, "flake.lock: update nixpkgs")
	if err != nil {
		t.Fatal(err)
	}
	f.ringflow("build")
	f.ringflow("promote", "canary")
	want1 := f.toplevel("lab-1", c1)
	waitFor(t, "lab-1 runs canary's new commit", 2*time.Minute, func() (bool, string) {
		got := current(lab1)
		return got == want1, fmt.Sprintf("lab-1 runs %q", got)
	})
	waitFor(t, "lab-2 tries it and fails", 2*time.Minute, func() (bool, string) {
		return strings.Contains(lab2.Log(), "failed (-never-switch)"), "its log says nothing yet"
	})

	// hosts --running: each host's commit, read over ssh.
	runs := runningRows(t, f)
	for h, w := range map[string]struct {
		commit string
		at     bool
	}{"lab-1": {c1, true}, "lab-2": {c0, false}} {
		if r := runs[h]; r.Error != "" || r.Commit != w.commit || r.AtPosition != w.at {
			t.Errorf("hosts --running: %s %+v, want commit %s, at its group's position %v", h, r, w.commit, w.at)
		}
	}
	if r := runs["lab-1"]; r.Toplevel != want1 {
		t.Errorf("hosts --running: lab-1 runs %s, nix says %s", r.Toplevel, want1)
	}
	if r := runs["web-1"]; r.Commit != "" || !strings.Contains(r.Error, "ssh web-1") || !strings.Contains(r.Error, "Host key verification failed") ||
		!strings.Contains(r.Error, "add the host's key to known_hosts") {
		t.Errorf("hosts --running: web-1 (key not in known_hosts) %+v, want not observed with ssh's reason", r)
	}
	// The answers came through the server: it let lab-1 and lab-2 in.
	if n := strings.Count(srv.Log(), "Accepted publickey for "+srv.User); n != 2 {
		t.Errorf("sshd let in %d connection(s), want 2 (lab-1, lab-2):\n%s", n, srv.Log())
	}
	table := f.ringflow("hosts", "--running")
	for _, w := range []string{"lab-1\tcanary\tcanary\t" + c1 + "\t", "lab-2\tcanary\tcanary\t" + c0 + "\t", "behind its group", "web-1\tearly\tearly\t?\t", "not observed: ssh web-1"} {
		if !strings.Contains(table, w) {
			t.Errorf("hosts --running table lacks %q:\n%s", w, table)
		}
	}

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

	// lab-2 is repaired: a fresh host, whose switches work, answers as
	// lab-2 from now on. Installed from canary's branch, it runs c1.
	fixed := f.startHost("lab-2", "canary")
	want2 := f.toplevel("lab-2", c1)
	waitFor(t, "the repaired lab-2 runs canary's commit", 2*time.Minute, func() (bool, string) {
		got := current(fixed)
		return got == want2, fmt.Sprintf("lab-2 runs %q", got)
	})
	point("lab-2", fixed.State)
	if r := runningRows(t, f)["lab-2"]; r.Commit != c1 || !r.AtPosition {
		t.Errorf("hosts --running: repaired lab-2 %+v, want %s at its group's position", r, c1)
	}
	f.ringflow("promote", "early")
	if got := f.branch("early"); got != c1 {
		t.Errorf("early is at %s, want %s", got, c1)
	}
	if hist := f.ringflow("history", "canary", "-o", "json"); !strings.Contains(hist, `"event": "converged"`) {
		t.Errorf("no converged entry for canary:\n%s", hist)
	}
}

// runningRow is one host of `hosts --running -o json`.
type runningRow struct {
	Commit     string `json:"commit"`
	Toplevel   string `json:"toplevel"`
	AtPosition bool   `json:"at_position"`
	Error      string `json:"error"`
}

// runningRows is what `ringflow hosts --running` says each host runs.
func runningRows(t *testing.T, f *fleet) map[string]runningRow {
	t.Helper()
	var rows []struct {
		Host    string     `json:"host"`
		Running runningRow `json:"running"`
	}
	if err := json.Unmarshal([]byte(f.ringflow("hosts", "--running", "-o", "json")), &rows); err != nil {
		t.Fatal(err)
	}
	got := map[string]runningRow{}
	for _, r := range rows {
		got[r.Host] = r.Running
	}
	return got
}

// requireSSHTools is requireTools without Prometheus, with a real sshd.
func requireSSHTools(t *testing.T) {
	t.Helper()
	testenv.RequireTools(t, "tests with real hosts, git, nix and sshd", tools...)
	sshd.Require(t)
}
