package gitrepo

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"time"
)

// scratchPrefix starts the name of every scratch directory and of its
// entry under .git/worktrees, so that stale ones (their process killed)
// can be told from the user's own work trees.
const scratchPrefix = "ringflow-scratch-"

// scratchConfig keeps a scratch checkout plain whatever the repository's
// config says: no hooks (post-checkout runs on `worktree add`), no
// submodule recursion, no sparse checkout that could leave files out.
var scratchConfig = []string{
	"-c", "core.hooksPath=/dev/null",
	"-c", "submodule.recurse=false",
	"-c", "core.sparseCheckout=false",
}

// Scratch checks out commit (any revision ResolveCommit accepts) with a
// detached HEAD into a new temporary directory, a linked work tree of this
// repository (`git worktree add --detach`); bare repositories work the same.
// The repository's own work tree, index and HEAD are not touched, and
// commits made in dir are objects of this repository. The checkout runs
// without the repository's hooks, sparse-checkout patterns (git copies them
// into new work trees) or submodule recursion: dir holds every file of the
// commit's tree, and submodules stay empty directories.
//
// remove deletes dir and the work tree's entry in the repository (`git
// worktree remove --force --force`: also when dirty or locked; should that
// fail, by deleting dir and then the entry). It may be called more than once; it keeps working after ctx
// is done, so it can be deferred.
//
// A scratch work tree left behind by a process that was killed after its
// directory vanished (a tmp cleaner, a reboot) is pruned first; one whose
// directory still exists might belong to a running process and stays.
func (r *Repo) Scratch(ctx context.Context, commit string) (dir string, remove func() error, err error) {
	c, err := r.ResolveCommit(commit)
	if err != nil {
		return "", nil, err
	}
	// Creating and pruning scratch worktrees is serialised across
	// processes: a worktree being added looks prunable for a moment, and
	// git trips over one half written.
	unlock, err := r.LockContext(ctx, "scratch", true)
	if err != nil {
		return "", nil, fmt.Errorf("scratch checkout of %s: %w", commit, err)
	}
	if err := r.pruneScratch(ctx); err != nil {
		unlock()
		return "", nil, fmt.Errorf("scratch checkout of %s: %w", commit, err)
	}
	dir, err = os.MkdirTemp("", scratchPrefix)
	if err != nil {
		unlock()
		return "", nil, fmt.Errorf("scratch checkout of %s: %w", commit, err)
	}
	// git records the real path; keep ours equal to it.
	if real, err := filepath.EvalSymlinks(dir); err == nil {
		dir = real
	}
	var mu sync.Mutex
	removed := false
	remove = func() error {
		mu.Lock()
		defer mu.Unlock()
		if removed {
			return nil
		}
		cctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), time.Minute)
		defer cancel()
		// git drops .git/worktrees with its last entry: not under an add.
		unlock, err := r.LockContext(cctx, "scratch", true)
		if err != nil {
			return fmt.Errorf("remove scratch checkout %s: %w", dir, err)
		}
		defer unlock()
		if err := r.removeScratch(cctx, dir); err != nil {
			return fmt.Errorf("remove scratch checkout %s: %w", dir, err)
		}
		removed = true
		return nil
	}
	// git accepts an existing empty directory as the new work tree.
	args := append(scratchConfig[:len(scratchConfig):len(scratchConfig)], "worktree", "add", "--detach", "--quiet", dir, c)
	err = retryWorktreeRace(func() error {
		_, err := r.run(ctx, gitCmd{args: args})
		if err != nil && worktreeRace(err) {
			// Start the retry from an empty directory again.
			if rerr := removeAllForce(dir); rerr != nil {
				return errors.Join(err, rerr)
			}
			if merr := os.MkdirAll(dir, 0o700); merr != nil {
				return errors.Join(err, merr)
			}
		}
		return err
	})
	unlock() // before remove, which takes the lock itself
	if err != nil {
		rerr := remove()
		return "", nil, errors.Join(fmt.Errorf("scratch checkout of %s: %w", commit, err), rerr)
	}
	return dir, remove, nil
}

// worktreeRace says err is git tripping over another process's worktree
// being added: git reads every worktree's admin files while listing or
// adding one, and one that is being created can be half written ("failed
// to read .git/worktrees/…/commondir"). The race is git's and passes.
func worktreeRace(err error) bool {
	return strings.Contains(err.Error(), "failed to read") && strings.Contains(err.Error(), "worktrees")
}

// retryWorktreeRace runs fn again, a few times with short pauses, while it
// fails by worktreeRace.
func retryWorktreeRace(fn func() error) error {
	for attempt := 1; ; attempt++ {
		err := fn()
		if err == nil || attempt == 6 || !worktreeRace(err) {
			return err
		}
		time.Sleep(time.Duration(attempt*attempt) * 20 * time.Millisecond)
	}
}

// removeScratch removes the linked work tree at dir: files and entry.
func (r *Repo) removeScratch(ctx context.Context, dir string) error {
	_, err := r.run(ctx, gitCmd{args: []string{"worktree", "remove", "--force", "--force", dir}})
	if err == nil {
		if _, serr := os.Lstat(dir); errors.Is(serr, fs.ErrNotExist) {
			return nil
		}
	}
	// git refused (a submodule inside, files it can't delete, a dir it
	// never registered) or left the directory: delete the files ourselves,
	// then the entry, which `worktree remove` drops for a missing directory.
	if err := removeAllForce(dir); err != nil {
		return err
	}
	registered, err := r.scratchRegistered(ctx, dir)
	if err != nil || !registered {
		return err
	}
	if _, err := r.run(ctx, gitCmd{args: []string{"worktree", "remove", "--force", "--force", dir}}); err != nil {
		if _, perr := r.run(ctx, gitCmd{args: []string{"worktree", "prune"}}); perr != nil {
			return errors.Join(err, perr)
		}
	}
	if registered, err = r.scratchRegistered(ctx, dir); err == nil && registered {
		err = fmt.Errorf("git still lists it as a work tree")
	}
	return err
}

// pruneScratch drops the entries of scratch work trees whose directory is
// gone. Other missing work trees (the user's, on an unmounted disk, say)
// are left to git's own pruning.
func (r *Repo) pruneScratch(ctx context.Context) error {
	wts, err := r.allWorktrees(ctx)
	if err != nil {
		return err
	}
	for _, wt := range wts {
		if !strings.HasPrefix(filepath.Base(wt.path), scratchPrefix) {
			continue
		}
		if _, err := os.Lstat(wt.path); !errors.Is(err, fs.ErrNotExist) {
			continue
		}
		if _, err := r.run(ctx, gitCmd{args: []string{"worktree", "remove", "--force", "--force", wt.path}}); err != nil {
			if _, perr := r.run(ctx, gitCmd{args: []string{"worktree", "prune"}}); perr != nil {
				return errors.Join(err, perr)
			}
			return nil
		}
	}
	return nil
}

func (r *Repo) scratchRegistered(ctx context.Context, dir string) (bool, error) {
	wts, err := r.allWorktrees(ctx)
	if err != nil {
		return false, err
	}
	for _, wt := range wts {
		if wt.path == dir {
			return true, nil
		}
	}
	return false, nil
}

// allWorktrees lists the paths of every work tree git knows, prunable ones
// included (worktrees leaves those out).
func (r *Repo) allWorktrees(ctx context.Context) ([]worktree, error) {
	out, err := r.worktreeList(ctx)
	if err != nil {
		return nil, err
	}
	var wts []worktree
	for _, line := range strings.Split(string(out), "\n") {
		if p, ok := strings.CutPrefix(line, "worktree "); ok {
			wts = append(wts, worktree{path: p})
		}
	}
	return wts, nil
}

// removeAllForce is os.RemoveAll that also deletes read-only directories
// (a nix build output copied into the checkout, say).
func removeAllForce(dir string) error {
	err := os.RemoveAll(dir)
	if err == nil {
		return nil
	}
	_ = filepath.WalkDir(dir, func(p string, d fs.DirEntry, werr error) error {
		if werr == nil && d.IsDir() {
			_ = os.Chmod(p, 0o700)
		}
		return nil
	})
	return os.RemoveAll(dir)
}

// lockScratch serialises scratch worktree creation and removal.
func (r *Repo) lockScratch() (unlock func(), err error) { return r.Lock("scratch", true) }
