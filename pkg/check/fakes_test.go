package check

import (
	"context"
	"errors"
	"path/filepath"
	"strings"

	"github.com/ringflow/ringflow/pkg/config"
	"github.com/ringflow/ringflow/pkg/evidence"
	"github.com/ringflow/ringflow/pkg/fleet"
	"github.com/ringflow/ringflow/pkg/gitrepo"
	"github.com/ringflow/ringflow/pkg/membership"
	"github.com/ringflow/ringflow/pkg/ring"
)

// Small fakes of what Check works on: no git, no nix, no /proc.

// commit makes a 40-hex commit ID from a short name.
func commit(name string) string {
	return name + strings.Repeat("0", 40-len(name))
}

// fakeFleet is a fleet of two rings: canary (group canary) and stable
// (groups stable and field), dev "dev".
type fakeFleet struct {
	remote   string
	noRings  error
	state    *fleet.State
	stateErr error
	// sync runs in State, before the state is returned: what the fetch
	// does to the repository.
	sync     func()
	hosts    []membership.Placement
	hostsErr error
	recorded map[string]map[string]evidence.Host
}

func (f *fakeFleet) RequireRings() error { return f.noRings }

func (f *fakeFleet) Settings() Settings {
	return Settings{
		Dev: "dev", Remote: f.remote, Groups: 3,
		Branches:         []string{"dev", "canary", "stable", "field"},
		EvidenceTracking: "refs/notes/ringflow/remotes/" + f.remote + "/evidence",
		LedgerTracking:   "refs/ringflow/remotes/" + f.remote + "/ledger",
	}
}

func (f *fakeFleet) BranchRef(b string) string {
	if f.remote != "" {
		return "refs/remotes/" + f.remote + "/" + b
	}
	return "refs/heads/" + b
}

func (f *fakeFleet) State(context.Context) (*fleet.State, error) {
	if f.sync != nil {
		f.sync()
	}
	return f.state, f.stateErr
}

func (f *fakeFleet) Hosts(_ context.Context, c string) ([]membership.Placement, error) {
	return f.hosts, f.hostsErr
}

func (f *fakeFleet) RecordEvidence(_ context.Context, c string, hosts map[string]evidence.Host) error {
	if f.recorded == nil {
		f.recorded = map[string]map[string]evidence.Host{}
	}
	f.recorded[c] = hosts
	return nil
}

// state builds the fleet's state: dev at dev, and each group's branch at
// the commit given ("" = missing); a ring's position is its groups'
// commit when they agree.
func state(dev, canary, stable, field string) *fleet.State {
	g := func(ring, name string) config.Group {
		return config.Group{Name: name, Ring: ring, Branch: name, Key: "rings[" + map[string]string{"canary": "0", "stable": "1"}[ring] + "].groups[" + name + "]"}
	}
	pos := func(cs ...string) string {
		for _, c := range cs[1:] {
			if c != cs[0] {
				return ""
			}
		}
		return cs[0]
	}
	cc, cs, cf := g("canary", "canary"), g("stable", "stable"), g("stable", "field")
	return &fleet.State{Dev: "dev", DevCommit: dev, Rings: []fleet.RingState{
		{Ring: config.Ring{Name: "canary", Groups: []config.Group{cc}}, Position: canary,
			Groups: []ring.GroupState{{Group: fleet.GroupOf(cc), Commit: canary, Head: canary}}},
		{Ring: config.Ring{Name: "stable", Groups: []config.Group{cs, cf}}, Position: pos(stable, field),
			Groups: []ring.GroupState{{Group: fleet.GroupOf(cs), Commit: stable, Head: stable}, {Group: fleet.GroupOf(cf), Commit: field, Head: field}}},
	}}
}

// fakeRepo is a repository at /repo whose history is one line: commits
// are ancestors of those that sort after them (commit("a") < commit("b")).
type fakeRepo struct {
	refs    map[string]string
	commits map[string]bool // what ResolveCommit knows, besides refs' values
	updates []gitrepo.RefUpdate

	notes map[string]map[string]string // notes commit -> commit -> blob
	blobs map[string][]byte

	locks        []gitrepo.LockFile
	remoteLocks  []gitrepo.LockFile
	removedLocks []string
	removeErr    error

	broken   []gitrepo.BrokenRef
	replaced map[string]string // path -> value written ("" deleted)
	reflog   map[string]string

	scratchTaken  bool // another process holds the scratch lock
	cycleHeld     bool
	entries       []gitrepo.ScratchEntry
	orphans       []gitrepo.ScratchDir
	removedScr    []string
	lockedScratch bool // the scratch lock is held by Check now
}

func newRepo() *fakeRepo {
	return &fakeRepo{refs: map[string]string{}, commits: map[string]bool{}, replaced: map[string]string{}, reflog: map[string]string{}}
}

func (r *fakeRepo) Ref(name string) (string, bool, error) {
	v, ok := r.refs[name]
	return v, ok, nil
}

func (r *fakeRepo) ResolveCommit(rev string) (string, error) {
	if r.commits[rev] {
		return rev, nil
	}
	return "", gitrepo.ErrUnknownRevision
}

func (r *fakeRepo) IsAncestor(a, d string) (bool, error) { return a <= d, nil }

func (r *fakeRepo) CountBetween(base, tip string) (int, error) {
	return int(tip[0]) - int(base[0]), nil
}

func (r *fakeRepo) UpdateRefs(_ context.Context, us []gitrepo.RefUpdate, _ string) error {
	for _, u := range us {
		if r.refs[u.Ref] != u.Old {
			return &gitrepo.RefConflictError{Ref: u.Ref, Expected: u.Old, Actual: r.refs[u.Ref]}
		}
		r.refs[u.Ref] = u.New
	}
	r.updates = append(r.updates, us...)
	return nil
}

func (r *fakeRepo) Notes(tip string) (map[string]string, error) { return r.notes[tip], nil }

func (r *fakeRepo) NoteBlob(blob string) ([]byte, error) {
	if b, ok := r.blobs[blob]; ok {
		return b, nil
	}
	return nil, errors.New("no such blob")
}

func (r *fakeRepo) Path() string { return "/repo" }

func (r *fakeRepo) RealDirs() (string, string, string) { return "/repo", "/repo/.git", "/repo/.git" }

func (r *fakeRepo) LockFiles() []gitrepo.LockFile { return r.locks }

func (r *fakeRepo) RemoteLockFiles(remote string) (string, []gitrepo.LockFile, bool) {
	if r.remoteLocks == nil {
		return "", nil, false
	}
	return "/srv/origin.git", r.remoteLocks, true
}

func (r *fakeRepo) RemoveLockFile(l gitrepo.LockFile) (bool, error) {
	if r.removeErr != nil {
		return false, r.removeErr
	}
	r.removedLocks = append(r.removedLocks, l.Path)
	return true, nil
}

func (r *fakeRepo) BrokenRefs() []gitrepo.BrokenRef { return r.broken }

func (r *fakeRepo) ReplaceRefFile(path string, was []byte, value string) error {
	r.replaced[path] = value
	name, _ := filepath.Rel("/repo/.git", path)
	if value == "" {
		delete(r.refs, name)
	} else {
		r.refs[name] = value
	}
	return nil
}

func (r *fakeRepo) LastReflogValue(ref string) string { return r.reflog[ref] }

func (r *fakeRepo) Lock(name string, wait bool) (func(), error) {
	if name != "scratch" || wait || r.lockedScratch {
		panic("unexpected lock " + name)
	}
	if r.scratchTaken {
		return nil, &gitrepo.LockedError{Name: name}
	}
	r.lockedScratch = true
	return func() { r.lockedScratch = false }, nil
}

func (r *fakeRepo) LockHeld(name string) bool { return name == "cycle" && r.cycleHeld }

func (r *fakeRepo) ScratchEntries() []gitrepo.ScratchEntry { return r.entries }

func (r *fakeRepo) OrphanScratchDirs([]gitrepo.ScratchEntry) []gitrepo.ScratchDir {
	if !r.lockedScratch {
		panic("OrphanScratchDirs outside the scratch lock")
	}
	return r.orphans
}

func (r *fakeRepo) RemoveScratchEntry(se gitrepo.ScratchEntry) error {
	if r.lockedScratch {
		panic("RemoveScratchEntry under the scan's scratch lock: it would wait for itself")
	}
	r.removedScr = append(r.removedScr, se.Admin)
	return nil
}

func (r *fakeRepo) RemoveScratchDir(d gitrepo.ScratchDir) (bool, error) {
	r.removedScr = append(r.removedScr, d.Path)
	return true, nil
}

// fakeProcs: who works where, the same answer for every directory.
type fakeProcs struct {
	blind         bool // no /proc
	git, ringflow bool
	used          map[string]bool
}

func (p fakeProcs) Visible() bool            { return !p.blind }
func (p fakeProcs) GitIn([]string) bool      { return p.blind || p.git }
func (p fakeProcs) RingflowIn([]string) bool { return p.blind || p.ringflow }
func (p fakeProcs) UsedBy(dirs []string) bool {
	for _, d := range dirs {
		if p.used[d] {
			return true
		}
	}
	return p.blind
}
