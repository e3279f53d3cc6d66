package gitrepo

import (
	"context"
	"errors"
	"os/exec"
	"strings"
	"testing"
	"time"
)

// lockRepo is a new repository with one commit.
func lockRepo(t *testing.T) *Repo {
	t.Helper()
	dir := t.TempDir()
	for _, args := range [][]string{{"init", "-q"}, {"-c", "user.name=t", "-c", "user.email=t@t", "commit", "-q", "--allow-empty", "-m", "x"}} {
		if out, err := exec.Command("git", append([]string{"-C", dir}, args...)...).CombinedOutput(); err != nil {
			t.Fatalf("git %q: %v\n%s", args, err, out)
		}
	}
	r, err := Open(dir)
	if err != nil {
		t.Fatal(err)
	}
	return r
}

// A wait for a held lock ends when its context does: a *LockWaitError
// naming the lock and its holder, wrapping context.Canceled; nothing is
// held, and the lock is the holder's alone until it lets go — then anyone
// may take it, the given-up wait included, which lets go at once.
func TestLockContextWaitEnds(t *testing.T) {
	r := lockRepo(t)
	unlock, err := r.Lock("cycle", false)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	got := make(chan error, 1)
	go func() {
		u, err := r.LockContext(ctx, "cycle", true)
		if err == nil {
			u()
		}
		got <- err
	}()
	time.Sleep(100 * time.Millisecond)
	select {
	case err := <-got:
		t.Fatalf("the wait ended while the lock was held: %v", err)
	default:
	}
	cancel()
	var err2 error
	select {
	case err2 = <-got:
	case <-time.After(5 * time.Second):
		t.Fatal("the wait outlasted its context")
	}
	var we *LockWaitError
	if !errors.As(err2, &we) || !errors.Is(err2, context.Canceled) || we.Name != "cycle" || !strings.HasPrefix(we.Holder, "pid ") ||
		!strings.Contains(err2.Error(), "interrupted while waiting for the cycle lock of this repository, held by pid ") {
		t.Fatalf("err = %v (%T), want a *LockWaitError for cycle naming its holder, wrapping context.Canceled", err2, err2)
	}
	// Still the holder's; after it lets go, free for anyone.
	if _, err := r.Lock("cycle", false); !errors.As(err, new(*LockedError)) {
		t.Fatalf("while held: Lock = %v, want *LockedError", err)
	}
	unlock()
	deadline := time.Now().Add(5 * time.Second)
	for {
		u, err := r.Lock("cycle", false)
		if err == nil {
			u()
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("the lock stays taken after its holder let go and the wait was given up: %v", err)
		}
		time.Sleep(10 * time.Millisecond)
	}

	// A context already done: no wait at all, for a held lock; a free lock
	// is still taken.
	unlock, err = r.Lock("cycle", false)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := r.LockContext(ctx, "cycle", true); !errors.Is(err, context.Canceled) {
		t.Errorf("done context, held lock: err = %v", err)
	}
	unlock()
	if u, err := r.LockContext(ctx, "cycle", true); err != nil {
		t.Errorf("done context, free lock: err = %v", err)
	} else {
		u()
	}
	// Not waiting is unchanged: a held lock is a *LockedError at once.
	// (The wait given up above may still hold the lock for a moment, as it
	// lets go of it the instant it gets it.)
	for deadline := time.Now().Add(5 * time.Second); ; {
		if unlock, err = r.Lock("cycle", false); err == nil {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("the free lock could not be taken: %v", err)
		}
		time.Sleep(10 * time.Millisecond)
	}
	defer unlock()
	if _, err := r.LockContext(context.Background(), "cycle", false); !errors.As(err, new(*LockedError)) {
		t.Errorf("no wait: err = %v, want *LockedError", err)
	}
}

// A scratch checkout waits for the scratch lock as long as its context
// lets it, and says which lock it waited for.
func TestScratchWaitEnds(t *testing.T) {
	r := lockRepo(t)
	unlock, err := r.Lock("scratch", false)
	if err != nil {
		t.Fatal(err)
	}
	defer unlock()
	ctx, cancel := context.WithTimeout(context.Background(), 200*time.Millisecond)
	defer cancel()
	_, _, err = r.Scratch(ctx, "HEAD")
	var we *LockWaitError
	if !errors.As(err, &we) || we.Name != "scratch" || !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("Scratch while the scratch lock is held: err = %v, want a *LockWaitError for scratch", err)
	}
}
