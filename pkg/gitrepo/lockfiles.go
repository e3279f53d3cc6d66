package gitrepo

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"time"
)

const (
	// shortLockAge: a ref lock (refs/…/x.lock, packed-refs.lock, HEAD.lock)
	// that is older than this is stale whatever runs: git holds those for
	// the moment of one ref transaction.
	shortLockAge = time.Minute
	// blindLockAge: where running processes cannot be seen (no /proc), any
	// lock older than this counts as stale.
	blindLockAge = 10 * time.Minute
)

// LockFile is one "*.lock" file git created. git creates them with O_EXCL;
// a killed git leaves them, and every later git that needs one fails with
// "Unable to create '…lock': File exists".
type LockFile struct {
	Path    string
	Short   bool      // a ref lock: git holds it for one ref transaction only
	ModTime time.Time // when it was last written
	info    fs.FileInfo
}

// LockFiles lists the lock files git creates in this repository's common
// directory: at its top, under refs/, in each linked work tree's directory
// and in objects/info. ringflow's own lock files (flock, never stuck) are
// not among them.
func (r *Repo) LockFiles() []LockFile {
	return lockFilesIn(realPath(r.commonDir))
}

// RemoteLockFiles lists the lock files (as LockFiles) of the remote named
// remote when it is a repository on this machine (a path or file:// URL),
// and returns its common directory; ok is false for any other remote.
func (r *Repo) RemoteLockFiles(remote string) (commonDir string, locks []LockFile, ok bool) {
	commonDir, ok = r.localRemoteDir(remote)
	if !ok {
		return "", nil, false
	}
	return commonDir, lockFilesIn(commonDir), true
}

// localRemoteDir returns the common directory (a real path) of the remote
// when it is a repository on this machine.
func (r *Repo) localRemoteDir(remote string) (dir string, ok bool) {
	if remote == "" {
		return "", false
	}
	u, err := r.RemoteURL(remote)
	if err != nil {
		return "", false
	}
	switch {
	case strings.HasPrefix(u, "file://"):
		u = strings.TrimPrefix(u, "file://")
	case strings.Contains(u, "://") || IsSCPLike(u):
		return "", false
	}
	if !filepath.IsAbs(u) {
		u = filepath.Join(r.path, u)
	}
	for _, cand := range []string{u, filepath.Join(u, ".git"), u + ".git"} {
		fi, err := os.Stat(filepath.Join(cand, "refs"))
		if err != nil || !fi.IsDir() {
			continue
		}
		if _, err := os.Stat(filepath.Join(cand, "HEAD")); err == nil {
			return realPath(commonDirOf(cand)), true
		}
	}
	return "", false
}

func lockFilesIn(commonDir string) []LockFile {
	var locks []LockFile
	add := func(p string, short bool) {
		fi, err := os.Lstat(p)
		if err != nil || !fi.Mode().IsRegular() {
			return
		}
		locks = append(locks, LockFile{Path: p, Short: short, ModTime: fi.ModTime(), info: fi})
	}
	top := func(dir string) {
		ents, _ := os.ReadDir(dir)
		for _, e := range ents {
			n := e.Name()
			if e.IsDir() || !strings.HasSuffix(n, ".lock") || strings.HasPrefix(n, "ringflow-") {
				continue
			}
			base := strings.TrimSuffix(n, ".lock")
			short := base == "packed-refs" || base == "shallow" || base == "HEAD" || strings.HasSuffix(base, "_HEAD")
			add(filepath.Join(dir, n), short)
		}
	}
	top(commonDir)
	if ents, err := os.ReadDir(filepath.Join(commonDir, "worktrees")); err == nil {
		for _, e := range ents {
			if e.IsDir() {
				top(filepath.Join(commonDir, "worktrees", e.Name()))
			}
		}
	}
	for _, sub := range []string{"refs", filepath.Join("objects", "info")} {
		_ = filepath.WalkDir(filepath.Join(commonDir, sub), func(p string, d fs.DirEntry, err error) error {
			if err == nil && !d.IsDir() && strings.HasSuffix(p, ".lock") {
				add(p, true)
			}
			return nil
		})
	}
	return locks
}

// Stale decides whether a lock listed before the processes were looked at
// can still be held. procsVisible says whether they could be seen at all,
// gitBusy whether a git process works in the lock's repository. Without
// any git there it cannot: whoever created it is gone. Otherwise a ref
// lock older than shortLockAge is stale, and with no /proc to read any
// lock older than blindLockAge; an index.lock or config.lock while git
// runs there may be a `git commit` waiting for its editor, and stays.
func (l LockFile) Stale(procsVisible, gitBusy bool, now time.Time) bool {
	age := now.Sub(l.ModTime)
	switch {
	case procsVisible && !gitBusy:
		return true
	case l.Short && age > shortLockAge:
		return true
	case !procsVisible && age > blindLockAge:
		return true
	}
	return false
}

// RemoveLockFile deletes a stale lock file LockFiles listed, unless it is
// another one by now: a git took the lock again meanwhile. removed is false
// when it is gone already (its owner finished after all).
func (r *Repo) RemoveLockFile(l LockFile) (removed bool, err error) {
	fi, err := os.Lstat(l.Path)
	if errors.Is(err, fs.ErrNotExist) {
		return false, nil
	}
	if err != nil {
		return false, err
	}
	if l.info == nil || !os.SameFile(fi, l.info) {
		return false, fmt.Errorf("%s was taken again meanwhile; left alone", l.Path)
	}
	if err := os.Remove(l.Path); err != nil {
		return false, err
	}
	return true, nil
}
