package gitrepo

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

func TestRemoteURL(t *testing.T) {
	f := newFx(t)
	origin, dir := f.remoteSetup()
	r := mustOpen(t, dir)
	if got, err := r.RemoteURL("origin"); err != nil || got != origin {
		t.Errorf("RemoteURL(origin) = %q, %v; want %q", got, err, origin)
	}
	_, err := r.RemoteURL("upstream")
	if err == nil || !strings.Contains(err.Error(), `remote "upstream" is not configured`) {
		t.Errorf("RemoteURL(upstream) error = %v", err)
	}
}

// TestFetchThenRead: go-git loads its pack list once; objects that `git
// fetch` brings in a new pack must still be visible to a Repo opened (and
// used) before the fetch.
func TestFetchThenRead(t *testing.T) {
	f := newFx(t)
	origin, ours := f.remoteSetup()
	other := f.clone(origin, "other")
	base := f.run(ours, "rev-parse", "HEAD")
	// Packed, so that go-git's first read loads the pack list it then keeps.
	f.run(ours, "repack", "-adq")

	r := mustOpen(t, ours)
	if got, err := r.ResolveCommit("origin/main"); err != nil || got != base {
		t.Fatalf("before fetch: %s, %v", got, err)
	}
	if n, err := r.CountBetween("", "origin/main"); err != nil || n != 1 {
		t.Fatalf("before fetch: count %d, %v", n, err)
	}

	// Enough commits that the fetch keeps a pack instead of exploding it
	// into loose objects (fetch.unpackLimit is 100).
	var tip string
	for i := range 120 {
		tip = f.commit(other, "f", "commit "+string(rune('a'+i%26)))
	}
	f.run(other, "checkout", "-q", "-b", "dev")
	dev := f.commit(other, "d", "dev work")
	f.run(other, "push", "-q", "origin", "main", "dev")

	// A stale tracking ref for a branch the remote doesn't have is pruned.
	f.run(ours, "update-ref", "refs/remotes/origin/gone", base)

	packGlob := filepath.Join(ours, ".git", "objects", "pack", "*.pack")
	before, _ := filepath.Glob(packGlob)
	if err := r.Fetch(t.Context(), "origin", []string{"main", "dev", "gone", "never"}); err != nil {
		t.Fatal(err)
	}
	if after, _ := filepath.Glob(packGlob); len(after) <= len(before) {
		t.Fatalf("fetch wrote no new pack (%d packs): the test would not exercise the pack list", len(after))
	}
	if got, err := r.ResolveCommit("origin/main"); err != nil || got != tip {
		t.Errorf("ResolveCommit(origin/main) = %s, %v; want %s", got, err, tip)
	}
	if ok, err := r.IsAncestor(base, "origin/dev"); err != nil || !ok {
		t.Errorf("IsAncestor(base, origin/dev) = %v, %v", ok, err)
	}
	if n, err := r.CountBetween(base, dev); err != nil || n != 121 {
		t.Errorf("CountBetween(base, dev) = %d, %v; want 121", n, err)
	}
	if c, err := r.Commit(dev); err != nil || c.Subject != "dev work" {
		t.Errorf("Commit(dev) = %+v, %v", c, err)
	}
	if _, ok, _ := r.Ref("refs/remotes/origin/gone"); ok {
		t.Error("tracking ref of a branch missing on the remote survived")
	}
	if _, ok, _ := r.Ref("refs/remotes/origin/never"); ok {
		t.Error("tracking ref created for a missing branch")
	}

	// Someone else's fetch (not through Repo) is seen as well.
	more := f.commit(other, "d", "more dev work")
	for i := range 110 {
		f.commit(other, "d", "bulk "+string(rune('a'+i%26)))
	}
	newTip := f.run(other, "rev-parse", "HEAD")
	f.run(other, "push", "-q", "origin", "dev")
	f.run(ours, "fetch", "-q", "origin")
	if ok, err := r.IsAncestor(more, newTip); err != nil || !ok {
		t.Errorf("after external fetch: IsAncestor = %v, %v", ok, err)
	}
	if got, err := r.ResolveCommit(newTip[:10]); err != nil || got != newTip {
		t.Errorf("after external fetch: ResolveCommit(abbrev) = %s, %v", got, err)
	}

	// Directory mtimes can miss a quick second write: then the miss itself
	// must trigger the reload.
	for i := range 110 {
		f.commit(other, "d", "again "+string(rune('a'+i%26)))
	}
	last := f.run(other, "rev-parse", "HEAD")
	f.run(other, "push", "-q", "origin", "dev")
	f.run(ours, "fetch", "-q", "origin")
	r.mu.Lock()
	r.store.stamp = r.store.stamps() // as if the pack dir's mtime had not changed
	r.mu.Unlock()
	if n, err := r.CountBetween(newTip, last); err != nil || n != 110 {
		t.Errorf("after unseen fetch: CountBetween = %d, %v; want 110", n, err)
	}
}

func TestFetchErrors(t *testing.T) {
	f := newFx(t)
	_, ours := f.remoteSetup()
	r := mustOpen(t, ours)
	f.run(ours, "remote", "add", "gone", filepath.Join(t.TempDir(), "nowhere.git"))
	f.run(ours, "remote", "add", "secret", "https://alice:hunter2@127.0.0.1:1/repo.git")

	ctx, cancel := context.WithTimeout(t.Context(), 30*time.Second)
	defer cancel()
	err := r.Fetch(ctx, "gone", []string{"main"})
	if err == nil || !strings.Contains(err.Error(), "remote gone") {
		t.Errorf("unreachable remote: error = %v", err)
	}
	err = r.Fetch(ctx, "secret", []string{"main"})
	if err == nil || !strings.Contains(err.Error(), "remote secret") || strings.Contains(err.Error(), "hunter2") ||
		!strings.Contains(err.Error(), "https://alice@127.0.0.1:1/repo.git") {
		t.Errorf("credentialed remote: error = %v", err)
	}
	err = r.Fetch(ctx, "nope", []string{"main"})
	if err == nil || !strings.Contains(err.Error(), `remote "nope" is not configured`) {
		t.Errorf("unknown remote: error = %v", err)
	}
	err = r.Push(ctx, "secret", []RefUpdate{{Ref: "refs/heads/main", New: f.run(ours, "rev-parse", "HEAD")}})
	if err == nil || strings.Contains(err.Error(), "hunter2") || !strings.Contains(err.Error(), "remote secret") {
		t.Errorf("push to credentialed remote: error = %v", err)
	}
	err = r.Push(ctx, "gone", []RefUpdate{{Ref: "refs/heads/main", New: f.run(ours, "rev-parse", "HEAD")}})
	if err == nil || !strings.Contains(err.Error(), "remote gone") || errors.As(err, new(*PushRejectedError)) {
		t.Errorf("push to unreachable remote: error = %v", err)
	}

	// A context that ends stops git and says so.
	done, stop := context.WithCancel(t.Context())
	stop()
	if err := r.Fetch(done, "origin", []string{"main"}); !errors.Is(err, context.Canceled) {
		t.Errorf("cancelled fetch: error = %v", err)
	}
}

func TestPush(t *testing.T) {
	// setup: origin has main, canary, stable at c1; ours has fetched them
	// and made c2.
	setup := func(t *testing.T) (f *fx, origin, ours string, r *Repo, c1, c2 string) {
		f = newFx(t)
		origin, ours = f.remoteSetup()
		c1 = f.run(ours, "rev-parse", "HEAD")
		f.run(ours, "push", "-q", "origin", "main:canary", "main:stable")
		c2 = f.commit(ours, "x", "candidate")
		r = mustOpen(t, ours)
		if err := r.Fetch(t.Context(), "origin", []string{"canary", "stable"}); err != nil {
			t.Fatal(err)
		}
		return f, origin, ours, r, c1, c2
	}

	t.Run("success updates remote and tracking refs", func(t *testing.T) {
		f, origin, ours, r, c1, c2 := setup(t)
		err := r.Push(t.Context(), "origin", []RefUpdate{
			{Ref: "refs/heads/canary", Old: c1, New: c2},
			{Ref: "refs/heads/stable", Old: c1, New: c2},
			{Ref: "refs/heads/early", Old: "", New: c2},
		})
		if err != nil {
			t.Fatal(err)
		}
		for _, b := range []string{"canary", "stable", "early"} {
			if got := refAt(f, origin, "refs/heads/"+b); got != c2 {
				t.Errorf("origin %s = %s, want %s", b, got, c2)
			}
			if got := refAt(f, ours, "refs/remotes/origin/"+b); got != c2 {
				t.Errorf("tracking ref origin/%s = %s, want %s", b, got, c2)
			}
		}
	})

	t.Run("remote moved meanwhile: rejected, atomically", func(t *testing.T) {
		f, origin, _, r, c1, c2 := setup(t)
		other := f.clone(origin, "other")
		f.run(other, "checkout", "-q", "stable")
		theirs := f.commit(other, "y", "someone else's commit")
		f.run(other, "push", "-q", "origin", "stable")

		err := r.Push(t.Context(), "origin", []RefUpdate{
			{Ref: "refs/heads/canary", Old: c1, New: c2},
			{Ref: "refs/heads/stable", Old: c1, New: c2},
		})
		var rej *PushRejectedError
		if !errors.As(err, &rej) {
			t.Fatalf("error = %v, want *PushRejectedError", err)
		}
		if !hasRejected(rej, "refs/heads/stable", "stale info") {
			t.Errorf("rejected refs = %+v, want stable: stale info", rej.Refs)
		}
		if !strings.Contains(err.Error(), "stable: stale info") || !strings.Contains(err.Error(), "remote origin") {
			t.Errorf("error text %q", err)
		}
		if got := refAt(f, origin, "refs/heads/canary"); got != c1 {
			t.Errorf("canary moved on the remote to %s in a rejected atomic push", got)
		}
		if got := refAt(f, origin, "refs/heads/stable"); got != theirs {
			t.Errorf("their stable commit was overwritten: %s", got)
		}
	})

	t.Run("old empty but branch exists: rejected", func(t *testing.T) {
		f, origin, _, r, c1, c2 := setup(t)
		err := r.Push(t.Context(), "origin", []RefUpdate{{Ref: "refs/heads/stable", Old: "", New: c2}})
		var rej *PushRejectedError
		if !errors.As(err, &rej) || !hasRejected(rej, "refs/heads/stable", "") {
			t.Fatalf("error = %v", err)
		}
		if got := refAt(f, origin, "refs/heads/stable"); got != c1 {
			t.Errorf("stable moved to %s", got)
		}
	})

	t.Run("pre-receive hook declines", func(t *testing.T) {
		f, origin, _, r, c1, c2 := setup(t)
		hook := "#!/bin/sh\necho 'policy: stable is frozen until Monday' >&2\nexit 1\n"
		if err := os.WriteFile(filepath.Join(origin, "hooks", "pre-receive"), []byte(hook), 0o755); err != nil {
			t.Fatal(err)
		}
		err := r.Push(t.Context(), "origin", []RefUpdate{
			{Ref: "refs/heads/canary", Old: c1, New: c2},
			{Ref: "refs/heads/stable", Old: c1, New: c2},
		})
		var rej *PushRejectedError
		if !errors.As(err, &rej) || !hasRejected(rej, "refs/heads/stable", "pre-receive hook declined") {
			t.Fatalf("error = %v", err)
		}
		if !strings.Contains(err.Error(), "policy: stable is frozen until Monday") {
			t.Errorf("hook output missing from error: %q", err)
		}
		for _, b := range []string{"canary", "stable"} {
			if got := refAt(f, origin, "refs/heads/"+b); got != c1 {
				t.Errorf("%s moved to %s", b, got)
			}
		}
	})
}

func hasRejected(e *PushRejectedError, ref, reason string) bool {
	for _, r := range e.Refs {
		if r.Ref == ref && strings.Contains(r.Reason, reason) {
			return true
		}
	}
	return false
}

func TestRedact(t *testing.T) {
	tests := map[string]string{
		"https://user:pass@host/x.git": "https://user@host/x.git",
		"https://user@host/x.git":      "https://user@host/x.git",
		"git@github.com:o/r.git":       "git@github.com:o/r.git",
		"/srv/git/fleet.git":           "/srv/git/fleet.git",
		"ssh://u:p@h:22/r":             "ssh://u@h:22/r",
	}
	for in, want := range tests {
		if got := redactURL(in); got != want {
			t.Errorf("redactURL(%q) = %q, want %q", in, got, want)
		}
	}
	if got := redactText("fatal: unable to access 'https://bob:s3cr3t@example.com/r/': refused"); strings.Contains(got, "s3cr3t") {
		t.Errorf("redactText kept the password: %q", got)
	}
}

func TestPushRejectedStale(t *testing.T) {
	tests := []struct {
		err  PushRejectedError
		want bool
	}{
		{PushRejectedError{Refs: []RejectedRef{{Ref: "refs/heads/a", Reason: "stale info"}}}, true},
		{PushRejectedError{Refs: []RejectedRef{{Ref: "refs/notes/x", Reason: "atomic transaction failed"}},
			Output: []string{"error: cannot lock ref 'refs/notes/x': reference already exists"}}, true},
		{PushRejectedError{Refs: []RejectedRef{{Ref: "refs/heads/a", Reason: "pre-receive hook declined"}, {Ref: "refs/heads/b", Reason: "atomic push failed"}}}, false},
		{PushRejectedError{Refs: []RejectedRef{{Ref: "refs/heads/a", Reason: "atomic push failed"}}}, false},
		{PushRejectedError{Refs: []RejectedRef{{Ref: "refs/heads/dev", Reason: "stale info"}, {Ref: "refs/ringflow/ledger", Reason: "atomic push failed"}}}, true},
		{PushRejectedError{}, false},
		// Two pushes meeting inside the remote: its ref transaction lost the
		// lock on every ref of the atomic push.
		{PushRejectedError{Refs: []RejectedRef{{Ref: "refs/heads/canary", Reason: "atomic transaction failed"}, {Ref: "refs/ringflow/ledger", Reason: "atomic transaction failed"}},
			Output: []string{"error: cannot lock ref 'refs/heads/canary': is at dfa6fed0dfa6fed0dfa6fed0dfa6fed0dfa6fed0 but expected ddeeb1e0ddeeb1e0ddeeb1e0ddeeb1e0ddeeb1e0"}}, true},
		// … said on git's stderr without "remote: " (no side band)
		{PushRejectedError{Refs: []RejectedRef{{Ref: "refs/heads/canary", Reason: "atomic transaction failed"}}, LockLost: true}, true},
		{PushRejectedError{Refs: []RejectedRef{{Ref: "refs/heads/canary", Reason: "failed to update ref"}}, LockLost: true}, true},
		// the lock failed for another reason (a broken ref store): not a race
		{PushRejectedError{Refs: []RejectedRef{{Ref: "refs/heads/canary", Reason: "atomic transaction failed"}},
			Output: []string{"error: cannot lock ref 'refs/heads/canary': unable to create directory"}}, false},
	}
	for _, tt := range tests {
		if got := tt.err.Stale(); got != tt.want {
			t.Errorf("Stale(%+v) = %v, want %v", tt.err, got, tt.want)
		}
	}
}
