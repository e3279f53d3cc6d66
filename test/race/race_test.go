package race_test

import (
	"strings"
	"testing"
)

// Many `ringflow promote canary` at once, for one candidate, in one
// repository and in separate clones: exactly one moves canary and writes
// one ledger entry; every other one finds nothing to do or lost the race
// and says so, naming the remote.
func TestRacePromoteSameRing(t *testing.T) {
	w := newWorld(t, 3)
	dev := w.bumpUpdateBuild(w.f.Repo)
	before := len(w.ledger())
	canary0 := w.remoteRef("canary")

	dirs := []string{w.f.Repo, w.f.Repo, w.f.Repo, w.f.Repo, w.clones[0], w.clones[0], w.clones[1], w.clones[2]}
	var procs []proc
	for _, d := range dirs {
		procs = append(procs, proc{d, []string{"promote", "canary"}})
	}
	rs := w.race(procs)
	t.Logf("outcomes:\n%s", summary(rs))

	movers := 0
	alone := map[string]int{}
	for _, d := range dirs {
		alone[d]++
	}
	for _, r := range rs {
		w.requireOutcome(r)
		// Alone in its clone, a process can only lose its push to another
		// one that did the same work: it says so, and exits 0. (Processes
		// sharing a repository may also collide in its fetch.)
		if alone[r.dir] == 1 && r.code != 0 {
			t.Errorf("a promotion alone in its clone exited %d; a lost race with nothing left to do exits 0:\n%s", r.code, r)
		}
		if r.code != 0 {
			continue
		}
		switch {
		case strings.Contains(r.stdout, "moved canary: canary "+canary0[:12]+" -> "+dev):
			movers++
		case strings.Contains(r.stderr, "nothing to do: ring canary already holds "+dev[:12]+": another run got there first (promote canary to "+dev[:12]+" by "):
		case strings.Contains(r.stderr, "nothing to do: ring canary already holds "+dev[:12]):
		default:
			t.Errorf("exit 0 but neither moved canary to %.12s nor found nothing to do:\n%s", dev, r)
		}
	}
	if movers != 1 {
		t.Errorf("%d processes say they moved canary, want exactly 1", movers)
	}
	if got := w.remoteRef("canary"); got != dev {
		t.Errorf("canary on the remote is at %.12s, want dev's head %.12s", got, dev)
	}
	entries := w.ledger()
	if n := len(entries) - before; n != 1 {
		t.Errorf("the race added %d ledger entries, want 1", n)
	}
	n := 0
	for _, e := range entries[before:] {
		if e.Event == "promote" && e.Ring == "canary" && e.Candidate == dev {
			n++
		}
	}
	if n != 1 {
		t.Errorf("%d ledger entries promote canary to %.12s, want 1", n, dev)
	}
	w.checkInvariants()
}

// Promotions of every ring at once, each ring twice, when every ring has
// something to take: whatever lands, the ledger and the branches agree,
// and the processes that say they moved a ring are exactly the ledger's
// new entries.
func TestRacePromoteDifferentRings(t *testing.T) {
	w := newWorld(t, 3)
	// dev D, canary C, early B, stable A: every ring is behind its source.
	w.bumpUpdateBuild(w.f.Repo)
	for _, r := range []string{"canary", "early", "stable"} {
		w.mustRun(w.f.Repo, "promote", r)
	}
	w.bumpUpdateBuild(w.clones[0])
	for _, r := range []string{"canary", "early"} {
		w.mustRun(w.clones[0], "promote", r)
	}
	w.bumpUpdateBuild(w.clones[1])
	w.mustRun(w.clones[1], "promote", "canary")
	w.bumpUpdateBuild(w.f.Repo)
	before := len(w.ledger())
	w.checkLedger()

	procs := []proc{
		{w.f.Repo, []string{"promote", "canary", "-o", "json"}},
		{w.clones[0], []string{"promote", "canary", "-o", "json"}},
		{w.clones[1], []string{"promote", "early", "-o", "json"}},
		{w.f.Repo, []string{"promote", "early", "-o", "json"}},
		{w.clones[2], []string{"promote", "stable", "-o", "json"}},
		{w.clones[0], []string{"promote", "stable", "-o", "json"}},
		{w.clones[2], []string{"promote", "canary", "-o", "json"}},
		{w.clones[1], []string{"promote", "stable", "-o", "json"}},
	}
	rs := w.race(procs)
	t.Logf("outcomes:\n%s", summary(rs))

	entries := w.ledger()[before:]
	movers := 0
	for _, r := range rs {
		w.requireOutcome(r)
		var p promoteJSON
		if r.code != 0 || !w.decode(r, &p) || len(p.Moved) == 0 {
			continue
		}
		movers++
		found := false
		for _, e := range entries {
			if e.Event == "promote" && e.Ring == p.Ring && e.Candidate == p.Candidate && len(e.Groups) == len(p.Moved) {
				found = true
			}
		}
		if !found {
			t.Errorf("a process moved %s to %.12s, but the ledger has no entry for it:\n%s", p.Ring, p.Candidate, r)
		}
	}
	if movers != len(entries) {
		t.Errorf("%d processes say they moved a ring, but the race added %d ledger entries", movers, len(entries))
	}
	if movers == 0 {
		t.Errorf("no promotion landed: the first push of the race should always win")
	}
	w.checkInvariants()
}

// `ringflow build --host H` for every host at once, from separate clones
// and from one repository: the remote's evidence note ends up with every
// host green.
func TestRaceBuildHosts(t *testing.T) {
	w := newWorld(t, 4)
	dev := w.remoteRef("dev")
	dirs := w.dirs()
	var procs []proc
	for i, h := range hostNames {
		procs = append(procs, proc{dirs[i%len(dirs)], []string{"build", "--host", h, "-o", "json"}})
	}
	rs := w.race(procs)
	t.Logf("outcomes:\n%s", summary(rs))
	for i, r := range rs {
		if r.code != 0 {
			t.Errorf("want exit 0:\n%s", r)
			continue
		}
		var b buildJSON
		if !w.decode(r, &b) {
			t.Errorf("no JSON on stdout:\n%s", r)
			continue
		}
		if b.Commit != dev || len(b.Hosts) != 1 || b.Hosts[0].Host != hostNames[i] || b.Hosts[0].Status != "green" {
			t.Errorf("want %s green at %.12s, got %+v", hostNames[i], dev, b)
		}
	}
	w.requireGreen(dev, hostNames)
	// Every clone sees all of it after its next fetch.
	for _, d := range dirs {
		r := w.mustRun(d, "build", "-o", "json")
		var b buildJSON
		if w.decode(r, &b) && len(b.Hosts) != len(hostNames) {
			t.Errorf("a build of every host reports %d hosts, want %d:\n%s", len(b.Hosts), len(hostNames), r)
		}
	}
	w.requireGreen(dev, hostNames)
	w.checkInvariants()
}

// Several `ringflow cycle` at once in one repository: exactly one runs,
// the others leave at once saying another cycle is running; with --wait
// they queue, and those that come after find nothing to do.
func TestRaceCycleOneRepository(t *testing.T) {
	w := newWorld(t, 0)
	dev0 := w.remoteRef("dev")
	w.bump()
	var procs []proc
	for range 6 {
		procs = append(procs, proc{w.f.Repo, []string{"cycle", "-o", "json"}})
	}
	rs := w.race(procs)
	t.Logf("outcomes:\n%s", summary(rs))
	ran := 0
	for _, r := range rs {
		switch {
		case r.code == 0:
			ran++
			var c cycleJSON
			if !w.decode(r, &c) || !c.Update.Committed {
				t.Errorf("the cycle that ran did not commit the update:\n%s", r)
			}
		// The holder's pid is shown when the loser reads the lock file
		// after the holder wrote it; just before, it says "another process".
		case r.code == 1 && strings.Contains(r.stderr, "another ringflow cycle is running on this repository ("):
		default:
			t.Errorf("want exit 0 or exit 1 with \"another ringflow cycle is running\":\n%s", r)
		}
	}
	if ran != 1 {
		t.Errorf("%d cycles ran, want exactly 1", ran)
	}
	w.requireUpdates(dev0, 1)

	// With --wait they queue: one commits the next update, the rest find
	// the lock current and every ring up to date.
	dev1 := w.remoteRef("dev")
	w.bump()
	procs = procs[:0]
	for range 4 {
		procs = append(procs, proc{w.f.Repo, []string{"cycle", "--wait", "-o", "json"}})
	}
	rs = w.race(procs)
	t.Logf("outcomes with --wait:\n%s", summary(rs))
	committed := 0
	for _, r := range rs {
		if r.code != 0 {
			t.Errorf("cycle --wait: want exit 0:\n%s", r)
			continue
		}
		var c cycleJSON
		if w.decode(r, &c) && c.Update.Committed {
			committed++
		}
	}
	if committed != 1 {
		t.Errorf("%d waiting cycles committed an update, want exactly 1", committed)
	}
	w.requireUpdates(dev1, 1)
	w.requireRingsAtDev()
	w.requireGreen(w.remoteRef("dev"), hostNames)
	w.checkInvariants()
}

// One `ringflow cycle` in each of several clones at once, racing through
// the remote: one update commit for the one bump, every ring ends on it,
// and the evidence of every host is there.
func TestRaceCycleClones(t *testing.T) {
	w := newWorld(t, 6)
	dev0 := w.remoteRef("dev")
	w.bump()
	w.prebuild()
	var procs []proc
	for _, d := range w.dirs() {
		procs = append(procs, proc{d, []string{"cycle", "-o", "json"}})
	}
	rs := w.race(procs)
	t.Logf("outcomes:\n%s", summary(rs))
	committed, doneBy := 0, 0
	for _, r := range rs {
		w.requireOutcome(r)
		// One cycle per clone, all after the same work: a cycle that lost
		// a race finds it done, names who did it, and exits 0.
		if r.code != 0 {
			t.Errorf("a cycle exited %d; a lost race with nothing left to do exits 0:\n%s", r.code, r)
		}
		var c cycleJSON
		if w.decode(r, &c) && c.Update.Committed {
			committed++
		}
		for _, ring := range c.Rings {
			if ring.DoneBy != nil {
				doneBy++
				if ring.Moved || ring.DoneBy.Actor == "" || ring.DoneBy.Time.IsZero() || ring.DoneBy.To != w.remoteRef("dev") {
					t.Errorf("ring %s: done_by %+v names no run that moved it to dev's head:\n%s", ring.Name, ring.DoneBy, r)
				}
			}
		}
	}
	if committed != 1 {
		t.Errorf("%d cycles say they committed the update, want exactly 1", committed)
	}
	t.Logf("%d rings of losing cycles name the run that moved them first", doneBy)
	w.requireUpdates(dev0, 1)
	w.requireRingsAtDev()
	w.requireGreen(w.remoteRef("dev"), hostNames)
	w.checkInvariants()
}

// Everything at once through one remote: updates, builds, promotions of
// every ring and cycles, each from its own clone or sharing one. The
// invariants hold, and one more cycle afterwards brings every ring to dev.
func TestRaceMixed(t *testing.T) {
	w := newWorld(t, 5)
	w.bumpUpdateBuild(w.f.Repo)
	for _, r := range []string{"canary", "early", "stable"} {
		w.mustRun(w.f.Repo, "promote", r)
	}
	dev0 := w.remoteRef("dev")
	before := len(w.ledger())
	w.bump()
	w.prebuild()
	c := w.clones
	procs := []proc{
		{c[0], []string{"update", "-o", "json"}},
		{c[1], []string{"update", "-o", "json"}},
		{w.f.Repo, []string{"build", "-o", "json"}},
		{c[2], []string{"build", "-o", "json"}},
		{c[3], []string{"promote", "canary", "-o", "json"}},
		{w.f.Repo, []string{"promote", "canary", "-o", "json"}},
		{c[4], []string{"promote", "early", "-o", "json"}},
		{c[0], []string{"promote", "stable", "-o", "json"}},
		{c[3], []string{"cycle", "-o", "json"}},
		{c[4], []string{"cycle", "-o", "json"}},
	}
	rs := w.race(procs)
	t.Logf("outcomes:\n%s", summary(rs))
	updates, promotions := 0, 0
	for _, r := range rs {
		switch r.args[0] {
		case "update":
			w.requireOutcome(r)
			var u struct {
				Committed bool `json:"committed"`
			}
			if r.code == 0 && w.decode(r, &u) && u.Committed {
				updates++
			}
		case "build":
			if r.code != 0 {
				t.Errorf("build: want exit 0:\n%s", r)
				continue
			}
			var b buildJSON
			if w.decode(r, &b) {
				w.requireGreen(b.Commit, hostNames)
			}
		case "promote":
			// A candidate dev just took and nobody built yet is refused
			// by the evidence gate: exit 3 is a right answer here.
			w.requireOutcome(r, 3)
			var p promoteJSON
			if r.code == 0 && w.decode(r, &p) && len(p.Moved) > 0 {
				promotions++
			}
		case "cycle":
			w.requireOutcome(r)
			var cy cycleJSON
			if !w.decode(r, &cy) {
				continue
			}
			if cy.Update.Committed {
				updates++
			}
			for _, ring := range cy.Rings {
				if ring.Moved {
					promotions++
				}
			}
			if cy.Build != nil && cy.Build.Commit != "" && r.code == 0 {
				w.requireGreen(cy.Build.Commit, hostNames)
			}
		}
	}
	entries := w.ledger()[before:]
	if n := countEntries(entries, 0, "update", ""); n != updates {
		t.Errorf("%d processes say they committed an update, the ledger has %d new update entries", updates, n)
	}
	if n := countEntries(entries, 0, "promote", ""); n != promotions {
		t.Errorf("%d promotions reported, the ledger has %d new promote entries", promotions, n)
	}
	if updates > 1 {
		t.Errorf("%d update commits for one nixpkgs bump, want at most 1", updates)
	}
	w.requireUpdates(dev0, updates)
	w.checkInvariants()

	// Nothing is stuck: one more cycle, alone, brings every ring to dev.
	w.mustRun(w.freshClone(), "cycle")
	w.requireUpdates(dev0, 1)
	w.requireRingsAtDev()
	w.checkInvariants()
}

// requireUpdates fails unless dev on the remote is exactly n lock-update
// commits past from, in one line.
func (w *world) requireUpdates(from string, n int) {
	w.t.Helper()
	dev := w.remoteRef("dev")
	out := strings.TrimSpace(w.git("", "log", "--format=%H %P %s", from+".."+dev))
	var lines []string
	if out != "" {
		lines = strings.Split(out, "\n")
	}
	if len(lines) != n {
		w.t.Errorf("dev has %d new commits since %.12s, want %d:\n%s", len(lines), from, n, out)
		return
	}
	for _, l := range lines {
		f := strings.Fields(l)
		if len(f) < 3 || strings.Join(f[2:], " ") != "flake.lock: update nixpkgs" {
			w.t.Errorf("dev has a commit that is not one lock update with one parent: %s", l)
		}
	}
}

// requireRingsAtDev fails unless every group branch on the remote is at
// dev's head.
func (w *world) requireRingsAtDev() {
	w.t.Helper()
	remote := w.remoteBranches()
	for b := range branchRing {
		if remote[b] != remote["dev"] {
			w.t.Errorf("branch %s is at %.12s on the remote, want dev's head %.12s", b, remote[b], remote["dev"])
		}
	}
}
