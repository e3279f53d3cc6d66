package gitrepo

import (
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"time"
)

// What a process killed while it held a scratch checkout (Scratch) leaves
// behind: an entry under <common dir>/worktrees, its checkout, or a
// ringflow-scratch-* directory in $TMPDIR whose entry is gone.

// ScratchEntry is the work tree entry of a scratch checkout.
type ScratchEntry struct {
	Admin string // <common dir>/worktrees/<id>
	Dir   string // the checkout; "" when the entry does not say

	// Unfinished: git never finished writing the entry (the process
	// creating it was killed), or it still says it is initializing.
	Unfinished bool
	// Kept: locked with `git worktree lock`; someone wants it kept.
	Kept bool
	// DirGone: the checkout's directory is gone.
	DirGone bool
	// AdminTime is when the entry last changed; zero when unreadable.
	AdminTime time.Time
}

// RealDir is Dir with symlinks resolved, to compare with what /proc shows.
func (e ScratchEntry) RealDir() string { return realPath(e.Dir) }

// ScratchEntries lists the entries of ringflow scratch checkouts under the
// common directory's worktrees/; the operator's own work trees are not
// among them. What they say is read at once: for a consistent view, hold
// the scratch lock (Lock("scratch", …)) that creating and removing a
// checkout takes.
func (r *Repo) ScratchEntries() []ScratchEntry {
	root := filepath.Join(realPath(r.commonDir), "worktrees")
	ents, err := os.ReadDir(root)
	if err != nil {
		return nil
	}
	var out []ScratchEntry
	for _, e := range ents {
		if !e.IsDir() {
			continue
		}
		admin := filepath.Join(root, e.Name())
		se := ScratchEntry{Admin: admin}
		if gd, err := os.ReadFile(filepath.Join(admin, "gitdir")); err == nil && strings.TrimSpace(string(gd)) != "" {
			se.Dir = filepath.Dir(filepath.Clean(strings.TrimSpace(string(gd))))
		}
		switch {
		case se.Dir != "" && strings.HasPrefix(filepath.Base(se.Dir), scratchPrefix):
		case se.Dir == "" && strings.HasPrefix(e.Name(), scratchPrefix):
		default:
			continue
		}
		if fi, err := os.Stat(se.Admin); err == nil {
			se.AdminTime = fi.ModTime()
		}
		_, derr := os.Lstat(se.Dir)
		se.DirGone = errors.Is(derr, fs.ErrNotExist)
		head, herr := os.ReadFile(filepath.Join(se.Admin, "HEAD"))
		// `git worktree add` writes the entry's files one by one — locked
		// ("initializing", until it is done), gitdir, HEAD (first the null
		// object) — and creation runs under the scratch lock: an entry
		// without them, or still initializing, lost its git.
		locked, lerr := os.ReadFile(filepath.Join(se.Admin, "locked"))
		initializing := lerr == nil && strings.TrimSpace(string(locked)) == "initializing"
		unfinished := se.Dir == "" || herr != nil || strings.Trim(strings.TrimSpace(string(head)), "0") == ""
		se.Unfinished = unfinished || initializing
		se.Kept = lerr == nil && !se.Unfinished
		out = append(out, se)
	}
	return out
}

// ScratchDir is a ringflow-scratch-* directory in $TMPDIR that no work
// tree entry names.
type ScratchDir struct {
	Path string // a real path
	// Empty: nothing in it (a process killed between making the directory
	// and `git worktree add`). Otherwise it is a checkout of this
	// repository whose entry is gone.
	Empty   bool
	ModTime time.Time // of an empty one
}

// OrphanScratchDirs lists the directories in $TMPDIR named like scratch
// checkouts whose entry is gone: this repository's by their .git file, or
// empty. Those of entries (ScratchEntries) are not among them, nor are
// other repositories' checkouts.
func (r *Repo) OrphanScratchDirs(entries []ScratchEntry) []ScratchDir {
	worktrees := filepath.Join(realPath(r.commonDir), "worktrees")
	known := map[string]bool{}
	for _, se := range entries {
		if se.Dir != "" {
			known[se.RealDir()] = true
		}
	}
	var out []ScratchDir
	tmp := os.TempDir()
	ents, _ := os.ReadDir(tmp)
	for _, e := range ents {
		if !e.IsDir() || !strings.HasPrefix(e.Name(), scratchPrefix) {
			continue
		}
		dir := realPath(filepath.Join(tmp, e.Name()))
		if known[dir] {
			continue
		}
		if gd, err := readGitFile(filepath.Join(dir, ".git")); err == nil {
			gd = realPath(gd)
			if !within(gd, worktrees) {
				continue // another repository's
			}
			if _, err := os.Stat(gd); err == nil {
				continue
			}
			out = append(out, ScratchDir{Path: dir})
			continue
		}
		sub, err := os.ReadDir(dir)
		fi, ferr := os.Stat(dir)
		if err != nil || ferr != nil || len(sub) > 0 {
			continue
		}
		out = append(out, ScratchDir{Path: dir, Empty: true, ModTime: fi.ModTime()})
	}
	return out
}

// RemoveScratchEntry deletes a stale scratch checkout and its work tree
// entry, under the scratch lock (waiting for it).
func (r *Repo) RemoveScratchEntry(se ScratchEntry) error {
	unlock, err := r.lockScratch()
	if err != nil {
		return err
	}
	defer unlock()
	if se.Dir != "" && strings.HasPrefix(filepath.Base(se.Dir), scratchPrefix) {
		if err := removeAllForce(se.Dir); err != nil {
			return err
		}
	}
	return os.RemoveAll(se.Admin)
}

// RemoveScratchDir deletes a directory OrphanScratchDirs found: a checkout
// whole, an empty one only while it is still empty (rmdir). removed is
// false, without an error, for an empty one that is gone or no longer
// empty: someone's checkout after all.
func (r *Repo) RemoveScratchDir(d ScratchDir) (removed bool, err error) {
	if d.Empty {
		return os.Remove(d.Path) == nil, nil
	}
	if err := removeAllForce(d.Path); err != nil {
		return false, err
	}
	return true, nil
}
