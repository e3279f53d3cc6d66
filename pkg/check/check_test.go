package check

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/ringflow/ringflow/pkg/evidence"
	"github.com/ringflow/ringflow/pkg/fleet"
	"github.com/ringflow/ringflow/pkg/gitrepo"
	"github.com/ringflow/ringflow/pkg/ledger"
	"github.com/ringflow/ringflow/pkg/membership"
)

var (
	cA, cB, cC = commit("a"), commit("b"), commit("c")
)

// healthy is a fleet whose rings all stand at dev's head, three hosts placed.
func healthy(remote string) (*fakeFleet, *fakeRepo) {
	fl := &fakeFleet{remote: remote, state: state(cB, cB, cA, cA),
		hosts: []membership.Placement{{Host: "lab-1"}, {Host: "web-1"}, {Host: "sbc-1"}}}
	return fl, newRepo()
}

// run checks and returns the report and the problems found.
func run(t *testing.T, fl *fakeFleet, repo *fakeRepo, procs fakeProcs, repair bool) (*CheckReport, []string) {
	t.Helper()
	rep, err := Check(context.Background(), Target{Fleet: fl, Repo: repo, ScanProcs: func() Processes { return procs }}, CheckOptions{Repair: repair})
	var cerr *CheckError
	switch {
	case errors.As(err, &cerr):
		if len(cerr.Problems) == 0 {
			t.Fatal("a CheckError without problems")
		}
		return rep, cerr.Problems
	case err != nil:
		t.Fatalf("Check: %v", err)
	}
	return rep, nil
}

func wantProblems(t *testing.T, got []string, want ...string) {
	t.Helper()
	if !slices.Equal(got, want) {
		t.Errorf("problems:\n  %s\nwant:\n  %s", strings.Join(got, "\n  "), strings.Join(want, "\n  "))
	}
}

func TestCheckHealthy(t *testing.T) {
	fl, repo := healthy("origin")
	rep, problems := run(t, fl, repo, fakeProcs{}, false)
	wantProblems(t, problems)
	want := CheckReport{DevCommit: cB, Hosts: 3, Groups: 3, Rings: 2}
	if rep.DevCommit != want.DevCommit || rep.Hosts != want.Hosts || rep.Groups != want.Groups || rep.Rings != want.Rings || len(rep.Repaired) != 0 {
		t.Errorf("report = %+v, want %+v", *rep, want)
	}
}

func TestCheckNoRings(t *testing.T) {
	fl, repo := healthy("")
	fl.noRings = &fleet.NoRingsError{File: "x.yaml"}
	_, err := Check(context.Background(), Target{Fleet: fl, Repo: repo}, CheckOptions{})
	var nr *fleet.NoRingsError
	if !errors.As(err, &nr) {
		t.Errorf("err = %v, want the NoRingsError", err)
	}
}

func TestCheckMissingBranches(t *testing.T) {
	for _, remote := range []string{"", "origin"} {
		where := ""
		if remote != "" {
			where = " on remote origin"
		}
		fl, repo := healthy(remote)
		fl.state = state("", "", cA, cA)
		fl.hostsErr = errors.New("hosts must not be read without dev")
		_, problems := run(t, fl, repo, fakeProcs{}, false)
		wantProblems(t, problems,
			`dev branch "dev" does not exist`+where+" (run `ringflow init`)",
			"branch canary of group canary (ring canary) does not exist"+where+" (run `ringflow init`)")
	}
}

func TestCheckPins(t *testing.T) {
	fl, repo := healthy("origin")
	repo.commits[cA] = true
	fl.state.Rings[1].Ring.Groups[0].Pin.Commit = "0000000"
	fl.state.Rings[1].Ring.Groups[1].Pin.Commit = cA // at its pin: fine
	_, problems := run(t, fl, repo, fakeProcs{}, false)
	wantProblems(t, problems, "rings[1].groups[stable].pin: 0000000 is not a commit of the repository")

	// Behind its pin: the one-group promotion that puts it there.
	repo.commits[cB] = true
	fl.state.Rings[1].Ring.Groups[0].Pin.Commit = cB
	_, problems = run(t, fl, repo, fakeProcs{}, false)
	wantProblems(t, problems, "group stable is pinned at b00000000000 but branch stable is at a00000000000 (run `ringflow promote stable --group stable b00000000000`)")

	// Past its pin: the same command takes it back, by a tree copy on top.
	fl.state.Rings[1].Groups[0].Commit = cC
	_, problems = run(t, fl, repo, fakeProcs{}, false)
	wantProblems(t, problems, "group stable is pinned at b00000000000 but branch stable is at c00000000000 (run `ringflow promote stable --group stable b00000000000`)")
}

func TestCheckOrder(t *testing.T) {
	fl, repo := healthy("origin")
	fl.state = state(cB, cA, cC, cC) // stable ahead of canary
	_, problems := run(t, fl, repo, fakeProcs{}, false)
	wantProblems(t, problems, "ring stable is at c00000000000, which is not on canary (at a00000000000)")

	fl.state = state(cB, cC, cA, cA) // canary ahead of dev
	_, problems = run(t, fl, repo, fakeProcs{}, false)
	wantProblems(t, problems, "ring canary is at c00000000000, which is not on dev (at b00000000000)")
}

func TestCheckDiverged(t *testing.T) {
	fl, repo := healthy("origin")
	fl.state = state(cB, cB, cA, cB)
	fl.state.Rings[1].Err = errors.New("ring stable: groups stable and field diverged")
	_, problems := run(t, fl, repo, fakeProcs{}, false)
	wantProblems(t, problems, "ring stable: groups stable and field diverged")
}

func TestCheckHosts(t *testing.T) {
	fl, repo := healthy("origin")
	fl.hostsErr = fmt.Errorf("placing: %w", &membership.Error{Unassigned: []string{"web-1"}})
	_, problems := run(t, fl, repo, fakeProcs{}, false)
	wantProblems(t, problems, `no group takes 1 host(s): web-1 (add a group whose hosts are ["*"], or name them)`)

	fl.hostsErr = errors.New("nix eval failed")
	_, problems = run(t, fl, repo, fakeProcs{}, false)
	wantProblems(t, problems, "hosts at dev b00000000000: nix eval failed")
}

func TestCheckStateUnreadable(t *testing.T) {
	// Alone, the error is Check's.
	fl, repo := healthy("origin")
	fl.stateErr = errors.New("fetch failed")
	if _, err := Check(context.Background(), Target{Fleet: fl, Repo: repo, ScanProcs: func() Processes { return fakeProcs{} }}, CheckOptions{}); err == nil || err.Error() != "fetch failed" {
		t.Errorf("err = %v, want the fetch's", err)
	}
	// After problems found before the sync, it is one more: exit 2.
	repo.broken = []gitrepo.BrokenRef{{Name: "refs/heads/topic", Path: "/repo/.git/refs/heads/topic"}}
	_, problems := run(t, fl, repo, fakeProcs{}, false)
	wantProblems(t, problems,
		"ref file .git/refs/heads/topic is empty (a write cut short): refs/heads/topic cannot be read, and it is not ringflow's to restore: it needs a person",
		"the branches could not be read: fetch failed")
}

// TestCheckLockRepairOnlyWithRepair: a stale lock is a problem; only
// --repair removes it, and says so.
func TestCheckLockRepairOnlyWithRepair(t *testing.T) {
	fl, repo := healthy("origin")
	lock := gitrepo.LockFile{Path: "/repo/.git/index.lock", ModTime: time.Now().Add(-90 * time.Second)}
	repo.locks = []gitrepo.LockFile{lock}

	_, problems := run(t, fl, repo, fakeProcs{}, false)
	wantProblems(t, problems, "stale lock file /repo/.git/index.lock, left by a git that was killed (1m30s old): git refuses to work on what it locks until it is removed (ringflow check --repair)")
	if len(repo.removedLocks) != 0 {
		t.Errorf("check without --repair removed %v", repo.removedLocks)
	}

	rep, problems := run(t, fl, repo, fakeProcs{}, true)
	wantProblems(t, problems)
	if !slices.Equal(repo.removedLocks, []string{lock.Path}) || !slices.Equal(rep.Repaired, []string{"removed stale lock file /repo/.git/index.lock"}) {
		t.Errorf("removed %v, repaired %q", repo.removedLocks, rep.Repaired)
	}

	// A git works in the repository: its index.lock may be live.
	repo.removedLocks = nil
	_, problems = run(t, fl, repo, fakeProcs{git: true}, true)
	wantProblems(t, problems)
	if len(repo.removedLocks) != 0 {
		t.Errorf("a lock a live git may hold was removed")
	}

	// A repair that fails leaves the problem, saying why.
	repo.removeErr = errors.New("/repo/.git/index.lock was taken again meanwhile; left alone")
	_, problems = run(t, fl, repo, fakeProcs{}, true)
	wantProblems(t, problems, "stale lock file /repo/.git/index.lock, left by a git that was killed (1m30s old): git refuses to work on what it locks until it is removed (ringflow check --repair); the repair failed: /repo/.git/index.lock was taken again meanwhile; left alone")
}

func TestCheckRemoteLock(t *testing.T) {
	fl, repo := healthy("origin")
	repo.remoteLocks = []gitrepo.LockFile{{Path: "/srv/origin.git/refs/heads/dev.lock", Short: true, ModTime: time.Now().Add(-2 * time.Minute)}}
	rep, problems := run(t, fl, repo, fakeProcs{git: true}, true) // old ref lock: stale even with git there
	wantProblems(t, problems)
	if !slices.Equal(rep.Repaired, []string{"removed stale lock file /srv/origin.git/refs/heads/dev.lock of remote origin"}) {
		t.Errorf("repaired %q", rep.Repaired)
	}
}

func TestCheckScratch(t *testing.T) {
	fl, repo := healthy("origin")
	old := time.Now().Add(-25 * time.Hour)
	repo.entries = []gitrepo.ScratchEntry{
		{Admin: "/repo/.git/worktrees/ringflow-scratch-1", Unfinished: true},
		{Admin: "/repo/.git/worktrees/ringflow-scratch-2", Dir: "/tmp/ringflow-scratch-2", DirGone: true, AdminTime: time.Now()},
		{Admin: "/repo/.git/worktrees/ringflow-scratch-3", Dir: "/tmp/ringflow-scratch-3", AdminTime: time.Now()}, // nobody uses it
		{Admin: "/repo/.git/worktrees/ringflow-scratch-4", Dir: "/tmp/ringflow-scratch-4", AdminTime: old},        // used, but a day old
		{Admin: "/repo/.git/worktrees/ringflow-scratch-5", Dir: "/tmp/ringflow-scratch-5", AdminTime: time.Now()}, // used
		{Admin: "/repo/.git/worktrees/ringflow-scratch-6", Dir: "/tmp/ringflow-scratch-6", Kept: true},
	}
	repo.orphans = []gitrepo.ScratchDir{
		{Path: "/tmp/ringflow-scratch-7"},
		{Path: "/tmp/ringflow-scratch-8", Empty: true, ModTime: time.Now()},                 // young: no problem
		{Path: "/tmp/ringflow-scratch-9", Empty: true, ModTime: time.Now().Add(-time.Hour)}, // old: a problem
	}
	procs := fakeProcs{used: map[string]bool{"/tmp/ringflow-scratch-4": true, "/tmp/ringflow-scratch-5": true}}
	_, problems := run(t, fl, repo, procs, false)
	wantProblems(t, problems,
		"stale ringflow scratch checkout /repo/.git/worktrees/ringflow-scratch-1 (work tree entry /repo/.git/worktrees/ringflow-scratch-1): its entry was never finished (the process creating it was killed)",
		"stale ringflow scratch checkout /tmp/ringflow-scratch-2 (work tree entry /repo/.git/worktrees/ringflow-scratch-2): its directory is gone",
		"stale ringflow scratch checkout /tmp/ringflow-scratch-3 (work tree entry /repo/.git/worktrees/ringflow-scratch-3): no process is using it",
		"stale ringflow scratch checkout /tmp/ringflow-scratch-4 (work tree entry /repo/.git/worktrees/ringflow-scratch-4): it is older than 24h0m0s",
		"stale ringflow scratch directory /tmp/ringflow-scratch-7: its work tree entry is gone",
		"stale ringflow scratch directory /tmp/ringflow-scratch-9: it is empty (its checkout never started)")
	if len(repo.removedScr) != 0 {
		t.Errorf("check without --repair removed %v", repo.removedScr)
	}

	// Another ringflow at work, or a cycle holding its lock: only what is
	// certainly dead, or a day old, goes.
	for _, p := range []fakeProcs{{ringflow: true}, {}} {
		repo.cycleHeld = !p.ringflow
		repo.removedScr = nil
		rep, problems := run(t, fl, repo, p, true)
		wantProblems(t, problems)
		wantRemoved := []string{"/repo/.git/worktrees/ringflow-scratch-1", "/repo/.git/worktrees/ringflow-scratch-2", "/repo/.git/worktrees/ringflow-scratch-4",
			"/tmp/ringflow-scratch-7", "/tmp/ringflow-scratch-8", "/tmp/ringflow-scratch-9"}
		if !slices.Equal(repo.removedScr, wantRemoved) {
			t.Errorf("removed %v, want %v", repo.removedScr, wantRemoved)
		}
		if len(rep.Repaired) != 6 || rep.Repaired[1] != "removed stale scratch checkout /tmp/ringflow-scratch-2 and its work tree entry (its directory is gone)" ||
			rep.Repaired[4] != "removed empty scratch directory /tmp/ringflow-scratch-8 (its checkout never started)" {
			t.Errorf("repaired:\n%s", strings.Join(rep.Repaired, "\n"))
		}
	}

	// While another process holds the scratch lock, nothing is looked at.
	repo.scratchTaken = true
	_, problems = run(t, fl, repo, procs, false)
	wantProblems(t, problems)
}

// TestCheckBrokenRefs: what a ref file cut short gets, by whose it is.
func TestCheckBrokenRefs(t *testing.T) {
	ledger := gitrepo.BrokenRef{Name: "refs/ringflow/ledger", Path: "/repo/.git/refs/ringflow/ledger", Content: []byte("a000")}
	tracking := gitrepo.BrokenRef{Name: "refs/remotes/origin/dev", Path: "/repo/.git/refs/remotes/origin/dev"}
	topic := gitrepo.BrokenRef{Name: "refs/heads/topic", Path: "/repo/.git/refs/heads/topic"}

	// Without a remote there is no copy: a person's, with the reflog's hint.
	fl, repo := healthy("")
	repo.broken = []gitrepo.BrokenRef{ledger}
	repo.reflog["refs/ringflow/ledger"] = cA
	_, problems := run(t, fl, repo, fakeProcs{}, true)
	wantProblems(t, problems, `ref file .git/refs/ringflow/ledger is corrupt (4 bytes: "a000") (a write cut short): refs/ringflow/ledger cannot be read, and with no remote there is no copy to restore it from: it needs a person; its reflog last recorded a00000000000: if that is right, `+"`rm .git/refs/ringflow/ledger && git update-ref refs/ringflow/ledger "+cA+"`")
	if len(repo.replaced) != 0 {
		t.Errorf("replaced %v", repo.replaced)
	}

	// With a remote: not ringflow's stays a person's; a tracking ref is
	// deleted for the fetch to write again; one of ringflow's is deleted
	// before the sync and restored from the remote's copy after it.
	fl, repo = healthy("origin")
	repo.broken = []gitrepo.BrokenRef{topic, tracking, ledger}
	repo.refs[fl.Settings().LedgerTracking] = cB
	repo.refs["refs/ringflow/ledger"] = "garbage"
	_, problems = run(t, fl, repo, fakeProcs{}, false)
	wantProblems(t, problems,
		"ref file .git/refs/heads/topic is empty (a write cut short): refs/heads/topic cannot be read, and it is not ringflow's to restore: it needs a person",
		"ref file .git/refs/remotes/origin/dev is empty (a write cut short): refs/remotes/origin/dev is a copy of remote origin's and cannot be read (ringflow check --repair deletes it; the next fetch writes it again)",
		`ref file .git/refs/ringflow/ledger is corrupt (4 bytes: "a000") (a write cut short): refs/ringflow/ledger cannot be read (ringflow check --repair restores it from remote origin)`)
	if len(repo.replaced) != 0 {
		t.Errorf("check without --repair replaced %v", repo.replaced)
	}
	var atSync map[string]string
	fl.sync = func() { atSync = maps.Clone(repo.replaced) }
	rep, problems := run(t, fl, repo, fakeProcs{}, true)
	wantProblems(t, problems, "ref file .git/refs/heads/topic is empty (a write cut short): refs/heads/topic cannot be read, and it is not ringflow's to restore: it needs a person")
	if v, ok := atSync[ledger.Path]; !ok || v != "" {
		t.Errorf("the ledger ref file was not deleted before the sync: %v", atSync)
	}
	if repo.replaced[ledger.Path] != cB || repo.replaced[tracking.Path] != "" {
		t.Errorf("replaced %v", repo.replaced)
	}
	wantRepaired := []string{
		"deleted the empty ref file .git/refs/remotes/origin/dev; fetched again from remote origin",
		`restored the corrupt (4 bytes: "a000") ref file .git/refs/ringflow/ledger from remote origin: b00000000000`,
	}
	if !slices.Equal(rep.Repaired, wantRepaired) {
		t.Errorf("repaired:\n%s", strings.Join(rep.Repaired, "\n"))
	}
}

// TestCheckSyncRewrites: with --repair, a tracking ref the sync moved is
// said to have disagreed with the remote.
func TestCheckSyncRewrites(t *testing.T) {
	fl, repo := healthy("origin")
	repo.refs["refs/remotes/origin/canary"] = cA
	repo.refs["refs/remotes/origin/stable"] = cA
	fl.sync = func() { repo.refs["refs/remotes/origin/canary"] = cB }
	rep, problems := run(t, fl, repo, fakeProcs{}, false)
	wantProblems(t, problems)
	if len(rep.Repaired) != 0 {
		t.Errorf("check without --repair: repaired %q", rep.Repaired)
	}
	repo.refs["refs/remotes/origin/canary"] = cA
	rep, _ = run(t, fl, repo, fakeProcs{}, true)
	if want := []string{"refs/remotes/origin/canary disagreed with remote origin (at a00000000000); fetched b00000000000"}; !slices.Equal(rep.Repaired, want) {
		t.Errorf("repaired %q, want %q", rep.Repaired, want)
	}
}

// fakeLedger is a ledger as read: its commits and how the local copy
// stands against the remote's.
type fakeLedger struct {
	entries []ledger.Entry
	lag     ledger.Lag
	readErr error
}

func (l *fakeLedger) Read(int) ([]ledger.Entry, error) { return l.entries, l.readErr }
func (l *fakeLedger) Lag() (ledger.Lag, error)         { return l.lag, nil }

// runLedger is run with a ledger.
func runLedger(t *testing.T, fl *fakeFleet, repo *fakeRepo, led Ledger, repair bool) (*CheckReport, []string) {
	t.Helper()
	rep, err := Check(context.Background(), Target{Fleet: fl, Repo: repo, Ledger: led, ScanProcs: func() Processes { return fakeProcs{} }}, CheckOptions{Repair: repair})
	var cerr *CheckError
	switch {
	case errors.As(err, &cerr):
		return rep, cerr.Problems
	case err != nil:
		t.Fatalf("Check: %v", err)
	}
	return rep, nil
}

func okEntry(c string) ledger.Entry {
	return ledger.Entry{Event: ledger.EventUpdate, Time: time.Unix(0, 0), Commit: c}
}

func badEntry(c string) ledger.Entry {
	return ledger.Entry{Commit: c, Undecodable: &ledger.Undecodable{Subject: "promote canary", Author: "Mallory <m@example.org>",
		Time: time.Date(2026, 11, 22, 3, 0, 0, 0, time.UTC), Err: &ledger.DecodeError{Commit: c, What: "is not JSON: invalid character 'h' in literal true (expecting 'r')"}}}
}

const badProblem = `ledger entry g00000000000 ("promote canary", by Mallory <m@example.org>, 2026-11-22T03:00:00Z) is not JSON: invalid character 'h' in literal true (expecting 'r'): it is not an entry ringflow wrote, so every command passes over it (soak, rollback and history read the entries around it); the ledger is append-only, so it stays and there is nothing to repair (` + "`git show g00000000000`" + ` shows it)`

const localStays = "; the local ledger refs/ringflow/ledger stays before it, as neither ringflow nor check --repair moves it onto an entry that does not decode (`git update-ref refs/ringflow/ledger refs/ringflow/remotes/origin/ledger` does, once you are sure)"

func TestCheckLedgerBehind(t *testing.T) {
	fl, repo := healthy("origin")
	cD, cG := commit("d"), commit("g")
	repo.refs["refs/ringflow/ledger"] = cA
	led := &fakeLedger{entries: []ledger.Entry{okEntry(cC), okEntry(cB), okEntry(cA)},
		lag: ledger.Lag{Local: cA, Remote: cC, Behind: []ledger.Entry{okEntry(cC), okEntry(cB)}, To: cC, Taken: 2}}
	_, problems := runLedger(t, fl, repo, led, false)
	wantProblems(t, problems, "the local ledger refs/ringflow/ledger (a00000000000) is 2 entries behind remote origin's (c00000000000): another clone appended, or a run stopped between its push and the local copy (the next ringflow command, or ringflow check --repair, fast-forwards it)")
	if len(repo.updates) != 0 {
		t.Errorf("check without --repair moved %v", repo.updates)
	}
	rep, problems := runLedger(t, fl, repo, led, true)
	wantProblems(t, problems)
	if want := []gitrepo.RefUpdate{{Ref: "refs/ringflow/ledger", Old: cA, New: cC}}; !slices.Equal(repo.updates, want) {
		t.Errorf("updates %v, want %v", repo.updates, want)
	}
	if want := []string{"fast-forwarded the local ledger refs/ringflow/ledger a00000000000 -> c00000000000 (remote origin's)"}; !slices.Equal(rep.Repaired, want) {
		t.Errorf("repaired %q", rep.Repaired)
	}

	// Nothing behind (equal, ahead, diverged: Lag says so): nothing to say.
	led.lag = ledger.Lag{Local: cC, Remote: cB}
	_, problems = runLedger(t, fl, repo, led, false)
	wantProblems(t, problems)

	// An entry that does not decode between: --repair takes the copy as
	// far as the entries decode, not onto it; the entry stays a problem.
	repo = newRepo()
	repo.refs["refs/ringflow/ledger"] = cA
	led = &fakeLedger{entries: []ledger.Entry{okEntry(cD), badEntry(cG), okEntry(cB), okEntry(cA)},
		lag: ledger.Lag{Local: cA, Remote: cD, Behind: []ledger.Entry{okEntry(cD), badEntry(cG), okEntry(cB)}, To: cB, Taken: 1, Stop: &[]ledger.Entry{badEntry(cG)}[0]}}
	_, problems = runLedger(t, fl, repo, led, false)
	wantProblems(t, problems, badProblem+localStays,
		"the local ledger refs/ringflow/ledger (a00000000000) is 3 entries behind remote origin's (d00000000000): the next ringflow command, or ringflow check --repair, fast-forwards it over the 1 that decode, to b00000000000")
	rep, problems = runLedger(t, fl, repo, led, true)
	wantProblems(t, problems, badProblem+localStays)
	if want := []gitrepo.RefUpdate{{Ref: "refs/ringflow/ledger", Old: cA, New: cB}}; !slices.Equal(repo.updates, want) {
		t.Errorf("updates %v, want %v", repo.updates, want)
	}
	if want := []string{"fast-forwarded the local ledger refs/ringflow/ledger a00000000000 -> b00000000000 (remote origin's), stopping before entry g00000000000, which does not decode"}; !slices.Equal(rep.Repaired, want) {
		t.Errorf("repaired %q", rep.Repaired)
	}

	// ... and when the next entry is the one that does not decode, the
	// copy does not move at all.
	repo = newRepo()
	repo.refs["refs/ringflow/ledger"] = cB
	led.lag = ledger.Lag{Local: cB, Remote: cD, Behind: []ledger.Entry{okEntry(cD), badEntry(cG)}, Stop: &[]ledger.Entry{badEntry(cG)}[0]}
	_, problems = runLedger(t, fl, repo, led, true)
	wantProblems(t, problems, badProblem+localStays)
	if len(repo.updates) != 0 {
		t.Errorf("check --repair moved %v onto an entry that does not decode", repo.updates)
	}
}

// Without a remote too, an entry that does not decode is named, once; a
// ledger that cannot be read is a problem, not the end of the check.
func TestCheckLedgerUndecodable(t *testing.T) {
	fl, repo := healthy("")
	cG := commit("g")
	led := &fakeLedger{entries: []ledger.Entry{okEntry(cB), badEntry(cG), okEntry(cA)}}
	_, problems := runLedger(t, fl, repo, led, true)
	wantProblems(t, problems, badProblem)
	led.readErr = errors.New("ref refs/ringflow/ledger: x is a blob, not a commit")
	rep, problems := runLedger(t, fl, repo, led, false)
	wantProblems(t, problems, "the ledger could not be read: ref refs/ringflow/ledger: x is a blob, not a commit")
	if rep == nil || rep.Hosts != 3 {
		t.Errorf("the rest of the check did not run: %+v", rep)
	}
}

func TestCheckUnpushedEvidence(t *testing.T) {
	fl, repo := healthy("origin")
	t0 := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	note := func(hosts map[string]evidence.Host) []byte { return (&evidence.Note{Hosts: hosts}).Encode() }
	green := func(at time.Time) evidence.Host { return evidence.Host{Status: evidence.Green, Time: at} }
	// (the fake's history is the order of names: "z" is no ancestor of "r")
	repo.refs[evidence.Ref] = "zlocal-notes"
	repo.refs[fl.Settings().EvidenceTracking] = "remote-notes"
	repo.notes = map[string]map[string]string{
		"zlocal-notes": {cA: "la", cB: "lb", cC: "lc"},
		"remote-notes": {cA: "ra", cB: "lb"},
	}
	repo.blobs = map[string][]byte{
		"la": note(map[string]evidence.Host{"web-1": green(t0.Add(time.Hour)), "lab-1": green(t0)}),
		"ra": note(map[string]evidence.Host{"web-1": green(t0), "lab-1": green(t0)}),
		"lb": note(map[string]evidence.Host{"x": green(t0)}),
		"lc": []byte("not ringflow's"),
	}
	// The note that is not ringflow's is named, never pushed.
	lc := "the evidence note on c00000000000 in refs/notes/ringflow/evidence (here) is not ringflow's evidence (not valid JSON: invalid character 'o' in literal null (expecting 'u') at byte 2): it counts as no evidence (ringflow build c00000000000 builds the commit's hosts again and replaces it; the old note stays in the notes history)"
	_, problems := run(t, fl, repo, fakeProcs{}, false)
	wantProblems(t, problems, "evidence for a00000000000 recorded here was never pushed to remote origin (a build cut short before its push): web-1 (the next ringflow command, or ringflow check --repair, pushes it)", lc)
	rep, problems := run(t, fl, repo, fakeProcs{}, true)
	wantProblems(t, problems, lc)
	if got := fl.recorded[cA]; len(fl.recorded) != 1 || len(got) != 1 || !got["web-1"].Time.Equal(t0.Add(time.Hour)) {
		t.Errorf("recorded %v", fl.recorded)
	}
	if want := []string{"pushed the evidence for a00000000000 recorded here to remote origin: web-1"}; !slices.Equal(rep.Repaired, want) {
		t.Errorf("repaired %q", rep.Repaired)
	}
}

// Finding 5 of issue 14: every evidence note that is not ringflow's is a
// problem naming the commit, the notes ref, where it is (here, on the
// remote, both) and the build that replaces it; --repair leaves it to that
// build. Notes that are ringflow's are no problem.
func TestCheckMalformedNotes(t *testing.T) {
	fl, repo := healthy("origin")
	good := (&evidence.Note{Hosts: map[string]evidence.Host{"lab-1": {Status: evidence.Green, Drv: "/nix/store/x.drv", Out: "/nix/store/x"}}}).Encode()
	repo.refs[evidence.Ref] = "local-notes"
	repo.refs[fl.Settings().EvidenceTracking] = "remote-notes"
	repo.notes = map[string]map[string]string{
		"local-notes":  {cA: "good", cB: "cut"},
		"remote-notes": {cA: "good", cB: "cut", cC: "other"},
	}
	repo.blobs = map[string][]byte{
		"good":  good,
		"cut":   good[:len(good)/2],
		"other": []byte(`{"commit":"` + cA + `","hosts":{}}`),
	}
	want := []string{
		"the evidence note on b00000000000 in refs/notes/ringflow/evidence (here and on remote origin) is not ringflow's evidence (cut short: unexpected end of JSON input): it counts as no evidence (ringflow build b00000000000 builds the commit's hosts again and replaces it; the old note stays in the notes history)",
		"the evidence note on c00000000000 in refs/notes/ringflow/evidence (on remote origin) is not ringflow's evidence (it is the evidence of " + cA + ", not of this commit): it counts as no evidence (ringflow build c00000000000 builds the commit's hosts again and replaces it; the old note stays in the notes history)",
	}
	for _, repair := range []bool{false, true} {
		rep, problems := run(t, fl, repo, fakeProcs{}, repair)
		wantProblems(t, problems, want...)
		if len(rep.Repaired) != 0 || len(fl.recorded) != 0 {
			t.Errorf("repair %v: repaired %q, recorded %v; want nothing", repair, rep.Repaired, fl.recorded)
		}
	}
	repo.blobs["cut"], repo.blobs["other"] = good, good
	repo.notes["remote-notes"][cC] = "good"
	if _, problems := run(t, fl, repo, fakeProcs{}, false); len(problems) != 0 {
		t.Errorf("notes all ringflow's: problems %q", problems)
	}
}

func TestCheckErrorText(t *testing.T) {
	e := &CheckError{Problems: []string{"one", "two"}}
	if got, want := e.Error(), "2 problem(s) found:\n  one\n  two"; got != want {
		t.Errorf("Error() = %q, want %q", got, want)
	}
}
