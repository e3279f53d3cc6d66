package gitrepo

import (
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

func TestLock(t *testing.T) {
	dir := t.TempDir()
	if out, err := exec.Command("git", "init", "-q", dir).CombinedOutput(); err != nil {
		t.Fatalf("%v\n%s", err, out)
	}
	r, err := Open(dir)
	if err != nil {
		t.Fatal(err)
	}
	unlock, err := r.Lock("cycle", false)
	if err != nil {
		t.Fatal(err)
	}
	// A second holder — another process, as far as flock goes — is refused at once, told who holds it.
	_, err = r.Lock("cycle", false)
	var le *LockedError
	if !errors.As(err, &le) || !strings.Contains(le.Holder, "pid ") || !strings.Contains(err.Error(), "cycle is locked by pid") {
		t.Fatalf("second Lock: err = %v, want *LockedError naming the holder", err)
	}
	// Another name is independent.
	other, err := r.Lock("scratch", false)
	if err != nil {
		t.Fatal(err)
	}
	other()
	// A waiter gets it once the holder lets go.
	got := make(chan error, 1)
	go func() {
		u, err := r.Lock("cycle", true)
		if err == nil {
			u()
		}
		got <- err
	}()
	time.Sleep(50 * time.Millisecond)
	unlock()
	select {
	case err := <-got:
		if err != nil {
			t.Fatal(err)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("waiter never got the lock")
	}
	if _, err := os.Stat(filepath.Join(dir, ".git", "ringflow-cycle.lock")); err != nil {
		t.Errorf("lock file: %v", err)
	}
}

// A holder killed with SIGKILL leaves no stuck lock.
func TestLockReleasedByKill(t *testing.T) {
	dir := t.TempDir()
	if out, err := exec.Command("git", "init", "-q", dir).CombinedOutput(); err != nil {
		t.Fatalf("%v\n%s", err, out)
	}
	lockFile := filepath.Join(dir, ".git", "ringflow-cycle.lock")
	// flock(1) from util-linux holds the lock in a separate process.
	if _, err := exec.LookPath("flock"); err != nil {
		t.Skip("flock(1) not installed")
	}
	// -o: the lock stays with flock itself, not with the sleep it runs.
	holder := exec.Command("flock", "-o", lockFile, "sleep", "30")
	if err := holder.Start(); err != nil {
		t.Fatal(err)
	}
	r, err := Open(dir)
	if err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(5 * time.Second)
	for {
		var u func()
		u, err = r.Lock("cycle", false)
		if err == nil {
			u() // flock(1) has not taken it yet: let go and look again
		}
		var le *LockedError
		if errors.As(err, &le) || time.Now().After(deadline) {
			break
		}
		time.Sleep(20 * time.Millisecond)
	}
	var le *LockedError
	if !errors.As(err, &le) {
		t.Fatalf("while held elsewhere: err = %v, want *LockedError", err)
	}
	holder.Process.Kill()
	holder.Wait()
	unlock, err := r.Lock("cycle", false)
	if err != nil {
		t.Fatalf("after the holder was killed: %v", err)
	}
	unlock()
}
