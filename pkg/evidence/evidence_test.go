package evidence

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/ringflow/ringflow/pkg/gitrepo"
)

func TestDecodeAndMerge(t *testing.T) {
	t0 := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	n, err := Decode("c1", []byte(`{"commit":"c1","hosts":{"a":{"status":"red","phase":"eval","time":"2026-01-01T00:00:00Z"}}}`))
	if err != nil {
		t.Fatal(err)
	}
	n.Merge(&Note{Hosts: map[string]Host{
		"a": {Status: Green, Phase: PhaseBuild, Drv: "/nix/store/a.drv", Out: "/nix/store/a", Time: t0.Add(time.Hour)}, // newer: wins
		"b": {Status: Green, Drv: "/nix/store/b.drv", Out: "/nix/store/b", Time: t0},
		"d": {Status: Green, Time: t0}, // no drv/out path: counts as unbuilt
	}})
	n.Merge(&Note{Hosts: map[string]Host{"b": {Status: Red, Time: t0.Add(-time.Hour)}}}) // older: loses
	if n.Hosts["a"].Status != Green || n.Hosts["b"].Status != Green {
		t.Errorf("merged = %+v", n.Hosts)
	}
	if got := n.Tally([]string{"a", "b", "c", "d"}); got != (Tally{Green: 2, Missing: 2}) {
		t.Errorf("Tally = %+v", got)
	}
	for _, bad := range []string{`not json`, `{"hosts":{"a":{"status":"blue"}}}`, `{"commit":"c9","hosts":{"a":{"sta`, `{"commit":"c8","hosts":{}}`} {
		_, err := Decode("c9", []byte(bad))
		var m *MalformedError
		if !errors.As(err, &m) || m.Commit != "c9" || !strings.Contains(err.Error(), "c9") {
			t.Errorf("Decode(%q): err = %v, want a *MalformedError naming the commit", bad, err)
		}
	}
}

// repoPair makes a bare remote and a clone with one commit pushed.
func repoPair(t *testing.T) (clone, remote, commit string) {
	t.Helper()
	dir := t.TempDir()
	remote, clone = filepath.Join(dir, "origin.git"), filepath.Join(dir, "clone")
	run := func(args ...string) string {
		t.Helper()
		cmd := exec.Command("git", args...)
		cmd.Env = append(os.Environ(), "GIT_AUTHOR_NAME=t", "GIT_AUTHOR_EMAIL=t@t", "GIT_COMMITTER_NAME=t", "GIT_COMMITTER_EMAIL=t@t")
		out, err := cmd.CombinedOutput()
		if err != nil {
			t.Fatalf("git %q: %v\n%s", args, err, out)
		}
		return strings.TrimSpace(string(out))
	}
	run("init", "-q", "--bare", remote)
	run("clone", "-q", remote, clone)
	run("-C", clone, "commit", "-q", "--allow-empty", "-m", "one")
	run("-C", clone, "push", "-q", "origin", "HEAD:refs/heads/dev")
	return clone, remote, run("-C", clone, "rev-parse", "HEAD")
}

func gitOut(t *testing.T, args ...string) string {
	t.Helper()
	cmd := exec.Command("git", args...)
	// A fresh machine has no git identity: notes and commits need one.
	cmd.Env = append(os.Environ(), "GIT_AUTHOR_NAME=t", "GIT_AUTHOR_EMAIL=t@t", "GIT_COMMITTER_NAME=t", "GIT_COMMITTER_EMAIL=t@t")
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("git %q: %v\n%s", args, err, out)
	}
	return string(out)
}

func store(t *testing.T, dir, remote string) *Store {
	t.Helper()
	repo, err := gitrepo.Open(dir)
	if err != nil {
		t.Fatal(err)
	}
	return &Store{Repo: repo, Remote: remote, Identity: "ringflow test <t@t>"}
}

func TestRecordLocalAndRemote(t *testing.T) {
	clone, remote, commit := repoPair(t)
	s := store(t, clone, "origin")
	ctx := context.Background()
	now := time.Now().UTC()
	if err := s.Record(ctx, commit, map[string]Host{"web.example": {Status: Green, Drv: "/nix/store/x.drv", Out: "/nix/store/x", Time: now}}); err != nil {
		t.Fatal(err)
	}
	if err := s.Record(ctx, commit, map[string]Host{"db": {Status: Red, Phase: PhaseBuild, Time: now}}); err != nil {
		t.Fatal(err)
	}
	// Plain git reads it, locally and on the remote.
	for _, dir := range []string{clone, remote} {
		out := gitOut(t, "-C", dir, "notes", "--ref", "ringflow/evidence", "show", commit)
		if !strings.Contains(out, `"web.example": {`) || !strings.Contains(out, `"db": {`) {
			t.Errorf("note in %s lacks a host:\n%s", dir, out)
		}
	}
	n, err := s.Get(commit)
	if err != nil {
		t.Fatal(err)
	}
	if len(n.Hosts) != 2 {
		t.Errorf("Get = %+v", n.Hosts)
	}
	green, err := s.GreenDrvs()
	if err != nil || !green["/nix/store/x.drv"] || len(green) != 1 {
		t.Errorf("GreenDrvs = %v, %v", green, err)
	}
}

// Writers recording different hosts of one commit at once, through one
// remote from separate clones: every host survives.
func TestRecordRaceKeepsEveryHost(t *testing.T) {
	clone, remote, commit := repoPair(t)
	var stores []*Store
	for i := 0; i < 4; i++ {
		dir := filepath.Join(t.TempDir(), "c")
		gitOut(t, "clone", "-q", remote, dir)
		stores = append(stores, store(t, dir, "origin"))
	}
	stores = append(stores, store(t, clone, "origin"))
	var wg sync.WaitGroup
	errs := make([]error, len(stores))
	for i, s := range stores {
		wg.Add(1)
		go func(i int, s *Store) {
			defer wg.Done()
			errs[i] = s.Record(context.Background(), commit, map[string]Host{fmt.Sprintf("host-%d", i): {Status: Green, Time: time.Now()}})
		}(i, s)
	}
	wg.Wait()
	for i, err := range errs {
		if err != nil {
			t.Errorf("writer %d: %v", i, err)
		}
	}
	out := gitOut(t, "-C", remote, "notes", "--ref", "ringflow/evidence", "show", commit)
	for i := range stores {
		if !strings.Contains(out, fmt.Sprintf(`"host-%d"`, i)) {
			t.Errorf("host-%d lost in the race; remote note:\n%s", i, out)
		}
	}
}

func TestRecordWithoutRemote(t *testing.T) {
	clone, remote, commit := repoPair(t)
	s := store(t, clone, "")
	if err := s.Record(context.Background(), commit, map[string]Host{"a": {Status: Green, Time: time.Now()}}); err != nil {
		t.Fatal(err)
	}
	if out, err := exec.Command("git", "-C", remote, "notes", "--ref", "ringflow/evidence", "list").CombinedOutput(); err == nil && len(out) > 0 {
		t.Errorf("local-only evidence reached the remote: %s", out)
	}
	if !strings.Contains(gitOut(t, "-C", clone, "notes", "--ref", "ringflow/evidence", "show", commit), `"a"`) {
		t.Error("local note missing")
	}
}
