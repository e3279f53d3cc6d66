// Package hostsim simulates one NixOS host of a fleet for ringflow's tests:
// it does what system.autoUpgrade (or comin) does on a real host, with the
// real git and the real nix, minus the activation. Every interval it
// fetches its group's branch from the fleet's remote into a repository of
// its own; when the commit changed, it builds its toplevel with nix from
// that commit, straight from git, and points its own current-system link
// at it (the stand-in for /run/current-system). It then exports what it
// runs: the host metric on /metrics (or comin's comin_deployment_info) and
// the node_exporter textfile the NixOS module writes.
//
// A toplevel that names failed units (fleetgen's Host.FailedUnits) makes
// the host report them after the switch, as node_exporter's systemd
// collector does (node_systemd_unit_state{name,state="failed"} 1): the
// build was green, the activation left a unit failed.
//
// A host can be told to fail its switches (Options.FailSwitch,
// Options.NeverSwitch): it keeps running the old system, as a host whose
// switch-to-configuration failed, while it has fetched and built the new one.
//
// State directory (Options.State):
//
//	repo.git            bare repository the branch is fetched into
//	current-system      symlink to the toplevel it runs
//	ringflow-host.prom  the textfile (unless Options.Textfile says otherwise)
//	listen              the address /metrics is served on, once it is
//
// Only pkg/nix runs nix here; git is the git CLI.
package hostsim

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"time"

	"github.com/ringflow/ringflow/pkg/nix"
)

// Options describe one simulated host.
type Options struct {
	Host     string        // its name in nixosConfigurations
	Remote   string        // the fleet's remote: a path or a URL git fetches from
	Branch   string        // its group's branch on the remote
	FlakeDir string        // the flake's directory inside the repository; "" = top
	State    string        // its state directory, created if missing
	Interval time.Duration // how often it fetches; default 1s
	Listen   string        // where /metrics is served; default 127.0.0.1:0
	// Textfile is where the node_exporter textfile goes; "" =
	// State/ringflow-host.prom, "-" = none.
	Textfile string
	Comin    bool // serve comin's comin_deployment_info instead of the host metric
	// FailSwitch lists commits (a prefix of 4 or more hex digits) and
	// toplevels whose switch fails.
	FailSwitch []string
	// NeverSwitch fails every switch after the first one (the system the
	// host was installed with).
	NeverSwitch bool
	Nix         string    // nix binary; default "nix"
	Log         io.Writer // one line per event; default os.Stderr
	Now         func() time.Time
}

// Sim is a running simulated host.
type Sim struct {
	o   Options
	nix *nix.Nix
	// repo is the bare repository the branch is fetched into.
	repo string

	mu sync.Mutex
	st state

	// tried is the last commit the host built and switched to, or failed
	// to: it tries a commit once, as autoUpgrade runs once a day.
	tried string
	// lastErr is the last error that a later tick may heal (a fetch, nix
	// unreachable), logged once until it changes.
	lastErr string
}

// state is what the host runs and its last deployment.
type state struct {
	toplevel string    // "" before the first switch
	commit   string    // the commit toplevel was built from; "" when unknown
	switched time.Time // when toplevel became the running system
	// The last deployment, as comin reports it: the commit and "done" or
	// "failed". A failed build is no deployment.
	deployCommit, deployStatus string
	// failedUnits are the units that failed once it switched to toplevel:
	// those the toplevel names (fleetgen's Host.FailedUnits).
	failedUnits []string
}

// New checks o and prepares the state directory.
func New(o Options) (*Sim, error) {
	switch {
	case o.Host == "":
		return nil, errors.New("hostsim: no host name")
	case o.Remote == "":
		return nil, errors.New("hostsim: no remote")
	case o.Branch == "":
		return nil, errors.New("hostsim: no branch")
	case o.State == "":
		return nil, errors.New("hostsim: no state directory")
	}
	for _, f := range o.FailSwitch {
		if !strings.HasPrefix(f, "/") && !isHexPrefix(f) {
			return nil, fmt.Errorf("hostsim: fail-switch %q: want a commit (4 to 40 hex digits) or a toplevel path", f)
		}
	}
	if o.Interval <= 0 {
		o.Interval = time.Second
	}
	if o.Listen == "" {
		o.Listen = "127.0.0.1:0"
	}
	if o.Log == nil {
		o.Log = os.Stderr
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	state, err := filepath.Abs(o.State)
	if err != nil {
		return nil, fmt.Errorf("hostsim: %w", err)
	}
	o.State = state
	switch o.Textfile {
	case "":
		o.Textfile = filepath.Join(o.State, TextfileName)
	case "-":
		o.Textfile = ""
	}
	if err := os.MkdirAll(o.State, 0o755); err != nil {
		return nil, fmt.Errorf("hostsim: %w", err)
	}
	s := &Sim{o: o, nix: nix.New(nix.Options{Binary: o.Nix}), repo: filepath.Join(o.State, "repo.git")}
	if err := s.restore(); err != nil {
		return nil, err
	}
	return s, nil
}

func isHexPrefix(s string) bool {
	if len(s) < 4 || len(s) > 40 {
		return false
	}
	for _, c := range s {
		if !strings.ContainsRune("0123456789abcdef", c) {
			return false
		}
	}
	return true
}

// restore reads what the host ran before it was restarted: the link and,
// for the time it switched, the link's own time.
func (s *Sim) restore() error {
	link := s.currentSystem()
	fi, err := os.Lstat(link)
	if errors.Is(err, os.ErrNotExist) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("hostsim: %w", err)
	}
	target, err := os.Readlink(link)
	if err != nil {
		return fmt.Errorf("hostsim: %w", err)
	}
	s.st.toplevel, s.st.switched = target, fi.ModTime()
	return nil
}

func (s *Sim) currentSystem() string { return filepath.Join(s.o.State, "current-system") }

// Run serves /metrics and follows the branch until ctx ends. It returns
// nil then; an error only when it cannot start.
func (s *Sim) Run(ctx context.Context) error {
	if err := s.git(ctx, "", "init", "-q", "--bare", s.repo); err != nil {
		return err
	}
	l, err := net.Listen("tcp", s.o.Listen)
	if err != nil {
		return fmt.Errorf("hostsim: %w", err)
	}
	srv := &http.Server{Handler: s.Handler(), ReadHeaderTimeout: 5 * time.Second}
	served := make(chan error, 1)
	go func() { served <- srv.Serve(l) }()
	defer func() {
		shut, cancel := context.WithTimeout(context.Background(), 2*time.Second)
		defer cancel()
		srv.Shutdown(shut)
	}()
	addr := l.Addr().String()
	if err := WriteTextfile(filepath.Join(s.o.State, "listen"), []byte(addr+"\n")); err != nil {
		return err
	}
	s.logf("serves http://%s/metrics, follows branch %s of %s every %s", addr, s.o.Branch, s.o.Remote, s.o.Interval)
	if err := s.writeTextfile(); err != nil {
		return err
	}

	tick := time.NewTicker(s.o.Interval)
	defer tick.Stop()
	for {
		s.Step(ctx)
		select {
		case <-ctx.Done():
			return nil
		case err := <-served:
			return fmt.Errorf("hostsim: serving /metrics: %w", err)
		case <-tick.C:
		}
	}
}

// Step is one round of the upgrade timer: fetch, and build and switch when
// the branch moved.
func (s *Sim) Step(ctx context.Context) {
	commit, err := s.fetch(ctx)
	if err != nil {
		s.transient(ctx, err)
		return
	}
	if commit == s.tried {
		return
	}
	out, hostErr, err := s.build(ctx, commit)
	switch {
	case err != nil:
		s.transient(ctx, err)
		return
	case hostErr != "":
		// Red at this commit: autoUpgrade's unit fails and the host runs
		// on; comin deploys nothing. Tried again when the branch moves.
		s.tried = commit
		s.logf("build of %s at %s failed: %s", s.o.Host, short(commit), hostErr)
		return
	}
	s.lastErr = ""
	s.tried = commit
	if why := s.refuses(commit, out); why != "" {
		s.failSwitch(commit, out, why)
		return
	}
	if err := s.switchTo(commit, out); err != nil {
		s.failSwitch(commit, out, err.Error())
	}
}

// failSwitch records a switch that failed: the host runs on what it ran,
// and comin's last deployment is this commit, failed.
func (s *Sim) failSwitch(commit, out, why string) {
	s.mu.Lock()
	s.st.deployCommit, s.st.deployStatus = commit, CominFailed
	s.mu.Unlock()
	s.logf("switch to %s (commit %s) failed (%s): still runs %s", out, short(commit), why, s.running())
}

// transient logs an error a later tick may heal, once until it changes.
func (s *Sim) transient(ctx context.Context, err error) {
	if ctx.Err() != nil {
		return
	}
	if msg := err.Error(); msg != s.lastErr {
		s.lastErr = msg
		s.logf("%v (trying again every %s)", err, s.o.Interval)
	}
}

// fetch brings the branch into the host's own repository and returns its
// commit.
func (s *Sim) fetch(ctx context.Context) (string, error) {
	ref := "refs/heads/" + s.o.Branch
	if err := s.git(ctx, s.repo, "fetch", "-q", "--no-tags", "--", s.o.Remote, "+"+ref+":"+ref); err != nil {
		return "", err
	}
	out, err := s.gitOut(ctx, s.repo, "rev-parse", "--verify", "--quiet", ref+"^{commit}")
	if err != nil {
		return "", err
	}
	return out, nil
}

// build evaluates and realises the host's toplevel at commit, from the
// host's repository (never a work tree). hostErr is the host's own failure
// (it does not evaluate or build there); err is anything else.
func (s *Sim) build(ctx context.Context, commit string) (out, hostErr string, err error) {
	// A bare repository is fetched by ref on Nix 2.8, which then needs rev
	// reachable from it (pkg/nix FlakeRef).
	ref := nix.FlakeRef{Repo: s.repo, Rev: commit, Dir: s.o.FlakeDir, Ref: "refs/heads/" + s.o.Branch}
	evals, err := s.nix.EvalHosts(ctx, ref, []string{s.o.Host}, nix.EvalOptions{Workers: 1})
	if err != nil {
		return "", "", fmt.Errorf("hostsim: evaluating %s at %s: %w", s.o.Host, short(commit), err)
	}
	if len(evals) != 1 {
		return "", "", fmt.Errorf("hostsim: evaluating %s at %s: %d results", s.o.Host, short(commit), len(evals))
	}
	if e := evals[0]; e.Err != "" {
		return "", "evaluation: " + e.Err, nil
	}
	res, err := s.nix.Realise(ctx, []nix.DrvOut{{Drv: evals[0].Drv, Out: evals[0].Out}}, nix.RealiseOptions{})
	if err != nil {
		return "", "", fmt.Errorf("hostsim: building %s at %s: %w", s.o.Host, short(commit), err)
	}
	if len(res) != 1 {
		return "", "", fmt.Errorf("hostsim: building %s at %s: %d results", s.o.Host, short(commit), len(res))
	}
	if !res[0].OK {
		return "", "build: " + res[0].Err, nil
	}
	return evals[0].Out, "", nil
}

// refuses says why the switch to out (built from commit) fails, or "".
func (s *Sim) refuses(commit, out string) string {
	for _, f := range s.o.FailSwitch {
		if f == out || (!strings.HasPrefix(f, "/") && strings.HasPrefix(commit, f)) {
			return "-fail-switch " + f
		}
	}
	if s.o.NeverSwitch && s.running() != "" {
		return "-never-switch"
	}
	return ""
}

// running is the toplevel the host runs; "" before the first switch.
func (s *Sim) running() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.st.toplevel
}

// switchTo points current-system at out, atomically, and exports it. The
// switch time stays when out is what the host runs already.
func (s *Sim) switchTo(commit, out string) error {
	link := s.currentSystem()
	tmp := link + ".new"
	os.Remove(tmp)
	if err := os.Symlink(out, tmp); err != nil {
		return err
	}
	if err := os.Rename(tmp, link); err != nil {
		return err
	}
	units := FailedUnits(out)
	s.mu.Lock()
	same := s.st.toplevel == out
	if !same {
		s.st.toplevel, s.st.switched = out, s.o.Now()
	}
	s.st.failedUnits = units
	s.st.commit = commit
	s.st.deployCommit, s.st.deployStatus = commit, CominDone
	s.mu.Unlock()
	if same {
		s.logf("switched to commit %s: same system %s", short(commit), out)
	} else {
		s.logf("switched to %s (commit %s)", out, short(commit))
	}
	if len(units) > 0 {
		s.logf("units failed after the switch: %s", strings.Join(units, " "))
	}
	return s.writeTextfile()
}

// writeTextfile writes the host metric for node_exporter, unless turned off.
func (s *Sim) writeTextfile() error {
	if s.o.Textfile == "" {
		return nil
	}
	s.mu.Lock()
	b := Exposition(s.st.toplevel, s.st.switched)
	s.mu.Unlock()
	return WriteTextfile(s.o.Textfile, b)
}

// Handler serves /metrics: the host metric, or comin's.
func (s *Sim) Handler() http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("GET /metrics", func(w http.ResponseWriter, r *http.Request) {
		s.mu.Lock()
		st := s.st
		s.mu.Unlock()
		var b []byte
		if s.o.Comin {
			b = CominExposition(st.deployCommit, st.deployStatus)
		} else {
			b = Exposition(st.toplevel, st.switched)
		}
		// What node_exporter's systemd collector says beside it.
		b = append(b, UnitExposition(st.failedUnits)...)
		w.Header().Set("Content-Type", "text/plain; version=0.0.4; charset=utf-8")
		w.Write(b)
	})
	return mux
}

func (s *Sim) logf(format string, args ...any) {
	fmt.Fprintf(s.o.Log, "%s hostsim %s: %s\n", s.o.Now().UTC().Format(time.RFC3339), s.o.Host, fmt.Sprintf(format, args...))
}

func (s *Sim) git(ctx context.Context, dir string, args ...string) error {
	_, err := s.gitOut(ctx, dir, args...)
	return err
}

// gitOut runs git in dir ("" = here) and returns its trimmed stdout; a
// failure carries git's stderr.
func (s *Sim) gitOut(ctx context.Context, dir string, args ...string) (string, error) {
	full := args
	if dir != "" {
		full = append([]string{"-C", dir}, args...)
	}
	cmd := exec.CommandContext(ctx, "git", full...)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil {
		return "", fmt.Errorf("hostsim: git %s: %w: %s", strings.Join(args, " "), err, strings.TrimSpace(stderr.String()))
	}
	return strings.TrimSpace(stdout.String()), nil
}

func short(commit string) string {
	if len(commit) > 12 {
		return commit[:12]
	}
	return commit
}
