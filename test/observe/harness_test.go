//go:build linux

package observe_test

import (
	"bytes"
	"context"
	"flag"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/ringflow/ringflow/test/testenv"

	"github.com/ringflow/ringflow/pkg/fleetgen"
	"github.com/ringflow/ringflow/test/promserver"
)

// The binaries TestMain builds: ringflow, and the simulated host.
var ringflowBin, hostsimBin string

// nixConfig is what nix runs with here, as in the end-to-end scripts:
// flakes on, no binary caches (no network), no sandbox.
const nixConfig = "experimental-features = nix-command flakes\nsubstituters =\nsandbox = false"

func TestMain(m *testing.M) {
	flag.Parse()
	os.Exit(func() int {
		if testing.Short() || missingTool() != "" {
			return m.Run() // every test skips (or fails under CI) by itself
		}
		dir, err := os.MkdirTemp("", "ringflow-observe-")
		if err != nil {
			fmt.Fprintln(os.Stderr, err)
			return 1
		}
		defer os.RemoveAll(dir)
		ringflowBin, hostsimBin = filepath.Join(dir, "ringflow"), filepath.Join(dir, "hostsim")
		for bin, pkg := range map[string]string{
			ringflowBin: "github.com/ringflow/ringflow/cmd/ringflow",
			hostsimBin:  "github.com/ringflow/ringflow/test/hostsim/cmd/hostsim",
		} {
			build := exec.Command("go", "build", "-o", bin, pkg)
			build.Stdout, build.Stderr = os.Stderr, os.Stderr
			if err := build.Run(); err != nil {
				fmt.Fprintf(os.Stderr, "observe: building %s: %v\n", pkg, err)
				return 1
			}
		}
		return m.Run()
	}())
}

// tools are what these tests need besides prometheus (promserver's to
// find) or sshd (test/sshd's).
var tools = []string{"git", "nix"}

func missingTool() string { return testenv.Missing(tools...) }

// requireTools skips the test when a tool is missing, or fails it when CI
// is set.
func requireTools(t *testing.T) {
	t.Helper()
	testenv.RequireTools(t, "tests with real hosts, git, nix and prometheus", tools...)
	promserver.Binary(t)
}

// fleet is a generated fleet with its remote, and ringflow set up in it.
type fleet struct {
	t   *testing.T
	fg  *fleetgen.Fleet
	env []string
}

// newFleet generates hosts with a fresh salt (nothing is in the store
// yet), writes config as ringflow.yaml and runs `ringflow init`, which puts
// dev and every group branch at dev's head on the remote.
func newFleet(t *testing.T, config string, hosts ...string) *fleet {
	t.Helper()
	root := t.TempDir()
	home := filepath.Join(root, "home")
	if err := os.MkdirAll(home, 0o755); err != nil {
		t.Fatal(err)
	}
	gitconfig := "[user]\n\tname = ringflow test\n\temail = test@ringflow.invalid\n[init]\n\tdefaultBranch = main\n"
	if err := os.WriteFile(filepath.Join(home, ".gitconfig"), []byte(gitconfig), 0o644); err != nil {
		t.Fatal(err)
	}
	var env []string
	for _, kv := range os.Environ() {
		k, _, _ := strings.Cut(kv, "=")
		switch k {
		case "HOME", "XDG_CONFIG_HOME", "XDG_CACHE_HOME", "GIT_DIR", "GIT_WORK_TREE", "GIT_CONFIG_GLOBAL":
			continue
		}
		env = append(env, kv)
	}
	env = append(env, "HOME="+home, "XDG_CACHE_HOME="+filepath.Join(root, "cache"), "GIT_CONFIG_NOSYSTEM=1", "NO_COLOR=1")
	if os.Getenv("NIX_CONFIG") == "" {
		env = append(env, "NIX_CONFIG="+nixConfig)
	}
	var hs []fleetgen.Host
	for _, h := range hosts {
		hs = append(hs, fleetgen.Host{Name: h})
	}
	fg, err := fleetgen.Generate(context.Background(), fleetgen.Options{
		Dir: filepath.Join(root, "f"), Hosts: hs, Env: env,
		Salt: fmt.Sprintf("observe-%s-%d", root, time.Now().UnixNano()),
	})
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(fg.Repo, "ringflow.yaml"), []byte(config), 0o644); err != nil {
		t.Fatal(err)
	}
	f := &fleet{t: t, fg: fg, env: env}
	f.ringflow("init")
	return f
}

// run runs a command in the fleet's clone and returns its stdout; a
// non-zero exit fails the test.
func (f *fleet) run(name string, args ...string) string {
	f.t.Helper()
	stdout, _, err := f.try(name, args...)
	if err != nil {
		f.t.Fatalf("%s %s: %v", filepath.Base(name), strings.Join(args, " "), err)
	}
	return stdout
}

// try runs a command in the fleet's clone and returns its stdout, stderr
// and how it ended.
func (f *fleet) try(name string, args ...string) (stdout, stderr string, err error) {
	f.t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, name, args...)
	cmd.Dir, cmd.Env = f.fg.Repo, f.env
	var so, se bytes.Buffer
	cmd.Stdout, cmd.Stderr = &so, &se
	start := time.Now()
	err = cmd.Run()
	f.t.Logf("%s %s (%s): %v\nstdout:\n%s\nstderr:\n%s", filepath.Base(name), strings.Join(args, " "),
		time.Since(start).Round(time.Millisecond), err, so.String(), se.String())
	return so.String(), se.String(), err
}

func (f *fleet) ringflow(args ...string) string {
	f.t.Helper()
	return f.run(ringflowBin, args...)
}

// branch is where branch stands on the remote, by git itself.
func (f *fleet) branch(name string) string {
	f.t.Helper()
	return strings.TrimSpace(f.run("git", "--git-dir", f.fg.Remote, "rev-parse", "--verify", "refs/heads/"+name+"^{commit}"))
}

// toplevel is host's toplevel at commit, by nix itself: the oracle the
// hosts' metric is checked against.
func (f *fleet) toplevel(host, commit string) string {
	f.t.Helper()
	out := f.run("nix", "eval", "--raw", f.fg.FlakeURL(commit)+"#nixosConfigurations."+host+".config.system.build.toplevel.outPath")
	if !strings.HasPrefix(out, "/nix/store/") {
		f.t.Fatalf("toplevel of %s at %s: %q", host, commit, out)
	}
	return out
}

// host is a running simulated host.
type host struct {
	Name, Branch, State string
	Addr                string // where it serves /metrics
	log                 *testenv.Buffer
}

// startHost runs hostsim for name, following branch of the fleet's remote,
// until the test ends; extra are more hostsim flags.
func (f *fleet) startHost(name, branch string, extra ...string) *host {
	f.t.Helper()
	h := &host{Name: name, Branch: branch, State: filepath.Join(f.t.TempDir(), name), log: &testenv.Buffer{}}
	args := append([]string{"-host", name, "-remote", f.fg.Remote, "-branch", branch, "-state", h.State, "-interval", "500ms"}, extra...)
	cmd := exec.Command(hostsimBin, args...)
	cmd.Env = f.env
	cmd.Stdout, cmd.Stderr = h.log, h.log
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	if err := cmd.Start(); err != nil {
		f.t.Fatal(err)
	}
	exited := make(chan error, 1)
	go func() { exited <- cmd.Wait() }()
	f.t.Cleanup(func() {
		syscall.Kill(-cmd.Process.Pid, syscall.SIGTERM)
		select {
		case <-exited:
		case <-time.After(10 * time.Second):
			syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL)
			<-exited
		}
		f.t.Logf("hostsim %s log:\n%s", name, h.log.String())
	})
	deadline := time.Now().Add(30 * time.Second)
	for {
		if b, err := os.ReadFile(filepath.Join(h.State, "listen")); err == nil {
			h.Addr = strings.TrimSpace(string(b))
			return h
		}
		select {
		case err := <-exited:
			f.t.Fatalf("hostsim %s exited: %v\n%s", name, err, h.log.String())
		case <-time.After(50 * time.Millisecond):
		}
		if time.Now().After(deadline) {
			f.t.Fatalf("hostsim %s does not listen after 30s:\n%s", name, h.log.String())
		}
	}
}

// Log is what the host said so far.
func (h *host) Log() string { return h.log.String() }

// waitFor polls cond until it holds or timeout passes; it returns how long
// that took, and fails the test with what cond said last.
func waitFor(t *testing.T, what string, timeout time.Duration, cond func() (bool, string)) time.Duration {
	t.Helper()
	start := time.Now()
	var last string
	for {
		ok, said := cond()
		if ok {
			return time.Since(start)
		}
		last = said
		if time.Since(start) > timeout {
			t.Fatalf("%s: not after %s: %s", what, timeout, last)
		}
		time.Sleep(200 * time.Millisecond)
	}
}
