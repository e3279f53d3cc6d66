package fleet

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"io/fs"
	"maps"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/ringflow/ringflow/pkg/evidence"
	"github.com/ringflow/ringflow/pkg/gitrepo"
	"github.com/ringflow/ringflow/pkg/ring"
)

// What a killed ringflow (or a killed git under it) can leave behind, and
// how `check` finds it and `check --repair` clears it. Everything here works
// on git's files as git lays them out and changes them the way git does: a
// ref file is replaced by creating its "<ref>.lock" with O_EXCL, writing it
// and renaming it over the ref, so that no git running at the same time can
// see half a ref or lose an update.

// scratchPrefix starts the name of every scratch checkout ringflow makes
// (gitrepo.Scratch) and of its entry under .git/worktrees.
const scratchPrefix = "ringflow-scratch-"

const (
	// shortLockAge: a ref lock (refs/…/x.lock, packed-refs.lock, HEAD.lock)
	// that is older than this is stale whatever runs: git holds those for
	// the moment of one ref transaction.
	shortLockAge = time.Minute
	// blindLockAge: where running processes cannot be seen (no /proc), any
	// lock older than this counts as stale.
	blindLockAge = 10 * time.Minute
	// scratchAge: a scratch checkout older than this is stale even while
	// some ringflow runs (an update holds its checkout for seconds).
	scratchAge = 24 * time.Hour
	// emptyScratchAge: an empty ringflow-scratch-* directory in $TMPDIR
	// (a process killed between creating it and `git worktree add`) older
	// than this is a problem; --repair removes empty ones of any age.
	emptyScratchAge = 10 * time.Minute
)

// hygiene is one thing found: a problem to list, and the fix when one is safe.
type hygiene struct {
	problem string
	fix     func(ctx context.Context) (string, error) // nil: needs a person
}

// gitDirs returns the repository's git directory and its common directory
// (refs, objects, worktrees), as git finds them.
func gitDirs(repoPath string, bare bool) (gitDir, commonDir string, err error) {
	if bare {
		gitDir = repoPath
	} else {
		dotGit := filepath.Join(repoPath, ".git")
		fi, err := os.Stat(dotGit)
		if err != nil {
			return "", "", err
		}
		gitDir = dotGit
		if !fi.IsDir() {
			if gitDir, err = readGitFile(dotGit); err != nil {
				return "", "", err
			}
		}
	}
	commonDir = gitDir
	if b, err := os.ReadFile(filepath.Join(gitDir, "commondir")); err == nil {
		if cd := strings.TrimSpace(string(b)); cd != "" {
			if !filepath.IsAbs(cd) {
				cd = filepath.Join(gitDir, cd)
			}
			commonDir = filepath.Clean(cd)
		}
	}
	return gitDir, commonDir, nil
}

// readGitFile reads a ".git" file ("gitdir: <path>") and returns the path.
func readGitFile(path string) (string, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return "", err
	}
	line, _, _ := strings.Cut(string(b), "\n")
	gd, ok := strings.CutPrefix(strings.TrimSpace(line), "gitdir: ")
	if !ok || strings.TrimSpace(gd) == "" {
		return "", fmt.Errorf("%s: no gitdir line", path)
	}
	gd = strings.TrimSpace(gd)
	if !filepath.IsAbs(gd) {
		gd = filepath.Join(filepath.Dir(path), gd)
	}
	return filepath.Clean(gd), nil
}

// realPath resolves symlinks where it can, so paths compare with what
// /proc and git report.
func realPath(p string) string {
	if r, err := filepath.EvalSymlinks(p); err == nil {
		return r
	}
	return filepath.Clean(p)
}

// within says whether p is dir or lies inside it.
func within(p, dir string) bool {
	return p == dir || strings.HasPrefix(p, strings.TrimSuffix(dir, string(filepath.Separator))+string(filepath.Separator))
}

// ---- processes ----

// proc is one running process, as far as /proc shows it.
type proc struct {
	pid      int
	comm     string
	cwd      string   // "" when unreadable
	args     []string // command line
	env      []string // GIT_* and RINGFLOW_* variables
	fds      []string // open files; read for ringflow processes only
	readable bool     // cwd and command line could be read
}

// procTable is every process at one moment; ok is false where /proc is not
// there to read (not Linux) and nothing can be said about processes.
type procTable struct {
	ok    bool
	procs []proc
	mine  map[int]bool // this process and those that started it
}

func scanProcs() procTable {
	ents, err := os.ReadDir("/proc")
	if err != nil {
		return procTable{}
	}
	if _, err := os.Stat("/proc/self/cwd"); err != nil {
		return procTable{}
	}
	t := procTable{ok: true, mine: ancestry()}
	for _, e := range ents {
		pid, err := strconv.Atoi(e.Name())
		if err != nil || t.mine[pid] {
			continue
		}
		dir := filepath.Join("/proc", e.Name())
		comm, err := os.ReadFile(filepath.Join(dir, "comm"))
		if err != nil {
			continue // gone already
		}
		p := proc{pid: pid, comm: strings.TrimSpace(string(comm)), readable: true}
		if p.cwd, err = os.Readlink(filepath.Join(dir, "cwd")); err != nil {
			if !errors.Is(err, fs.ErrPermission) {
				continue // exited (a zombie has no working directory)
			}
			p.readable = false
		}
		if b, err := os.ReadFile(filepath.Join(dir, "cmdline")); err == nil {
			p.args = strings.Split(strings.TrimRight(string(b), "\x00"), "\x00")
		} else if errors.Is(err, fs.ErrPermission) {
			p.readable = false
		} else {
			continue
		}
		if b, err := os.ReadFile(filepath.Join(dir, "environ")); err == nil {
			for _, kv := range strings.Split(string(b), "\x00") {
				if strings.HasPrefix(kv, "GIT_") || strings.HasPrefix(kv, "RINGFLOW_") {
					p.env = append(p.env, kv)
				}
			}
		}
		if p.ringflow() {
			fds, _ := os.ReadDir(filepath.Join(dir, "fd"))
			for _, fd := range fds {
				if l, err := os.Readlink(filepath.Join(dir, "fd", fd.Name())); err == nil {
					p.fds = append(p.fds, l)
				}
			}
		}
		if _, err := os.Stat(dir); err != nil {
			continue // exited while being read: it holds nothing
		}
		t.procs = append(t.procs, p)
	}
	return t
}

func (p proc) git() bool      { return strings.HasPrefix(p.comm, "git") }
func (p proc) ringflow() bool { return strings.Contains(p.comm, "ringflow") }

// ancestry is this process and every process above it.
func ancestry() map[int]bool {
	mine := map[int]bool{}
	for pid := os.Getpid(); pid > 1 && !mine[pid]; {
		mine[pid] = true
		b, err := os.ReadFile(filepath.Join("/proc", strconv.Itoa(pid), "stat"))
		if err != nil {
			break
		}
		// pid (comm) state ppid …; comm may hold spaces and parentheses.
		s := string(b)
		i := strings.LastIndexByte(s, ')')
		if i < 0 {
			break
		}
		f := strings.Fields(s[i+1:])
		if len(f) < 2 {
			break
		}
		if pid, err = strconv.Atoi(f[1]); err != nil {
			break
		}
	}
	return mine
}

// mentions says whether p works in one of dirs: its working directory, an
// argument, a GIT_* or RINGFLOW_* variable or an open file lies there.
func (p proc) mentions(dirs []string) bool {
	for _, d := range dirs {
		if p.cwd != "" && within(p.cwd, d) {
			return true
		}
		for _, a := range p.args {
			if strings.Contains(a, d) {
				return true
			}
		}
		for _, kv := range p.env {
			if strings.Contains(kv, d) {
				return true
			}
		}
		for _, f := range p.fds {
			if within(f, d) {
				return true
			}
		}
	}
	return false
}

// gitIn says whether a git process may be working in one of dirs. One that
// cannot be looked into counts as working there; so does everything when
// processes cannot be seen at all.
func (t procTable) gitIn(dirs []string) bool {
	if !t.ok {
		return true
	}
	for _, p := range t.procs {
		if p.git() && (!p.readable || p.mentions(dirs)) {
			return true
		}
	}
	return false
}

// ringflowIn says whether another ringflow process may be working in one
// of dirs (by its working directory, arguments, environment or open
// files), and usedBy whether any process at all is.
func (t procTable) ringflowIn(dirs []string) bool {
	if !t.ok {
		return true
	}
	for _, p := range t.procs {
		if p.ringflow() && (!p.readable || p.mentions(dirs)) {
			return true
		}
	}
	return false
}

func (t procTable) usedBy(dirs []string) bool {
	if !t.ok {
		return true
	}
	for _, p := range t.procs {
		if p.mentions(dirs) {
			return true
		}
	}
	return false
}

// flocked says whether some process holds an flock on path, by
// /proc/locks; unknown counts as yes.
func flocked(path string) bool {
	fi, err := os.Stat(path)
	if errors.Is(err, fs.ErrNotExist) {
		return false
	}
	st, ok := fi.Sys().(*syscall.Stat_t)
	b, rerr := os.ReadFile("/proc/locks")
	if err != nil || !ok || rerr != nil {
		return true
	}
	dev := uint64(st.Dev)
	// "1: FLOCK  ADVISORY  WRITE 923 fe:00:9558685 0 EOF": major:minor:inode.
	want := fmt.Sprintf(":%d", st.Ino)
	for _, line := range strings.Split(string(b), "\n") {
		f := strings.Fields(line)
		if len(f) < 6 || f[1] != "FLOCK" || !strings.HasSuffix(f[5], want) {
			continue
		}
		parts := strings.Split(f[5], ":")
		if len(parts) != 3 {
			continue
		}
		maj, err1 := strconv.ParseUint(parts[0], 16, 32)
		min, err2 := strconv.ParseUint(parts[1], 16, 32)
		if err1 != nil || err2 != nil || parts[2] != strconv.FormatUint(st.Ino, 10) {
			continue
		}
		if unixMkdev(maj, min) == dev {
			return true
		}
	}
	return false
}

// unixMkdev packs a device number as Linux's makedev does.
func unixMkdev(major, minor uint64) uint64 {
	return (major&0x00000fff)<<8 | (major&0xfffff000)<<32 | (minor&0x000000ff)<<0 | (minor&0xffffff00)<<12
}

// ---- lock files ----

// lockFile is one "*.lock" git left, found before the process scan.
type lockFile struct {
	path  string
	short bool // a ref lock: git holds it for one ref transaction only
	info  fs.FileInfo
	where string // "" for this repository, else "remote <name>"
}

// gitLocks lists the lock files git creates (with O_EXCL; a killed git
// leaves them, and every later git that needs them fails with "Unable to
// create '…lock': File exists") in the common directory commonDir: at its
// top, under refs/, in each linked work tree's directory and in
// objects/info. ringflow's own lock files (flock, never stuck) are not
// among them.
func gitLocks(commonDir, where string) []lockFile {
	var locks []lockFile
	add := func(p string, short bool) {
		fi, err := os.Lstat(p)
		if err != nil || !fi.Mode().IsRegular() {
			return
		}
		locks = append(locks, lockFile{path: p, short: short, info: fi, where: where})
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

// stale decides whether a lock listed before procs was taken can still be
// held. Without any git process working in the repository (by /proc) it
// cannot: whoever created it is gone. Otherwise a ref lock older than
// shortLockAge is stale, and with no /proc to read any lock older than
// blindLockAge; an index.lock or config.lock while git runs there may be
// a `git commit` waiting for its editor, and stays.
func (l lockFile) stale(t procTable, busy bool, now time.Time) bool {
	age := now.Sub(l.info.ModTime())
	switch {
	case t.ok && !busy:
		return true
	case l.short && age > shortLockAge:
		return true
	case !t.ok && age > blindLockAge:
		return true
	}
	return false
}

// ---- scratch work trees ----

type scratchEntry struct {
	admin string // .git/worktrees/<id>
	dir   string // the checkout; "" when the entry does not say
}

// scratchEntries lists the entries of ringflow scratch checkouts under
// commonDir/worktrees; the operator's own work trees are not among them.
func scratchEntries(commonDir string) []scratchEntry {
	root := filepath.Join(commonDir, "worktrees")
	ents, err := os.ReadDir(root)
	if err != nil {
		return nil
	}
	var out []scratchEntry
	for _, e := range ents {
		if !e.IsDir() {
			continue
		}
		admin := filepath.Join(root, e.Name())
		se := scratchEntry{admin: admin}
		if gd, err := os.ReadFile(filepath.Join(admin, "gitdir")); err == nil && strings.TrimSpace(string(gd)) != "" {
			se.dir = filepath.Dir(filepath.Clean(strings.TrimSpace(string(gd))))
		}
		switch {
		case se.dir != "" && strings.HasPrefix(filepath.Base(se.dir), scratchPrefix):
		case se.dir == "" && strings.HasPrefix(e.Name(), scratchPrefix):
		default:
			continue
		}
		out = append(out, se)
	}
	return out
}

// removeAllForce deletes dir, read-only subdirectories (a nix output
// copied into a checkout) included.
func removeAllForce(dir string) error {
	if err := os.RemoveAll(dir); err == nil {
		return nil
	}
	_ = filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err == nil && d.IsDir() {
			_ = os.Chmod(p, 0o700)
		}
		return nil
	})
	return os.RemoveAll(dir)
}

// ---- ref files ----

var (
	hexRefRE = regexp.MustCompile(`^[0-9a-f]{40}\n?$`)
	symRefRE = regexp.MustCompile(`^ref: refs/[^\s]+\n?$`)
)

// brokenRef is a loose ref file that git and go-git cannot read.
type brokenRef struct {
	name    string // refs/…
	path    string
	content []byte
}

func (b brokenRef) what() string {
	if len(b.content) == 0 {
		return "empty"
	}
	return fmt.Sprintf("corrupt (%d bytes: %q)", len(b.content), clip(string(b.content), 64))
}

func clip(s string, n int) string {
	if len(s) > n {
		return s[:n] + "…"
	}
	return s
}

// inScope says whether ref is one of ringflow's: its own refs, the
// evidence notes, dev and the group branches, and the remote's tracking
// refs.
func (f *Fleet) inScope(ref string) bool {
	switch {
	case strings.HasPrefix(ref, "refs/ringflow/"), strings.HasPrefix(ref, "refs/notes/ringflow/"):
		return true
	case f.Config.Remote != "" && strings.HasPrefix(ref, "refs/remotes/"+f.Config.Remote+"/"):
		return true
	}
	b, ok := strings.CutPrefix(ref, "refs/heads/")
	return ok && slices.Contains(f.Branches(), b)
}

// tracking says whether ref is a copy of the remote's that a fetch rewrites.
func (f *Fleet) tracking(ref string) bool {
	r := f.Config.Remote
	return r != "" && (strings.HasPrefix(ref, "refs/remotes/"+r+"/") || strings.HasPrefix(ref, "refs/ringflow/remotes/"+r+"/"))
}

// brokenRefs walks commonDir/refs for loose ref files that hold neither a
// 40-hex object name nor "ref: …".
func (f *Fleet) brokenRefs(commonDir string) []brokenRef {
	var out []brokenRef
	root := filepath.Join(commonDir, "refs")
	_ = filepath.WalkDir(root, func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() || strings.HasSuffix(p, ".lock") || !d.Type().IsRegular() {
			return nil
		}
		rel, err := filepath.Rel(commonDir, p)
		if err != nil {
			return nil
		}
		name := filepath.ToSlash(rel)
		b, err := os.ReadFile(p)
		if err != nil || hexRefRE.Match(b) || symRefRE.Match(b) {
			return nil
		}
		out = append(out, brokenRef{name: name, path: p, content: b})
		return nil
	})
	return out
}

// replaceRef swaps the ref file at path for value ("" = delete it), but
// only while it still holds was, under git's own lock: "<path>.lock"
// created with O_EXCL, written, synced and renamed over the ref.
func replaceRef(path string, was []byte, value string) error {
	lock := path + ".lock"
	lf, err := os.OpenFile(lock, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o644)
	if err != nil {
		return fmt.Errorf("lock %s: %w", lock, err)
	}
	done := false
	defer func() {
		if !done {
			lf.Close()
			os.Remove(lock)
		}
	}()
	cur, err := os.ReadFile(path)
	if err != nil && !errors.Is(err, fs.ErrNotExist) {
		return err
	}
	if !bytes.Equal(cur, was) {
		return fmt.Errorf("%s changed meanwhile; left alone", path)
	}
	if value == "" {
		if err := os.Remove(path); err != nil && !errors.Is(err, fs.ErrNotExist) {
			return err
		}
		return nil
	}
	if _, err := lf.WriteString(value + "\n"); err != nil {
		return err
	}
	if err := lf.Sync(); err != nil {
		return err
	}
	if err := lf.Close(); err != nil {
		return err
	}
	if err := os.Rename(lock, path); err != nil {
		return err
	}
	done = true
	if d, err := os.Open(filepath.Dir(path)); err == nil {
		d.Sync()
		d.Close()
	}
	return nil
}

// lastReflogValue returns the newest value the reflog of ref recorded,
// when that is a commit of the repository: a hint for a person restoring
// it by hand.
func (f *Fleet) lastReflogValue(commonDir, ref string) string {
	b, err := os.ReadFile(filepath.Join(commonDir, "logs", filepath.FromSlash(ref)))
	if err != nil {
		return ""
	}
	var last string
	sc := bufio.NewScanner(bytes.NewReader(b))
	sc.Buffer(make([]byte, 64*1024), 1<<20)
	for sc.Scan() {
		if fields := strings.Fields(sc.Text()); len(fields) >= 2 && len(fields[1]) == 40 {
			last = fields[1]
		}
	}
	if last == "" || strings.Trim(last, "0") == "" {
		return ""
	}
	if _, err := f.Repo.Commit(last); err != nil {
		return ""
	}
	return last
}

// localRemoteDir returns the common directory of the remote when it is a
// repository on this machine (a path or file:// URL), so its lock files
// can be looked at too.
func (f *Fleet) localRemoteDir() (dir string, ok bool) {
	if f.Config.Remote == "" {
		return "", false
	}
	u, err := f.Repo.RemoteURL(f.Config.Remote)
	if err != nil {
		return "", false
	}
	switch {
	case strings.HasPrefix(u, "file://"):
		u = strings.TrimPrefix(u, "file://")
	case strings.Contains(u, "://") || gitrepo.IsSCPLike(u):
		return "", false
	}
	if !filepath.IsAbs(u) {
		u = filepath.Join(f.Repo.Path(), u)
	}
	for _, cand := range []string{u, filepath.Join(u, ".git"), u + ".git"} {
		fi, err := os.Stat(filepath.Join(cand, "refs"))
		if err != nil || !fi.IsDir() {
			continue
		}
		if _, err := os.Stat(filepath.Join(cand, "HEAD")); err == nil {
			_, common, err := gitDirs(cand, true)
			if err != nil {
				return "", false
			}
			return realPath(common), true
		}
	}
	return "", false
}

// ---- the checks ----

// preSync finds what would stop git or ringflow from working at all — lock
// files a killed git left, stale scratch checkouts, unreadable ref files —
// before anything fetches. With a remote, the fix of an unreadable ref of
// ringflow's deletes it so that the fetch can run (git's fetch stops at
// any ref it cannot read); tracking refs are then written afresh by the
// fetch, and the others are added to *restore, for afterSync to restore
// from the remote's copies.
func (f *Fleet) preSync(restore *[]brokenRef) (items []hygiene, err error) {
	gitDir, commonDir, err := gitDirs(f.Repo.Path(), f.Repo.IsBare())
	if err != nil {
		return nil, err
	}
	commonDir = realPath(commonDir)
	repoDirs := []string{realPath(f.Repo.Path()), commonDir, realPath(gitDir)}
	for _, se := range scratchEntries(commonDir) {
		if se.dir != "" {
			repoDirs = append(repoDirs, realPath(se.dir))
		}
	}

	// Lock files: listed first, then the processes looked at, so that a
	// lock listed was there before the scan (see lockFile.stale).
	locks := gitLocks(commonDir, "")
	remoteDir, localRemote := f.localRemoteDir()
	if localRemote {
		locks = append(locks, gitLocks(remoteDir, "remote "+f.Config.Remote)...)
	}
	procs := scanProcs()
	now := time.Now()
	busyHere := procs.gitIn(repoDirs)
	busyRemote := localRemote && procs.gitIn([]string{remoteDir})
	for _, l := range locks {
		busy := busyHere
		if l.where != "" {
			busy = busyRemote
		}
		if !l.stale(procs, busy, now) {
			continue
		}
		l := l
		where := ""
		if l.where != "" {
			where = " of " + l.where
		}
		items = append(items, hygiene{
			problem: fmt.Sprintf("stale lock file %s%s, left by a git that was killed (%s old): git refuses to work on what it locks until it is removed (ringflow check --repair)",
				l.path, where, now.Sub(l.info.ModTime()).Round(time.Second)),
			fix: func(context.Context) (string, error) {
				fi, err := os.Lstat(l.path)
				if errors.Is(err, fs.ErrNotExist) {
					return "", nil // its owner finished after all
				}
				if err != nil {
					return "", err
				}
				if !os.SameFile(fi, l.info) {
					return "", fmt.Errorf("%s was taken again meanwhile; left alone", l.path)
				}
				if err := os.Remove(l.path); err != nil {
					return "", err
				}
				return fmt.Sprintf("removed stale lock file %s%s", l.path, where), nil
			},
		})
	}

	items = append(items, f.scratchItems(commonDir, repoDirs[:3], procs)...)

	for _, b := range f.brokenRefs(commonDir) {
		b := b
		rel, _ := filepath.Rel(f.Repo.Path(), b.path)
		if rel == "" || strings.HasPrefix(rel, "..") {
			rel = b.path
		}
		// git's fetch reads every ref to tell the remote what it has, and
		// stops at one it cannot read: each has to go before the sync.
		switch {
		case !f.inScope(b.name) || f.Config.Remote == "":
			hint := ""
			if last := f.lastReflogValue(commonDir, b.name); last != "" {
				hint = fmt.Sprintf("; its reflog last recorded %s: if that is right, `rm %s && git update-ref %s %s`", ring.Short(last), rel, b.name, last)
			}
			whose := "with no remote there is no copy to restore it from"
			if !f.inScope(b.name) {
				whose = "it is not ringflow's to restore"
			}
			items = append(items, hygiene{
				problem: fmt.Sprintf("ref file %s is %s (a write cut short): %s cannot be read, and %s: it needs a person%s", rel, b.what(), b.name, whose, hint),
			})
		case f.tracking(b.name):
			items = append(items, hygiene{
				problem: fmt.Sprintf("ref file %s is %s (a write cut short): %s is a copy of remote %s's and cannot be read (ringflow check --repair deletes it; the next fetch writes it again)", rel, b.what(), b.name, f.Config.Remote),
				fix: func(context.Context) (string, error) {
					if err := replaceRef(b.path, b.content, ""); err != nil {
						return "", err
					}
					return fmt.Sprintf("deleted the %s ref file %s; fetched again from remote %s", b.what(), rel, f.Config.Remote), nil
				},
			})
		default:
			items = append(items, hygiene{
				problem: fmt.Sprintf("ref file %s is %s (a write cut short): %s cannot be read (ringflow check --repair restores it from remote %s)", rel, b.what(), b.name, f.Config.Remote),
				fix: func(context.Context) (string, error) {
					if err := replaceRef(b.path, b.content, ""); err != nil {
						return "", err
					}
					*restore = append(*restore, b)
					return "", nil // said once restored, after the sync
				},
			})
		}
	}
	return items, nil
}

// scratchItems finds scratch checkouts nobody uses any more: an entry whose
// directory is gone or whose files git never finished writing, a checkout
// whose process is gone (no process works in it, no other ringflow works
// in the repository, no cycle holds its lock — or it is older than
// scratchAge), and a ringflow-scratch-* directory in $TMPDIR
// whose entry is gone. With repair they are examined under the lock that
// ringflow holds while it creates or removes one, so none is half made by
// a live process; while another process holds it, they are not examined.
func (f *Fleet) scratchItems(commonDir string, repoDirs []string, procs procTable) []hygiene {
	unlock, err := f.Repo.Lock("scratch", false)
	if err != nil {
		return nil // a ringflow is making or removing a checkout right now
	}
	defer unlock()
	var items []hygiene
	now := time.Now()
	// A ringflow working on this repository may be using any checkout.
	busy := procs.ringflowIn(repoDirs) || flocked(filepath.Join(commonDir, "ringflow-cycle.lock"))
	known := map[string]bool{}
	for _, se := range scratchEntries(commonDir) {
		se := se
		if se.dir != "" {
			known[realPath(se.dir)] = true
		}
		var why string
		fi, aerr := os.Stat(se.admin)
		_, derr := os.Lstat(se.dir)
		head, herr := os.ReadFile(filepath.Join(se.admin, "HEAD"))
		// `git worktree add` writes the entry's files one by one — locked
		// ("initializing", until it is done), gitdir, HEAD (first the null
		// object) — and creation runs under the scratch lock held here: an
		// entry without them, or still initializing, lost its git.
		locked, lerr := os.ReadFile(filepath.Join(se.admin, "locked"))
		initializing := lerr == nil && strings.TrimSpace(string(locked)) == "initializing"
		unfinished := se.dir == "" || herr != nil || strings.Trim(strings.TrimSpace(string(head)), "0") == ""
		if lerr == nil && !initializing && !unfinished {
			continue // `git worktree lock`: someone wants it kept
		}
		switch {
		case unfinished || initializing:
			why = "its entry was never finished (the process creating it was killed)"
		case errors.Is(derr, fs.ErrNotExist):
			why = "its directory is gone"
		case !busy && !procs.usedBy([]string{realPath(se.dir)}):
			why = "no process is using it"
		case aerr == nil && now.Sub(fi.ModTime()) > scratchAge:
			why = fmt.Sprintf("it is older than %s", scratchAge)
		default:
			continue
		}
		name := se.dir
		if name == "" {
			name = se.admin
		}
		items = append(items, hygiene{
			problem: fmt.Sprintf("stale ringflow scratch checkout %s (work tree entry %s): %s", name, se.admin, why),
			fix: func(context.Context) (string, error) {
				unlock, err := f.Repo.Lock("scratch", true)
				if err != nil {
					return "", err
				}
				defer unlock()
				if se.dir != "" && strings.HasPrefix(filepath.Base(se.dir), scratchPrefix) {
					if err := removeAllForce(se.dir); err != nil {
						return "", err
					}
				}
				if err := os.RemoveAll(se.admin); err != nil {
					return "", err
				}
				return fmt.Sprintf("removed stale scratch checkout %s and its work tree entry (%s)", name, why), nil
			},
		})
	}

	// Directories in $TMPDIR whose entry is gone: ours by their .git file,
	// or empty (a process killed between making the directory and `git
	// worktree add`). An empty one cannot be told to be ours, but taking
	// it away (rmdir, which fails on anything in it) harms no one: git
	// makes the directory again when it adds a work tree there. So with
	// --repair every empty one goes; only one older than emptyScratchAge
	// counts as a problem.
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
			if !within(gd, filepath.Join(commonDir, "worktrees")) {
				continue // another repository's
			}
			if _, err := os.Stat(gd); err == nil {
				continue
			}
			items = append(items, hygiene{
				problem: fmt.Sprintf("stale ringflow scratch directory %s: its work tree entry is gone", dir),
				fix: func(context.Context) (string, error) {
					if err := removeAllForce(dir); err != nil {
						return "", err
					}
					return fmt.Sprintf("removed stale scratch directory %s (its work tree entry is gone)", dir), nil
				},
			})
			continue
		}
		sub, err := os.ReadDir(dir)
		fi, ferr := os.Stat(dir)
		if err != nil || ferr != nil || len(sub) > 0 {
			continue
		}
		it := hygiene{fix: func(context.Context) (string, error) {
			if err := os.Remove(dir); err != nil {
				if errors.Is(err, fs.ErrNotExist) {
					return "", nil
				}
				return "", nil // no longer empty: someone's checkout after all
			}
			return fmt.Sprintf("removed empty scratch directory %s (its checkout never started)", dir), nil
		}}
		if now.Sub(fi.ModTime()) >= emptyScratchAge {
			it.problem = fmt.Sprintf("stale ringflow scratch directory %s: it is empty (its checkout never started)", dir)
		}
		items = append(items, it)
	}
	return items
}

// trackingRefs are the refs the sync rewrites from the remote.
func (f *Fleet) trackingRefs() []string {
	if f.Config.Remote == "" {
		return nil
	}
	var refs []string
	for _, b := range f.Branches() {
		refs = append(refs, f.BranchRef(b))
	}
	return append(refs, f.Evidence.TrackingRef(), f.Ledger.TrackingRef())
}

// snapshot reads refs; an unreadable one counts as missing.
func (f *Fleet) snapshot(refs []string) map[string]string {
	m := map[string]string{}
	for _, r := range refs {
		if v, ok, err := f.Repo.Ref(r); err == nil && ok {
			m[r] = v
		}
	}
	return m
}

// afterSync restores the broken local refs preSync found from the remote's
// copies, and finds a local ledger left behind the remote's (a run killed
// between its push and moving the local copy).
func (f *Fleet) afterSync(ctx context.Context, restore []brokenRef) []hygiene {
	var items []hygiene
	for _, b := range restore {
		b := b
		src := ""
		switch {
		case b.name == "refs/ringflow/ledger":
			src = f.Ledger.TrackingRef()
		case strings.HasPrefix(b.name, "refs/notes/ringflow/"):
			src = f.Evidence.TrackingRef()
		case strings.HasPrefix(b.name, "refs/heads/"):
			src = f.BranchRef(strings.TrimPrefix(b.name, "refs/heads/"))
		}
		rel, _ := filepath.Rel(f.Repo.Path(), b.path)
		items = append(items, hygiene{
			fix: func(context.Context) (string, error) {
				val := ""
				if src != "" {
					v, ok, err := f.Repo.Ref(src)
					if err != nil {
						return "", err
					}
					if ok {
						val = v
					}
				}
				if err := replaceRef(b.path, b.content, val); err != nil {
					return "", err
				}
				if val == "" {
					return fmt.Sprintf("deleted the %s ref file %s: remote %s does not have it either", b.what(), rel, f.Config.Remote), nil
				}
				return fmt.Sprintf("restored the %s ref file %s from remote %s: %s", b.what(), rel, f.Config.Remote, ring.Short(val)), nil
			},
		})
	}
	if f.Config.Remote == "" {
		return items
	}
	items = append(items, f.unpushedEvidence()...)
	local, lok, lerr := f.Repo.Ref("refs/ringflow/ledger")
	remote, rok, rerr := f.Repo.Ref(f.Ledger.TrackingRef())
	if lerr != nil || rerr != nil || !lok || !rok || local == remote {
		return items
	}
	if behind, err := f.Repo.IsAncestor(local, remote); err != nil || !behind {
		return items // local-only entries are the operator's: kept
	}
	n, _ := f.Repo.CountBetween(local, remote)
	items = append(items, hygiene{
		problem: fmt.Sprintf("the local ledger refs/ringflow/ledger (%s) is %d entr%s behind remote %s's (%s): a run stopped between its push and the local copy (ringflow check --repair fast-forwards it)",
			ring.Short(local), n, plural(n, "y", "ies"), f.Config.Remote, ring.Short(remote)),
		fix: func(ctx context.Context) (string, error) {
			err := f.Repo.UpdateRefs(ctx, []gitrepo.RefUpdate{{Ref: "refs/ringflow/ledger", Old: local, New: remote}}, "ringflow: check --repair: follow the remote's ledger")
			if err != nil {
				return "", err
			}
			return fmt.Sprintf("fast-forwarded the local ledger refs/ringflow/ledger %s -> %s (remote %s's)", ring.Short(local), ring.Short(remote), f.Config.Remote), nil
		},
	})
	return items
}

// unpushedEvidence finds build results recorded here that the remote's
// evidence lacks (or holds older): a build killed between writing its
// note here and pushing it. Later builds answer those hosts from the local
// note and never record them again, so without this the remote — and
// every other machine — would never see them.
func (f *Fleet) unpushedEvidence() []hygiene {
	localTip, lok, lerr := f.Repo.Ref(evidence.Ref)
	remoteTip, _, rerr := f.Repo.Ref(f.Evidence.TrackingRef())
	if lerr != nil || rerr != nil || !lok || localTip == remoteTip {
		return nil
	}
	local, err := f.Repo.Notes(localTip)
	if err != nil {
		return nil
	}
	remote, err := f.Repo.Notes(remoteTip)
	if err != nil {
		return nil
	}
	type missing struct {
		commit string
		hosts  map[string]evidence.Host
	}
	var todo []missing
	for commit, blob := range local {
		if remote[commit] == blob {
			continue
		}
		ln, err := f.noteFromBlob(commit, blob)
		if err != nil {
			continue // not ringflow's: not ours to push
		}
		rn := &evidence.Note{Hosts: map[string]evidence.Host{}}
		if rb, ok := remote[commit]; ok {
			if rn, err = f.noteFromBlob(commit, rb); err != nil {
				continue
			}
		}
		m := missing{commit: commit, hosts: map[string]evidence.Host{}}
		for h, e := range ln.Hosts {
			if r, ok := rn.Hosts[h]; !ok || e.Time.After(r.Time) {
				m.hosts[h] = e
			}
		}
		if len(m.hosts) > 0 {
			todo = append(todo, m)
		}
	}
	if len(todo) == 0 {
		return nil
	}
	slices.SortFunc(todo, func(a, b missing) int { return strings.Compare(a.commit, b.commit) })
	var items []hygiene
	for _, m := range todo {
		m := m
		names := slices.Sorted(maps.Keys(m.hosts))
		items = append(items, hygiene{
			problem: fmt.Sprintf("evidence for %s recorded here was never pushed to remote %s (a build cut short before its push): %s (ringflow check --repair pushes it)",
				ring.Short(m.commit), f.Config.Remote, strings.Join(names, ", ")),
			fix: func(ctx context.Context) (string, error) {
				if err := f.Evidence.Record(ctx, m.commit, m.hosts); err != nil {
					return "", err
				}
				return fmt.Sprintf("pushed the evidence for %s recorded here to remote %s: %s", ring.Short(m.commit), f.Config.Remote, strings.Join(names, ", ")), nil
			},
		})
	}
	return items
}

func (f *Fleet) noteFromBlob(commit, blob string) (*evidence.Note, error) {
	data, err := f.Repo.NoteBlob(blob)
	if err != nil {
		return nil, err
	}
	return evidence.Decode(commit, data)
}

func plural(n int, one, many string) string {
	if n == 1 {
		return one
	}
	return many
}
