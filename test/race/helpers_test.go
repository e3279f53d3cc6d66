// Package race_test runs many real ringflow processes at once against one
// generated fleet — in one repository and in separate clones through one
// bare remote — and checks that nothing is lost or invented: every branch
// move lands once or not at all, every ledger entry matches a movement and
// every movement has its entry, evidence from every build survives, and no
// process panics or exits with a code that means something else.
package race_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"sort"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/ringflow/ringflow/pkg/fleetgen"
	"github.com/ringflow/ringflow/pkg/nix"
	"github.com/ringflow/ringflow/test/testenv"
)

// ringflowBin is the binary TestMain builds; every test execs it.
var ringflowBin string

// defaultNixConfig is what every nix call runs with: flakes on, no binary
// caches (there is no network), no sandbox (the builders use /bin/sh).
const defaultNixConfig = "experimental-features = nix-command flakes\nsubstituters =\nsandbox = false"

func TestMain(m *testing.M) {
	flag.Parse()
	if testing.Short() {
		os.Exit(m.Run())
	}
	dir, err := os.MkdirTemp("", "ringflow-race-bin-")
	if err != nil {
		fmt.Fprintln(os.Stderr, "race: temp dir:", err)
		os.Exit(1)
	}
	ringflowBin = filepath.Join(dir, "ringflow")
	build := exec.Command("go", "build", "-o", ringflowBin, "../../cmd/ringflow")
	build.Stdout, build.Stderr = os.Stderr, os.Stderr
	if err := build.Run(); err != nil {
		fmt.Fprintln(os.Stderr, "race: building ringflow:", err)
		os.RemoveAll(dir)
		os.Exit(1)
	}
	code := m.Run()
	os.RemoveAll(dir)
	os.Exit(code)
}

// requireTools skips the test when nix or git is missing, unless CI is set:
// there a skip would hide the suite, so it fails instead.
func requireTools(t *testing.T) {
	t.Helper()
	testenv.RequireTools(t, "race tests (real processes, real nix builds)", "nix", "git")
}

// The fleet every test generates: eight hosts in four groups on three
// rings; stable has two unpinned groups, so its promotions move two
// branches in one push.
var hostNames = []string{"lab-1", "lab-2", "web-1", "web-2", "web-3", "db-1", "db-2", "edge-1"}

const ringflowYAML = `rings:
  - name: canary
    hosts: ["lab-*"]
    soak: 0s
    auto: true
  - name: early
    hosts: ["web-*"]
    soak: 0s
    auto: true
  - name: stable
    soak: 0s
    auto: true
    groups:
      - name: stable
        hosts: ["*"]
      - name: edge
        hosts: ["edge-*"]
`

// branchRing maps every branch ringflow may move to its ring ("" = dev).
var branchRing = map[string]string{
	"dev":    "",
	"canary": "canary",
	"early":  "early",
	"stable": "stable",
	"edge":   "stable",
}

// order lists, for each group branch, the branch its position must be an
// ancestor of (or equal to): the order invariant.
var order = [][2]string{
	{"canary", "dev"},
	{"early", "canary"},
	{"stable", "early"},
	{"edge", "early"},
}

// world is one generated fleet with its remote, its clones and the
// environment every process of the test runs in.
type world struct {
	t      *testing.T
	f      *fleetgen.Fleet
	tmp    string
	cfg    string   // ringflow.yaml, outside every repository
	env    []string // environment of every git, nix and ringflow process
	clones []string // extra clones of origin.git, besides f.Repo
	dev0   string   // dev's head when the fleet was generated

	mu       sync.Mutex
	ran      []*result // every ringflow process the test ran
	nFresh   int
	nBarrier int
}

// result is one finished process.
type result struct {
	dir    string
	args   []string
	code   int
	stdout string
	stderr string
	dur    time.Duration
}

func (r *result) String() string {
	return fmt.Sprintf("ringflow %s (in %s, exit %d, %s)\n--- stdout:\n%s--- stderr:\n%s",
		strings.Join(r.args, " "), filepath.Base(r.dir), r.code, r.dur.Round(time.Millisecond), r.stdout, r.stderr)
}

// newWorld generates the fleet, writes the config, runs `ringflow init` in
// the fleet's repository and makes n more clones of the remote.
func newWorld(t *testing.T, n int) *world {
	t.Helper()
	requireTools(t)
	tmp := t.TempDir()
	home := filepath.Join(tmp, "home")
	if err := os.MkdirAll(home, 0o755); err != nil {
		t.Fatal(err)
	}
	gitconfig := "[user]\n\tname = ringflow race\n\temail = race@ringflow.invalid\n[init]\n\tdefaultBranch = main\n[advice]\n\tdetachedHead = false\n"
	if err := os.WriteFile(filepath.Join(home, ".gitconfig"), []byte(gitconfig), 0o644); err != nil {
		t.Fatal(err)
	}
	nixConfig := os.Getenv("NIX_CONFIG")
	if nixConfig == "" {
		nixConfig = defaultNixConfig
	}
	var env []string
	for _, kv := range os.Environ() {
		k, _, _ := strings.Cut(kv, "=")
		switch {
		case k == "HOME", k == "NIX_CONFIG", k == "NO_COLOR", strings.HasPrefix(k, "XDG_"),
			strings.HasPrefix(k, "GIT_"), strings.HasPrefix(k, "RINGFLOW_"):
			continue
		}
		env = append(env, kv)
	}
	env = append(env,
		"HOME="+home,
		"XDG_CONFIG_HOME="+filepath.Join(home, ".config"),
		"XDG_CACHE_HOME="+filepath.Join(tmp, "cache"),
		"NIX_CONFIG="+nixConfig,
		"NO_COLOR=1",
	)
	w := &world{t: t, tmp: tmp, env: env, cfg: filepath.Join(tmp, "ringflow.yaml")}
	if err := os.WriteFile(w.cfg, []byte(ringflowYAML), 0o644); err != nil {
		t.Fatal(err)
	}
	var hosts []fleetgen.Host
	for _, h := range hostNames {
		hosts = append(hosts, fleetgen.Host{Name: h})
	}
	fleetDir := filepath.Join(tmp, "f")
	// A fresh salt: otherwise outputs built by an earlier run are valid in
	// the store already and no build would be real.
	salt := fmt.Sprintf("%s-%d", fleetDir, time.Now().UnixNano())
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	f, err := fleetgen.Generate(ctx, fleetgen.Options{
		Dir: fleetDir, Hosts: hosts, Salt: salt,
		Env: []string{"HOME=" + home, "XDG_CACHE_HOME=" + filepath.Join(tmp, "cache"), "NIX_CONFIG=" + nixConfig},
	})
	if err != nil {
		t.Fatal(err)
	}
	w.f = f
	w.dev0 = w.remoteRef("dev")
	w.mustRun(f.Repo, "init")
	for i := 1; i <= n; i++ {
		c := filepath.Join(tmp, fmt.Sprintf("c%d", i))
		w.git("", "clone", "-q", f.Remote, c)
		w.clones = append(w.clones, c)
	}
	return w
}

// command is a ringflow process, ready to start: args then --config.
func (w *world) command(ctx context.Context, dir string, args []string, barrier string) *exec.Cmd {
	full := append(append([]string(nil), args...), "--config", w.cfg)
	var cmd *exec.Cmd
	if barrier == "" {
		cmd = exec.CommandContext(ctx, ringflowBin, full...)
	} else {
		// Every process is started, then waits for the barrier file, so
		// that all of them set off within a few milliseconds.
		script := `while [ ! -e "$0" ]; do sleep 0.002; done; exec "$@"`
		cmd = exec.CommandContext(ctx, "sh", append([]string{"-c", script, barrier, ringflowBin}, full...)...)
	}
	cmd.Dir = dir
	cmd.Env = w.env
	// Its own process group, so that a process killed at the deadline
	// takes its git and nix children with it instead of orphaning them.
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	cmd.Cancel = func() error { return syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL) }
	cmd.WaitDelay = 5 * time.Second
	return cmd
}

func (w *world) record(r *result) {
	w.mu.Lock()
	w.ran = append(w.ran, r)
	w.mu.Unlock()
	if bad := panicked(r); bad != "" {
		w.t.Errorf("a process panicked (%q in its output):\n%s", bad, r)
	}
}

func exitCode(err error) int {
	if err == nil {
		return 0
	}
	var ee *exec.ExitError
	if errors.As(err, &ee) && ee.ExitCode() >= 0 {
		return ee.ExitCode()
	}
	return -1
}

// run runs ringflow in dir and returns what happened.
func (w *world) run(dir string, args ...string) *result {
	w.t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	cmd := w.command(ctx, dir, args, "")
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	start := time.Now()
	err := cmd.Run()
	r := &result{dir: dir, args: args, code: exitCode(err), stdout: stdout.String(), stderr: stderr.String(), dur: time.Since(start)}
	if r.code < 0 {
		w.t.Fatalf("running ringflow: %v\n%s", err, r)
	}
	w.record(r)
	return r
}

// mustRun runs ringflow in dir and fails the test unless it exits 0.
func (w *world) mustRun(dir string, args ...string) *result {
	w.t.Helper()
	r := w.run(dir, args...)
	if r.code != 0 {
		w.t.Fatalf("want exit 0:\n%s", r)
	}
	return r
}

// A race's processes are given raceTimeout in all; after raceStuckAfter
// the test logs the process tree, to show where one is stuck.
const (
	raceStuckAfter = 20 * time.Second
	raceTimeout    = 40 * time.Second
)

// proc is one process of a race.
type proc struct {
	dir  string
	args []string
}

// race starts every process, releases them at once and waits for all.
// Results come back in the order of procs.
func (w *world) race(procs []proc) []*result {
	w.t.Helper()
	w.mu.Lock()
	w.nBarrier++
	barrier := filepath.Join(w.tmp, fmt.Sprintf("barrier-%d", w.nBarrier))
	w.mu.Unlock()
	ctx, cancel := context.WithTimeout(context.Background(), raceTimeout)
	defer cancel()
	results := make([]*result, len(procs))
	outs := make([][2]*bytes.Buffer, len(procs))
	cmds := make([]*exec.Cmd, len(procs))
	for i, p := range procs {
		cmds[i] = w.command(ctx, p.dir, p.args, barrier)
		outs[i] = [2]*bytes.Buffer{{}, {}}
		cmds[i].Stdout, cmds[i].Stderr = outs[i][0], outs[i][1]
		if err := cmds[i].Start(); err != nil {
			w.t.Fatalf("starting ringflow %v: %v", p.args, err)
		}
	}
	start := time.Now()
	if err := os.WriteFile(barrier, nil, 0o644); err != nil {
		w.t.Fatal(err)
	}
	// A process still running long after the others is stuck: say where,
	// before the deadline kills it.
	watchdog := time.AfterFunc(raceStuckAfter, func() {
		out, _ := exec.Command("ps", "-eo", "pid,ppid,etime,stat,wchan:24,args", "--forest").CombinedOutput()
		w.t.Logf("the race still runs after %s; processes:\n%s", raceStuckAfter, out)
	})
	defer watchdog.Stop()
	var wg sync.WaitGroup
	errs := make([]error, len(procs))
	for i := range cmds {
		wg.Add(1)
		go func() {
			defer wg.Done()
			errs[i] = cmds[i].Wait()
			results[i] = &result{dir: procs[i].dir, args: procs[i].args, code: exitCode(errs[i]),
				stdout: outs[i][0].String(), stderr: outs[i][1].String(), dur: time.Since(start)}
		}()
	}
	wg.Wait()
	for i, r := range results {
		if r.code < 0 {
			w.t.Errorf("ringflow did not finish in %s: %v\n%s", raceTimeout, errs[i], r)
		}
		w.record(r)
		if r.code == 2 {
			w.t.Errorf("exit 2 (bad usage or config) from a process that only lost a race:\n%s", r)
		}
	}
	w.t.Logf("%d processes raced for %s", len(procs), time.Since(start).Round(time.Millisecond))
	return results
}

// panicMarkers are what a Go panic or ringflow's recovered panic prints.
var panicMarkers = []string{"panic", "goroutine ", "internal error"}

func panicked(r *result) string {
	for _, m := range panicMarkers {
		if strings.Contains(r.stdout, m) || strings.Contains(r.stderr, m) {
			return m
		}
	}
	return ""
}

// git runs git in dir (the remote when dir is "") and returns its output.
func (w *world) git(dir string, args ...string) string {
	w.t.Helper()
	out, err := w.gitErr(dir, args...)
	if err != nil {
		w.t.Fatalf("git %s: %v", strings.Join(args, " "), err)
	}
	return out
}

func (w *world) gitErr(dir string, args ...string) (string, error) {
	if dir == "" {
		dir = w.f.Remote
	}
	cmd := exec.Command("git", args...)
	cmd.Dir = dir
	cmd.Env = w.env
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil {
		return stdout.String(), fmt.Errorf("%w: %s", err, strings.TrimSpace(stderr.String()))
	}
	return stdout.String(), nil
}

// remoteRef is where ref stands on the remote ("" when it does not exist).
func (w *world) remoteRef(ref string) string {
	w.t.Helper()
	out, err := w.gitErr("", "rev-parse", "--verify", "--quiet", ref+"^{commit}")
	if err != nil {
		return ""
	}
	return strings.TrimSpace(out)
}

// remoteBranches lists the remote's branches and their heads.
func (w *world) remoteBranches() map[string]string {
	w.t.Helper()
	m := map[string]string{}
	for _, line := range strings.Split(strings.TrimSpace(w.git("", "for-each-ref", "--format=%(refname:lstrip=2) %(objectname)", "refs/heads/")), "\n") {
		if b, c, ok := strings.Cut(line, " "); ok {
			m[b] = c
		}
	}
	return m
}

func (w *world) isAncestor(a, b string) bool {
	w.t.Helper()
	_, err := w.gitErr("", "merge-base", "--is-ancestor", a, b)
	if err == nil {
		return true
	}
	var x *exec.ExitError
	if errors.As(err, &x) && x.ExitCode() == 1 {
		return false
	}
	w.t.Fatalf("git merge-base --is-ancestor %s %s: %v", a, b, err)
	return false
}

// bump makes a new commit in the stand-in nixpkgs, so the next update
// has a lock change to commit.
func (w *world) bump() {
	w.t.Helper()
	if _, err := w.f.BumpNixpkgs(context.Background()); err != nil {
		w.t.Fatal(err)
	}
}

// prebuild builds, in one nix process, every host's toplevel as it will
// be once dev's lock takes the stand-in nixpkgs' current commit, without
// moving anything. Nix before 2.9 keeps the output lock of a derivation
// another process built first until it exits (NixOS/nix#6468, fixed by
// #6469), so concurrent `nix build`s of the same derivations on one store
// can deadlock for good; a race whose processes would all build the same
// new derivations gets them valid beforehand. (A host's toplevel depends on
// what the stand-in holds, not on the fleet commit.) Newer nix needs none.
func (w *world) prebuild() {
	w.t.Helper()
	if !nixLocksLinger() {
		return
	}
	clone := w.freshClone()
	args := []string{"build", "--no-link", "--no-write-lock-file",
		"--override-input", "nixpkgs", "git+file://" + w.f.Nixpkgs}
	for _, h := range hostNames {
		args = append(args, clone+"#nixosConfigurations."+h+".config.system.build.toplevel")
	}
	cmd := exec.Command("nix", args...)
	cmd.Dir = clone
	cmd.Env = w.env
	if out, err := cmd.CombinedOutput(); err != nil {
		w.t.Fatalf("nix %s: %v\n%s", strings.Join(args, " "), err, out)
	}
}

var nixLocksLinger = sync.OnceValue(func() bool {
	out, err := exec.Command("nix", "--version").Output()
	if err != nil {
		return true
	}
	v, err := nix.ParseVersion(string(out))
	if err != nil {
		return true
	}
	return !v.Lix && v.Major == 2 && v.Minor < 9
})

// bumpUpdateBuild gives dev a new lock update (through ringflow, so the
// ledger has it) and builds every host there; it returns dev's new head.
func (w *world) bumpUpdateBuild(dir string) string {
	w.t.Helper()
	before := w.remoteRef("dev")
	w.bump()
	w.mustRun(dir, "update")
	dev := w.remoteRef("dev")
	if dev == before {
		w.t.Fatalf("ringflow update did not move dev (still %s)", dev)
	}
	w.mustRun(dir, "build")
	return dev
}

// ledgerEntry is one entry of refs/ringflow/ledger as the remote has it.
type ledgerEntry struct {
	Commit    string      `json:"-"`
	Event     string      `json:"event"`
	Ring      string      `json:"ring"`
	Groups    []groupMove `json:"groups"`
	From      string      `json:"from"`
	To        string      `json:"to"`
	Candidate string      `json:"candidate"`
	Actor     string      `json:"actor"`
}

type groupMove struct {
	Group   string `json:"group"`
	Branch  string `json:"branch"`
	From    string `json:"from"`
	To      string `json:"to"`
	Carries string `json:"carries"`
}

// ledger reads the remote's ledger, oldest entry first, with plain git.
func (w *world) ledger() []ledgerEntry {
	w.t.Helper()
	out := w.git("", "log", "--first-parent", "--reverse", "--format=%H%n%B%x00", "refs/ringflow/ledger")
	var entries []ledgerEntry
	for _, chunk := range strings.Split(out, "\x00") {
		chunk = strings.TrimLeft(chunk, "\n")
		if strings.TrimSpace(chunk) == "" {
			continue
		}
		hash, msg, _ := strings.Cut(chunk, "\n")
		subject, body, ok := strings.Cut(msg, "\n\n")
		if !ok {
			w.t.Errorf("ledger entry %s has no JSON body: %q", hash, msg)
			continue
		}
		var e ledgerEntry
		if err := json.Unmarshal([]byte(body), &e); err != nil {
			w.t.Errorf("ledger entry %s (%s): %v\n%s", hash, subject, err, body)
			continue
		}
		e.Commit = hash
		entries = append(entries, e)
	}
	return entries
}

// countEntries counts entries of an event (and ring, unless "") added
// after the first skip entries.
func countEntries(entries []ledgerEntry, skip int, event, ring string) int {
	n := 0
	for _, e := range entries[skip:] {
		if e.Event == event && (ring == "" || e.Ring == ring) {
			n++
		}
	}
	return n
}

// checkLedger replays the remote's ledger: every entry moves something,
// each group move starts where the branch stood after the entry before it
// (so no movement was lost or recorded twice) and goes forward, and where
// the replay leaves every branch is exactly where the remote has it; no
// branch moved without an entry.
func (w *world) checkLedger() {
	w.t.Helper()
	entries := w.ledger()
	pos := map[string]string{"dev": w.dev0}
	for _, e := range entries {
		switch e.Event {
		case "init", "promote", "update", "rollback":
		default:
			w.t.Errorf("ledger entry %s: unknown event %q", e.Commit, e.Event)
		}
		if len(e.Groups) == 0 {
			w.t.Errorf("ledger entry %s (%s %s) records no movement", e.Commit, e.Event, e.Ring)
		}
		for _, g := range e.Groups {
			ringOf, known := branchRing[g.Branch]
			switch {
			case !known:
				w.t.Errorf("ledger entry %s moves branch %q, which is no branch of the config", e.Commit, g.Branch)
			case e.Event == "update" && g.Branch != "dev":
				w.t.Errorf("ledger entry %s: an update moves %s, not dev", e.Commit, g.Branch)
			case e.Event != "update" && ringOf != e.Ring:
				w.t.Errorf("ledger entry %s (%s %s) moves branch %s of ring %q", e.Commit, e.Event, e.Ring, g.Branch, ringOf)
			}
			if g.From != pos[g.Branch] {
				w.t.Errorf("ledger entry %s (%s %s) moves %s from %.12s, but the entries before it left it at %.12s: a movement was lost or recorded twice",
					e.Commit, e.Event, e.Ring, g.Branch, g.From, pos[g.Branch])
			}
			if g.To == "" || g.To == g.From {
				w.t.Errorf("ledger entry %s moves %s from %.12s to %.12s: no movement", e.Commit, g.Branch, g.From, g.To)
			}
			if g.From != "" && g.To != "" && !w.isAncestor(g.From, g.To) {
				w.t.Errorf("ledger entry %s moves %s from %.12s to %.12s: not a fast-forward", e.Commit, g.Branch, g.From, g.To)
			}
			if e.Event == "promote" && g.Carries == "" && g.To != e.Candidate {
				w.t.Errorf("ledger entry %s promotes %s to %.12s, but %s went to %.12s", e.Commit, e.Ring, e.Candidate, g.Branch, g.To)
			}
			pos[g.Branch] = g.To
		}
	}
	remote := w.remoteBranches()
	for b, c := range remote {
		want, ok := pos[b]
		switch {
		case !ok:
			w.t.Errorf("branch %s is on the remote at %.12s, but no ledger entry created it", b, c)
		case c != want:
			w.t.Errorf("branch %s is at %.12s on the remote, but the ledger's last movement of it says %.12s: a movement without its entry, or an entry without its movement", b, c, want)
		}
	}
	for b, c := range pos {
		if _, ok := remote[b]; !ok {
			w.t.Errorf("the ledger has branch %s at %.12s, but the remote has no such branch", b, c)
		}
	}
	for b := range branchRing {
		if _, ok := remote[b]; !ok {
			w.t.Errorf("branch %s of the config is missing on the remote", b)
		}
	}
}

// checkOrder checks the order invariant with plain git on the remote.
func (w *world) checkOrder() {
	w.t.Helper()
	remote := w.remoteBranches()
	for _, o := range order {
		a, b := remote[o[0]], remote[o[1]]
		if a == "" || b == "" {
			continue // checkLedger says so
		}
		if !w.isAncestor(a, b) {
			w.t.Errorf("order invariant broken: %s (%.12s) is not an ancestor of %s (%.12s)", o[0], a, o[1], b)
		}
	}
}

// freshClone clones the remote anew.
func (w *world) freshClone() string {
	w.t.Helper()
	w.mu.Lock()
	w.nFresh++
	dir := filepath.Join(w.tmp, fmt.Sprintf("fresh-%d", w.nFresh))
	w.mu.Unlock()
	w.git("", "clone", "-q", w.f.Remote, dir)
	return dir
}

// checkRefFiles walks the loose refs of the remote and of every clone: no
// ref file is empty (a torn write) and no ref lock is left behind.
func (w *world) checkRefFiles() {
	w.t.Helper()
	dirs := []string{filepath.Join(w.f.Remote, "refs"), filepath.Join(w.f.Repo, ".git", "refs")}
	for _, c := range w.clones {
		dirs = append(dirs, filepath.Join(c, ".git", "refs"))
	}
	for _, d := range dirs {
		err := filepath.WalkDir(d, func(p string, de fs.DirEntry, err error) error {
			if err != nil || de.IsDir() {
				return err
			}
			info, err := de.Info()
			if err != nil {
				return err
			}
			switch {
			case strings.HasSuffix(p, ".lock"):
				w.t.Errorf("ref lock left behind: %s", p)
			case info.Size() == 0:
				w.t.Errorf("empty loose ref file: %s", p)
			}
			return nil
		})
		if err != nil {
			w.t.Errorf("walking %s: %v", d, err)
		}
	}
}

// checkInvariants is what must hold after every race: `ringflow check`
// passes in a fresh clone, the ledger and the branches agree, the rings
// are in order, no ref file is torn, and no process panicked.
func (w *world) checkInvariants() {
	w.t.Helper()
	fresh := w.freshClone()
	if r := w.run(fresh, "check"); r.code != 0 {
		w.t.Errorf("ringflow check in a fresh clone, want exit 0:\n%s", r)
	}
	w.checkLedger()
	w.checkOrder()
	w.checkRefFiles()
	w.mu.Lock()
	defer w.mu.Unlock()
	for _, r := range w.ran {
		if bad := panicked(r); bad != "" {
			w.t.Errorf("a process panicked (%q in its output):\n%s", bad, r)
		}
	}
}

// evidence is the remote's evidence note at commit: host -> status.
func (w *world) evidence(commit string) map[string]string {
	w.t.Helper()
	out, err := w.gitErr("", "notes", "--ref", "ringflow/evidence", "show", commit)
	if err != nil {
		return nil
	}
	var note struct {
		Commit string `json:"commit"`
		Hosts  map[string]struct {
			Status string `json:"status"`
		} `json:"hosts"`
	}
	if err := json.Unmarshal([]byte(out), &note); err != nil {
		w.t.Fatalf("the evidence note at %.12s is not JSON: %v\n%s", commit, err, out)
	}
	if note.Commit != commit {
		w.t.Errorf("the evidence note at %.12s names commit %.12s", commit, note.Commit)
	}
	m := map[string]string{}
	for h, e := range note.Hosts {
		m[h] = e.Status
	}
	return m
}

// requireGreen fails unless the remote's evidence at commit has every one
// of hosts green.
func (w *world) requireGreen(commit string, hosts []string) {
	w.t.Helper()
	ev := w.evidence(commit)
	var missing []string
	for _, h := range hosts {
		if ev[h] != "green" {
			missing = append(missing, fmt.Sprintf("%s=%q", h, ev[h]))
		}
	}
	if len(missing) > 0 {
		w.t.Errorf("evidence at %.12s on the remote lacks green results for %s (has %v)", commit, strings.Join(missing, ", "), ev)
	}
}

// lostRace matches the message of a process that lost a compare-and-swap
// and moved nothing, naming the remote and the ref it lost: its atomic
// push was refused (by its lease, or by the remote finding a ref moved
// under it), or — in a repository other processes share — its fetch found
// a tracking ref moved under it.
// A promotion that lost its push and still has work says so itself,
// naming what moved and the command to run.
var lostRace = regexp.MustCompile(`push to remote origin \(.*\) rejected: .*(stale info|atomic push failed|atomic transaction failed|fetch first)` +
	`|fetch from remote origin \(.*\): .*cannot lock ref 'refs/` +
	"|promotion of \\S+ to [0-9a-f]{12} lost a race( on remote origin)?: while it was deciding, .*; nothing of this promotion landed: .*`ringflow promote \\S+`")

// requireOutcome fails unless r ended in one of the ways a raced process
// may: exit 0, or exit 1 having lost the race and said so clearly, or a
// code in extra.
func (w *world) requireOutcome(r *result, extra ...int) {
	w.t.Helper()
	switch {
	case r.code == 0, slices.Contains(extra, r.code):
	case r.code == 1 && lostRace.MatchString(r.stderr):
	default:
		w.t.Errorf("want exit 0, or exit 1 with a lost race naming the remote and the ref:\n%s", r)
	}
}

// promoteJSON is `ringflow promote -o json`.
type promoteJSON struct {
	Ring      string `json:"ring"`
	Candidate string `json:"candidate"`
	Moved     []struct {
		Group  string `json:"group"`
		Branch string `json:"branch"`
		From   string `json:"from"`
		To     string `json:"to"`
	} `json:"moved"`
}

// cycleJSON is `ringflow cycle -o json`.
type cycleJSON struct {
	Update struct {
		Committed bool   `json:"committed"`
		Commit    string `json:"commit"`
	} `json:"update"`
	Build *struct {
		Commit string   `json:"commit"`
		Hosts  int      `json:"hosts"`
		Red    []string `json:"red"`
	} `json:"build"`
	Rings []struct {
		Name   string `json:"name"`
		Moved  bool   `json:"moved"`
		From   string `json:"from"`
		To     string `json:"to"`
		DoneBy *struct {
			Actor string    `json:"actor"`
			Time  time.Time `json:"time"`
			To    string    `json:"to"`
		} `json:"done_by"`
	} `json:"rings"`
	Error string `json:"error"`
}

// buildJSON is `ringflow build -o json`.
type buildJSON struct {
	Commit string `json:"commit"`
	Hosts  []struct {
		Host   string `json:"host"`
		Status string `json:"status"`
	} `json:"hosts"`
}

// decode reads a process's JSON stdout into v; false when there is none.
func (w *world) decode(r *result, v any) bool {
	w.t.Helper()
	if strings.TrimSpace(r.stdout) == "" {
		return false
	}
	if err := json.Unmarshal([]byte(r.stdout), v); err != nil {
		w.t.Errorf("stdout is not one JSON document: %v\n%s", err, r)
		return false
	}
	return true
}

// dirs returns the fleet's repository followed by the clones.
func (w *world) dirs() []string {
	return append([]string{w.f.Repo}, w.clones...)
}

// summary lists the outcomes of a race in one line per process, for logs.
func summary(rs []*result) string {
	var lines []string
	for _, r := range rs {
		msg := strings.TrimSpace(r.stderr)
		if i := strings.LastIndexByte(msg, '\n'); i >= 0 {
			msg = msg[i+1:]
		}
		if len(msg) > 160 {
			msg = msg[:160] + "…"
		}
		lines = append(lines, fmt.Sprintf("  %-7s %-28s exit %d %6s  %s", filepath.Base(r.dir), strings.Join(r.args, " "), r.code, r.dur.Round(10*time.Millisecond), msg))
	}
	sort.Strings(lines)
	return strings.Join(lines, "\n")
}
