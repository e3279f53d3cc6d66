// Package check is ringflow's check: it validates the config against the
// flake at dev's head and the repository's invariants, collecting every
// problem rather than the first, and finds what a killed ringflow or git
// left behind, which CheckOptions.Repair clears where that is safe.
//
// It reaches the fleet core, the repository and the process table only
// through the narrow interfaces below, so that what it decides can be
// tested with small fakes; ForFleet gives the real ones.
package check

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/ringflow/ringflow/pkg/evidence"
	"github.com/ringflow/ringflow/pkg/fleet"
	"github.com/ringflow/ringflow/pkg/gitrepo"
	"github.com/ringflow/ringflow/pkg/leftover"
	"github.com/ringflow/ringflow/pkg/membership"
	"github.com/ringflow/ringflow/pkg/ring"
)

// CheckError lists every problem `check` found. It exits 2.
type CheckError struct{ Problems []string }

func (e *CheckError) Error() string {
	return fmt.Sprintf("%d problem(s) found:\n  %s", len(e.Problems), strings.Join(e.Problems, "\n  "))
}

// CheckReport is what a clean check found, and what it repaired.
type CheckReport struct {
	DevCommit string
	Hosts     int
	Groups    int
	Rings     int
	Repaired  []string // one line per fix, with CheckOptions.Repair
}

// CheckOptions says how Check runs.
type CheckOptions struct {
	// Repair fixes what a killed ringflow or git can leave behind and
	// that can be fixed safely (see hygiene.go): stale git lock files,
	// stale scratch checkouts, unreadable ref files a remote has a copy
	// of, tracking refs and a local ledger behind the remote (never onto
	// a ledger entry that does not decode). What needs a person stays a
	// problem.
	Repair bool
}

// Fleet is what Check needs of the fleet core.
type Fleet interface {
	// RequireRings fails (a *fleet.NoRingsError) when the config has no rings.
	RequireRings() error
	// Settings are the facts of the config Check reads.
	Settings() Settings
	// BranchRef is the ref holding a branch's true position: the
	// remote's copy when there is a remote, else the local branch.
	BranchRef(branch string) string
	// State syncs with the remote (once per run) and reads where dev and
	// every ring stand.
	State(ctx context.Context) (*fleet.State, error)
	// Hosts places every host of the flake at commit into its group.
	Hosts(ctx context.Context, commit string) ([]membership.Placement, error)
	// RecordEvidence records hosts' results at commit, here and on the
	// remote.
	RecordEvidence(ctx context.Context, commit string, hosts map[string]evidence.Host) error
}

// Settings are the facts of the config Check reads.
type Settings struct {
	Dev      string
	Remote   string   // "" when there is none
	Groups   int      // how many groups the rings hold
	Branches []string // dev, then every group branch
	// EvidenceTracking and LedgerTracking are the refs the sync writes
	// the remote's evidence and ledger to.
	EvidenceTracking string
	LedgerTracking   string
}

// Refs is what Check reads of the repository's refs, commits and notes,
// and the one ref write it makes (*gitrepo.Repo).
type Refs interface {
	Ref(name string) (commit string, ok bool, err error)
	ResolveCommit(rev string) (string, error)
	IsAncestor(ancestor, descendant string) (bool, error)
	CountBetween(base, tip string) (int, error)
	UpdateRefs(ctx context.Context, updates []gitrepo.RefUpdate, reflogMsg string) error
	Notes(notesCommit string) (map[string]string, error)
	NoteBlob(blob string) ([]byte, error)
}

// GitFiles is what Check looks at, and repairs, among git's own files: lock
// files and loose ref files (*gitrepo.Repo).
type GitFiles interface {
	Path() string
	RealDirs() (top, gitDir, commonDir string)
	LockFiles() []gitrepo.LockFile
	RemoteLockFiles(remote string) (commonDir string, locks []gitrepo.LockFile, ok bool)
	RemoveLockFile(l gitrepo.LockFile) (removed bool, err error)
	BrokenRefs() []gitrepo.BrokenRef
	ReplaceRefFile(path string, was []byte, value string) error
	LastReflogValue(ref string) string
}

// Scratch is what Check looks at, and repairs, of ringflow's scratch
// checkouts, and the locks around them (*gitrepo.Repo).
type Scratch interface {
	Lock(name string, wait bool) (unlock func(), err error)
	LockHeld(name string) bool
	ScratchEntries() []gitrepo.ScratchEntry
	OrphanScratchDirs(entries []gitrepo.ScratchEntry) []gitrepo.ScratchDir
	RemoveScratchEntry(se gitrepo.ScratchEntry) error
	RemoveScratchDir(d gitrepo.ScratchDir) (removed bool, err error)
}

// Repo is what Check needs of the repository.
type Repo interface {
	Refs
	GitFiles
	Scratch
}

// Processes is the process table at one moment (gitrepo.Procs): who may
// be working in a set of directories (real paths). Where processes cannot
// be seen, every answer is yes.
type Processes interface {
	Visible() bool
	GitIn(dirs []string) bool
	RingflowIn(dirs []string) bool
	UsedBy(dirs []string) bool
}

// Target is what Check works on.
type Target struct {
	Fleet Fleet
	Repo  Repo
	// ScanProcs reads the process table; nil reads /proc (gitrepo.ScanProcs).
	ScanProcs func() Processes
	// Now is the clock lock files and checkouts are aged by; nil = time.Now.
	Now func() time.Time
	// Ledger reads the ledger; nil = it is not looked at.
	Ledger Ledger
	// TempDirs are the temporary directories of evidence writes in
	// $TMPDIR; nil: not looked at.
	TempDirs leftover.TempDirs
}

// ForFleet is the Target of an opened fleet.
func ForFleet(f *fleet.Fleet) Target {
	return Target{Fleet: fleetCore{f}, Repo: f.Repo, Now: f.Now, Ledger: f.Ledger, TempDirs: leftover.SystemTempDirs()}
}

// fleetCore is *fleet.Fleet as a Fleet.
type fleetCore struct{ *fleet.Fleet }

func (c fleetCore) Settings() Settings {
	return Settings{
		Dev:              c.Config.Dev,
		Remote:           c.Config.Remote,
		Groups:           len(c.Config.Groups()),
		Branches:         c.Branches(),
		EvidenceTracking: c.Evidence.TrackingRef(),
		LedgerTracking:   c.Ledger.TrackingRef(),
	}
}

func (c fleetCore) RecordEvidence(ctx context.Context, commit string, hosts map[string]evidence.Host) error {
	return c.Evidence.Record(ctx, commit, hosts)
}

// checker is one run of Check.
type checker struct {
	fl   Fleet
	repo Repo
	s    Settings
	scan func() Processes
	now  func() time.Time
	temp leftover.TempDirs

	ledger Ledger // nil: the ledger is not looked at
}

// Check validates the config against the flake at dev's head and the
// repository's invariants, collecting every problem rather than the first.
// It also looks for what a killed run leaves behind (lock files, scratch
// checkouts, ref files cut short, a ledger copy behind the remote's) and,
// with o.Repair, clears what can be cleared.
func Check(ctx context.Context, t Target, o CheckOptions) (*CheckReport, error) {
	if err := t.Fleet.RequireRings(); err != nil {
		return nil, err
	}
	c := &checker{fl: t.Fleet, repo: t.Repo, ledger: t.Ledger, s: t.Fleet.Settings(), scan: t.ScanProcs, now: t.Now, temp: t.TempDirs}
	if c.scan == nil {
		c.scan = func() Processes { return gitrepo.ScanProcs() }
	}
	if c.now == nil {
		c.now = time.Now
	}
	rep := &CheckReport{Groups: c.s.Groups}
	var problems []string
	add := func(format string, args ...any) { problems = append(problems, fmt.Sprintf(format, args...)) }
	apply := func(items []hygiene) {
		for _, it := range items {
			if !o.Repair || it.fix == nil {
				if it.problem != "" {
					problems = append(problems, it.problem)
				}
				continue
			}
			done, err := it.fix(ctx)
			switch {
			case err != nil && it.problem != "":
				add("%s; the repair failed: %v", it.problem, err)
			case err != nil:
				add("repair failed: %v", err)
			case done != "":
				rep.Repaired = append(rep.Repaired, done)
			}
		}
	}

	var restore []gitrepo.BrokenRef
	apply(c.preSync(&restore))
	var before map[string]string
	if o.Repair {
		before = c.snapshot(c.trackingRefs())
	}
	st, err := c.fl.State(ctx)
	if err != nil {
		if len(problems) > 0 {
			// What was found above is the likely cause: say it all, exit 2.
			add("the branches could not be read: %v", err)
			return rep, &CheckError{Problems: problems}
		}
		return nil, err
	}
	if o.Repair {
		after := c.snapshot(c.trackingRefs())
		for _, r := range c.trackingRefs() {
			if before[r] != "" && after[r] != "" && before[r] != after[r] {
				rep.Repaired = append(rep.Repaired, fmt.Sprintf("%s disagreed with remote %s (at %s); fetched %s",
					r, c.s.Remote, orNone(before[r]), ring.Short(after[r])))
			}
		}
	}
	apply(c.afterSync(ctx, restore))
	apply(c.ledgerItems())
	rep.DevCommit, rep.Rings = st.DevCommit, len(st.Rings)

	if st.DevCommit == "" {
		add("dev branch %q does not exist%s (run `ringflow init`)", c.s.Dev, c.where())
	}
	var names, positions []string
	for _, rs := range st.Rings {
		for j, gs := range rs.Groups {
			cg := rs.Ring.Groups[j]
			d, err := ring.DriftOf(gs, c.repo)
			if err != nil {
				return nil, err
			}
			switch {
			case d != nil:
				// Moved outside ringflow: a person decides.
				add("%s%s; %s", d, c.where(), d.Remedy())
			case gs.Commit == "":
				add("branch %s of group %s (ring %s) does not exist%s (run `ringflow init`)", gs.Group.Branch, gs.Group.Name, rs.Ring.Name, c.where())
			}
			if pin := cg.Pin.Commit; pin != "" {
				want, err := c.repo.ResolveCommit(pin)
				switch {
				case err != nil:
					where := ""
					if w := cg.PinPos.String(); w != "" {
						where = w + ": "
					}
					add("%s%s.pin: %s is not a commit of the repository", where, cg.Key, pin)
				case gs.Commit != "" && gs.Commit != want:
					// A one-group promotion puts it there, forward or back (as
					// a tree copy on top): the branch still only moves forward.
					add("group %s is pinned at %s but branch %s is at %s (run `ringflow promote %s --group %s %s`)", gs.Group.Name,
						ring.Short(want), gs.Group.Branch, ring.Short(gs.Commit), rs.Ring.Name, gs.Group.Name, ring.Short(want))
				}
			}
		}
		if rs.Err != nil {
			add("%v", rs.Err)
		}
		names = append(names, rs.Ring.Name)
		positions = append(positions, rs.Position)
	}
	order, err := ring.OrderProblems(c.s.Dev, st.DevCommit, names, positions, c.repo)
	if err != nil {
		return nil, err
	}
	problems = append(problems, order...)
	problems = append(problems, c.malformedNotes()...)

	if st.DevCommit != "" {
		ps, err := c.fl.Hosts(ctx, st.DevCommit)
		var merr *membership.Error
		switch {
		case errors.As(err, &merr):
			problems = append(problems, merr.Problems()...)
		case err != nil:
			add("hosts at %s %s: %v", c.s.Dev, ring.Short(st.DevCommit), err)
		default:
			rep.Hosts = len(ps)
		}
	}
	if len(problems) > 0 {
		return rep, &CheckError{Problems: problems}
	}
	return rep, nil
}

// where says where branches are read from, for a missing one: as the
// fleet core says it (fleet.DevCommit).
func (c *checker) where() string {
	if c.s.Remote != "" {
		return " on remote " + c.s.Remote
	}
	return ""
}

func orNone(c string) string {
	if c == "" {
		return "nothing"
	}
	return ring.Short(c)
}

// The real ones.
var (
	_ Fleet     = fleetCore{}
	_ Repo      = (*gitrepo.Repo)(nil)
	_ Processes = gitrepo.Procs{}
)
