package fleet

import (
	"bytes"
	"context"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/ringflow/ringflow/pkg/config"
	"github.com/ringflow/ringflow/pkg/evidence"
	"github.com/ringflow/ringflow/pkg/ledger"
	"github.com/ringflow/ringflow/pkg/ring"
)

// Real git, no nix: a bare remote, the clone under test (here) and
// another clone (there) that appends to the remote's ledger.

func git(t *testing.T, dir string, args ...string) string {
	t.Helper()
	cmd := exec.Command("git", append([]string{"-C", dir}, args...)...)
	cmd.Env = append(cmd.Environ(), "GIT_AUTHOR_NAME=t", "GIT_AUTHOR_EMAIL=t@t", "GIT_COMMITTER_NAME=t", "GIT_COMMITTER_EMAIL=t@t",
		"GIT_CONFIG_GLOBAL=/dev/null", "GIT_CONFIG_NOSYSTEM=1")
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("git %s: %v\n%s", strings.Join(args, " "), err, out)
	}
	return strings.TrimSpace(string(out))
}

type healRepos struct{ remote, here, there string }

func newHealRepos(t *testing.T) healRepos {
	d := t.TempDir()
	r := healRepos{remote: filepath.Join(d, "origin.git"), here: filepath.Join(d, "here"), there: filepath.Join(d, "there")}
	git(t, d, "init", "-q", "--bare", "-b", "dev", r.remote)
	git(t, d, "clone", "-q", r.remote, r.there)
	git(t, r.there, "commit", "-q", "--allow-empty", "-m", "on dev")
	git(t, r.there, "push", "-q", "origin", "HEAD:refs/heads/dev")
	git(t, d, "clone", "-q", r.remote, r.here)
	return r
}

const emptyTree = "4b825dc642cb6eb9a060e54bf8d69288fbee4904"

// appendEntry pushes a commit with message msg onto the remote's ledger
// from there, and returns it.
func (r healRepos) appendEntry(t *testing.T, msg string) string {
	t.Helper()
	args := []string{"commit-tree", emptyTree, "-m", msg}
	if tip, err := exec.Command("git", "-C", r.remote, "rev-parse", "-q", "--verify", ledger.Ref).Output(); err == nil {
		git(t, r.there, "fetch", "-q", "origin", "+"+ledger.Ref+":"+ledger.Ref)
		args = append(args, "-p", strings.TrimSpace(string(tip)))
	}
	c := git(t, r.there, args...)
	git(t, r.there, "push", "-q", "origin", c+":"+ledger.Ref)
	return c
}

func entryMsg(n int) string {
	return ledger.Message(ledger.Entry{Event: ledger.EventUpdate, To: strings.Repeat("a", 40), Actor: "ops@there",
		Time: time.Date(2026, 11, 22, n, 0, 0, 0, time.UTC)})
}

func openHere(t *testing.T, r healRepos, remote string) (*Fleet, *bytes.Buffer) {
	t.Helper()
	cfg := &config.Config{Repo: r.here, Remote: remote, Dev: "dev", Update: config.Update{Author: "ringflow test <t@t>"},
		Rings: []config.Ring{{Name: "canary", Groups: []config.Group{{Name: "canary", Ring: "canary", Branch: "canary"}}}}}
	var log bytes.Buffer
	fl, err := Open(cfg, nil, &log, nil)
	if err != nil {
		t.Fatal(err)
	}
	return fl, &log
}

func localLedger(t *testing.T, r healRepos) string {
	return git(t, r.here, "rev-parse", ledger.Ref)
}

func TestHealCatchesUpTheLedger(t *testing.T) {
	r := newHealRepos(t)
	ctx := context.Background()
	e1 := r.appendEntry(t, entryMsg(1))
	git(t, r.here, "fetch", "-q", "origin", ledger.Ref+":"+ledger.Ref)
	r.appendEntry(t, entryMsg(2))
	e3 := r.appendEntry(t, entryMsg(3))

	// check and dry runs leave it for check to name.
	fl, log := openHere(t, r, "origin")
	fl.NoHeal = true
	if err := fl.Sync(ctx); err != nil {
		t.Fatal(err)
	}
	if got := localLedger(t, r); got != e1 || log.Len() != 0 {
		t.Fatalf("NoHeal: local ledger %s (want %s), said %q", got, e1, log)
	}

	// The next ordinary command catches it up, and says so once.
	fl, log = openHere(t, r, "origin")
	if err := fl.Sync(ctx); err != nil {
		t.Fatal(err)
	}
	if got := localLedger(t, r); got != e3 {
		t.Fatalf("local ledger %s, want the remote's %s", got, e3)
	}
	want := "healed: the local ledger refs/ringflow/ledger was 2 entries behind remote origin's; fast-forwarded " + ring.Short(e1) + " -> " + ring.Short(e3) + "\n"
	if log.String() != want {
		t.Errorf("said %q, want %q", log, want)
	}
	if err := fl.Refresh(ctx); err != nil || log.String() != want {
		t.Errorf("a second fetch in one run healed again: %q, %v", log, err)
	}

	// Entries that do not decode: it stops before the first.
	e4 := r.appendEntry(t, entryMsg(4))
	g5 := r.appendEntry(t, "promote canary\n\nthis is not json")
	r.appendEntry(t, entryMsg(6))
	fl, log = openHere(t, r, "origin")
	if err := fl.Sync(ctx); err != nil {
		t.Fatal(err)
	}
	if got := localLedger(t, r); got != e4 {
		t.Fatalf("local ledger %s, want %s (the last entry before the one that does not decode)", got, e4)
	}
	if !strings.Contains(log.String(), "was 3 entries behind remote origin's; fast-forwarded "+ring.Short(e3)+" -> "+ring.Short(e4)+
		", stopping before entry "+ring.Short(g5)+", which does not decode (ringflow check names it)") {
		t.Errorf("said %q", log)
	}
	// ... and stays there, saying nothing more.
	fl, log = openHere(t, r, "origin")
	if err := fl.Sync(ctx); err != nil {
		t.Fatal(err)
	}
	if got := localLedger(t, r); got != e4 || log.Len() != 0 {
		t.Errorf("local ledger %s (want %s), said %q", got, e4, log)
	}

	// Entries of its own (not behind, diverged): left alone.
	own := git(t, r.here, "commit-tree", emptyTree, "-p", e4, "-m", entryMsg(7))
	git(t, r.here, "update-ref", ledger.Ref, own)
	fl, log = openHere(t, r, "origin")
	if err := fl.Sync(ctx); err != nil {
		t.Fatal(err)
	}
	if got := localLedger(t, r); got != own || log.Len() != 0 {
		t.Errorf("a local ledger with entries of its own moved to %s, said %q", got, log)
	}
}

func TestHealPushesLocalEvidence(t *testing.T) {
	r := newHealRepos(t)
	ctx := context.Background()
	dev := git(t, r.here, "rev-parse", "origin/dev")
	t0 := time.Now().UTC().Truncate(time.Second)
	fl, _ := openHere(t, r, "origin")
	if err := fl.Evidence.Record(ctx, dev, map[string]evidence.Host{"web-1": {Status: evidence.Green, Drv: "/nix/store/w.drv", Time: t0}}); err != nil {
		t.Fatal(err)
	}
	// Written here only: a run with no remote (or killed before its push).
	local, _ := openHere(t, r, "")
	if err := local.Evidence.Record(ctx, dev, map[string]evidence.Host{"lab-1": {Status: evidence.Red, Phase: evidence.PhaseBuild, Time: t0.Add(time.Second)}}); err != nil {
		t.Fatal(err)
	}
	if out := git(t, r.remote, "notes", "--ref", "ringflow/evidence", "show", dev); strings.Contains(out, "lab-1") {
		t.Fatalf("the local-only result is on the remote already:\n%s", out)
	}

	fl, log := openHere(t, r, "origin")
	if err := fl.Sync(ctx); err != nil {
		t.Fatal(err)
	}
	out := git(t, r.remote, "notes", "--ref", "ringflow/evidence", "show", dev)
	if !strings.Contains(out, `"lab-1": {`) || !strings.Contains(out, `"web-1": {`) {
		t.Errorf("remote note after healing:\n%s", out)
	}
	if want := "healed: pushed evidence recorded only here to remote origin: " + ring.Short(dev) + " (lab-1)\n"; log.String() != want {
		t.Errorf("said %q, want %q", log, want)
	}
	// Once pushed, nothing is left to heal.
	fl, log = openHere(t, r, "origin")
	if err := fl.Sync(ctx); err != nil || log.Len() != 0 {
		t.Errorf("second run: said %q, %v", log, err)
	}
}
