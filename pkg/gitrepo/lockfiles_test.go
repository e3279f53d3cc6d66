package gitrepo

import (
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"
)

func writeFile(tb testing.TB, path, content string) {
	tb.Helper()
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		tb.Fatal(err)
	}
	if err := os.WriteFile(path, []byte(content), 0o644); err != nil {
		tb.Fatal(err)
	}
}

// TestLockFiles: git's lock files are listed wherever git makes them, ref
// locks marked short; ringflow's own flock files are not among them.
func TestLockFiles(t *testing.T) {
	f := newFx(t)
	dir := f.repo()
	r := mustOpen(t, dir)
	if _, err := r.Lock("cycle", true); err != nil { // ringflow-cycle.lock: not git's
		t.Fatal(err)
	}
	_, _, common := r.RealDirs()
	want := map[string]bool{ // path -> short
		filepath.Join(common, "index.lock"):                         false,
		filepath.Join(common, "config.lock"):                        false,
		filepath.Join(common, "packed-refs.lock"):                   true,
		filepath.Join(common, "FETCH_HEAD.lock"):                    true,
		filepath.Join(common, "refs", "heads", "dev.lock"):          true,
		filepath.Join(common, "refs", "remotes", "o", "x.lock"):     true,
		filepath.Join(common, "objects", "info", "packs.lock"):      true,
		filepath.Join(common, "worktrees", "mine", "index.lock"):    false,
		filepath.Join(common, "worktrees", "mine", "HEAD.lock"):     true,
		filepath.Join(common, "worktrees", "mine", "sub", "x.lock"): false, // not a place git locks
	}
	for p := range want {
		writeFile(t, p, "")
	}
	delete(want, filepath.Join(common, "worktrees", "mine", "sub", "x.lock"))
	got := map[string]bool{}
	for _, l := range r.LockFiles() {
		got[l.Path] = l.Short
		if l.ModTime.IsZero() {
			t.Errorf("%s: no ModTime", l.Path)
		}
	}
	if len(got) != len(want) {
		t.Errorf("LockFiles = %v, want %v", got, want)
	}
	for p, short := range want {
		if s, ok := got[p]; !ok || s != short {
			t.Errorf("LockFiles: %s = %v (listed %v), want short %v", p, s, ok, short)
		}
	}
}

func TestLockFileStale(t *testing.T) {
	now := time.Now()
	old, fresh, ancient := now.Add(-2*time.Minute), now.Add(-time.Second), now.Add(-11*time.Minute)
	for _, tt := range []struct {
		name          string
		l             LockFile
		visible, busy bool
		want          bool
	}{
		{"no git there", LockFile{ModTime: fresh}, true, false, true},
		{"git there, fresh ref lock", LockFile{Short: true, ModTime: fresh}, true, true, false},
		{"git there, old ref lock", LockFile{Short: true, ModTime: old}, true, true, true},
		{"git there, old index.lock", LockFile{ModTime: ancient}, true, true, false},
		{"blind, old index.lock", LockFile{ModTime: old}, false, true, false},
		{"blind, ancient index.lock", LockFile{ModTime: ancient}, false, true, true},
		{"blind, old ref lock", LockFile{Short: true, ModTime: old}, false, true, true},
	} {
		if got := tt.l.Stale(tt.visible, tt.busy, now); got != tt.want {
			t.Errorf("%s: Stale = %v, want %v", tt.name, got, tt.want)
		}
	}
}

// TestRemoveLockFile: a lock is removed only while it is the one listed.
func TestRemoveLockFile(t *testing.T) {
	f := newFx(t)
	dir := f.repo()
	r := mustOpen(t, dir)
	_, _, common := r.RealDirs()
	p := filepath.Join(common, "refs", "heads", "main.lock")
	writeFile(t, p, "")
	locks := r.LockFiles()
	if len(locks) != 1 {
		t.Fatalf("LockFiles = %v", locks)
	}
	// Taken again meanwhile: another file at the same path (made while
	// the first exists, so that it cannot reuse its inode).
	writeFile(t, p+".tmp", "")
	if err := os.Rename(p+".tmp", p); err != nil {
		t.Fatal(err)
	}
	if removed, err := r.RemoveLockFile(locks[0]); removed || err == nil || !strings.Contains(err.Error(), "was taken again meanwhile; left alone") {
		t.Errorf("RemoveLockFile of a lock taken again = %v, %v", removed, err)
	}
	if _, err := os.Stat(p); err != nil {
		t.Errorf("the lock taken again is gone: %v", err)
	}
	locks = r.LockFiles()
	if removed, err := r.RemoveLockFile(locks[0]); !removed || err != nil {
		t.Errorf("RemoveLockFile = %v, %v", removed, err)
	}
	if _, err := os.Stat(p); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("the lock is still there: %v", err)
	}
	if removed, err := r.RemoveLockFile(locks[0]); removed || err != nil {
		t.Errorf("RemoveLockFile of a lock gone already = %v, %v", removed, err)
	}
}

// TestRemoteLockFiles: a remote on this machine has its lock files looked
// at too; one reached over the network does not.
func TestRemoteLockFiles(t *testing.T) {
	f := newFx(t)
	origin, ours := f.remoteSetup()
	r := mustOpen(t, ours)
	writeFile(t, filepath.Join(origin, "refs", "heads", "main.lock"), "")
	dir, locks, ok := r.RemoteLockFiles("origin")
	if real := realPath(origin); !ok || dir != real {
		t.Fatalf("RemoteLockFiles(origin) = %q, %v; want %q", dir, ok, real)
	}
	if len(locks) != 1 || locks[0].Path != filepath.Join(realPath(origin), "refs", "heads", "main.lock") {
		t.Errorf("RemoteLockFiles(origin) locks = %v", locks)
	}
	f.run(ours, "remote", "add", "net", "git@example.com:fleet.git")
	f.run(ours, "remote", "add", "web", "https://example.com/fleet.git")
	f.run(ours, "remote", "add", "url", "file://"+origin)
	for _, name := range []string{"net", "web", "nosuch", ""} {
		if _, _, ok := r.RemoteLockFiles(name); ok {
			t.Errorf("RemoteLockFiles(%q): ok, want not local", name)
		}
	}
	if dir, _, ok := r.RemoteLockFiles("url"); !ok || dir != realPath(origin) {
		t.Errorf("RemoteLockFiles(url) = %q, %v", dir, ok)
	}
	for s, want := range map[string]bool{
		"git@host:path": true, "host:path": true, "/a/b:c": false, "./x:y": false, "x": false, ":x": false,
	} {
		if got := IsSCPLike(s); got != want {
			t.Errorf("IsSCPLike(%q) = %v", s, got)
		}
	}
}

// TestProcs: a git working in a repository, and a lock held, are seen.
func TestProcs(t *testing.T) {
	if _, err := os.Stat("/proc/self/cwd"); err != nil {
		t.Skip("needs /proc")
	}
	f := newFx(t)
	dir := f.repo()
	other := t.TempDir()
	r := mustOpen(t, dir)
	top, gitDir, common := r.RealDirs()
	dirs := []string{top, gitDir, common}

	if p := ScanProcs(); !p.Visible() || p.GitIn(dirs) || p.UsedBy(dirs) || p.RingflowIn(dirs) {
		t.Errorf("idle repository: visible %v, git %v, used %v, ringflow %v", p.Visible(), p.GitIn(dirs), p.UsedBy(dirs), p.RingflowIn(dirs))
	}
	cmd := execGit(t, dir, "cat-file", "--batch")
	defer cmd()
	p := ScanProcs()
	if !p.GitIn(dirs) || !p.UsedBy(dirs) {
		t.Errorf("git cat-file running in the repository not seen: git %v, used %v", p.GitIn(dirs), p.UsedBy(dirs))
	}
	if p.GitIn([]string{realPath(other)}) || p.RingflowIn(dirs) {
		t.Error("git seen where it does not work, or taken for ringflow")
	}
	if !(Procs{}).GitIn(dirs) || !(Procs{}).UsedBy(nil) || !(Procs{}).RingflowIn(nil) || (Procs{}).Visible() {
		t.Error("without /proc every process question must be answered yes")
	}

	if r.LockHeld("cycle") {
		t.Error("LockHeld(cycle) before anyone took it")
	}
	unlock, err := r.Lock("cycle", true)
	if err != nil {
		t.Fatal(err)
	}
	if !r.LockHeld("cycle") {
		t.Error("LockHeld(cycle) = false while held")
	}
	unlock()
	if r.LockHeld("cycle") {
		t.Error("LockHeld(cycle) after unlock")
	}
	if slices.Contains(dirs, "") {
		t.Errorf("RealDirs = %v", dirs)
	}
}

// execGit starts git in dir and leaves it running, waiting on its input,
// until the returned stop is called.
func execGit(tb testing.TB, dir string, args ...string) (stop func()) {
	tb.Helper()
	cmd := exec.Command("git", args...)
	cmd.Dir = dir
	in, err := cmd.StdinPipe()
	if err != nil {
		tb.Fatal(err)
	}
	if err := cmd.Start(); err != nil { // returns once git runs
		tb.Fatal(err)
	}
	return func() {
		in.Close()
		cmd.Wait()
	}
}
