package main

import (
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/ringflow/ringflow/test/testenv"
)

// TestCycleWaitEndsOnSignal runs the real ringflow as its own process:
// `ringflow cycle --wait`, blocked on the cycle lock another process holds
// (flock(1)), ends on SIGTERM and on SIGINT within seconds, exit 130,
// saying what it waited for; no ref moved, no metrics file was written,
// and the other process still holds its lock.
func TestCycleWaitEndsOnSignal(t *testing.T) {
	if testing.Short() {
		t.Skip("runs ringflow processes")
	}
	for _, tool := range []string{"git", "flock", "ringflow"} {
		if _, err := exec.LookPath(tool); err != nil {
			if os.Getenv("CI") != "" {
				t.Fatalf("%s is not on PATH (CI is set)", tool)
			}
			t.Skipf("%s is not on PATH", tool)
		}
	}
	dir := t.TempDir()
	repo := filepath.Join(dir, "fleet")
	env := append(os.Environ(), "HOME="+dir, "XDG_CONFIG_HOME="+filepath.Join(dir, "config"), "NO_COLOR=1",
		"GIT_AUTHOR_NAME=t", "GIT_AUTHOR_EMAIL=t@t", "GIT_COMMITTER_NAME=t", "GIT_COMMITTER_EMAIL=t@t")
	run := func(name string, args ...string) string {
		t.Helper()
		cmd := exec.Command(name, args...)
		cmd.Dir, cmd.Env = repo, env
		out, err := cmd.CombinedOutput()
		if err != nil {
			t.Fatalf("%s %q: %v\n%s", name, args, err, out)
		}
		return string(out)
	}
	if err := os.MkdirAll(repo, 0o755); err != nil {
		t.Fatal(err)
	}
	run("git", "init", "-q", "-b", "dev")
	config := "remote: \"\"\nrings:\n  - name: canary\n    hosts: [\"*\"]\n    auto: true\n"
	if err := os.WriteFile(filepath.Join(repo, "ringflow.yaml"), []byte(config), 0o644); err != nil {
		t.Fatal(err)
	}
	run("git", "add", "ringflow.yaml")
	run("git", "commit", "-qm", "fleet")
	run("git", "branch", "canary")

	// Another cycle holds the lock: flock(1) keeps it, with the words a
	// ringflow holder leaves in the file.
	lock := filepath.Join(repo, ".git", "ringflow-cycle.lock")
	if err := os.WriteFile(lock, []byte("pid 4242 (ringflow cycle)\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	holder := exec.Command("flock", "-o", lock, "sleep", "300")
	if err := holder.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { holder.Process.Kill(); holder.Wait() })
	held := func() bool {
		err := exec.Command("flock", "-n", "-E", "99", lock, "true").Run()
		var ee *exec.ExitError
		return errors.As(err, &ee) && ee.ExitCode() == 99
	}
	for deadline := time.Now().Add(10 * time.Second); !held(); time.Sleep(20 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatal("flock(1) never took the cycle lock")
		}
	}
	refs := run("git", "for-each-ref")
	metrics := filepath.Join(dir, "ringflow.prom")

	for _, sig := range []os.Signal{syscall.SIGTERM, os.Interrupt} {
		t.Run(sig.String(), func(t *testing.T) {
			var stderr testenv.Buffer // its stderr, read while it runs
			cmd := exec.Command("ringflow", "cycle", "--wait", "--metrics-file", metrics)
			cmd.Dir, cmd.Env, cmd.Stderr = repo, env, &stderr
			if err := cmd.Start(); err != nil {
				t.Fatal(err)
			}
			exited := make(chan error, 1)
			go func() { exited <- cmd.Wait() }()
			const waiting = "another ringflow cycle is running on this repository (pid 4242 (ringflow cycle)); waiting for it to finish (--wait)"
			for deadline := time.Now().Add(30 * time.Second); !strings.Contains(stderr.String(), waiting); time.Sleep(20 * time.Millisecond) {
				select {
				case err := <-exited:
					t.Fatalf("ringflow cycle --wait ended before waiting (%v):\n%s", err, stderr.String())
				default:
				}
				if time.Now().After(deadline) {
					cmd.Process.Kill()
					t.Fatalf("ringflow cycle --wait never said it waits:\n%s", stderr.String())
				}
			}
			// Blocked in the wait now (it said so just before): let it sit
			// there a moment, then signal it.
			time.Sleep(200 * time.Millisecond)
			sent := time.Now()
			if err := cmd.Process.Signal(sig); err != nil {
				t.Fatal(err)
			}
			var err error
			select {
			case err = <-exited:
			case <-time.After(15 * time.Second):
				cmd.Process.Kill()
				t.Fatalf("ringflow cycle --wait still waits 15s after %v:\n%s", sig, stderr.String())
			}
			var ee *exec.ExitError
			if !errors.As(err, &ee) || ee.ExitCode() != 130 {
				t.Errorf("after %v: %v, want exit 130", sig, err)
			}
			if took := time.Since(sent); took > 5*time.Second {
				t.Errorf("took %s to end after %v", took, sig)
			}
			want := "ringflow: interrupted while waiting for another ringflow cycle on this repository (pid 4242 (ringflow cycle)) to finish; this cycle changed nothing\n"
			if !strings.HasSuffix(stderr.String(), want) {
				t.Errorf("stderr:\n%s\nwant it to end with\n%s", stderr.String(), want)
			}
			if _, err := os.Stat(metrics); !errors.Is(err, os.ErrNotExist) {
				t.Errorf("metrics file: %v, want none written", err)
			}
			if now := run("git", "for-each-ref"); now != refs {
				t.Errorf("refs moved:\n%s\nwere\n%s", now, refs)
			}
			if !held() {
				t.Error("the other process lost its lock")
			}
		})
	}
}
