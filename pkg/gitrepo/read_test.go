package gitrepo

import (
	"errors"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"
)

func TestOpen(t *testing.T) {
	f := newFx(t)
	work := f.repo()
	bare := filepath.Join(t.TempDir(), "bare.git")
	f.run(filepath.Dir(bare), "clone", "-q", "--bare", work, bare)
	linked := filepath.Join(t.TempDir(), "linked")
	f.run(work, "worktree", "add", "-q", "-b", "side", linked)
	if err := os.Mkdir(filepath.Join(work, "sub"), 0o755); err != nil {
		t.Fatal(err)
	}
	plain := t.TempDir()

	tests := []struct {
		name     string
		path     string
		wantPath string
		wantBare bool
		wantErr  string
	}{
		{name: "work tree top", path: work, wantPath: work},
		{name: "bare", path: bare, wantPath: bare, wantBare: true},
		{name: "dot git dir means its work tree", path: filepath.Join(work, ".git"), wantPath: work},
		{name: "linked worktree", path: linked, wantPath: linked},
		{name: "subdirectory", path: filepath.Join(work, "sub"), wantErr: filepath.Join(work, "sub") + " is not the top of a git work tree: it lies inside " + work},
		{name: "plain dir", path: plain, wantErr: plain + " is not a git repository"},
		{name: "missing", path: filepath.Join(plain, "nope"), wantErr: filepath.Join(plain, "nope") + " does not exist"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r, err := Open(tt.path)
			if tt.wantErr != "" {
				if err == nil || !strings.HasPrefix(err.Error(), tt.wantErr) {
					t.Fatalf("Open(%s) error = %v, want prefix %q", tt.path, err, tt.wantErr)
				}
				if !errors.Is(err, ErrNotRepository) {
					t.Errorf("error %v is not ErrNotRepository", err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			defer r.Close()
			if r.Path() != tt.wantPath || r.IsBare() != tt.wantBare {
				t.Errorf("Path, IsBare = %s, %v; want %s, %v", r.Path(), r.IsBare(), tt.wantPath, tt.wantBare)
			}
			head := f.run(tt.path, "rev-parse", "HEAD")
			if got, err := r.ResolveCommit("HEAD"); err != nil || got != head {
				t.Errorf("ResolveCommit(HEAD) = %s, %v; want %s", got, err, head)
			}
		})
	}
}

func TestResolveCommit(t *testing.T) {
	f := newFx(t)
	origin, dir := f.remoteSetup()
	_ = origin
	c1 := f.run(dir, "rev-parse", "HEAD")
	c2 := f.commit(dir, "a", "second")
	f.run(dir, "checkout", "-q", "-b", "dev")
	c3 := f.commit(dir, "b", "third")
	f.run(dir, "checkout", "-q", "main")
	c4 := f.commit(dir, "c", "fourth")
	merge := f.merge(dir, "merge dev", "dev")
	f.run(dir, "tag", "light", c2)
	f.run(dir, "tag", "-a", "-m", "annotated", "v1", c3)
	f.run(dir, "tag", "-a", "-m", "tag of tag", "v1-again", "v1")
	f.run(dir, "push", "-q", "origin", "dev")
	f.run(dir, "checkout", "-q", "--detach", c4)

	r := mustOpen(t, dir)
	tests := map[string]string{
		"main":                        merge,
		"dev":                         c3,
		"origin/dev":                  c3,
		"origin/main":                 c1,
		"remotes/origin/dev":          c3,
		"refs/heads/dev":              c3,
		"heads/dev":                   c3,
		"light":                       c2,
		"v1":                          c3,
		"v1-again":                    c3,
		"refs/tags/v1":                c3,
		"HEAD":                        c4,
		"@":                           c4,
		"origin":                      c1, // refs/remotes/origin/HEAD
		c2:                            c2,
		strings.ToUpper(c2):           c2,
		c2[:7]:                        c2,
		c2[:5]:                        c2,
		"main~1":                      c4,
		"main^2":                      c3,
		"main^^":                      c2,
		"main~3":                      c1,
		"main^2~1":                    c2,
		"v1^{commit}":                 c3,
		"v1^{}":                       c3,
		f.run(dir, "rev-parse", "v1"): c3, // the tag object's own ID peels too
	}
	for rev, want := range tests {
		got, err := r.ResolveCommit(rev)
		if err != nil || got != want {
			t.Errorf("ResolveCommit(%q) = %q, %v; want %q", rev, got, err, want)
		}
		if git := f.run(dir, "rev-parse", rev+"^{commit}"); git != want {
			t.Errorf("test table disagrees with git for %q: git says %s", rev, git)
		}
	}

	tree := f.run(dir, "rev-parse", "HEAD^{tree}")
	for _, rev := range []string{"nope", "", "main~9", "main^3", "origin/nope", "abc", "0000000", strings.Repeat("0", 40)} {
		_, err := r.ResolveCommit(rev)
		if !errors.Is(err, ErrUnknownRevision) || !strings.Contains(err.Error(), `unknown revision "`+rev+`"`) {
			t.Errorf("ResolveCommit(%q) error = %v, want unknown revision naming it", rev, err)
		}
	}
	if _, err := r.ResolveCommit(tree); err == nil || !strings.Contains(err.Error(), "not a commit") {
		t.Errorf("ResolveCommit(tree) error = %v, want not a commit", err)
	}
}

func TestRef(t *testing.T) {
	f := newFx(t)
	_, dir := f.remoteSetup()
	c2 := f.commit(dir, "a", "second")
	f.run(dir, "branch", "dev")
	f.run(dir, "tag", "-a", "-m", "m", "v1")
	r := mustOpen(t, dir)

	check := func(name, want string, wantOK bool) {
		t.Helper()
		got, ok, err := r.Ref(name)
		if err != nil || got != want || ok != wantOK {
			t.Errorf("Ref(%s) = %q, %v, %v; want %q, %v", name, got, ok, err, want, wantOK)
		}
	}
	origin := f.run(dir, "rev-parse", "origin/main")
	for _, packed := range []bool{false, true} {
		if packed {
			// After pack-refs the loose files are gone: reads go to packed-refs.
			f.run(dir, "pack-refs", "--all", "--prune")
			if _, err := os.Stat(filepath.Join(dir, ".git", "refs", "heads", "dev")); !os.IsNotExist(err) {
				t.Fatalf("pack-refs left a loose ref: %v", err)
			}
		}
		check("refs/heads/dev", c2, true)
		check("refs/heads/main", c2, true)
		check("refs/remotes/origin/main", origin, true)
		check("refs/remotes/origin/HEAD", origin, true) // symbolic
		check("refs/tags/v1", c2, true)                 // peeled
		check("HEAD", c2, true)
		check("refs/heads/missing", "", false)
		check("refs/remotes/origin/missing", "", false)
		if got, err := r.ResolveCommit("dev"); err != nil || got != c2 {
			t.Errorf("packed=%v: ResolveCommit(dev) = %s, %v", packed, got, err)
		}
	}
	if _, _, err := r.Ref("dev"); err == nil {
		t.Error("Ref(dev) accepted a short name")
	}
}

func TestCommit(t *testing.T) {
	f := newFx(t)
	dir := f.repo()
	msg := "Subject line\ncontinued\n\nBody para one.\n\nBody para two.\n"
	if err := os.WriteFile(filepath.Join(dir, "m"), []byte(msg), 0o644); err != nil {
		t.Fatal(err)
	}
	f.run(dir, "add", "m")
	f.run(dir, "-c", "user.name=Ann Author", "-c", "user.email=ann@example.org", "commit", "-q", "-F", "m")
	h := f.run(dir, "rev-parse", "HEAD")
	r := mustOpen(t, dir)
	got, err := r.Commit(h)
	if err != nil {
		t.Fatal(err)
	}
	ct, _ := strconv.ParseInt(f.run(dir, "log", "-1", "--format=%ct"), 10, 64)
	want := CommitInfo{
		Hash:        h,
		Subject:     f.run(dir, "log", "-1", "--format=%s"),
		Body:        f.run(dir, "log", "-1", "--format=%b"),
		Author:      "Ann Author",
		AuthorEmail: "ann@example.org",
	}
	if got.Hash != want.Hash || got.Subject != want.Subject || got.Body != want.Body ||
		got.Author != want.Author || got.AuthorEmail != want.AuthorEmail || !got.Time.Equal(time.Unix(ct, 0)) {
		t.Errorf("Commit = %+v\nwant %+v (time %d)", got, want, ct)
	}
	if _, err := r.Commit("nope"); !errors.Is(err, ErrUnknownRevision) {
		t.Errorf("Commit(nope) error = %v", err)
	}
}

func TestCheckedOutBranch(t *testing.T) {
	f := newFx(t)
	dir := f.repo()
	r := mustOpen(t, dir)
	if b, ok := r.CheckedOutBranch(); b != "main" || !ok {
		t.Errorf("CheckedOutBranch = %q, %v; want main", b, ok)
	}
	f.run(dir, "checkout", "-q", "--detach")
	if b, ok := r.CheckedOutBranch(); ok {
		t.Errorf("detached: CheckedOutBranch = %q, true", b)
	}
	f.run(dir, "checkout", "-q", "--orphan", "fresh")
	if b, ok := r.CheckedOutBranch(); b != "fresh" || !ok {
		t.Errorf("unborn: CheckedOutBranch = %q, %v; want fresh", b, ok)
	}
	bare := filepath.Join(t.TempDir(), "b.git")
	f.run(dir, "clone", "-q", "--bare", dir, bare)
	if b, ok := mustOpen(t, bare).CheckedOutBranch(); ok {
		t.Errorf("bare: CheckedOutBranch = %q, true", b)
	}
}

func TestWorktreeClean(t *testing.T) {
	f := newFx(t)
	dir := f.repo()
	r := mustOpen(t, dir)
	clean := func(want bool) {
		t.Helper()
		got, err := r.WorktreeClean(t.Context())
		if err != nil || got != want {
			t.Errorf("WorktreeClean = %v, %v; want %v", got, err, want)
		}
	}
	clean(true)
	if err := os.WriteFile(filepath.Join(dir, "untracked"), []byte("x"), 0o644); err != nil {
		t.Fatal(err)
	}
	clean(true)
	if err := os.WriteFile(filepath.Join(dir, "README"), []byte("changed"), 0o644); err != nil {
		t.Fatal(err)
	}
	clean(false)
	f.run(dir, "add", "README")
	clean(false)
	f.run(dir, "reset", "-q", "--hard")
	clean(true)

	bare := filepath.Join(t.TempDir(), "b.git")
	f.run(dir, "clone", "-q", "--bare", dir, bare)
	if _, err := mustOpen(t, bare).WorktreeClean(t.Context()); !errors.Is(err, ErrNoWorkTree) {
		t.Errorf("bare: WorktreeClean error = %v, want ErrNoWorkTree", err)
	}
}
