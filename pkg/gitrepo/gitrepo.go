// Package gitrepo owns every contact with git: it is the only package that
// imports go-git and the only one that runs the git binary. Reads (resolving
// revisions, ancestry, counting, commit metadata, refs) run in-process on
// go-git and the repository's commit-graph; writes of refs, fetch and push run
// the git CLI, so that ref updates lock and rename as git does and remotes see
// the user's credential helpers, ssh config and agents. Every ref change is a
// compare-and-swap. Callers get ringflow values (hex commit IDs, ref names,
// CommitInfo), never go-git types.
//
// It is also the only package that looks into git's own files for what a
// killed git or ringflow left behind — lock files, loose ref files cut
// short, scratch work tree entries — and at the processes (/proc) that may
// still hold them; what counts as a problem is the check package's call.
package gitrepo

import (
	"bufio"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"time"
)

// ErrNotRepository reports that a path is neither a work tree's top-level
// directory nor a bare repository (a *NotRepositoryError is one).
var ErrNotRepository = errors.New("not a git repository")

// NotRepositoryError says Path is no repository Open accepts: it does
// not exist (Missing), or it lies inside the work tree whose top is
// Within (a subdirectory), or in none.
type NotRepositoryError struct {
	Path    string
	Missing bool
	Within  string
}

func (e *NotRepositoryError) Error() string {
	switch {
	case e.Missing:
		return fmt.Sprintf("%s does not exist", e.Path)
	case e.Within != "":
		return fmt.Sprintf("%s is not the top of a git work tree: it lies inside %s", e.Path, e.Within)
	}
	return fmt.Sprintf("%s is not a git repository", e.Path)
}

// Is makes a *NotRepositoryError an ErrNotRepository.
func (e *NotRepositoryError) Is(target error) bool { return target == ErrNotRepository }

// NoRemoteError says the repository has no remote of that name configured.
type NoRemoteError struct {
	Remote string
	Repo   string // the repository's directory
}

func (e *NoRemoteError) Error() string {
	return fmt.Sprintf("remote %q is not configured in %s", e.Remote, e.Repo)
}

// ErrUnknownRevision reports that a revision names no commit.
var ErrUnknownRevision = errors.New("unknown revision")

// ErrNoWorkTree reports an operation that needs a work tree on a bare repository.
var ErrNoWorkTree = errors.New("no work tree")

// Repo is one git repository: a work tree or a bare repository. Its read
// methods are safe for concurrent use.
type Repo struct {
	path      string // work tree top, or the bare directory
	gitDir    string // $GIT_DIR: per-worktree files such as HEAD
	commonDir string // shared files: objects, refs, config
	bare      bool

	mu    sync.Mutex // guards store: go-git's storage is not safe for concurrent use
	store *store

	remoteTimeout time.Duration // limit of one fetch or push; 0 = none
}

// CommitInfo describes one commit.
type CommitInfo struct {
	Hash        string
	Subject     string // first paragraph of the message, on one line (git's %s)
	Body        string // the rest of the message (git's %b), without trailing newlines
	Author      string
	AuthorEmail string
	Time        time.Time // committer time: when the commit entered history
}

// RefUpdate is one compare-and-swap of a ref. Old "" means the ref must not
// exist; New "" deletes it.
type RefUpdate struct {
	Ref string // full name, e.g. refs/heads/dev
	Old string // expected current value: 40-hex commit, or ""
	New string // value to set: 40-hex commit, or ""
}

// Advance reports what AdvanceBranch did.
type Advance struct {
	Moved   bool   // the branch (and its work tree, if checked out) now points at the new commit
	Skipped bool   // nothing changed on purpose; Reason says why
	Reason  string // why it was skipped
}

// RefConflictError reports a compare-and-swap that found a ref at another
// value than expected. Nothing was changed. "" stands for "does not exist".
type RefConflictError struct {
	Ref      string
	Expected string
	Actual   string
}

func (e *RefConflictError) Error() string {
	return fmt.Sprintf("ref %s is at %s, expected %s", e.Ref, orMissing(e.Actual), orMissing(e.Expected))
}

func orMissing(v string) string {
	if v == "" {
		return "nothing (missing)"
	}
	return v
}

// RejectedRef is one ref a remote (or git, before sending) refused.
type RejectedRef struct {
	Ref    string // full name on the remote, e.g. refs/heads/stable
	Reason string // git's reason: "stale info", "pre-receive hook declined", "atomic push failed", …
}

// PushRejectedError reports an atomic push that was refused: no ref moved on
// the remote.
type PushRejectedError struct {
	Remote string        // remote name
	URL    string        // the remote's URL with any password removed
	Refs   []RejectedRef // every ref git reported as rejected
	Output []string      // the remote's own messages (hook output), trimmed
	// LockLost: git's stderr, outside the remote's messages, says a ref
	// lock was lost to another writer (a remote reached without a side
	// band writes its errors there).
	LockLost bool
}

func (e *PushRejectedError) Error() string {
	var b strings.Builder
	fmt.Fprintf(&b, "push to remote %s", e.Remote)
	if e.URL != "" {
		fmt.Fprintf(&b, " (%s)", e.URL)
	}
	b.WriteString(" rejected:")
	for i, r := range e.Refs {
		if i > 0 {
			b.WriteString(";")
		}
		fmt.Fprintf(&b, " %s: %s", strings.TrimPrefix(r.Ref, "refs/heads/"), r.Reason)
	}
	if len(e.Output) > 0 {
		b.WriteString("; remote said: ")
		b.WriteString(strings.Join(e.Output, " | "))
	}
	return b.String()
}

// Open opens the repository whose work tree top-level directory, or bare
// repository directory, is path. A subdirectory of a work tree is not a
// repository.
func Open(path string) (*Repo, error) {
	abs, err := filepath.Abs(path)
	if err != nil {
		return nil, fmt.Errorf("open %s: %w", path, err)
	}
	if _, err := os.Stat(abs); err != nil {
		if errors.Is(err, os.ErrNotExist) {
			return nil, &NotRepositoryError{Path: abs, Missing: true}
		}
		return nil, fmt.Errorf("open %s: %w", abs, err)
	}
	r := &Repo{path: abs}
	dotGit := filepath.Join(abs, ".git")
	switch fi, err := os.Stat(dotGit); {
	case err == nil && fi.IsDir():
		r.gitDir = dotGit
	case err == nil:
		// A linked worktree or a submodule: .git is a file naming the git dir.
		gd, err := readGitFile(dotGit)
		if err != nil {
			return nil, fmt.Errorf("open %s: %w", abs, err)
		}
		r.gitDir = gd
	case isGitDir(abs):
		r.gitDir = abs
		r.bare = true
		if filepath.Base(abs) == ".git" && configValue(filepath.Join(commonDirOf(abs), "config"), "core", "bare") != "true" {
			// Someone passed the .git directory of a work tree: open the work tree.
			return Open(filepath.Dir(abs))
		}
	default:
		return nil, &NotRepositoryError{Path: abs, Within: enclosingWorkTree(abs)}
	}
	if !isGitDir(r.gitDir) {
		return nil, &NotRepositoryError{Path: abs}
	}
	r.commonDir = commonDirOf(r.gitDir)

	cfg := filepath.Join(r.commonDir, "config")
	// go-git reads only SHA-1 objects and loose/packed ref files; a repository
	// using other formats would be misread, so refuse it up front.
	if f := configValue(cfg, "extensions", "objectformat"); f != "" && f != "sha1" {
		return nil, fmt.Errorf("open %s: object format %s is not supported", abs, f)
	}
	if f := configValue(cfg, "extensions", "refstorage"); f != "" && f != "files" {
		return nil, fmt.Errorf("open %s: ref storage %s is not supported", abs, f)
	}

	s, err := openStore(r.gitDir, r.commonDir, nil)
	if err != nil {
		return nil, fmt.Errorf("open %s: %w", abs, err)
	}
	r.store = s
	return r, nil
}

// enclosingWorkTree is the nearest parent of dir holding a .git, "" if none.
func enclosingWorkTree(dir string) string {
	for d := filepath.Dir(dir); ; d = filepath.Dir(d) {
		if _, err := os.Stat(filepath.Join(d, ".git")); err == nil {
			return d
		}
		if d == filepath.Dir(d) {
			return ""
		}
	}
}

// Close releases open pack and commit-graph files. The Repo must not be used
// afterwards.
func (r *Repo) Close() error {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.store == nil {
		return nil
	}
	err := r.store.close()
	r.store = nil
	return err
}

// Path returns the absolute top-level directory: the work tree root, or the
// bare repository directory.
func (r *Repo) Path() string { return r.path }

// IsBare reports whether the repository has no work tree.
func (r *Repo) IsBare() bool { return r.bare }

// RealDirs returns, symlinks resolved so that they compare with what /proc
// and git report, the top-level directory, the git directory and the
// common directory (refs, objects, worktrees) of the repository.
func (r *Repo) RealDirs() (top, gitDir, commonDir string) {
	return realPath(r.path), realPath(r.gitDir), realPath(r.commonDir)
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

func isGitDir(dir string) bool {
	if fi, err := os.Stat(filepath.Join(dir, "HEAD")); err != nil || fi.IsDir() {
		return false
	}
	if _, err := os.Stat(filepath.Join(dir, "commondir")); err == nil {
		return true
	}
	for _, sub := range []string{"objects", "refs"} {
		if fi, err := os.Stat(filepath.Join(dir, sub)); err != nil || !fi.IsDir() {
			return false
		}
	}
	return true
}

func readGitFile(path string) (string, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return "", err
	}
	line, _, _ := strings.Cut(string(b), "\n")
	gd, ok := strings.CutPrefix(strings.TrimSpace(line), "gitdir: ")
	if !ok {
		return "", fmt.Errorf("%s: no gitdir line", path)
	}
	gd = strings.TrimSpace(gd)
	if !filepath.IsAbs(gd) {
		gd = filepath.Join(filepath.Dir(path), gd)
	}
	return filepath.Clean(gd), nil
}

// commonDirOf follows a linked worktree's commondir file to the shared git
// directory; for any other git dir it is the dir itself.
func commonDirOf(gitDir string) string {
	b, err := os.ReadFile(filepath.Join(gitDir, "commondir"))
	if err != nil {
		return gitDir
	}
	cd := strings.TrimSpace(string(b))
	if cd == "" {
		return gitDir
	}
	if !filepath.IsAbs(cd) {
		cd = filepath.Join(gitDir, cd)
	}
	return filepath.Clean(cd)
}

// configValue returns the last value of section.key in one git config file,
// lowercased, or "". It reads only the plain `key = value` form, enough for
// the few repository-format keys Open checks; everything else about config is
// git's business.
func configValue(path, section, key string) string {
	f, err := os.Open(path)
	if err != nil {
		return ""
	}
	defer f.Close()
	var cur, val string
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		line := strings.TrimSpace(sc.Text())
		if line == "" || line[0] == '#' || line[0] == ';' {
			continue
		}
		if line[0] == '[' {
			end := strings.IndexByte(line, ']')
			if end < 0 {
				continue
			}
			cur = strings.ToLower(strings.TrimSpace(line[1:end]))
			line = strings.TrimSpace(line[end+1:])
			if line == "" {
				continue
			}
		}
		if cur != section {
			continue
		}
		k, v, found := strings.Cut(line, "=")
		if strings.ToLower(strings.TrimSpace(k)) != key {
			continue
		}
		if !found {
			val = "true" // a bare key is boolean true
			continue
		}
		v, _, _ = strings.Cut(v, "#")
		v, _, _ = strings.Cut(v, ";")
		val = strings.ToLower(strings.Trim(strings.TrimSpace(v), `"`))
	}
	return val
}

// Stale says the push lost a race, so fetching and trying again may
// succeed: every rejected ref was refused because the remote no longer
// held the expected old value — seen by the client ("stale info", "fetch
// first") or, when two pushes meet inside the remote, by its ref lock
// ("cannot lock ref …: reference already exists" / "is at … but
// expected …"), which the remote says in its messages (or, without a
// side band, on git's stderr: LockLost). A hook's refusal is not stale.
func (e *PushRejectedError) Stale() bool {
	if len(e.Refs) == 0 {
		return false
	}
	lockLost := e.LockLost
	for _, line := range e.Output {
		if lostLock(line) {
			lockLost = true
		}
	}
	stale := false
	for _, r := range e.Refs {
		switch {
		case strings.Contains(r.Reason, "stale info"), strings.Contains(r.Reason, "fetch first"),
			strings.Contains(r.Reason, "failed to lock"), strings.Contains(r.Reason, "cannot lock ref"):
			stale = true
		case strings.Contains(r.Reason, "atomic"), strings.Contains(r.Reason, "failed to update ref"):
			// Refused only because another ref of the atomic push was, or
			// by the remote's ref transaction: stale when that was its lock.
			stale = stale || lockLost
		default:
			return false
		}
	}
	return stale
}

// lostLock says whether a line of git's is a ref lock lost to another
// writer: the ref moved, or another update of it was under way.
func lostLock(line string) bool {
	return strings.Contains(line, "cannot lock ref") &&
		(strings.Contains(line, "but expected") || strings.Contains(line, "reference already exists") ||
			strings.Contains(line, "File exists") || strings.Contains(line, "reference is missing") || strings.Contains(line, "unable to resolve reference"))
}
