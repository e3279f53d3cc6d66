// Package promote is `ringflow promote`: it gathers the facts every gate
// of a promotion decides on (where the rings stand, the candidate's hosts
// and their evidence, since when the source ring holds it, the verify
// hook, the signature), has pkg/ring decide, and lands the moves with
// their ledger entry through the core's one ref-moving path.
package promote

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"
	"time"

	"github.com/ringflow/ringflow/pkg/config"
	"github.com/ringflow/ringflow/pkg/evidence"
	"github.com/ringflow/ringflow/pkg/fleet"
	"github.com/ringflow/ringflow/pkg/gitrepo"
	"github.com/ringflow/ringflow/pkg/hook"
	"github.com/ringflow/ringflow/pkg/ledger"
	"github.com/ringflow/ringflow/pkg/membership"
	"github.com/ringflow/ringflow/pkg/ring"
	"github.com/ringflow/ringflow/pkg/soak"
)

// Positions reads where dev and every ring stand and resolves what a user
// typed (*fleet.Fleet).
type Positions interface {
	State(ctx context.Context) (*fleet.State, error)
	DevCommit() (string, error)
	Resolve(ctx context.Context, rev string) (string, error)
}

// HostLister places the hosts of the flake at a commit (*fleet.Fleet).
type HostLister interface {
	Hosts(ctx context.Context, commit string) ([]membership.Placement, error)
}

// EvidenceReader reads a commit's build evidence (*evidence.Store).
type EvidenceReader interface {
	Get(commit string) (*evidence.Note, error)
}

// EvidenceVerifier tells which green entries do not count as built, and
// why (*evidence.Verifier).
type EvidenceVerifier interface {
	Unverified(ctx context.Context, n *evidence.Note, hosts []string, evaluated map[string]evidence.Evaluated) (map[string]string, error)
}

// SignatureVerifier checks a commit's signature (*gitrepo.Repo).
type SignatureVerifier interface {
	VerifySignature(commit string, armoredKeyRing []byte) (gitrepo.Signer, error)
}

// HookRunner runs a verify hook (hook.Run).
type HookRunner func(ctx context.Context, argv, base, env []string, timeout time.Duration) (hook.Result, error)

// Promoter promotes rings of one fleet.
type Promoter struct {
	Rings    []config.Ring // in promotion order
	SignedBy string        // gates.signed-by: the keyring file, "" = none

	Positions  Positions
	Hosts      HostLister
	Evidence   EvidenceReader
	Verify     EvidenceVerifier
	Ledger     ledger.Reader
	Lander     fleet.Lander
	Ancestry   ring.Ancestry
	Signatures SignatureVerifier
	RunHook    HookRunner
	Now        func() time.Time
	Env        []string  // the environment verify hooks inherit
	Log        io.Writer // one line per step worth telling
	// Fresh fetches again after a lost race, to see whether the work is
	// done already (race.go); nil: a lost race is returned as it is.
	Fresh Refresher
	// Observe tells what the hosts run (observe:); nil: not observed, and
	// neither the converge gate nor soak-from-convergence applies.
	Observe Observer
	// Count tells how far a ring lags its source, to say why a promotion
	// has nothing to do; nil: it is not counted.
	Count Counter
}

// New is the promoter of a fleet.
func New(fl *fleet.Fleet) *Promoter {
	p := &Promoter{Rings: fl.Config.Rings, SignedBy: fl.Config.Gates.SignedBy,
		Positions: fl, Hosts: fl, Evidence: fl.Evidence, Verify: fl.EvidenceVerifier(), Ledger: fl.Ledger, Lander: fl,
		Ancestry: fl.Repo, Signatures: fl.Repo, RunHook: hook.Run, Now: fl.Now, Env: fl.Env, Log: fl.Log, Fresh: fl, Count: fl.Repo}
	if o := fl.Observer(); o != nil {
		p.Observe = o
	}
	return p
}

// Options says what to promote.
type Options struct {
	Ring string
	// Group moves that group of Ring alone, pinned or not, to Rev (default:
	// the ring's position): promote RING --group GROUP.
	Group  string
	Rev    string // "" = the candidate: dev's head or the ring before's position
	DryRun bool
	// ObserveOnly records that the source ring converged on the candidate
	// (observe:), when it has and nothing says so yet, and moves nothing:
	// what the cycle does for a ring it may not promote, so that the
	// source's soak counts from its hosts' switch.
	ObserveOnly bool
	ForceSoak   bool   // skip the soak gate only
	Reason      string // why, for the ledger (required with ForceSoak)
	Gates       []ring.Gate
	// decided is the candidate decided before a race lost on the ledger
	// alone, decided again as it is (Run).
	decided string
}

// Promotion is a decided promotion and what it did.
type Promotion struct {
	*ring.Plan
	// NoImpact: no host of the ring changes derivation between its position
	// and the candidate (by the evidence), so its soak is waived for the
	// next ring.
	NoImpact bool
	// Converged is the entry this run recorded because the source ring's
	// hosts were seen running the candidate for the first time: its soak
	// counts from then (observe:).
	Converged *ledger.Entry
	// recordConverged: record Converged before deciding (set by Plan).
	recordConverged bool
	convergeCheck   *ring.ConvergeCheck
	// Group is the one group moved (promote --group); "" = the ring.
	Group string
	From  string        // the ring's position before (the group's commit, for one group)
	Entry *ledger.Entry // the ledger entry written, when something moved
	// DoneBy is the ledger entry of another run that moved the ring to
	// the candidate while this one was deciding: this one lost the race,
	// and has nothing left to do.
	DoneBy *ledger.Entry
	// Idle says why there is nothing to do, when the ring holds its
	// default candidate already (nil otherwise).
	Idle *Idle
	// DecidedAgain are the ledger entries other runs landed while this one
	// was deciding, none moving its ring: it lost the ledger's
	// compare-and-swap to each, and decided the same candidate again.
	DecidedAgain []ledger.Entry
}

// ledgerRaces is how often a promotion decides again after another run
// landed a ledger entry that moved none of its ring's branches (a
// promotion of another ring, an update): such a race is no conflict.
const ledgerRaces = 3

// Run decides a promotion and, unless it is refused or a dry run, moves
// the ring's unpinned group branches and records it in the ledger, all in
// one atomic change. A refusal returns the plan and a
// *ring.GateRefusedError. A promotion that lost a race to another run
// has nothing to do (DoneBy) when that run moved the ring to the same
// candidate; when that run moved only the ledger, it decides the same
// candidate again (every gate anew, on the facts fetched again), up to
// ledgerRaces times; otherwise it is a *LostRaceError.
func (p *Promoter) Run(ctx context.Context, o Options) (*Promotion, error) {
	var again []ledger.Entry
	for {
		pr, err := p.run(ctx, o)
		var lre *LostRaceError
		if errors.As(err, &lre) && lre.ledgerOnly() && len(again) < ledgerRaces {
			if lre.By != nil {
				again = append(again, *lre.By)
			}
			// The candidate this run decided, not a new dev head or ring
			// position another run brought: nobody saw that one yet.
			o.decided = lre.Candidate
			continue
		}
		if pr != nil {
			pr.DecidedAgain = again
		}
		return pr, err
	}
}

func (p *Promoter) run(ctx context.Context, o Options) (*Promotion, error) {
	pr, err := p.Plan(ctx, o)
	if err != nil {
		return nil, err
	}
	if pr.recordConverged && !o.DryRun {
		// The source ring's hosts took the candidate: its soak starts
		// now, whatever this promotion decides.
		if pr.Converged, err = p.recordConverged(ctx, pr.Source, pr.Candidate, pr.convergeCheck); err != nil {
			return nil, err
		}
	}
	if o.ObserveOnly {
		return pr, nil
	}
	if pr.Refused() {
		return pr, &ring.GateRefusedError{Ring: pr.target(), Refusals: pr.Refusals}
	}
	if o.DryRun || pr.NothingToDo() {
		return pr, nil
	}
	e := p.Entry(pr, o)
	moves, err := p.Lander.Land(ctx, fleet.Landing{Moves: pr.Moves, Entries: []ledger.Entry{e}, Why: pr.why()})
	if p.lostRace(err) {
		return p.afterLostRace(ctx, pr, err)
	}
	if err != nil {
		return nil, err
	}
	pr.Moves, pr.Entry = moves, &e
	return pr, nil
}

// Entry is the ledger entry that records a decided promotion.
func (p *Promoter) Entry(pr *Promotion, o Options) ledger.Entry {
	e := p.Lander.NewEntry(ledger.EventPromote, pr.Ring)
	e.Group = pr.Group
	e.From, e.Candidate, e.To, e.Reason, e.NoImpact = pr.From, pr.Candidate, pr.Candidate, o.Reason, pr.NoImpact
	for _, g := range ring.DefaultGates() {
		if g.Name() == "soak" && o.ForceSoak {
			e.Skipped = append(e.Skipped, "soak")
			continue
		}
		e.Gates = append(e.Gates, g.Name())
	}
	return e
}

// target names what is promoted: the ring, or one group of it.
func (pr *Promotion) target() string {
	if pr.Group != "" {
		return pr.Ring + " group " + pr.Group
	}
	return pr.Ring
}

// why is the reflog message of a promotion.
func (pr *Promotion) why() string {
	if pr.Group != "" {
		return fmt.Sprintf("ringflow: promote %s group %s to %s", pr.Ring, pr.Group, ring.Short(pr.Candidate))
	}
	return fmt.Sprintf("ringflow: promote %s to %s", pr.Ring, ring.Short(pr.Candidate))
}

// Plan decides a promotion without moving anything.
func (p *Promoter) Plan(ctx context.Context, o Options) (*Promotion, error) {
	i, err := p.ringIndex(o.Ring)
	if err != nil {
		return nil, err
	}
	st, err := p.Positions.State(ctx)
	if err != nil {
		return nil, err
	}
	if st.DevCommit == "" {
		if _, err := p.Positions.DevCommit(); err != nil {
			return nil, err
		}
	}
	srcName, srcHead := st.Source(i)
	if i > 0 && st.Rings[i-1].Err != nil {
		return nil, st.Rings[i-1].Err
	}
	if o.Group != "" {
		return p.planGroup(ctx, o, i, st)
	}
	candidate := srcHead
	if o.decided != "" {
		candidate = o.decided
	} else if o.Rev != "" {
		if candidate, err = p.Positions.Resolve(ctx, o.Rev); err != nil {
			return nil, err
		}
	} else if candidate == "" {
		return nil, fmt.Errorf("ring %s has no branch to take a candidate from: run `ringflow init` or promote %s first", srcName, srcName)
	}
	rs := st.Rings[i]
	req := &ring.Request{Ring: rs.Ring.Name, Source: srcName, SourceHead: srcHead, Candidate: candidate, Groups: rs.Groups,
		Dev: st.Dev, DevHead: st.DevCommit, Hold: rs.Hold}
	if i > 0 {
		req.SourceGroups = st.Rings[i-1].Groups
	}
	pr := &Promotion{From: rs.Position}
	if moving(req) {
		if pr.NoImpact, err = p.addEvidence(ctx, req); err != nil {
			return nil, err
		}
		if err := p.gateFacts(ctx, pr, i, req, o.ForceSoak, true); err != nil {
			return nil, err
		}
	}
	if pr, err = p.decide(pr, req, o.Gates); err != nil {
		return nil, err
	}
	if o.Rev == "" && o.decided == "" && pr.NothingToDo() {
		pr.Idle = p.idle(st, i, candidate)
	}
	return pr, nil
}

// decide has the gates (default: ring.DefaultGates) decide req into pr.
func (p *Promoter) decide(pr *Promotion, req *ring.Request, gates []ring.Gate) (*Promotion, error) {
	if gates == nil {
		gates = ring.DefaultGates()
	}
	plan, err := ring.Decide(req, p.Ancestry, gates)
	if err != nil {
		return nil, err
	}
	pr.Plan = plan
	return pr, nil
}

func (p *Promoter) ringIndex(name string) (int, error) {
	var names []string
	for i, r := range p.Rings {
		if r.Name == name {
			return i, nil
		}
		names = append(names, r.Name)
	}
	return -1, &fleet.UnknownRingError{Ring: name, Known: names}
}

// moving says whether any unpinned group would move.
func moving(req *ring.Request) bool {
	for _, gs := range req.Groups {
		if !gs.Group.Pinned && gs.Commit != req.Candidate {
			return true
		}
	}
	return false
}

// addEvidence fills in the hosts the promotion would move and their
// evidence at the candidate, and says whether none of them changes
// derivation from where its own group stands (every one with evidence at
// both): a group held back by a pin moves further than the ring.
func (p *Promoter) addEvidence(ctx context.Context, req *ring.Request) (noImpact bool, err error) {
	from := map[string]string{} // moving group → its commit ("" = a new branch)
	for _, gs := range req.Groups {
		if (!gs.Group.Pinned || req.Group == gs.Group.Name) && gs.Commit != req.Candidate {
			from[gs.Group.Name] = gs.Commit
		}
	}
	ps, err := p.Hosts.Hosts(ctx, req.Candidate)
	if err != nil {
		return false, err
	}
	note, err := p.Evidence.Get(req.Candidate)
	if err != nil {
		return false, err
	}
	req.Evidence = map[string]ring.HostEvidence{}
	before := map[string]*evidence.Note{} // host → the evidence where its group stands
	noImpact = true
	for _, pl := range ps {
		c, moves := from[pl.Group]
		if !moves {
			continue
		}
		req.Hosts = append(req.Hosts, pl.Host)
		if c == "" {
			noImpact = false
			continue
		}
		if before[pl.Host], err = p.Evidence.Get(c); err != nil {
			return false, err
		}
	}
	// Only an entry that can be checked counts as built.
	why, err := p.Verify.Unverified(ctx, note, req.Hosts, nil)
	if err != nil {
		return false, err
	}
	for _, m := range note.Malformed {
		req.EvidenceMalformed = append(req.EvidenceMalformed, m.String())
	}
	for _, h := range req.Hosts {
		e, ok := note.Hosts[h]
		if ok {
			req.Evidence[h] = ring.HostEvidence{Status: e.Status, Phase: e.Phase, Unverified: why[h]}
		}
		b := before[h]
		if !ok || why[h] != "" || e.Drv == "" || b == nil || b.Hosts[h].Drv != e.Drv {
			noImpact = false
		}
	}
	return noImpact && len(req.Hosts) > 0, nil
}

// gateFacts gathers what the soak, freeze, signature and verify gates of
// a promotion into ring i decide on; the source ring's soak and verify
// hook only when the candidate comes from it (fromSource).
func (p *Promoter) gateFacts(ctx context.Context, pr *Promotion, i int, req *ring.Request, forceSoak, fromSource bool) error {
	req.Now = p.Now()
	req.Freeze = p.Rings[i].Freeze
	if i > 0 && fromSource {
		src := p.Rings[i-1]
		req.SoakNeeded, req.SkipSoak = src.Soak, forceSoak
		observed := p.Observe != nil && src.Converge.IsSet()
		var entries []ledger.Entry
		if (src.Soak > 0 && !forceSoak) || observed {
			var err error
			if entries, err = p.Ledger.Entries(0); err != nil {
				return err
			}
		}
		if p.Observe != nil {
			if err := p.health(ctx, src, req); err != nil {
				return err
			}
		}
		if observed {
			record, err := p.observed(ctx, src, req, entries)
			if err != nil {
				return err
			}
			if pr != nil {
				pr.recordConverged, pr.convergeCheck = record, req.Converge
			}
			if record {
				// Counted from the hosts' switch (or now): the entry lands
				// before the decision.
				entries = append([]ledger.Entry{{Event: ledger.EventConverged, Ring: src.Name, To: req.Candidate, Time: p.Now(),
					ConvergedAt: req.Converge.At()}}, entries...)
			}
		}
		if src.Soak > 0 && !forceSoak {
			since := soak.HeldSince
			if observed {
				since = soak.ConvergedSince
			}
			var err error
			if req.SoakSince, req.SoakWaived, err = since(entries, src.Name, req.Candidate, p.Ancestry); err != nil {
				return err
			}
		}
		if len(src.Verify) > 0 {
			run, err := p.runVerify(ctx, src, req.Candidate)
			if err != nil {
				return err
			}
			req.Verify = run
		}
	}
	if p.SignedBy != "" {
		check, err := p.checkSignature(req.Candidate)
		if err != nil {
			return err
		}
		req.Signature = check
	}
	return nil
}

// runVerify runs the verify hook of ring r, with the ring, the commit and
// the ring's hosts at that commit in its environment.
func (p *Promoter) runVerify(ctx context.Context, r config.Ring, commit string) (*ring.HookRun, error) {
	ps, err := p.Hosts.Hosts(ctx, commit)
	if err != nil {
		return nil, err
	}
	var hosts []string
	for _, pl := range ps {
		if pl.Ring == r.Name {
			hosts = append(hosts, pl.Host)
		}
	}
	timeout := r.VerifyTimeout
	if timeout <= 0 {
		timeout = 5 * time.Minute
	}
	env := []string{"RINGFLOW_RING=" + r.Name, "RINGFLOW_COMMIT=" + commit, "RINGFLOW_HOSTS=" + strings.Join(hosts, " ")}
	if p.Log != nil {
		fmt.Fprintf(p.Log, "running the verify hook of %s: %s\n", r.Name, strings.Join(r.Verify, " "))
	}
	res, err := p.RunHook(ctx, r.Verify, p.Env, env, timeout)
	if err != nil {
		return &ring.HookRun{Ring: r.Name, RunError: err.Error()}, nil
	}
	return &ring.HookRun{Ring: r.Name, ExitCode: res.ExitCode, TimedOut: res.TimedOut, Duration: res.Duration, Output: res.Output}, nil
}

// checkSignature verifies commit against the armored keyring of
// gates.signed-by.
func (p *Promoter) checkSignature(commit string) (*ring.SignatureCheck, error) {
	keyring, err := os.ReadFile(p.SignedBy)
	if err != nil {
		return nil, fmt.Errorf("gates.signed-by: %w", err)
	}
	_, err = p.Signatures.VerifySignature(commit, keyring)
	var unknown *gitrepo.UnknownKeyError
	var bad *gitrepo.BadSignatureError
	check := &ring.SignatureCheck{Keyring: p.SignedBy}
	switch {
	case err == nil:
	case errors.Is(err, gitrepo.ErrUnsigned):
		check.Unsigned = err.Error()
	case errors.As(err, &unknown):
		check.UnknownKey = unknown.KeyID
	case errors.As(err, &bad):
		check.Bad = bad.Reason
	default:
		return nil, err
	}
	return check, nil
}
