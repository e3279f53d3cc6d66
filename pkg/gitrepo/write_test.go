package gitrepo

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// refAt reads a ref with git, the oracle; "" if missing.
func refAt(f *fx, dir, ref string) string {
	f.tb.Helper()
	out, err := f.try(dir, nil, "rev-parse", "-q", "--verify", ref)
	if err != nil {
		return ""
	}
	return out
}

func TestUpdateRefs(t *testing.T) {
	for _, bare := range []bool{false, true} {
		name := "work tree"
		if bare {
			name = "bare"
		}
		t.Run(name, func(t *testing.T) {
			f := newFx(t)
			dir := f.repo()
			c1 := f.run(dir, "rev-parse", "HEAD")
			c2 := f.commit(dir, "a", "two")
			c3 := f.commit(dir, "a", "three")
			f.run(dir, "branch", "canary", c1)
			f.run(dir, "branch", "stable", c1)
			if bare {
				b := filepath.Join(t.TempDir(), "b.git")
				f.run(dir, "clone", "-q", "--bare", dir, b)
				dir = b
			}
			r := mustOpen(t, dir)
			ctx := t.Context()

			// Both move together.
			err := r.UpdateRefs(ctx, []RefUpdate{
				{Ref: "refs/heads/canary", Old: c1, New: c3},
				{Ref: "refs/heads/stable", Old: c1, New: c2},
				{Ref: "refs/heads/early", Old: "", New: c2},
			}, "ringflow: promote")
			if err != nil {
				t.Fatal(err)
			}
			for ref, want := range map[string]string{"refs/heads/canary": c3, "refs/heads/stable": c2, "refs/heads/early": c2} {
				if got := refAt(f, dir, ref); got != want {
					t.Errorf("%s = %s, want %s", ref, got, want)
				}
				if got, ok, err := r.Ref(ref); got != want || !ok || err != nil {
					t.Errorf("Ref(%s) = %s, %v, %v after UpdateRefs", ref, got, ok, err)
				}
			}
			if msg := f.run(dir, "reflog", "show", "-1", "--format=%gs", "refs/heads/canary"); !bare && msg != "ringflow: promote" {
				t.Errorf("reflog message = %q", msg)
			}

			// One stale old value: nothing moves, the error names that ref.
			err = r.UpdateRefs(ctx, []RefUpdate{
				{Ref: "refs/heads/canary", Old: c3, New: c1},
				{Ref: "refs/heads/stable", Old: c1, New: c3}, // stale: it is at c2
			}, "")
			var conflict *RefConflictError
			if !errors.As(err, &conflict) || conflict.Ref != "refs/heads/stable" || conflict.Expected != c1 || conflict.Actual != c2 {
				t.Fatalf("stale update error = %#v (%v)", conflict, err)
			}
			if !strings.Contains(err.Error(), "refs/heads/stable") {
				t.Errorf("error %q does not name the ref", err)
			}
			if got := refAt(f, dir, "refs/heads/canary"); got != c3 {
				t.Errorf("canary moved to %s in a failed transaction", got)
			}

			// Old "" for an existing ref is stale too.
			err = r.UpdateRefs(ctx, []RefUpdate{{Ref: "refs/heads/early", New: c3}}, "")
			if !errors.As(err, &conflict) || conflict.Actual != c2 || conflict.Expected != "" {
				t.Errorf("create over existing: error = %v", err)
			}
			// Expecting a value for a missing ref is stale.
			err = r.UpdateRefs(ctx, []RefUpdate{{Ref: "refs/heads/nope", Old: c1, New: c3}}, "")
			if !errors.As(err, &conflict) || conflict.Actual != "" {
				t.Errorf("update of missing ref: error = %v", err)
			}
			// Delete by CAS; other namespaces work too.
			if err := r.UpdateRefs(ctx, []RefUpdate{{Ref: "refs/heads/early", Old: c2}, {Ref: "refs/notes/ringflow", New: c1}}, ""); err != nil {
				t.Fatal(err)
			}
			if got := refAt(f, dir, "refs/heads/early"); got != "" {
				t.Errorf("early still at %s after delete", got)
			}
			// Bad input is refused before git runs.
			for _, u := range []RefUpdate{{Ref: "heads/x", New: c1}, {Ref: "refs/heads/x", New: "abc"}, {Ref: "refs/heads/x", Old: "main", New: c1}} {
				if err := r.UpdateRefs(ctx, []RefUpdate{u}, ""); err == nil {
					t.Errorf("UpdateRefs(%+v) accepted", u)
				}
			}
			if !bare {
				err := r.UpdateRefs(ctx, []RefUpdate{{Ref: "refs/heads/main", Old: c3, New: c1}}, "")
				if err == nil || !strings.Contains(err.Error(), "checked out") {
					t.Errorf("UpdateRefs of the checked-out branch: error = %v", err)
				}
				if got := refAt(f, dir, "refs/heads/main"); got != c3 {
					t.Errorf("main moved to %s", got)
				}
			}
		})
	}
}

func TestAdvanceBranch(t *testing.T) {
	setup := func(t *testing.T) (*fx, string, *Repo, string, string) {
		f := newFx(t)
		dir := f.repo()
		c1 := f.run(dir, "rev-parse", "HEAD")
		c2 := f.commit(dir, "file", "version two")
		f.run(dir, "reset", "-q", "--hard", c1)
		return f, dir, mustOpen(t, dir), c1, c2
	}
	readFile := func(t *testing.T, p string) string {
		b, err := os.ReadFile(p)
		if err != nil {
			return ""
		}
		return string(b)
	}

	t.Run("checked out and clean: ref and files move", func(t *testing.T) {
		f, dir, r, c1, c2 := setup(t)
		got, err := r.AdvanceBranch(t.Context(), "main", c1, c2)
		if err != nil || got != (Advance{Moved: true}) {
			t.Fatalf("AdvanceBranch = %+v, %v", got, err)
		}
		if head := refAt(f, dir, "refs/heads/main"); head != c2 {
			t.Errorf("main = %s, want %s", head, c2)
		}
		if s := readFile(t, filepath.Join(dir, "file")); s != "version two\n" {
			t.Errorf("work tree file = %q", s)
		}
		if st := f.run(dir, "status", "--porcelain"); st != "" {
			t.Errorf("work tree not clean after advance:\n%s", st)
		}
		if got, _ := r.ResolveCommit("HEAD"); got != c2 {
			t.Errorf("ResolveCommit(HEAD) = %s after advance", got)
		}
	})

	t.Run("checked out and dirty: nothing moves", func(t *testing.T) {
		f, dir, r, c1, c2 := setup(t)
		if err := os.WriteFile(filepath.Join(dir, "README"), []byte("local edit\n"), 0o644); err != nil {
			t.Fatal(err)
		}
		got, err := r.AdvanceBranch(t.Context(), "main", c1, c2)
		if err != nil || !got.Skipped || got.Moved || !strings.Contains(got.Reason, "uncommitted changes") {
			t.Fatalf("AdvanceBranch = %+v, %v", got, err)
		}
		if head := refAt(f, dir, "refs/heads/main"); head != c1 {
			t.Errorf("main moved to %s", head)
		}
		if s := readFile(t, filepath.Join(dir, "README")); s != "local edit\n" {
			t.Errorf("local edit lost: %q", s)
		}
		if _, err := os.Stat(filepath.Join(dir, "file")); !os.IsNotExist(err) {
			t.Errorf("new commit's file appeared: %v", err)
		}
	})

	t.Run("checked out, untracked file in the way: nothing moves", func(t *testing.T) {
		f, dir, r, c1, c2 := setup(t)
		if err := os.WriteFile(filepath.Join(dir, "file"), []byte("mine\n"), 0o644); err != nil {
			t.Fatal(err)
		}
		got, err := r.AdvanceBranch(t.Context(), "main", c1, c2)
		if err != nil || !got.Skipped || !strings.Contains(got.Reason, "untracked") {
			t.Fatalf("AdvanceBranch = %+v, %v", got, err)
		}
		if head := refAt(f, dir, "refs/heads/main"); head != c1 {
			t.Errorf("main moved to %s", head)
		}
		if s := readFile(t, filepath.Join(dir, "file")); s != "mine\n" {
			t.Errorf("untracked file overwritten: %q", s)
		}
	})

	t.Run("not checked out: ref moves, files stay", func(t *testing.T) {
		f, dir, r, c1, c2 := setup(t)
		f.run(dir, "branch", "stable", c1)
		got, err := r.AdvanceBranch(t.Context(), "stable", c1, c2)
		if err != nil || got != (Advance{Moved: true}) {
			t.Fatalf("AdvanceBranch = %+v, %v", got, err)
		}
		if head := refAt(f, dir, "refs/heads/stable"); head != c2 {
			t.Errorf("stable = %s", head)
		}
		if head := refAt(f, dir, "refs/heads/main"); head != c1 {
			t.Errorf("main moved to %s", head)
		}
		// Create with old "".
		if got, err := r.AdvanceBranch(t.Context(), "early", "", c2); err != nil || !got.Moved {
			t.Fatalf("create: AdvanceBranch = %+v, %v", got, err)
		}
		if head := refAt(f, dir, "refs/heads/early"); head != c2 {
			t.Errorf("early = %s", head)
		}
	})

	t.Run("stale old value", func(t *testing.T) {
		f, dir, r, c1, c2 := setup(t)
		f.run(dir, "branch", "stable", c1)
		for _, branch := range []string{"stable", "main"} {
			_, err := r.AdvanceBranch(t.Context(), branch, c2, c1)
			var conflict *RefConflictError
			if !errors.As(err, &conflict) || conflict.Ref != "refs/heads/"+branch || conflict.Actual != c1 {
				t.Errorf("%s: error = %v", branch, err)
			}
			if head := refAt(f, dir, "refs/heads/"+branch); head != c1 {
				t.Errorf("%s moved to %s", branch, head)
			}
		}
		if _, err := r.AdvanceBranch(t.Context(), "stable", "", c2); !errors.As(err, new(*RefConflictError)) {
			t.Errorf("create over existing: error = %v", err)
		}
	})

	t.Run("checked out in a linked worktree", func(t *testing.T) {
		f, dir, r, c1, c2 := setup(t)
		linked := filepath.Join(t.TempDir(), "linked")
		f.run(dir, "worktree", "add", "-q", "-b", "canary", linked, c1)
		if err := os.WriteFile(filepath.Join(linked, "README"), []byte("edit\n"), 0o644); err != nil {
			t.Fatal(err)
		}
		got, err := r.AdvanceBranch(t.Context(), "canary", c1, c2)
		if err != nil || !got.Skipped || !strings.Contains(got.Reason, linked) {
			t.Fatalf("dirty linked: AdvanceBranch = %+v, %v", got, err)
		}
		f.run(linked, "checkout", "-q", "README")
		got, err = r.AdvanceBranch(t.Context(), "canary", c1, c2)
		if err != nil || !got.Moved {
			t.Fatalf("clean linked: AdvanceBranch = %+v, %v", got, err)
		}
		if s := readFile(t, filepath.Join(linked, "file")); s != "version two\n" {
			t.Errorf("linked work tree file = %q", s)
		}
		if head := refAt(f, dir, "refs/heads/main"); head != c1 {
			t.Errorf("main moved to %s", head)
		}
	})

	t.Run("checked out but unborn: created with its files", func(t *testing.T) {
		f, dir, r, _, c2 := setup(t)
		f.run(dir, "checkout", "-q", "--orphan", "fresh")
		f.run(dir, "rm", "-rqf", ".")
		got, err := r.AdvanceBranch(t.Context(), "fresh", "", c2)
		if err != nil || !got.Moved {
			t.Fatalf("AdvanceBranch = %+v, %v", got, err)
		}
		if s := readFile(t, filepath.Join(dir, "file")); s != "version two\n" {
			t.Errorf("work tree file = %q", s)
		}
		if st := f.run(dir, "status", "--porcelain"); st != "" {
			t.Errorf("work tree not clean:\n%s", st)
		}
	})

	t.Run("bare", func(t *testing.T) {
		f, dir, _, c1, c2 := setup(t)
		b := filepath.Join(t.TempDir(), "b.git")
		f.run(dir, "clone", "-q", "--bare", dir, b)
		r := mustOpen(t, b)
		if got, err := r.AdvanceBranch(t.Context(), "main", c1, c2); err != nil || !got.Moved {
			t.Fatalf("AdvanceBranch = %+v, %v", got, err)
		}
		if head := refAt(f, b, "refs/heads/main"); head != c2 {
			t.Errorf("main = %s", head)
		}
	})
}

// TestOuterGitEnv: run from a git hook, ringflow inherits GIT_DIR and
// friends; our git must still act on the Repo's own repository.
func TestOuterGitEnv(t *testing.T) {
	f := newFx(t)
	dir := f.repo()
	other := f.repo()
	c1 := f.run(dir, "rev-parse", "HEAD")
	r := mustOpen(t, dir)
	t.Setenv("GIT_DIR", filepath.Join(other, ".git"))
	t.Setenv("GIT_WORK_TREE", other)
	if err := r.UpdateRefs(t.Context(), []RefUpdate{{Ref: "refs/heads/stable", New: c1}}, ""); err != nil {
		t.Fatal(err)
	}
	os.Unsetenv("GIT_DIR")
	os.Unsetenv("GIT_WORK_TREE")
	if got := refAt(f, dir, "refs/heads/stable"); got != c1 {
		t.Errorf("stable = %q in the Repo's repository", got)
	}
	if got := refAt(f, other, "refs/heads/stable"); got != "" {
		t.Errorf("the outer repository got the ref: %s", got)
	}
}
