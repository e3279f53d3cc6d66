//go:build linux

package sshremote_test

import (
	"bytes"
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"
	"unsafe"

	"github.com/ringflow/ringflow/pkg/fleetgen"
	"github.com/ringflow/ringflow/test/sshd"
	"github.com/ringflow/ringflow/test/testenv"
)

// ringflowBin is the ringflow binary TestMain builds.
var ringflowBin string

// nixConfig is what nix runs with here, as in the end-to-end scripts:
// flakes on, no binary caches (no network), no sandbox.
const nixConfig = "experimental-features = nix-command flakes\nsubstituters =\nsandbox = false"

func TestMain(m *testing.M) {
	flag.Parse()
	os.Exit(func() int {
		if testing.Short() || missingTool() != "" {
			return m.Run() // every test skips (or fails under CI) by itself
		}
		dir, err := os.MkdirTemp("", "ringflow-sshremote-")
		if err != nil {
			fmt.Fprintln(os.Stderr, err)
			return 1
		}
		defer os.RemoveAll(dir)
		ringflowBin = filepath.Join(dir, "ringflow")
		build := exec.Command("go", "build", "-o", ringflowBin, "github.com/ringflow/ringflow/cmd/ringflow")
		build.Stdout, build.Stderr = os.Stderr, os.Stderr
		if err := build.Run(); err != nil {
			fmt.Fprintln(os.Stderr, "sshremote: building ringflow:", err)
			return 1
		}
		return m.Run()
	}())
}

// missingTool names the first tool these tests need that is not installed.
func missingTool() string {
	if tool := sshd.Missing(); tool != "" {
		return tool
	}
	return testenv.Missing("ssh-agent", "ssh-add", "git", "nix")
}

// requireTools skips the test when a tool is missing, or fails it when
// CI is set.
func requireTools(t *testing.T) {
	t.Helper()
	testenv.RequireTools(t, "end-to-end ssh tests", "ssh-agent", "ssh-add", "git", "nix")
	sshd.Require(t)
}

// startSSHD starts a real sshd on loopback (test/sshd) that lets the
// current user in with its client key; it is stopped when the test ends.
func startSSHD(t *testing.T) *sshd.Server { return sshd.Start(t, sshd.Options{}) }

// startAgent starts an ssh-agent listening on a socket of its own, holding
// key; it is killed when the test ends. It returns the socket.
func startAgent(t *testing.T, key string) string {
	t.Helper()
	sock := filepath.Join(t.TempDir(), "agent.sock")
	cmd := exec.Command("ssh-agent", "-D", "-a", sock)
	var log bytes.Buffer
	cmd.Stdout, cmd.Stderr = &log, &log
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		cmd.Process.Kill()
		cmd.Wait()
	})
	for deadline := time.Now().Add(10 * time.Second); ; time.Sleep(20 * time.Millisecond) {
		if _, err := os.Stat(sock); err == nil {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("ssh-agent made no socket: %s", log.String())
		}
	}
	add := exec.Command("ssh-add", key)
	add.Env = append(os.Environ(), "SSH_AUTH_SOCK="+sock)
	if out, err := add.CombinedOutput(); err != nil {
		t.Fatalf("ssh-add: %v\n%s", err, out)
	}
	return sock
}

// fleet is a generated fleet whose clone's remote "origin" is the bare
// repository over ssh:// through the server.
type fleet struct {
	t      *testing.T
	Dir    string // the clone ringflow runs in
	Origin string // the bare repository, read with git directly
	URL    string // ssh://user@127.0.0.1:port/…/origin.git
	env    []string
}

const ringflowYAML = `rings:
  - name: canary
    hosts: [lab-1]
  - name: stable
    hosts: ["*"]
`

func newFleet(t *testing.T, s *sshd.Server) *fleet {
	t.Helper()
	root := t.TempDir()
	home := filepath.Join(root, "home")
	if err := os.MkdirAll(home, 0o755); err != nil {
		t.Fatal(err)
	}
	gitconfig := "[user]\n\tname = ringflow test\n\temail = test@ringflow.invalid\n[init]\n\tdefaultBranch = main\n[advice]\n\tdetachedHead = false\n"
	if err := os.WriteFile(filepath.Join(home, ".gitconfig"), []byte(gitconfig), 0o644); err != nil {
		t.Fatal(err)
	}
	// The environment every command here gets: the caller's, without
	// their agent or ssh settings, with a home of the test's own.
	var env []string
	for _, kv := range os.Environ() {
		k, _, _ := strings.Cut(kv, "=")
		switch k {
		case "SSH_AUTH_SOCK", "SSH_AGENT_PID", "GIT_SSH", "GIT_SSH_COMMAND", "GIT_SSH_VARIANT",
			"GIT_CONFIG_PARAMETERS", "GIT_CONFIG_COUNT", "GIT_CONFIG_GLOBAL", "GIT_DIR", "GIT_WORK_TREE",
			"HOME", "XDG_CONFIG_HOME", "XDG_CACHE_HOME":
			continue
		}
		env = append(env, kv)
	}
	env = append(env, "HOME="+home, "XDG_CONFIG_HOME="+filepath.Join(home, ".config"),
		"XDG_CACHE_HOME="+filepath.Join(root, "cache"), "GIT_CONFIG_NOSYSTEM=1", "NO_COLOR=1")
	if os.Getenv("NIX_CONFIG") == "" {
		env = append(env, "NIX_CONFIG="+nixConfig)
	}
	fg, err := fleetgen.Generate(context.Background(), fleetgen.Options{
		Dir:   filepath.Join(root, "f"),
		Hosts: []fleetgen.Host{{Name: "lab-1"}, {Name: "web-1"}},
		Env:   env,
		Salt:  fmt.Sprintf("%s-%d", root, time.Now().UnixNano()),
	})
	if err != nil {
		t.Fatal(err)
	}
	f := &fleet{t: t, Dir: fg.Repo, Origin: fg.Remote, env: env,
		URL: fmt.Sprintf("ssh://%s@127.0.0.1:%d%s", s.User, s.Port, fg.Remote)}
	if err := os.WriteFile(filepath.Join(f.Dir, "ringflow.yaml"), []byte(ringflowYAML), 0o644); err != nil {
		t.Fatal(err)
	}
	f.git(f.Dir, "remote", "set-url", "origin", f.URL)
	return f
}

// sshCommand is an ssh command line that reads no ssh config of the
// user's and trusts what knownHosts lists, plus extra options.
func sshCommand(knownHosts string, extra ...string) string {
	return strings.Join(append([]string{"ssh", "-F", "/dev/null", "-o", "UserKnownHostsFile=" + knownHosts,
		"-o", "GlobalKnownHostsFile=/dev/null"}, extra...), " ")
}

// git runs git in dir (with the fleet's environment, not ssh's: only
// ringflow talks to the remote over ssh) and returns its trimmed stdout.
func (f *fleet) git(dir string, args ...string) string {
	f.t.Helper()
	cmd := exec.Command("git", args...)
	cmd.Dir = dir
	cmd.Env = f.env
	var so, se bytes.Buffer
	cmd.Stdout, cmd.Stderr = &so, &se
	if err := cmd.Run(); err != nil {
		f.t.Fatalf("git %s: %v\n%s", strings.Join(args, " "), err, se.String())
	}
	return strings.TrimSpace(so.String())
}

// originRefs lists every ref of the bare remote, read with git.
func (f *fleet) originRefs() string { return f.git(f.Origin, "for-each-ref") }

// result is one finished run of ringflow.
type result struct {
	Code     int
	Stdout   string
	Stderr   string
	Terminal string // what was written on the controlling terminal, if any
	Took     time.Duration
}

// ringflow runs ringflow in the clone with extra environment. With tty it
// runs in a session of its own whose controlling terminal is a fresh
// pseudo-terminal (stdin too), as when an operator types the command:
// anything that asks on /dev/tty would ask there, and nobody answers.
func (f *fleet) ringflow(extraEnv []string, tty bool, args ...string) result {
	f.t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, ringflowBin, args...)
	cmd.Dir = f.Dir
	cmd.Env = append(append([]string(nil), f.env...), extraEnv...)
	var so, se, term bytes.Buffer
	cmd.Stdout, cmd.Stderr = &so, &se
	var master *os.File
	copied := make(chan struct{})
	if tty {
		var slave *os.File
		master, slave = openPTY(f.t)
		cmd.Stdin = slave
		cmd.SysProcAttr = &syscall.SysProcAttr{Setsid: true, Setctty: true, Ctty: 0}
		go func() {
			io.Copy(&term, master) // until every slave end is closed (EIO) or master is
			close(copied)
		}()
	} else {
		close(copied)
	}
	start := time.Now()
	err := cmd.Start()
	if cmd.Stdin != nil {
		cmd.Stdin.(*os.File).Close()
	}
	if err == nil {
		err = cmd.Wait()
	}
	r := result{Took: time.Since(start), Stdout: so.String(), Stderr: se.String()}
	if master != nil {
		select {
		case <-copied:
		case <-time.After(5 * time.Second): // a leftover process holds the terminal
		}
		master.Close()
		<-copied
		r.Terminal = term.String()
	}
	var ee *exec.ExitError
	switch {
	case errors.As(err, &ee):
		r.Code = ee.ExitCode()
	case err != nil:
		f.t.Fatalf("ringflow %s: %v", strings.Join(args, " "), err)
	}
	f.t.Logf("ringflow %s: exit %d in %s\nstdout:\n%s\nstderr:\n%s", strings.Join(args, " "), r.Code, r.Took.Round(time.Millisecond), r.Stdout, r.Stderr)
	return r
}

// mustRingflow runs ringflow (no terminal) and fails the test unless it
// exits 0.
func (f *fleet) mustRingflow(extraEnv []string, args ...string) result {
	f.t.Helper()
	r := f.ringflow(extraEnv, false, args...)
	if r.Code != 0 {
		f.t.Fatalf("ringflow %s exited %d:\n%s", strings.Join(args, " "), r.Code, r.Stderr)
	}
	return r
}

// openPTY opens a new pseudo-terminal pair.
func openPTY(t *testing.T) (master, slave *os.File) {
	t.Helper()
	master, err := os.OpenFile("/dev/ptmx", os.O_RDWR|syscall.O_NOCTTY|syscall.O_CLOEXEC, 0)
	if err != nil {
		t.Skipf("no pseudo-terminal: %v", err)
	}
	var unlock int32
	if _, _, e := syscall.Syscall(syscall.SYS_IOCTL, master.Fd(), syscall.TIOCSPTLCK, uintptr(unsafe.Pointer(&unlock))); e != 0 {
		master.Close()
		t.Fatalf("unlockpt: %v", e)
	}
	var n uint32
	if _, _, e := syscall.Syscall(syscall.SYS_IOCTL, master.Fd(), syscall.TIOCGPTN, uintptr(unsafe.Pointer(&n))); e != 0 {
		master.Close()
		t.Fatalf("ptsname: %v", e)
	}
	slave, err = os.OpenFile(fmt.Sprintf("/dev/pts/%d", n), os.O_RDWR|syscall.O_NOCTTY|syscall.O_CLOEXEC, 0)
	if err != nil {
		master.Close()
		t.Skipf("no pseudo-terminal: %v", err)
	}
	return master, slave
}
