package gitrepo

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"regexp"
	"strings"
)

const zeroHex = "0000000000000000000000000000000000000000"

// UpdateRefs applies every update in one `git update-ref --stdin`
// transaction: git locks all refs, checks every old value, and then moves
// them all or none. A stale old value yields *RefConflictError naming the ref
// and changes nothing. Branches checked out in a work tree are refused: moving
// them would leave their files behind; use AdvanceBranch.
func (r *Repo) UpdateRefs(ctx context.Context, updates []RefUpdate, reflogMsg string) error {
	if len(updates) == 0 {
		return nil
	}
	for _, u := range updates {
		if err := checkUpdate(u); err != nil {
			return err
		}
	}
	wts, err := r.worktrees(ctx)
	if err != nil {
		return fmt.Errorf("update refs: %w", err)
	}
	for _, u := range updates {
		if wt := checkedOutIn(wts, u.Ref); wt != nil {
			return fmt.Errorf("ref %s is checked out in %s; it must move with its work tree", u.Ref, wt.path)
		}
	}
	return r.updateRefs(ctx, updates, reflogMsg)
}

func checkUpdate(u RefUpdate) error {
	if !strings.HasPrefix(u.Ref, "refs/") || strings.ContainsAny(u.Ref, " \x00\n") {
		return fmt.Errorf("ref %q: not a full ref name", u.Ref)
	}
	for _, v := range []string{u.Old, u.New} {
		if v != "" && (len(v) != 40 || !isHex(v)) {
			return fmt.Errorf("ref %s: %q is not a 40-hex commit ID", u.Ref, v)
		}
	}
	return nil
}

func (r *Repo) updateRefs(ctx context.Context, updates []RefUpdate, reflogMsg string) error {
	var in bytes.Buffer
	// -z format: "update SP ref NUL new NUL old NUL"; an all-zero old value
	// means "must not exist", an all-zero new value deletes.
	in.WriteString("start\x00")
	for _, u := range updates {
		old, nw := u.Old, u.New
		if old == "" {
			old = zeroHex
		}
		if nw == "" {
			nw = zeroHex
		}
		fmt.Fprintf(&in, "update %s\x00%s\x00%s\x00", u.Ref, nw, old)
	}
	in.WriteString("prepare\x00commit\x00")
	args := []string{"update-ref", "--stdin", "-z"}
	if reflogMsg != "" {
		args = append(args, "-m", reflogMsg)
	}
	_, err := r.run(ctx, gitCmd{args: args, stdin: in.Bytes()})
	if err == nil {
		return nil
	}
	if ctx != nil && ctx.Err() != nil {
		return fmt.Errorf("update refs: %w", err)
	}
	// Find which ref was stale by reading the refs again, preferring the one
	// git's message names.
	named := ""
	var ce *cmdError
	if errors.As(err, &ce) {
		if m := regexp.MustCompile(`cannot lock ref '([^']+)'`).FindStringSubmatch(ce.stderr); m != nil {
			named = m[1]
		}
	}
	var conflicts []*RefConflictError
	for _, u := range updates {
		actual, _, rerr := r.Ref(u.Ref)
		if rerr != nil {
			continue
		}
		if actual != u.Old {
			c := &RefConflictError{Ref: u.Ref, Expected: u.Old, Actual: actual}
			if u.Ref == named {
				return c
			}
			conflicts = append(conflicts, c)
		}
	}
	if len(conflicts) > 0 {
		return conflicts[0]
	}
	return fmt.Errorf("update refs %s: %w", refList(updates), err)
}

func refList(updates []RefUpdate) string {
	names := make([]string, len(updates))
	for i, u := range updates {
		names[i] = u.Ref
	}
	return strings.Join(names, ", ")
}

// WorktreeClean reports whether the work tree has no uncommitted changes to
// tracked files (`git status --porcelain --untracked-files=no` is empty).
// Untracked files don't count: a fast-forward that would overwrite one is
// refused by git itself.
func (r *Repo) WorktreeClean(ctx context.Context) (bool, error) {
	if r.bare {
		return false, fmt.Errorf("%s: %w", r.path, ErrNoWorkTree)
	}
	return r.worktreeClean(ctx, r.path)
}

func (r *Repo) worktreeClean(ctx context.Context, dir string) (bool, error) {
	// --no-optional-locks: don't take index.lock just to refresh stat data,
	// which could make a user's concurrent git command fail.
	out, err := r.run(ctx, gitCmd{dir: dir, args: []string{"--no-optional-locks", "status", "--porcelain", "--untracked-files=no"}})
	if err != nil {
		return false, fmt.Errorf("status of %s: %w", dir, err)
	}
	return len(bytes.TrimSpace(out)) == 0, nil
}

// AdvanceBranch moves refs/heads/<branch> from old to new (old "" = create)
// by compare-and-swap. A branch checked out in a work tree (this one or a
// linked one) moves together with its files by `git merge --ff-only`, and
// only when that work tree is clean; otherwise branch and files stay, and
// the result says Skipped. A checked-out branch never ends up ahead of its
// work tree.
func (r *Repo) AdvanceBranch(ctx context.Context, branch, old, new string) (Advance, error) {
	ref := "refs/heads/" + strings.TrimPrefix(branch, "refs/heads/")
	if err := checkUpdate(RefUpdate{Ref: ref, Old: old, New: new}); err != nil {
		return Advance{}, err
	}
	if new == "" {
		return Advance{}, fmt.Errorf("advance branch %s: no new commit", branch)
	}
	msg := "ringflow: advance " + strings.TrimPrefix(ref, "refs/heads/")
	wts, err := r.worktrees(ctx)
	if err != nil {
		return Advance{}, fmt.Errorf("advance branch %s: %w", branch, err)
	}
	wt := checkedOutIn(wts, ref)
	if wt == nil {
		if err := r.updateRefs(ctx, []RefUpdate{{Ref: ref, Old: old, New: new}}, msg); err != nil {
			return Advance{}, err
		}
		return Advance{Moved: old != new}, nil
	}

	if wt.head != old {
		return Advance{}, &RefConflictError{Ref: ref, Expected: old, Actual: wt.head}
	}
	if old == new {
		return Advance{}, nil
	}
	where := "work tree"
	if !samePath(wt.path, r.path) {
		where = "work tree " + wt.path
	}
	clean, err := r.worktreeClean(ctx, wt.path)
	if err != nil {
		return Advance{}, err
	}
	if !clean {
		return Advance{Skipped: true, Reason: where + " has uncommitted changes"}, nil
	}
	// merge --ff-only moves HEAD with git's own compare-and-swap against the
	// HEAD it read, after updating index and files under the index lock. Had
	// the branch moved since our check, git still only fast-forwards, so no
	// commit is lost.
	_, stderr, err := r.runFull(ctx, gitCmd{
		dir:  wt.path,
		args: []string{"merge", "--ff-only", "--no-autostash", "--quiet", "--no-stat", new},
		env:  []string{"GIT_REFLOG_ACTION=" + msg},
	})
	now, _, rerr := r.Ref(ref)
	r.invalidate()
	if err != nil {
		if rerr == nil && now == old && bytes.Contains(stderr, []byte("would be overwritten")) {
			return Advance{Skipped: true, Reason: where + " has untracked files the new commit would overwrite"}, nil
		}
		return Advance{}, fmt.Errorf("advance branch %s in %s: %w", branch, wt.path, err)
	}
	if rerr != nil {
		return Advance{}, fmt.Errorf("advance branch %s: %w", branch, rerr)
	}
	if now != new {
		return Advance{}, &RefConflictError{Ref: ref, Expected: new, Actual: now}
	}
	return Advance{Moved: true}, nil
}

type worktree struct {
	path   string
	head   string // "" for an unborn branch
	branch string // full ref, "" when detached or bare
}

// worktrees lists the main and linked work trees (`git worktree list`), so
// that a branch checked out anywhere moves only with its files. Work trees
// whose directory is gone (prunable) are left out.
func (r *Repo) worktrees(ctx context.Context) ([]worktree, error) {
	out, err := r.worktreeList(ctx)
	if err != nil {
		return nil, err
	}
	var wts []worktree
	for _, block := range strings.Split(string(out), "\n\n") {
		var wt worktree
		skip := false
		for _, line := range strings.Split(block, "\n") {
			k, v, _ := strings.Cut(line, " ")
			switch k {
			case "worktree":
				wt.path = v
			case "HEAD":
				if v != zeroHex {
					wt.head = v
				}
			case "branch":
				wt.branch = v
			case "bare", "prunable":
				skip = true
			}
		}
		if wt.path != "" && !skip {
			wts = append(wts, wt)
		}
	}
	return wts, nil
}

func checkedOutIn(wts []worktree, ref string) *worktree {
	for i := range wts {
		if wts[i].branch == ref {
			return &wts[i]
		}
	}
	return nil
}

// samePath compares directories by identity: git reports work trees by
// their real path, which may differ from ours by symlinks.
func samePath(a, b string) bool {
	fa, err := os.Stat(a)
	if err != nil {
		return a == b
	}
	fb, err := os.Stat(b)
	if err != nil {
		return a == b
	}
	return os.SameFile(fa, fb)
}

// worktreeList runs `git worktree list --porcelain`, riding out git's
// race with a worktree being added elsewhere.
func (r *Repo) worktreeList(ctx context.Context) (out []byte, err error) {
	err = retryWorktreeRace(func() error {
		out, err = r.run(ctx, gitCmd{args: []string{"worktree", "list", "--porcelain"}})
		return err
	})
	return out, err
}
