// Package crash_test kills real ringflow processes with SIGKILL at random
// moments — seeded, so a failing run can be told again — and checks what
// they leave behind: no ref file empty or cut short, `ringflow check
// --repair` clears the rest and `ringflow check` is then clean, no lock
// stays stuck (the next cycle runs to its end), the ledger on the remote
// agrees with the branches it records, and git's fsck finds every object.
//
//	RINGFLOW_CRASH_SEED=7 RINGFLOW_CRASH_ITERATIONS=300 go test ./test/crash -v
//
// Each iteration picks one of update, build, promote RING, rollback RING
// --to … --reason …, cycle; gives the fleet the work that operation needs
// (a new commit of the stand-in nixpkgs for update and cycle, a change on
// dev that changes every host for build, a green candidate for a
// promotion; stable is not auto, so it always lags and rollbacks have
// history), starts it and kills it after a delay drawn from the seed: a
// fraction of how long that operation has been seen to take here (at most
// 400 ms), so that the kill falls inside the run. Half the kills (by the seed) take ringflow alone, as the OOM
// killer would, leaving its git and nix children to finish on their own;
// the others take its whole process group — ringflow, git, git's
// receive-pack on the remote, nix — as a power cut or systemd's stop would.
package crash_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io/fs"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/ringflow/ringflow/pkg/fleetgen"
)

// ringflowBin is the binary TestMain builds; every iteration execs it.
var ringflowBin string

const defaultNixConfig = "experimental-features = nix-command flakes\nsubstituters =\nsandbox = false"

const (
	defaultSeed       = 20261122
	defaultIterations = 130
	maxDelay          = 400 * time.Millisecond
)

func TestMain(m *testing.M) {
	flag.Parse()
	if testing.Short() {
		os.Exit(m.Run())
	}
	dir, err := os.MkdirTemp("", "ringflow-crash-bin-")
	if err != nil {
		fmt.Fprintln(os.Stderr, "crash: temp dir:", err)
		os.Exit(1)
	}
	ringflowBin = filepath.Join(dir, "ringflow")
	build := exec.Command("go", "build", "-o", ringflowBin, "../../cmd/ringflow")
	build.Stdout, build.Stderr = os.Stderr, os.Stderr
	if err := build.Run(); err != nil {
		fmt.Fprintln(os.Stderr, "crash: building ringflow:", err)
		os.RemoveAll(dir)
		os.Exit(1)
	}
	code := m.Run()
	os.RemoveAll(dir)
	os.Exit(code)
}

const ringflowYAML = `rings:
  - name: canary
    hosts: [lab-1]
    soak: 0s
    auto: true
  - name: early
    hosts: ["web-*"]
    soak: 0s
    auto: true
  - name: stable
    soak: 0s
    groups:
      - name: stable
        hosts: ["*"]
      - name: field-sbc
        hosts: [sbc-1]
        pin: true
`

var rings = []string{"canary", "early", "stable"}

// groupBranches are the branches the ledger must account for: every group
// branch of every ring (field-sbc is pinned and only ever created).
var groupBranches = []string{"canary", "early", "stable", "field-sbc"}

type op int

const (
	opUpdate op = iota
	opBuild
	opPromote
	opRollback
	opCycle
	numOps
)

func (o op) String() string {
	return [...]string{"update", "build", "promote", "rollback", "cycle"}[o]
}

// crash is the state of one test run.
type crash struct {
	t     *testing.T
	seed  uint64
	iter  int
	fleet *fleetgen.Fleet
	dir   string   // the test's directory
	cfg   string   // ringflow.yaml
	env   []string // every ringflow and git run's environment
	tmp   string   // $TMPDIR of the ringflow runs
	last  string   // what the current iteration did, for failure messages
}

func TestKill9(t *testing.T) {
	if testing.Short() {
		t.Skip("crash tests kill real processes and run real nix builds: skipped in -short mode")
	}
	for _, tool := range []string{"nix", "git"} {
		if _, err := exec.LookPath(tool); err != nil {
			if os.Getenv("CI") != "" {
				t.Fatalf("%s is not installed but CI is set: a skip must not hide the crash test", tool)
			}
			t.Skipf("%s is not installed", tool)
		}
	}
	seed := uint64(defaultSeed)
	if s := os.Getenv("RINGFLOW_CRASH_SEED"); s != "" {
		v, err := strconv.ParseUint(s, 10, 64)
		if err != nil {
			t.Fatalf("RINGFLOW_CRASH_SEED=%q: want a number", s)
		}
		seed = v
	}
	iterations := defaultIterations
	if s := os.Getenv("RINGFLOW_CRASH_ITERATIONS"); s != "" {
		v, err := strconv.Atoi(s)
		if err != nil || v < 1 {
			t.Fatalf("RINGFLOW_CRASH_ITERATIONS=%q: want a positive number", s)
		}
		iterations = v
	}
	t.Logf("seed %d, %d iterations (RINGFLOW_CRASH_SEED, RINGFLOW_CRASH_ITERATIONS)", seed, iterations)

	c := setup(t, seed)
	rng := rand.New(rand.NewPCG(seed, seed^0x9e3779b97f4a7c15))
	// est is how long each operation has been seen to take: kills land
	// at a fraction of it. It falls to what a run that ended first took,
	// and creeps up with every kill.
	est := map[op]time.Duration{}
	for o := op(0); o < numOps; o++ {
		est[o] = maxDelay * 3 / 4
	}
	start := time.Now()
	kills, groupKills := 0, 0
	perOp, tried := map[string]int{}, map[string]int{}
	spent := map[string]time.Duration{}
	for c.iter = 1; c.iter <= iterations; c.iter++ {
		// Every draw every iteration, whatever is used, so that one
		// seed gives one sequence.
		opDraw := op(rng.IntN(int(numOps)))
		ringDraw := rng.IntN(len(rings))
		frac := rng.Float64()
		group := rng.IntN(2) == 0
		work := rng.IntN(3)
		pick := rng.Uint64()

		o, args := c.command(opDraw, ringDraw, pick)
		c.last = "preparing for ringflow " + strings.Join(args, " ")
		lap := time.Now()
		phase := func(name string) {
			spent[name] += time.Since(lap)
			lap = time.Now()
		}
		c.freshWork(o, args, work)
		phase("work")
		delay := time.Duration(frac * float64(min(est[o], maxDelay)))
		mode := "process"
		if group {
			mode = "group"
		}
		c.last = fmt.Sprintf("after ringflow %s, SIGKILL to its %s after %s", strings.Join(args, " "), mode, delay.Round(time.Millisecond))

		tried[o.String()]++
		killed, took, code, stderr := c.runAndKill(args, delay, group)
		phase("kill")
		if killed {
			// Now and then a little later, to reach the end of the run too.
			est[o] = min(maxDelay, est[o]*21/20)
			kills++
			perOp[o.String()]++
			if group {
				groupKills++
			}
		} else {
			est[o] = took * 11 / 10
			c.last += fmt.Sprintf(" (it ended first, after %s, exit %d)", took.Round(time.Millisecond), code)
			if !okExit(o, code) {
				c.fatalf("ran to its end with exit %d:\n%s", code, stderr)
			}
		}
		c.checkRefFiles() // (a)
		c.checkRepairs()  // (b)
		phase("check")
		c.nextCycle() // (c)
		phase("cycle")
		c.checkLedger()                      // (d)
		c.fsck(c.fleet.Repo, c.fleet.Remote) // (e)
		phase("ledger+fsck")
		if c.iter%20 == 0 {
			t.Logf("%d iterations, %d kills, %s (work %s, kill runs %s, checks %s, next cycles %s, ledger and fsck %s)",
				c.iter, kills, time.Since(start).Round(time.Second), spent["work"].Round(time.Second), spent["kill"].Round(time.Second),
				spent["check"].Round(time.Second), spent["cycle"].Round(time.Second), spent["ledger+fsck"].Round(time.Second))
		}
	}
	t.Logf("%d kills (%d of a whole process group) in %d iterations, %s; kills/runs by operation: %s",
		kills, groupKills, iterations, time.Since(start).Round(time.Second), ratios(perOp, tried))
}

func setup(t *testing.T, seed uint64) *crash {
	dir := t.TempDir()
	home := filepath.Join(dir, "home")
	tmp := filepath.Join(dir, "tmp")
	for _, d := range []string{home, tmp} {
		if err := os.MkdirAll(d, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	gitconfig := "[user]\n\tname = crash test\n\temail = crash@ringflow.invalid\n[init]\n\tdefaultBranch = main\n"
	if err := os.WriteFile(filepath.Join(home, ".gitconfig"), []byte(gitconfig), 0o644); err != nil {
		t.Fatal(err)
	}
	nixConfig := os.Getenv("NIX_CONFIG")
	if nixConfig == "" {
		nixConfig = defaultNixConfig
	}
	env := []string{
		"HOME=" + home, "XDG_CONFIG_HOME=" + filepath.Join(home, ".config"),
		"XDG_CACHE_HOME=" + filepath.Join(dir, "cache"), "NIX_CONFIG=" + nixConfig,
		"TMPDIR=" + tmp, "NO_COLOR=1",
	}
	f, err := fleetgen.Generate(context.Background(), fleetgen.Options{
		Dir:   filepath.Join(dir, "f"),
		Hosts: []fleetgen.Host{{Name: "lab-1"}, {Name: "web-1"}, {Name: "web-2"}, {Name: "db-1"}, {Name: "sbc-1"}},
		Env:   env,
		Salt:  fmt.Sprintf("crash-%d-%d", seed, time.Now().UnixNano()),
	})
	if err != nil {
		t.Fatal(err)
	}
	c := &crash{t: t, seed: seed, fleet: f, dir: dir, cfg: filepath.Join(dir, "ringflow.yaml"), tmp: tmp}
	c.env = append(os.Environ(), env...)
	if err := os.WriteFile(c.cfg, []byte(ringflowYAML), 0o644); err != nil {
		t.Fatal(err)
	}
	if code, out := c.ringflow("init"); code != 0 {
		t.Fatalf("ringflow init: exit %d\n%s", code, out)
	}
	return c
}

// fatalf fails the test saying where and how to run it again.
func (c *crash) fatalf(format string, args ...any) {
	c.t.Helper()
	c.t.Fatalf("iteration %d, seed %d (RINGFLOW_CRASH_SEED=%d reproduces the sequence): %s:\n%s",
		c.iter, c.seed, c.seed, c.last, fmt.Sprintf(format, args...))
}

// freshWork gives the operation something to do.
func (c *crash) freshWork(o op, args []string, work int) {
	c.t.Helper()
	ctx := context.Background()
	bump := func() {
		if _, err := c.fleet.BumpNixpkgs(ctx); err != nil {
			c.fatalf("bumping nixpkgs: %v", err)
		}
	}
	// A change on dev that changes every host's toplevel: common.nix is
	// imported by all, and its settings go into the derivation.
	change := func() {
		content := fmt.Sprintf("{ ... }:\n{\n  crashTest.iteration = %d;\n}\n", c.iter)
		if _, err := c.fleet.CommitFile(ctx, "common.nix", content, fmt.Sprintf("iteration %d", c.iter)); err != nil {
			c.fatalf("committing on dev: %v", err)
		}
	}
	prepare := func(args ...string) {
		if code, out := c.ringflow(args...); !okExit(opBuild, code) && !okExit(opPromote, code) {
			c.fatalf("preparing with ringflow %s: exit %d\n%s", strings.Join(args, " "), code, out)
		}
	}
	switch o {
	case opUpdate:
		bump()
	case opBuild:
		change()
	case opPromote:
		switch args[1] {
		case "canary": // a green candidate on dev
			change()
			prepare("build")
		case "early": // canary ahead of early
			change()
			prepare("build")
			prepare("promote", "canary")
		}
		// stable is not auto: it lags early already.
	case opCycle:
		bump()
		if work > 0 {
			change()
		}
	}
}

// command turns the draws into a ringflow command line.
func (c *crash) command(o op, ringIdx int, pick uint64) (op, []string) {
	switch o {
	case opUpdate:
		return o, []string{"update"}
	case opBuild:
		return o, []string{"build"}
	case opPromote:
		return o, []string{"promote", rings[ringIdx]}
	case opRollback:
		if to := c.rollbackTarget(ringIdx, pick); to != "" {
			return o, []string{"rollback", rings[ringIdx], "--to", to, "--reason", fmt.Sprintf("crash test iteration %d", c.iter)}
		}
	}
	return opCycle, []string{"cycle"}
}

// rollbackTarget picks a commit ring held before (by the remote's ledger)
// that keeps the order invariant: on the ring before it (dev for the
// first) and holding the ring after it. "" when there is none.
func (c *crash) rollbackTarget(ringIdx int, pick uint64) string {
	entries := c.ledger()
	pos := map[string]string{} // the newest position of each ring
	var held []string
	for _, e := range entries { // newest first
		if e.Ring == "" || e.To == "" {
			continue
		}
		if _, ok := pos[e.Ring]; !ok {
			pos[e.Ring] = e.To
		}
		if e.Ring == rings[ringIdx] && e.To != pos[e.Ring] && !contains(held, e.To) {
			held = append(held, e.To)
		}
	}
	before := "refs/heads/dev"
	if ringIdx > 0 {
		before = pos[rings[ringIdx-1]]
	}
	var ok []string
	for _, h := range held {
		if before == "" || !c.isAncestor(h, before) {
			continue
		}
		if ringIdx+1 < len(rings) {
			if after := pos[rings[ringIdx+1]]; after != "" && !c.isAncestor(after, h) {
				continue
			}
		}
		ok = append(ok, h)
	}
	if len(ok) == 0 {
		return ""
	}
	return ok[pick%uint64(len(ok))]
}

func contains(xs []string, x string) bool {
	for _, y := range xs {
		if y == x {
			return true
		}
	}
	return false
}

func (c *crash) isAncestor(a, b string) bool {
	cmd := exec.Command("git", "-C", c.fleet.Remote, "merge-base", "--is-ancestor", a, b)
	cmd.Env = c.env
	return cmd.Run() == nil
}

// okExit says which exit codes an operation that ran to its end may have:
// 3 is a gate refusing (evidence not there yet), 4 a red build.
func okExit(o op, code int) bool {
	switch o {
	case opPromote:
		return code == 0 || code == 3
	case opBuild, opCycle:
		return code == 0 || code == 4
	}
	return code == 0
}

// runAndKill starts ringflow in a process group of its own and, if it is
// still running after delay, kills it — alone or with its whole group.
// It returns once every process of the group has ended.
func (c *crash) runAndKill(args []string, delay time.Duration, group bool) (killed bool, took time.Duration, code int, stderr string) {
	c.t.Helper()
	cmd := exec.Command(ringflowBin, append([]string{"--config", c.cfg}, args...)...)
	cmd.Dir = c.fleet.Repo
	cmd.Env = c.env
	var errBuf bytes.Buffer
	cmd.Stderr = &errBuf
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	start := time.Now()
	if err := cmd.Start(); err != nil {
		c.fatalf("starting ringflow: %v", err)
	}
	pgid := cmd.Process.Pid
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	var err error
	select {
	case err = <-done:
	case <-time.After(delay):
		killed = true
		if group {
			_ = syscall.Kill(-pgid, syscall.SIGKILL)
		} else {
			_ = cmd.Process.Signal(syscall.SIGKILL)
		}
		err = <-done
		// It may have ended on its own at that very moment.
		var ee *exec.ExitError
		if !errors.As(err, &ee) || ee.Sys().(syscall.WaitStatus).Signal() != syscall.SIGKILL {
			killed = false
		}
	}
	took = time.Since(start)
	code = 0
	var ee *exec.ExitError
	if errors.As(err, &ee) {
		code = ee.ExitCode()
	} else if err != nil {
		c.fatalf("waiting for ringflow: %v", err)
	}
	// Children left alone go on until they are done (git finishing a
	// push, nix a build): wait for the group to empty.
	deadline := time.Now().Add(2 * time.Minute)
	for groupAlive(pgid) {
		if time.Now().After(deadline) {
			_ = syscall.Kill(-pgid, syscall.SIGKILL)
			c.fatalf("children of the killed ringflow still run after 2 minutes")
		}
		time.Sleep(5 * time.Millisecond)
	}
	return killed, took, code, errBuf.String()
}

// groupAlive says whether a process of process group pgid still runs. Not
// kill(-pgid, 0): that also finds zombies, which init reaps when it gets
// round to it.
func groupAlive(pgid int) bool {
	if _, err := os.Stat("/proc/self/stat"); err != nil {
		return syscall.Kill(-pgid, 0) == nil
	}
	ents, _ := os.ReadDir("/proc")
	for _, e := range ents {
		if e.Name()[0] < '0' || e.Name()[0] > '9' {
			continue
		}
		b, err := os.ReadFile(filepath.Join("/proc", e.Name(), "stat"))
		if err != nil {
			continue
		}
		// pid (comm) state ppid pgrp …; comm may hold spaces and parentheses.
		i := bytes.LastIndexByte(b, ')')
		if i < 0 {
			continue
		}
		f := strings.Fields(string(b[i+1:]))
		if len(f) >= 3 && f[0] != "Z" && f[0] != "X" && f[2] == strconv.Itoa(pgid) {
			return true
		}
	}
	return false
}

// ringflow runs ringflow to its end and returns its exit code and output.
func (c *crash) ringflow(args ...string) (int, string) {
	cmd := exec.Command(ringflowBin, append([]string{"--config", c.cfg}, args...)...)
	cmd.Dir = c.fleet.Repo
	cmd.Env = c.env
	out, err := cmd.CombinedOutput()
	var ee *exec.ExitError
	switch {
	case errors.As(err, &ee):
		return ee.ExitCode(), string(out)
	case err != nil:
		c.fatalf("running ringflow %s: %v", strings.Join(args, " "), err)
	}
	return 0, string(out)
}

var refFileRE = regexp.MustCompile(`^([0-9a-f]{40}|ref: refs/\S+)\n$`)

// checkRefFiles: (a) every loose ref file of both repositories holds a
// full object name or a symbolic ref, each with its newline — none is
// empty or cut short. Lock files are (b)'s business.
func (c *crash) checkRefFiles() {
	c.t.Helper()
	for _, gitDir := range []string{filepath.Join(c.fleet.Repo, ".git"), c.fleet.Remote} {
		var bad []string
		root := filepath.Join(gitDir, "refs")
		err := filepath.WalkDir(root, func(p string, d fs.DirEntry, err error) error {
			if err != nil {
				return err
			}
			if d.IsDir() || strings.HasSuffix(p, ".lock") {
				return nil
			}
			b, err := os.ReadFile(p)
			if err != nil {
				return err
			}
			if !refFileRE.Match(b) {
				bad = append(bad, fmt.Sprintf("%s: %q", p, b))
			}
			return nil
		})
		if err != nil {
			c.fatalf("walking %s: %v", root, err)
		}
		if b, err := os.ReadFile(filepath.Join(gitDir, "HEAD")); err != nil || !refFileRE.Match(b) {
			bad = append(bad, fmt.Sprintf("%s/HEAD: %q (%v)", gitDir, b, err))
		}
		if len(bad) > 0 {
			c.fatalf("ref files empty or cut short:\n  %s", strings.Join(bad, "\n  "))
		}
	}
}

// checkRepairs: (b) `check --repair` exits 0, and a plain check after it
// too; and no scratch checkout is left, neither in git's list nor in
// $TMPDIR.
func (c *crash) checkRepairs() {
	c.t.Helper()
	code, out := c.ringflow("check", "--repair")
	if code != 0 {
		c.fatalf("ringflow check --repair: exit %d (a problem it cannot repair needs a person):\n%s", code, out)
	}
	if n := strings.Count(out, "repaired: "); n > 0 {
		c.t.Logf("iteration %d, %s:\n%s", c.iter, c.last, indent(grepLines(out, "repaired: ")))
	}
	if code, out2 := c.ringflow("check"); code != 0 {
		c.fatalf("ringflow check after check --repair: exit %d\n%s\n(check --repair said:\n%s)", code, out2, out)
	}
	if left := c.scratchLeft(); len(left) > 0 {
		c.fatalf("scratch checkouts left after check --repair: %s\n(check --repair said:\n%s)", strings.Join(left, ", "), out)
	}
}

func (c *crash) scratchLeft() []string {
	var left []string
	ents, _ := os.ReadDir(c.tmp)
	for _, e := range ents {
		if strings.HasPrefix(e.Name(), "ringflow-scratch-") {
			left = append(left, filepath.Join(c.tmp, e.Name()))
		}
	}
	ents, _ = os.ReadDir(filepath.Join(c.fleet.Repo, ".git", "worktrees"))
	for _, e := range ents {
		left = append(left, ".git/worktrees/"+e.Name())
	}
	return left
}

// nextCycle: (c) no lock is left stuck: a cycle that is not killed runs
// to its end (red is fine).
func (c *crash) nextCycle() {
	c.t.Helper()
	code, out := c.ringflow("cycle")
	if strings.Contains(out, "another ringflow cycle is running") {
		c.fatalf("the next cycle found the cycle lock still held:\n%s", out)
	}
	if code != 0 && code != 4 {
		c.fatalf("the next ringflow cycle: exit %d\n%s", code, out)
	}
}

// ledgerEntry is what the test reads of one ledger entry.
type ledgerEntry struct {
	Commit string
	Event  string `json:"event"`
	Ring   string `json:"ring"`
	To     string `json:"to"`
	Groups []struct {
		Group  string `json:"group"`
		Branch string `json:"branch"`
		From   string `json:"from"`
		To     string `json:"to"`
	} `json:"groups"`
}

// ledger reads refs/ringflow/ledger on the remote, newest entry first: the
// JSON after each commit's subject line.
func (c *crash) ledger() []ledgerEntry {
	c.t.Helper()
	out := c.git(c.fleet.Remote, "log", "--format=%H%x00%B%x1e", "refs/ringflow/ledger")
	var entries []ledgerEntry
	for _, rec := range strings.Split(out, "\x1e") {
		rec = strings.TrimLeft(rec, "\n")
		if rec == "" {
			continue
		}
		hash, msg, _ := strings.Cut(rec, "\x00")
		_, body, ok := strings.Cut(msg, "\n\n")
		var e ledgerEntry
		if !ok || json.Unmarshal([]byte(body), &e) != nil {
			c.fatalf("ledger entry %s is not JSON after its subject:\n%s", hash, msg)
		}
		e.Commit = hash
		entries = append(entries, e)
	}
	return entries
}

// checkLedger: (d) on the remote, every group branch is where the newest
// ledger entry that moved it says: no movement without its entry, no
// entry without its movement.
func (c *crash) checkLedger() {
	c.t.Helper()
	entries := c.ledger()
	for _, b := range groupBranches {
		head := strings.TrimSpace(c.git(c.fleet.Remote, "rev-parse", "refs/heads/"+b))
		want := ""
		for _, e := range entries {
			for _, g := range e.Groups {
				if g.Branch == b && want == "" {
					want = g.To
				}
			}
			if want != "" {
				break
			}
		}
		if want != head {
			c.fatalf("branch %s on the remote is at %s, but the newest ledger entry moving it says %q", b, head, want)
		}
	}
}

// fsck: (e) both repositories are whole: every object every ref needs is
// there.
func (c *crash) fsck(dirs ...string) {
	c.t.Helper()
	for _, d := range dirs {
		cmd := exec.Command("git", "-C", d, "fsck", "--no-dangling", "--no-progress")
		cmd.Env = c.env
		if out, err := cmd.CombinedOutput(); err != nil {
			c.fatalf("git fsck in %s: %v\n%s", d, err, out)
		}
	}
}

func (c *crash) git(dir string, args ...string) string {
	c.t.Helper()
	cmd := exec.Command("git", append([]string{"-C", dir}, args...)...)
	cmd.Env = c.env
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		c.fatalf("git %s in %s: %v\n%s", strings.Join(args, " "), dir, err, stderr.String())
	}
	return string(out)
}

func ratios(kills, runs map[string]int) string {
	var parts []string
	for o := op(0); o < numOps; o++ {
		parts = append(parts, fmt.Sprintf("%s %d/%d", o, kills[o.String()], runs[o.String()]))
	}
	return strings.Join(parts, ", ")
}

func grepLines(s, substr string) string {
	var keep []string
	for _, l := range strings.Split(s, "\n") {
		if strings.Contains(l, substr) {
			keep = append(keep, l)
		}
	}
	return strings.Join(keep, "\n")
}

func indent(s string) string { return "  " + strings.ReplaceAll(s, "\n", "\n  ") }
