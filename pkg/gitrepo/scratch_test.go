package gitrepo

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"
)

// worktreePaths lists `git worktree list --porcelain` paths, prunable ones
// included.
func worktreePaths(f *fx, dir string) []string {
	f.tb.Helper()
	var paths []string
	for _, line := range strings.Split(f.run(dir, "worktree", "list", "--porcelain"), "\n") {
		if p, ok := strings.CutPrefix(line, "worktree "); ok {
			paths = append(paths, p)
		}
	}
	return paths
}

// checkScratch checks that dir is a clean detached checkout of commit with
// every file of its tree.
func checkScratch(f *fx, repo, dir, commit string) {
	f.tb.Helper()
	if got := f.run(dir, "rev-parse", "HEAD"); got != commit {
		f.tb.Errorf("scratch HEAD = %s, want %s", got, commit)
	}
	if _, err := f.try(dir, nil, "symbolic-ref", "-q", "HEAD"); err == nil {
		f.tb.Error("scratch HEAD is on a branch, want detached")
	}
	if st := f.run(dir, "status", "--porcelain"); st != "" {
		f.tb.Errorf("scratch status:\n%s", st)
	}
	for p, meta := range lsTree(f, repo, commit) {
		full := filepath.Join(dir, p)
		fi, err := os.Lstat(full)
		if err != nil {
			f.tb.Errorf("scratch lacks %s: %v", p, err)
			continue
		}
		switch {
		case strings.HasPrefix(meta, "160000 "):
			// An unpopulated submodule: an empty directory.
		case strings.HasPrefix(meta, "120000 "):
			target, _ := os.Readlink(full)
			if want := string(gitRaw(f, repo, "cat-file", "blob", strings.Fields(meta)[2])); target != want {
				f.tb.Errorf("%s → %q, want %q", p, target, want)
			}
		default:
			got, _ := os.ReadFile(full)
			if want := gitRaw(f, repo, "cat-file", "blob", strings.Fields(meta)[2]); string(got) != string(want) {
				f.tb.Errorf("%s = %q, want %q", p, got, want)
			}
			if exec := fi.Mode()&0o100 != 0; exec != strings.HasPrefix(meta, "100755 ") {
				f.tb.Errorf("%s: mode %v for %s", p, fi.Mode(), meta)
			}
		}
	}
}

// scratchTmp points os.TempDir, and so Scratch, at a directory of the
// test's, so that a failing test leaves nothing in /tmp.
func scratchTmp(t *testing.T) string {
	t.Helper()
	tmp := t.TempDir()
	t.Setenv("TMPDIR", tmp)
	return tmp
}

func checkRemoved(f *fx, repo, dir string) {
	f.tb.Helper()
	if _, err := os.Lstat(dir); !errors.Is(err, os.ErrNotExist) {
		f.tb.Errorf("scratch dir %s still there: %v", dir, err)
	}
	if slices.Contains(worktreePaths(f, repo), dir) {
		f.tb.Errorf("git worktree list still has %s", dir)
	}
}

// TestScratch is update's flow in a work tree whose own checkout is on
// another branch and dirty: scratch checkout of dev, a changed lock file,
// CommitFiles, dev moved by CAS; the operator's checkout stays as it was.
func TestScratch(t *testing.T) {
	f := newFx(t)
	scratchTmp(t)
	dir, _ := fleetRepo(f)
	dev := f.commit(dir, "flake.lock", "dev lock")
	f.run(dir, "branch", "dev")
	f.run(dir, "checkout", "-q", "-b", "feature", "main~1")
	f.commit(dir, "feature.txt", "feature work")
	// Dirty in every way: a modified tracked file, a staged change, an
	// untracked file.
	if err := os.WriteFile(filepath.Join(dir, "flake.nix"), []byte("edited, not committed\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "staged.txt"), []byte("staged\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	f.run(dir, "add", "staged.txt")
	if err := os.WriteFile(filepath.Join(dir, "untracked.txt"), []byte("untracked\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	// A post-checkout hook must not run for our checkout.
	hook := filepath.Join(dir, ".git", "hooks", "post-checkout")
	marker := filepath.Join(t.TempDir(), "hook-ran")
	if err := os.WriteFile(hook, []byte("#!/bin/sh\ntouch "+marker+"\n"), 0o755); err != nil {
		t.Fatal(err)
	}
	state := func() [4]string {
		return [4]string{
			f.run(dir, "status", "--porcelain"),
			f.run(dir, "rev-parse", "HEAD"),
			f.run(dir, "symbolic-ref", "HEAD"),
			f.run(dir, "ls-files", "-s"),
		}
	}
	before := state()

	r := mustOpen(t, dir)
	sdir, remove, err := r.Scratch(t.Context(), "dev")
	if err != nil {
		t.Fatal(err)
	}
	defer remove()
	if !filepath.IsAbs(sdir) || !strings.Contains(filepath.Base(sdir), "ringflow-scratch-") {
		t.Errorf("scratch dir %q", sdir)
	}
	checkScratch(f, dir, sdir, dev)
	if !slices.Contains(worktreePaths(f, dir), sdir) {
		t.Errorf("git worktree list lacks %s", sdir)
	}
	if _, err := os.Stat(marker); err == nil {
		t.Error("post-checkout hook ran")
	}
	if got := state(); got != before {
		t.Errorf("operator's checkout changed:\n%q\n→\n%q", before, got)
	}

	// What update does in it: nix rewrites the lock; commit just that.
	lock := []byte("{\"updated\":true}\n")
	if err := os.WriteFile(filepath.Join(sdir, "flake.lock"), lock, 0o644); err != nil {
		t.Fatal(err)
	}
	content, err := os.ReadFile(filepath.Join(sdir, "flake.lock"))
	if err != nil {
		t.Fatal(err)
	}
	c, err := r.CommitFiles(dev, map[string][]byte{"flake.lock": content}, "flake.lock: update", ident, time.Unix(1_800_000_000, 0))
	if err != nil {
		t.Fatal(err)
	}
	if err := r.UpdateRefs(t.Context(), []RefUpdate{{Ref: "refs/heads/dev", Old: dev, New: c}}, "ringflow: update"); err != nil {
		t.Fatal(err)
	}
	if got := f.run(dir, "diff", "--name-only", dev, "dev"); got != "flake.lock" {
		t.Errorf("dev changed %q", got)
	}

	// A Repo opened on a linked work tree (ringflow run from one) writes
	// into the shared object store.
	rs := mustOpen(t, sdir)
	c2, err := rs.CommitFiles("dev", map[string][]byte{"hosts/plex/flake.lock": []byte("from the scratch\n")}, "from scratch", ident, time.Unix(1_800_000_060, 0))
	if err != nil {
		t.Fatal(err)
	}
	if got := f.run(dir, "log", "-1", "--format=%s %P", c2); got != "from scratch "+c {
		t.Errorf("main repo reads %q", got)
	}
	if _, err := os.Stat(filepath.Join(dir, ".git", "objects", c2[:2], c2[2:])); err != nil {
		t.Errorf("object not in the shared store: %v", err)
	}
	rs.Close()

	if err := remove(); err != nil {
		t.Fatal(err)
	}
	checkRemoved(f, dir, sdir)
	if err := remove(); err != nil {
		t.Errorf("second remove: %v", err)
	}
	if got := state(); got != before {
		t.Errorf("operator's checkout changed:\n%q\n→\n%q", before, got)
	}
	if _, err := os.Stat(marker); err == nil {
		t.Error("post-checkout hook ran")
	}
	if got, _ := os.ReadFile(filepath.Join(dir, "flake.nix")); string(got) != "edited, not committed\n" {
		t.Errorf("work tree file changed: %q", got)
	}
	fsckClean(f, dir)
}

func TestScratchBare(t *testing.T) {
	f := newFx(t)
	scratchTmp(t)
	src, head := fleetRepo(f)
	bare := filepath.Join(t.TempDir(), "fleet.git")
	f.run(src, "clone", "-q", "--bare", src, bare)
	r := mustOpen(t, bare)
	sdir, remove, err := r.Scratch(t.Context(), head)
	if err != nil {
		t.Fatal(err)
	}
	checkScratch(f, bare, sdir, head)
	// The scratch is a work tree even though the repository is bare.
	if got := f.run(sdir, "rev-parse", "--is-inside-work-tree"); got != "true" {
		t.Errorf("rev-parse --is-inside-work-tree = %s", got)
	}
	if err := remove(); err != nil {
		t.Fatal(err)
	}
	checkRemoved(f, bare, sdir)
	if got := f.run(bare, "rev-parse", "--is-bare-repository"); got != "true" {
		t.Errorf("repository no longer bare: %s", got)
	}
	fsckClean(f, bare)
}

// TestScratchSparse: the scratch has every file even when the operator's
// checkout is sparse (git copies the sparse settings into new work trees).
func TestScratchSparse(t *testing.T) {
	f := newFx(t)
	scratchTmp(t)
	dir, head := fleetRepo(f)
	f.run(dir, "sparse-checkout", "set", "--cone", "bin")
	if _, err := os.Stat(filepath.Join(dir, "hosts")); err == nil {
		t.Fatal("sparse checkout did not apply")
	}
	r := mustOpen(t, dir)
	sdir, remove, err := r.Scratch(t.Context(), head)
	if err != nil {
		t.Fatal(err)
	}
	checkScratch(f, dir, sdir, head)
	if err := remove(); err != nil {
		t.Fatal(err)
	}
	checkRemoved(f, dir, sdir)
}

// TestScratchStale: a process killed while its scratch existed leaves a
// work tree entry behind; once the directory is gone (tmp cleaner) the
// next Scratch works and prunes it. One whose directory is still there
// may be someone's live checkout: it stays and does no harm.
func TestScratchStale(t *testing.T) {
	f := newFx(t)
	scratchTmp(t)
	dir, head := fleetRepo(f)
	r := mustOpen(t, dir)

	gone, _, err := r.Scratch(t.Context(), head)
	if err != nil {
		t.Fatal(err)
	}
	live, removeLive, err := r.Scratch(t.Context(), "main~1")
	if err != nil {
		t.Fatal(err)
	}
	defer removeLive()
	if err := os.RemoveAll(gone); err != nil { // behind git's back
		t.Fatal(err)
	}
	if !strings.Contains(f.run(dir, "worktree", "list", "--porcelain"), "prunable") {
		t.Fatal("no prunable entry to test with")
	}

	sdir, remove, err := r.Scratch(t.Context(), head)
	if err != nil {
		t.Fatal(err)
	}
	checkScratch(f, dir, sdir, head)
	wts := worktreePaths(f, dir)
	if slices.Contains(wts, gone) {
		t.Errorf("stale entry %s not pruned: %v", gone, wts)
	}
	if !slices.Contains(wts, live) {
		t.Errorf("live scratch %s pruned: %v", live, wts)
	}
	checkScratch(f, dir, live, f.run(dir, "rev-parse", "main~1"))
	if err := remove(); err != nil {
		t.Fatal(err)
	}
	checkRemoved(f, dir, sdir)

	// A scratch dir deleted behind git's back, then removed properly.
	sdir, remove, err = r.Scratch(t.Context(), head)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.RemoveAll(sdir); err != nil {
		t.Fatal(err)
	}
	if err := remove(); err != nil {
		t.Fatal(err)
	}
	checkRemoved(f, dir, sdir)
}

// TestScratchRemoveDirty: whatever nix left in the checkout (results,
// edits, new and read-only directories) goes with it, locked or not.
func TestScratchRemoveDirty(t *testing.T) {
	f := newFx(t)
	scratchTmp(t)
	dir, head := fleetRepo(f)
	r := mustOpen(t, dir)
	sdir, remove, err := r.Scratch(t.Context(), head)
	if err != nil {
		t.Fatal(err)
	}
	for p, content := range map[string]string{"flake.lock": "changed", "new/deep/file": "x", "hosts/plex/flake.lock": ""} {
		full := filepath.Join(sdir, p)
		os.MkdirAll(filepath.Dir(full), 0o755)
		if err := os.WriteFile(full, []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	if err := os.Symlink("/nix/store/nonexistent", filepath.Join(sdir, "result")); err != nil {
		t.Fatal(err)
	}
	if err := os.Chmod(filepath.Join(sdir, "new", "deep"), 0o500); err != nil {
		t.Fatal(err)
	}
	f.run(sdir, "worktree", "lock", "--reason", "someone", sdir)
	if err := remove(); err != nil {
		t.Fatal(err)
	}
	checkRemoved(f, dir, sdir)
}

// TestScratchRemoveAfterCancel: remove is deferred and the command's ctx
// was cancelled (^C); remove still cleans up.
func TestScratchRemoveAfterCancel(t *testing.T) {
	f := newFx(t)
	scratchTmp(t)
	dir, head := fleetRepo(f)
	r := mustOpen(t, dir)
	ctx, cancel := context.WithCancel(t.Context())
	sdir, remove, err := r.Scratch(ctx, head)
	if err != nil {
		t.Fatal(err)
	}
	cancel()
	if err := remove(); err != nil {
		t.Fatal(err)
	}
	checkRemoved(f, dir, sdir)

	if _, _, err := r.Scratch(ctx, head); !errors.Is(err, context.Canceled) {
		t.Errorf("Scratch(cancelled) = %v, want context.Canceled", err)
	}
}

// TestScratchFails: when git cannot add the work tree, nothing is left.
func TestScratchFails(t *testing.T) {
	f := newFx(t)
	dir, head := fleetRepo(f)
	r := mustOpen(t, dir)
	tmp := scratchTmp(t)

	if _, _, err := r.Scratch(t.Context(), "nope"); !errors.Is(err, ErrUnknownRevision) {
		t.Errorf("Scratch(nope) = %v, want ErrUnknownRevision", err)
	}
	// A file where git keeps its work tree entries: `worktree add` fails.
	if err := os.WriteFile(filepath.Join(dir, ".git", "worktrees"), nil, 0o644); err != nil {
		t.Fatal(err)
	}
	sdir, remove, err := r.Scratch(t.Context(), head)
	if err == nil {
		remove()
		t.Fatalf("Scratch = %s, want an error", sdir)
	}
	t.Log(err)
	if left, _ := os.ReadDir(tmp); len(left) != 0 {
		t.Errorf("left in TMPDIR: %v", left)
	}
}

func TestScratchConcurrent(t *testing.T) {
	f := newFx(t)
	scratchTmp(t)
	dir, head := fleetRepo(f)
	r := mustOpen(t, dir)
	dirs := make([]string, 4)
	errs := make([]error, 4)
	var wg sync.WaitGroup
	for i := range dirs {
		wg.Go(func() {
			var remove func() error
			dirs[i], remove, errs[i] = r.Scratch(t.Context(), head)
			if errs[i] == nil {
				if _, err := os.Stat(filepath.Join(dirs[i], "hosts/plex/flake.lock")); err != nil {
					errs[i] = err
				}
				errs[i] = errors.Join(errs[i], remove())
			}
		})
	}
	wg.Wait()
	for i := range dirs {
		if errs[i] != nil {
			t.Error(errs[i])
		}
		checkRemoved(f, dir, dirs[i])
	}
	if wts := worktreePaths(f, dir); len(wts) != 1 {
		t.Errorf("worktrees left: %v", wts)
	}
}
