package update

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"maps"
	"os"
	"path"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/ringflow/ringflow/pkg/flakelock"
	"github.com/ringflow/ringflow/pkg/fleet"
	"github.com/ringflow/ringflow/pkg/gitrepo"
	"github.com/ringflow/ringflow/pkg/ledger"
	"github.com/ringflow/ringflow/pkg/ring"
)

const (
	dev1 = "1111111111111111111111111111111111111111"
	dev2 = "2222222222222222222222222222222222222222"
	dev3 = "3333333333333333333333333333333333333333"

	revA = "506ac128b11642ac576dcdc528b7a5455cc27927"
	revB = "265b7e2dbbdbe2e59609fa31ed8be38cdb517d13"
	revC = "dbc756c9d7287de19b3e0e38c928c47510d42c3e"
	hash = "sha256-q4kR7g+pCcz6NASvoVPYu+CWWUurX03wogtBqGmR4h0="

	author = "ringflow <ringflow@localhost>"
)

var (
	commitTime = time.Date(2026, 8, 10, 3, 0, 0, 0, time.UTC)
	entryTime  = time.Date(2026, 8, 10, 3, 0, 1, 0, time.UTC)
)

func ghNode(repo, rev string, lastModified int64) string {
	return fmt.Sprintf(`{"locked": {"lastModified": %d, "narHash": %q, "owner": "NixOS", "repo": %q, "rev": %q, "type": "github"},
		"original": {"owner": "NixOS", "repo": %q, "type": "github"}}`, lastModified, hash, repo, rev, repo)
}

// topLock is a fleet's lock: nixpkgs, inputs that follow it, and a
// sub-flake plex-flake (path:./hosts/plex) with its own nixpkgs and a path
// input of its own (relative to the sub-flake, not to the top flake).
func topLock(nixpkgs, plexNixpkgs string) string {
	return `{"nodes": {
	"nixpkgs": ` + ghNode("nixpkgs", nixpkgs, 1754500000) + `,
	"plex-flake": {
		"inputs": {"nixpkgs": "nixpkgs_2", "common": "common"},
		"locked": {"path": "./hosts/plex", "type": "path"},
		"original": {"path": "./hosts/plex", "type": "path"},
		"parent": []
	},
	"nixpkgs_2": ` + ghNode("nixpkgs", plexNixpkgs, 1754000000) + `,
	"common": {
		"locked": {"path": "./common", "type": "path"},
		"original": {"path": "./common", "type": "path"},
		"parent": ["plex-flake"]
	},
	"root": {"inputs": {"nixpkgs": "nixpkgs", "plex-flake": "plex-flake", "pkgs": ["nixpkgs"], "disko-nixpkgs": ["nixpkgs"]}}
}, "root": "root", "version": 7}
`
}

// subLock is the sub-flake's own lock.
func subLock(nixpkgs string) string {
	return `{"nodes": {
	"nixpkgs": ` + ghNode("nixpkgs", nixpkgs, 1754000000) + `,
	"root": {"inputs": {"nixpkgs": "nixpkgs"}}
}, "root": "root", "version": 7}
`
}

// fakeDev is dev on a remote: each Refresh may find it at a new head, and
// Land answers with the next of landErrs (none left: it lands).
type fakeDev struct {
	heads     []string // dev's head after the 1st, 2nd, … Refresh; the last one stays
	refreshes int
	landErrs  []error
	tries     int
	landed    []fleet.Landing
}

func (d *fakeDev) Refresh(context.Context) error { d.refreshes++; return nil }

func (d *fakeDev) DevCommit() (string, error) {
	return d.heads[min(d.refreshes, len(d.heads))-1], nil
}

func (d *fakeDev) Land(_ context.Context, l fleet.Landing) ([]ring.Move, error) {
	d.tries++
	if len(d.landErrs) > 0 {
		err := d.landErrs[0]
		d.landErrs = d.landErrs[1:]
		if err != nil {
			return nil, err
		}
	}
	d.landed = append(d.landed, l)
	return l.Moves, nil
}

func (d *fakeDev) NewEntry(event, ringName string) ledger.Entry {
	return ledger.Entry{Event: event, Ring: ringName, Actor: "ops@lab", Time: entryTime}
}

type commitCall struct {
	parent   string
	files    map[string][]byte
	message  string
	identity string
	when     time.Time
}

// fakeRepo holds commits' files in memory and checks them out into real
// temporary directories; it is also the lock reader.
type fakeRepo struct {
	t        *testing.T
	flakeDir string
	trees    map[string]map[string]string // commit → repository path → content
	scratch  []string                     // the directories handed out
	removed  int
	commits  []commitCall
}

func (r *fakeRepo) FileAt(commit, p string) ([]byte, bool, error) {
	tree, ok := r.trees[commit]
	if !ok {
		return nil, false, fmt.Errorf("no commit %s", commit)
	}
	s, ok := tree[p]
	if !ok {
		return nil, false, nil
	}
	return []byte(s), true, nil
}

func (r *fakeRepo) Scratch(_ context.Context, commit string) (string, func() error, error) {
	dir := r.t.TempDir()
	for p, s := range r.trees[commit] {
		file := filepath.Join(dir, filepath.FromSlash(p))
		if err := os.MkdirAll(filepath.Dir(file), 0o755); err != nil {
			return "", nil, err
		}
		if err := os.WriteFile(file, []byte(s), 0o644); err != nil {
			return "", nil, err
		}
	}
	r.scratch = append(r.scratch, dir)
	return dir, func() error { r.removed++; return nil }, nil
}

func (r *fakeRepo) CommitFiles(parent string, files map[string][]byte, message, identity string, when time.Time) (string, error) {
	r.commits = append(r.commits, commitCall{parent, files, message, identity, when})
	return fmt.Sprintf("c%039d", len(r.commits)), nil
}

func (r *fakeRepo) FlakeDir() string { return r.flakeDir }

func (r *fakeRepo) LockPath(rel string) string { return path.Join(r.flakeDir, rel, "flake.lock") }

func (r *fakeRepo) ReadLock(commit, p string) (*flakelock.Lock, error) {
	data, ok, err := r.FileAt(commit, p)
	if err != nil || !ok {
		return nil, fmt.Errorf("no %s at %s (%v)", p, commit, err)
	}
	return flakelock.Parse(data)
}

type nixCall struct {
	dir    string // relative to the scratch checkout
	inputs []string
}

// fakeNix writes the new lock of a flake directory (relative to the
// scratch checkout), or fails there as nix does: naming the directory.
type fakeNix struct {
	repo   *fakeRepo
	writes map[string]string
	fail   map[string]bool
	calls  []nixCall
}

func (n *fakeNix) UpdateLock(_ context.Context, dir string, inputs []string) error {
	root := n.repo.scratch[len(n.repo.scratch)-1]
	rel, err := filepath.Rel(root, dir)
	if err != nil {
		return err
	}
	rel = filepath.ToSlash(rel)
	n.calls = append(n.calls, nixCall{rel, inputs})
	if n.fail[rel] {
		return fmt.Errorf("update the lock of %s: error: cannot read '%s'", dir, filepath.Join(dir, "flake.nix"))
	}
	if s, ok := n.writes[rel]; ok {
		return os.WriteFile(filepath.Join(dir, "flake.lock"), []byte(s), 0o644)
	}
	return nil
}

type harness struct {
	dev  *fakeDev
	repo *fakeRepo
	nix  *fakeNix
	log  bytes.Buffer
	u    *Updater
}

// newHarness has dev at heads (one per Refresh), every head with files.
func newHarness(t *testing.T, flakeDir string, files map[string]string, heads ...string) *harness {
	h := &harness{dev: &fakeDev{heads: heads}, repo: &fakeRepo{t: t, flakeDir: flakeDir, trees: map[string]map[string]string{}}}
	for _, c := range heads {
		h.repo.trees[c] = files
	}
	h.nix = &fakeNix{repo: h.repo, writes: map[string]string{}, fail: map[string]bool{}}
	h.u = &Updater{Dev: h.dev, Locks: h.repo, Repo: h.repo, Nix: h.nix, Log: &h.log,
		Now:      func() time.Time { return commitTime },
		Settings: Settings{Dev: "main", Author: author}}
	return h
}

func lockFiles(flakeDir string) map[string]string {
	return map[string]string{
		path.Join(flakeDir, "flake.lock"):            topLock(revA, revC),
		path.Join(flakeDir, "hosts/plex/flake.lock"): subLock(revC),
	}
}

const nixpkgsMessage = `flake.lock: update nixpkgs

• Updated input 'nixpkgs':
    github:NixOS/nixpkgs/506ac12 (2025-08-06)
  → github:NixOS/nixpkgs/265b7e2 (2025-08-06)
    https://github.com/NixOS/nixpkgs/compare/506ac128b11642ac576dcdc528b7a5455cc27927...265b7e2dbbdbe2e59609fa31ed8be38cdb517d13
`

func TestRunCommitsAndLands(t *testing.T) {
	for _, flakeDir := range []string{".", "infra"} {
		t.Run(flakeDir, func(t *testing.T) {
			h := newHarness(t, flakeDir, lockFiles(flakeDir), dev1)
			h.nix.writes[flakeDir] = topLock(revB, revC)

			res, err := h.u.Run(context.Background(), Options{})
			if err != nil {
				t.Fatal(err)
			}
			if len(h.repo.commits) != 1 {
				t.Fatalf("commits = %d, want 1", len(h.repo.commits))
			}
			c := h.repo.commits[0]
			topPath := path.Join(flakeDir, "flake.lock")
			if c.parent != dev1 || c.message != nixpkgsMessage || c.identity != author || !c.when.Equal(commitTime) ||
				!slices.Equal(slices.Sorted(maps.Keys(c.files)), []string{topPath}) || string(c.files[topPath]) != topLock(revB, revC) {
				t.Errorf("commit = %+v", c)
			}
			commit := "c" + strings.Repeat("0", 38) + "1"
			want := Result{Committed: true, Commit: commit, Base: dev1, Message: nixpkgsMessage, Attempts: 1}
			if res.Committed != want.Committed || res.Commit != want.Commit || res.Base != want.Base ||
				res.Message != want.Message || res.Attempts != want.Attempts || len(res.Changes) != 1 || res.Changes[0].Path != "nixpkgs" {
				t.Errorf("result = %+v, want %+v and one change of nixpkgs", res, want)
			}
			if len(h.dev.landed) != 1 {
				t.Fatalf("landings = %d, want 1", len(h.dev.landed))
			}
			l := h.dev.landed[0]
			wantMove := ring.Move{Group: "dev", Branch: "main", From: dev1, To: commit}
			if !slices.Equal(l.Moves, []ring.Move{wantMove}) || l.Why != "ringflow: update "+ring.Short(commit) || len(l.Entries) != 1 {
				t.Fatalf("landing = %+v", l)
			}
			e := l.Entries[0]
			if e.Event != ledger.EventUpdate || e.Ring != "" || e.From != dev1 || e.To != commit || e.Reason != "flake.lock: update nixpkgs" ||
				e.Actor != "ops@lab" || !e.Time.Equal(entryTime) ||
				!slices.Equal(e.Groups, []ledger.GroupMove{{Group: "dev", Branch: "main", From: dev1, To: commit}}) {
				t.Errorf("entry = %+v", e)
			}
			if want := []nixCall{{flakeDir, nil}}; !equalCalls(h.nix.calls, want) {
				t.Errorf("nix calls = %v, want %v", h.nix.calls, want)
			}
			if h.repo.removed != 1 {
				t.Errorf("scratch removed %d times, want 1", h.repo.removed)
			}
		})
	}
}

func TestRunNothingToCommit(t *testing.T) {
	tests := []struct {
		name   string
		writes string // the lock nix writes; "" = leaves it alone
		dryRun bool
		msg    string
	}{
		{name: "lock unchanged"},
		{name: "lock rewritten the same", writes: topLock(revA, revC)},
		{name: "dry run", writes: topLock(revB, revC), dryRun: true, msg: nixpkgsMessage},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := newHarness(t, ".", lockFiles("."), dev1)
			if tt.writes != "" {
				h.nix.writes["."] = tt.writes
			}
			res, err := h.u.Run(context.Background(), Options{DryRun: tt.dryRun})
			if err != nil {
				t.Fatal(err)
			}
			if res.Committed || res.Commit != dev1 || res.Base != dev1 || res.Message != tt.msg || res.Attempts != 1 {
				t.Errorf("result = %+v, want dev unchanged and message %q", res, tt.msg)
			}
			if len(h.repo.commits) != 0 || h.dev.tries != 0 {
				t.Errorf("commits = %d, landings tried = %d; want none", len(h.repo.commits), h.dev.tries)
			}
		})
	}
}

func TestRunLostRace(t *testing.T) {
	conflict := &gitrepo.RefConflictError{Ref: "refs/heads/main", Expected: dev1, Actual: dev2}
	stale := &gitrepo.PushRejectedError{Remote: "origin", Refs: []gitrepo.RejectedRef{{Ref: "refs/heads/main", Reason: "stale info"}}}
	hook := &gitrepo.PushRejectedError{Remote: "origin", Refs: []gitrepo.RejectedRef{{Ref: "refs/heads/main", Reason: "pre-receive hook declined"}}}
	retry := func(n int) string {
		return fmt.Sprintf("dev moved while updating (attempt %d of 3); updating again on its new head\n", n)
	}
	tests := []struct {
		name     string
		landErrs []error
		attempts int    // of the result; 0 = it fails
		wantErr  string // "" = it lands
		log      string
	}{
		{name: "ref conflict once", landErrs: []error{conflict}, attempts: 2, log: retry(1)},
		{name: "stale push twice", landErrs: []error{stale, stale}, attempts: 3, log: retry(1) + retry(2)},
		{name: "dev keeps moving", landErrs: []error{conflict, stale, stale},
			wantErr: "dev moved under every one of 3 attempts to update it; try again later: " + stale.Error(),
			log:     retry(1) + retry(2) + retry(3)},
		// A hook's refusal is no race: it is not redone.
		{name: "hook refuses", landErrs: []error{hook}, wantErr: hook.Error()},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := newHarness(t, ".", lockFiles("."), dev1, dev2, dev3)
			h.nix.writes["."] = topLock(revB, revC)
			h.dev.landErrs = tt.landErrs

			res, err := h.u.Run(context.Background(), Options{})
			if h.log.String() != tt.log {
				t.Errorf("log = %q, want %q", h.log.String(), tt.log)
			}
			if tt.wantErr != "" {
				if err == nil || err.Error() != tt.wantErr {
					t.Fatalf("err = %v, want %q", err, tt.wantErr)
				}
				var moved *DevMovedError
				if gaveUp := errors.As(err, &moved); gaveUp != (len(tt.landErrs) == attempts) {
					t.Errorf("DevMovedError = %v, want one only when every attempt lost", gaveUp)
				} else if gaveUp && (moved.Attempts != 3 || !errors.Is(err, stale)) {
					t.Errorf("DevMovedError = %+v, want 3 attempts wrapping the last race", moved)
				}
				if len(h.dev.landed) != 0 {
					t.Errorf("landed %d times, want none", len(h.dev.landed))
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			// Each attempt started from a Refresh, on dev's head as then fetched.
			wantParents := []string{dev1, dev2, dev3}[:tt.attempts]
			var parents []string
			for _, c := range h.repo.commits {
				parents = append(parents, c.parent)
			}
			if res.Attempts != tt.attempts || h.dev.refreshes != tt.attempts || !slices.Equal(parents, wantParents) {
				t.Errorf("attempts = %d, refreshes = %d, commit parents = %v; want %d, %d, %v",
					res.Attempts, h.dev.refreshes, parents, tt.attempts, tt.attempts, wantParents)
			}
			last := wantParents[len(wantParents)-1]
			if len(h.dev.landed) != 1 || h.dev.landed[0].Moves[0].From != last || res.Base != last {
				t.Errorf("landed %+v, base %s; want one landing from %s", h.dev.landed, res.Base, last)
			}
		})
	}
}

func TestRunUnknownInput(t *testing.T) {
	h := newHarness(t, ".", lockFiles("."), dev1)
	_, err := h.u.Run(context.Background(), Options{Inputs: []string{"nixpkgs", "home-manager"}})
	var unknown *UnknownInputError
	if !errors.As(err, &unknown) || unknown.Input != "home-manager" || !slices.Equal(unknown.Known, []string{"disko-nixpkgs", "nixpkgs", "pkgs", "plex-flake"}) {
		t.Fatalf("err = %#v, want an UnknownInputError for home-manager listing the root's inputs, sorted", err)
	}
	if want := `unknown input "home-manager" (inputs: disko-nixpkgs, nixpkgs, pkgs, plex-flake)`; err.Error() != want {
		t.Errorf("err = %q, want %q", err, want)
	}
	if len(h.nix.calls) != 0 || len(h.repo.scratch) != 0 || h.dev.refreshes != 1 {
		t.Errorf("nix calls = %v, scratch checkouts = %d, refreshes = %d; want none, none, 1", h.nix.calls, len(h.repo.scratch), h.dev.refreshes)
	}
}

func TestRunSubFlake(t *testing.T) {
	tests := []struct {
		name       string
		inputs     []string
		writes     map[string]string
		wantCalls  []nixCall
		wantFiles  []string
		wantPrefix string // of the message
		wantReason string
	}{
		{
			name:   "sub-flake and top lock",
			inputs: []string{"plex-flake"},
			writes: map[string]string{"hosts/plex": subLock(revB), ".": topLock(revA, revB)},
			// The sub-flake's own lock first, then the top lock takes it.
			wantCalls:  []nixCall{{"hosts/plex", nil}, {".", []string{"plex-flake"}}},
			wantFiles:  []string{"flake.lock", "hosts/plex/flake.lock"},
			wantPrefix: "flake.lock: update plex-flake/nixpkgs\n\n• Updated input 'plex-flake/nixpkgs':\n",
			wantReason: "flake.lock: update plex-flake/nixpkgs",
		},
		{
			name:       "only the sub-flake's own lock",
			inputs:     []string{"plex-flake"},
			writes:     map[string]string{"hosts/plex": subLock(revB)},
			wantCalls:  []nixCall{{"hosts/plex", nil}, {".", []string{"plex-flake"}}},
			wantFiles:  []string{"hosts/plex/flake.lock"},
			wantPrefix: "flake.lock: update hosts/plex/flake.lock\n",
			wantReason: "flake.lock: update",
		},
		{
			name:       "a sub-flake's own path input is no sub-flake of the top",
			inputs:     []string{"plex-flake/common"},
			writes:     map[string]string{".": topLock(revA, revB)},
			wantCalls:  []nixCall{{".", []string{"plex-flake/common"}}},
			wantFiles:  []string{"flake.lock"},
			wantPrefix: "flake.lock: update plex-flake/nixpkgs\n\n",
			wantReason: "flake.lock: update plex-flake/nixpkgs",
		},
		{
			name:       "a nested input is no sub-flake",
			inputs:     []string{"plex-flake/nixpkgs"},
			writes:     map[string]string{".": topLock(revA, revB)},
			wantCalls:  []nixCall{{".", []string{"plex-flake/nixpkgs"}}},
			wantFiles:  []string{"flake.lock"},
			wantPrefix: "flake.lock: update plex-flake/nixpkgs\n\n",
			wantReason: "flake.lock: update plex-flake/nixpkgs",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := newHarness(t, ".", lockFiles("."), dev1)
			h.nix.writes = tt.writes
			res, err := h.u.Run(context.Background(), Options{Inputs: tt.inputs})
			if err != nil {
				t.Fatal(err)
			}
			if !equalCalls(h.nix.calls, tt.wantCalls) {
				t.Errorf("nix calls = %v, want %v", h.nix.calls, tt.wantCalls)
			}
			if len(h.repo.commits) != 1 {
				t.Fatalf("commits = %d, want 1", len(h.repo.commits))
			}
			c := h.repo.commits[0]
			if got := slices.Sorted(maps.Keys(c.files)); !slices.Equal(got, tt.wantFiles) {
				t.Errorf("committed files = %v, want %v", got, tt.wantFiles)
			}
			for p, data := range c.files {
				if want := tt.writes[path.Dir(p)]; string(data) != want {
					t.Errorf("committed %s = %s, want what nix wrote", p, data)
				}
			}
			if !strings.HasPrefix(c.message, tt.wantPrefix) || res.Message != c.message {
				t.Errorf("message = %q, want it to start %q", c.message, tt.wantPrefix)
			}
			if e := h.dev.landed[0].Entries[0]; e.Reason != tt.wantReason {
				t.Errorf("ledger reason = %q, want %q", e.Reason, tt.wantReason)
			}
		})
	}
}

func TestRunSubFlakeLockFails(t *testing.T) {
	h := newHarness(t, "infra", lockFiles("infra"), dev1)
	h.nix.fail["infra/hosts/plex"] = true
	_, err := h.u.Run(context.Background(), Options{Inputs: []string{"plex-flake"}})
	if err == nil {
		t.Fatal("no error")
	}
	want := "infra/hosts/plex/flake.lock at 111111111111: update the lock of infra/hosts/plex: error: cannot read 'infra/hosts/plex/flake.nix'"
	if err.Error() != want {
		t.Errorf("err = %q, want %q", err, want)
	}
	if strings.Contains(err.Error(), h.repo.scratch[0]) {
		t.Errorf("err names the scratch checkout %s: %v", h.repo.scratch[0], err)
	}
	if len(h.nix.calls) != 1 || len(h.repo.commits) != 0 || h.dev.tries != 0 || h.repo.removed != 1 {
		t.Errorf("nix calls = %v, commits = %d, landings = %d, removed = %d; want the top lock untouched, nothing landed, scratch removed",
			h.nix.calls, len(h.repo.commits), h.dev.tries, h.repo.removed)
	}
}

func equalCalls(a, b []nixCall) bool {
	return slices.EqualFunc(a, b, func(x, y nixCall) bool { return x.dir == y.dir && slices.Equal(x.inputs, y.inputs) })
}
