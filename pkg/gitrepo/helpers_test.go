package gitrepo

import (
	"bytes"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// TestMain gives every git the tests run (ours and the package's) a private
// HOME with an identity and main as the default branch, and no system config.
func TestMain(m *testing.M) {
	home, err := os.MkdirTemp("", "gitrepo-home-")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	cfg := "[user]\n\tname = Test User\n\temail = test@example.com\n[init]\n\tdefaultBranch = main\n" +
		"[advice]\n\tdetachedHead = false\n[gc]\n\tauto = 0\n[maintenance]\n\tauto = false\n"
	if err := os.WriteFile(filepath.Join(home, ".gitconfig"), []byte(cfg), 0o644); err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	os.Setenv("HOME", home)
	os.Setenv("XDG_CONFIG_HOME", filepath.Join(home, ".config"))
	os.Setenv("GIT_CONFIG_NOSYSTEM", "1")
	for _, k := range []string{"GIT_DIR", "GIT_WORK_TREE", "GIT_INDEX_FILE", "GIT_CONFIG_GLOBAL",
		"GIT_AUTHOR_DATE", "GIT_COMMITTER_DATE", "GIT_CONFIG_PARAMETERS", "GIT_CONFIG_COUNT"} {
		os.Unsetenv(k)
	}
	code := m.Run()
	os.RemoveAll(home)
	os.Exit(code)
}

// fx builds repositories with the git CLI. Its clock hands out increasing
// commit dates, so histories have realistic, distinct times unless a test
// asks otherwise.
type fx struct {
	tb    testing.TB
	clock int64 // unix seconds of the next commit
}

func newFx(tb testing.TB) *fx {
	tb.Helper()
	if _, err := exec.LookPath("git"); err != nil {
		tb.Skip("needs git")
	}
	return &fx{tb: tb, clock: 1_700_000_000}
}

// run runs git in dir and returns trimmed stdout; failure fails the test.
func (f *fx) run(dir string, args ...string) string {
	f.tb.Helper()
	out, err := f.try(dir, nil, args...)
	if err != nil {
		f.tb.Fatalf("git %s (in %s): %v", strings.Join(args, " "), dir, err)
	}
	return out
}

func (f *fx) try(dir string, env []string, args ...string) (string, error) {
	cmd := exec.Command("git", args...)
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), env...)
	var so, se bytes.Buffer
	cmd.Stdout, cmd.Stderr = &so, &se
	if err := cmd.Run(); err != nil {
		return strings.TrimSpace(so.String()), fmt.Errorf("%w: %s", err, se.String())
	}
	return strings.TrimSpace(so.String()), nil
}

// commitAt makes a commit in work tree dir at the given time, writing msg
// into file, and returns its ID.
func (f *fx) commitAt(dir, file, msg string, when int64) string {
	f.tb.Helper()
	if file != "" {
		p := filepath.Join(dir, file)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			f.tb.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(msg+"\n"), 0o644); err != nil {
			f.tb.Fatal(err)
		}
		f.run(dir, "add", file)
	}
	date := fmt.Sprintf("@%d +0100", when)
	if _, err := f.try(dir, []string{"GIT_AUTHOR_DATE=" + date, "GIT_COMMITTER_DATE=" + date},
		"commit", "-q", "--allow-empty", "-m", msg); err != nil {
		f.tb.Fatalf("commit %q in %s: %v", msg, dir, err)
	}
	return f.run(dir, "rev-parse", "HEAD")
}

// commit makes a commit at the next tick of the clock.
func (f *fx) commit(dir, file, msg string) string {
	f.tb.Helper()
	f.clock += 60
	return f.commitAt(dir, file, msg, f.clock)
}

// merge merges branches into dir's HEAD with a merge commit (an octopus
// for several).
func (f *fx) merge(dir, msg string, branches ...string) string {
	f.tb.Helper()
	f.clock += 60
	return f.mergeAt(dir, msg, f.clock, branches...)
}

func (f *fx) mergeAt(dir, msg string, when int64, branches ...string) string {
	f.tb.Helper()
	date := fmt.Sprintf("@%d +0000", when)
	args := append([]string{"merge", "-q", "--no-ff", "--allow-unrelated-histories", "-m", msg}, branches...)
	if _, err := f.try(dir, []string{"GIT_AUTHOR_DATE=" + date, "GIT_COMMITTER_DATE=" + date}, args...); err != nil {
		f.tb.Fatalf("merge %v: %v", branches, err)
	}
	return f.run(dir, "rev-parse", "HEAD")
}

// repo makes a work tree with one commit on main.
func (f *fx) repo() string {
	f.tb.Helper()
	dir := filepath.Join(f.tb.TempDir(), "work")
	f.run(filepath.Dir(dir), "init", "-q", dir)
	f.commit(dir, "README", "initial")
	return dir
}

// remoteSetup makes a bare origin.git with main, and a clone "ours" of it.
func (f *fx) remoteSetup() (origin, ours string) {
	f.tb.Helper()
	root := f.tb.TempDir()
	seed := filepath.Join(root, "seed")
	origin = filepath.Join(root, "origin.git")
	ours = filepath.Join(root, "ours")
	f.run(root, "init", "-q", seed)
	f.commit(seed, "README", "initial")
	f.run(root, "init", "-q", "--bare", origin)
	f.run(seed, "push", "-q", origin, "main")
	f.run(root, "clone", "-q", origin, ours)
	return origin, ours
}

func (f *fx) clone(origin, name string) string {
	f.tb.Helper()
	dir := filepath.Join(f.tb.TempDir(), name)
	f.run(filepath.Dir(dir), "clone", "-q", origin, dir)
	return dir
}

func mustOpen(tb testing.TB, dir string) *Repo {
	tb.Helper()
	r, err := Open(dir)
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { r.Close() })
	return r
}
