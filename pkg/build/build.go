// Package build is ringflow's build: it test-builds the hosts of the flake
// at one commit straight from git, answers what it can from the evidence
// and the store instead of building again, and records every fresh outcome
// as evidence.
//
// It reaches the fleet core, the evidence, nix and the clock only through
// the narrow interfaces below, so that what it decides can be tested with
// small fakes; New gives the real ones. It must not import cobra or print.
package build

import (
	"context"
	"errors"
	"fmt"
	"path"
	"slices"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/ringflow/ringflow/pkg/evidence"
	"github.com/ringflow/ringflow/pkg/fleet"
	"github.com/ringflow/ringflow/pkg/nix"
	"github.com/ringflow/ringflow/pkg/ring"
)

// Options says what to build.
type Options struct {
	Rev      string   // "" = dev's head
	Patterns []string // host names or globs; none = every host
	// Progress, when set, hears of each host as its outcome is known.
	Progress func(ev Event)
}

// Event is one step of a build, for progress lines.
type Event struct {
	Host string
	// "evaluating", "evaluated", "eval-failed", "building" (handed to
	// nix), "finished" (its build stopped; the outcome follows), "built",
	// "build-failed", "reused", "not-built" (no remote builder took it; see
	// NoBuilderError); or "log": Line is a line of a build's log (build
	// -L), and Host says whose: the host, the hosts sharing that toplevel
	// ("a, b"), or for a dependency's build the derivation's name
	// ("linux-6.6.1"), as nix build -L says.
	Phase string
	Line  string
}

// PhaseLog is the Phase of an Event carrying a line of a build's log.
const PhaseLog = "log"

// HostOutcome is one host's result.
type HostOutcome struct {
	Host    string  `json:"host"`
	Status  string  `json:"status"` // green, red, or not-built (NotBuilt)
	Phase   string  `json:"phase"`  // eval, build or timeout
	Drv     string  `json:"drv"`
	Out     string  `json:"out"`
	Seconds float64 `json:"seconds"` // EvalSeconds + BuildSeconds
	// EvalSeconds is this host's own evaluation; BuildSeconds its
	// toplevel's build here (0 when reused or never built).
	EvalSeconds  float64 `json:"eval_seconds"`
	BuildSeconds float64 `json:"build_seconds"`
	// Builder is where its toplevel was built in this run: "local", or
	// the remote builder of build.builders (ssh-ng://…); "" when not built.
	Builder string `json:"builder"`
	Reused  bool   `json:"reused"`
	Error   string `json:"error"`
	// Unverified says why the green entry recorded before at this commit
	// did not count as built ("has no drv/out path", …), so that the host
	// was built again and its entry replaced.
	Unverified string `json:"unverified,omitempty"`
}

// NotBuilt is the status of a host no remote builder took while nothing
// may build here (build.jobs 0): neither green nor red, and not recorded.
const NotBuilt = "not-built"

// BuiltRemotely says whether the host's toplevel went to a remote builder.
func (h HostOutcome) BuiltRemotely() bool {
	return h.Builder != "" && h.Builder != nix.LocalBuilder
}

// NoBuilderError: build.jobs is 0, so nothing may build here, and no remote
// builder took the build of some hosts (Hosts), or of any (no Hosts: nothing
// was built or recorded). Those hosts are not red and their evidence is left
// as it was: the next build takes them again. It exits 1, not 4: the hosts
// did not fail, the builders are out of reach.
type NoBuilderError struct {
	Machines []string // the builders' store URIs; none = nix.conf's
	Reason   string   // what nix said of them
	Hosts    []string // the hosts no builder took; none = every host
}

func (e *NoBuilderError) Error() string {
	which, ping := "the builders of nix.conf", "<uri>"
	if len(e.Machines) > 0 {
		which, ping = strings.Join(e.Machines, ", "), e.Machines[0]
	}
	what, next := "the build", ""
	if len(e.Hosts) > 0 {
		what = fmt.Sprintf("the build of %d host(s): %s (not recorded: neither red nor green)", len(e.Hosts), strings.Join(e.Hosts, ", "))
		next = "; then build them again: ringflow build"
		for _, h := range e.Hosts {
			next += " --host " + h
		}
	}
	return fmt.Sprintf("no remote builder took %s (%s), and build.jobs is 0, so nothing may build here; nix said:\n  %s\n"+
		"check that each builder answers as this user: nix store ping --store %s (ssh options from NIX_SSHOPTS or ~/.ssh/config), "+
		"or set build.jobs: auto to build here too%s",
		what, which, strings.ReplaceAll(e.Reason, "\n", "\n  "), ping, next)
}

// Report is the outcome of one build.
type Report struct {
	Commit string        `json:"commit"`
	Nix    string        `json:"nix"`
	Hosts  []HostOutcome `json:"hosts"`
	// Replaced names each note on the commit that was not ringflow's
	// evidence and that this build's note replaced (the old one stays in
	// the notes ref's history).
	Replaced []string `json:"replaced_notes,omitempty"`
}

// Red lists the hosts that failed.
func (r *Report) Red() []HostOutcome {
	var red []HostOutcome
	for _, h := range r.Hosts {
		if h.Status == evidence.Red {
			red = append(red, h)
		}
	}
	return red
}

// NotBuilt lists the hosts no remote builder took (see NoBuilderError).
func (r *Report) NotBuilt() []HostOutcome {
	var nb []HostOutcome
	for _, h := range r.Hosts {
		if h.Status == NotBuilt {
			nb = append(nb, h)
		}
	}
	return nb
}

// RedError says some hosts did not build. It exits 4.
type RedError struct {
	Commit string
	Red    []HostOutcome
}

func (e *RedError) Error() string {
	parts := make([]string, len(e.Red))
	for i, h := range e.Red {
		parts[i] = fmt.Sprintf("%s (%s)", h.Host, h.Phase)
	}
	return fmt.Sprintf("%d host(s) red at %s: %s", len(e.Red), ring.Short(e.Commit), strings.Join(parts, ", "))
}

// UnknownHostPatternError names a --host pattern that matches no host.
type UnknownHostPatternError struct {
	Pattern string
	Commit  string
	Err     error // the pattern is not a glob at all
}

func (e *UnknownHostPatternError) Error() string {
	if e.Err != nil {
		return fmt.Sprintf("--host %q: %v", e.Pattern, e.Err)
	}
	return fmt.Sprintf("--host %q matches no host of the flake at %s", e.Pattern, ring.Short(e.Commit))
}

// Target is the fleet a build reads its commit and hosts from
// (*fleet.Fleet).
type Target interface {
	// Sync fetches the branches and the evidence from the remote, once
	// per run.
	Sync(ctx context.Context) error
	DevCommit() (string, error)
	// Resolve turns what a user typed (a branch, a ring, a revision) into
	// a commit.
	Resolve(ctx context.Context, rev string) (string, error)
	FlakeRef(commit string) (nix.FlakeRef, error)
	// HostNames lists the hosts of the flake at commit.
	HostNames(ctx context.Context, commit string) ([]string, error)
}

// Evidence is what a build reads and writes of the evidence
// (*evidence.Store).
type Evidence interface {
	Get(commit string) (*evidence.Note, error)
	// GreenDrvs indexes every derivation green at any commit.
	GreenDrvs() (map[string]bool, error)
	Record(ctx context.Context, commit string, hosts map[string]evidence.Host) error
}

// Verifier checks green entries: those that cannot be checked do not count
// as built (*evidence.Verifier).
type Verifier interface {
	Unverified(ctx context.Context, n *evidence.Note, hosts []string, evaluated map[string]evidence.Evaluated) (map[string]string, error)
	// InCache says which of outs are valid in build.cache.
	InCache(ctx context.Context, outs []string) map[string]bool
}

// Nix evaluates, realises and copies (*nix.Nix).
type Nix interface {
	Version(ctx context.Context) (nix.Version, error)
	EvalHosts(ctx context.Context, ref nix.FlakeRef, hosts []string, o nix.EvalOptions) ([]nix.HostEval, error)
	ValidPaths(ctx context.Context, paths []string) (map[string]bool, error)
	Realise(ctx context.Context, drvs []nix.DrvOut, o nix.RealiseOptions) ([]nix.BuildResult, error)
	CopyTo(ctx context.Context, storeURL string, paths []string) error
}

// Settings are the config's build.* values.
type Settings struct {
	Attribute string // attribute under nixosConfigurations.<host>
	Jobs      string // nix --max-jobs
	Builders  string // nix --builders
	Cache     string // store green outputs are copied to; "" = none
	// EvalWorkers and EvalMemory bound evaluation: processes at once (0 =
	// one per core) and the memory past which one is replaced.
	EvalWorkers int
	EvalMemory  int64
	// Timeout and MaxSilent bound each derivation's build (nix --timeout,
	// --max-silent-time); 0 = none of ringflow's.
	Timeout   time.Duration
	MaxSilent time.Duration
	// RoundEvery is how often a realise round starts at most while
	// evaluation goes on; 0 = DefaultRoundEvery.
	RoundEvery time.Duration
}

// DefaultRoundEvery spaces realise rounds: the first host is built at once,
// later ones in rounds of what evaluation gave meanwhile.
const DefaultRoundEvery = 5 * time.Second

// Builder test-builds hosts.
type Builder struct {
	Target   Target
	Evidence Evidence
	Verify   Verifier
	Nix      Nix
	Now      func() time.Time // the time fresh evidence is recorded at
	Settings Settings
}

// New is the builder of a fleet, with the config's build settings.
func New(fl *fleet.Fleet) *Builder {
	b := fl.Config.Build
	return &Builder{Target: fl, Evidence: fl.Evidence, Verify: fl.EvidenceVerifier(), Nix: fl.Nix, Now: fl.Now,
		Settings: Settings{Attribute: b.Attribute, Jobs: b.Jobs, Builders: b.Builders, Cache: b.Cache,
			EvalWorkers: b.EvalWorkers, EvalMemory: b.EvalMemory, Timeout: b.Timeout, MaxSilent: b.MaxSilent}}
}

// Run test-builds the hosts at a commit straight from git and records
// the evidence. Every host is evaluated: one already green at that commit
// is reused when its entry can be checked against the evaluation (the same
// drv and out path, the output valid here or in build.cache), and built
// again, its entry replaced, when it cannot. A host whose output is already
// valid, or whose derivation was green at any commit with its output in
// build.cache, is reported reused. A note on the commit that is not
// ringflow's evidence counts as none and is replaced.
func (b *Builder) Run(ctx context.Context, o Options) (*Report, error) {
	if err := b.Target.Sync(ctx); err != nil {
		return nil, err
	}
	commit, err := b.commit(ctx, o.Rev)
	if err != nil {
		return nil, err
	}
	ref, err := b.Target.FlakeRef(commit)
	if err != nil {
		return nil, err
	}
	all, err := b.Target.HostNames(ctx, commit)
	if err != nil {
		return nil, err
	}
	hosts, err := selectHosts(all, o.Patterns, commit)
	if err != nil {
		return nil, err
	}
	v, err := b.Nix.Version(ctx)
	if err != nil {
		return nil, err
	}
	note, err := b.Evidence.Get(commit)
	if err != nil {
		return nil, err
	}

	r := b.newRun(v.String(), o.Progress)
	r.note = note
	if err := r.evalAndRealise(ctx, ref, hosts); err != nil {
		return nil, err
	}
	if err := r.recordEvidence(ctx, commit); err != nil {
		return nil, err
	}
	rep := &Report{Commit: commit, Nix: r.nixVersion}
	if len(r.fresh) > 0 {
		for _, m := range note.Malformed {
			rep.Replaced = append(rep.Replaced, m.String())
		}
	}
	for _, h := range hosts {
		rep.Hosts = append(rep.Hosts, r.outcomes[h])
	}
	if len(r.notTakenWhy) > 0 {
		// The report stands, with the evidence of the other hosts; the
		// error says which hosts are still to build, and where it failed.
		nb := &NoBuilderError{Machines: nix.BuilderURIs(b.Settings.Builders), Reason: strings.Join(r.notTakenWhy, "\n")}
		for _, h := range rep.NotBuilt() {
			nb.Hosts = append(nb.Hosts, h.Host)
		}
		return rep, nb
	}
	return rep, nil
}

func (b *Builder) commit(ctx context.Context, rev string) (string, error) {
	if rev == "" {
		return b.Target.DevCommit()
	}
	return b.Target.Resolve(ctx, rev)
}

// run is one build's outcomes as they become known.
type run struct {
	*Builder
	nixVersion  string // the Nix that judges, for the evidence
	now         time.Time
	outcomes    map[string]HostOutcome
	fresh       map[string]evidence.Host // the outcomes judged now, to record
	greenDrvs   map[string]bool          // read once, when first needed
	note        *evidence.Note           // the evidence at the commit before this build
	unverified  map[string]string        // hosts green in note whose entry did not count: why
	notTakenWhy []string                 // what nix said when no remote builder took hosts (build.jobs 0), each once

	// Evaluation and building report progress at the same time: the
	// listener hears one event at a time.
	progressMu sync.Mutex
	onProgress func(Event)
}

func (b *Builder) newRun(nixVersion string, progress func(Event)) *run {
	if progress == nil {
		progress = func(Event) {}
	}
	return &run{Builder: b, nixVersion: nixVersion, now: b.Now().UTC(), onProgress: progress,
		outcomes: map[string]HostOutcome{}, fresh: map[string]evidence.Host{}, unverified: map[string]string{}}
}

func (r *run) progress(ev Event) {
	r.progressMu.Lock()
	defer r.progressMu.Unlock()
	r.onProgress(ev)
}

// judge is a fresh outcome: reported, and recorded as evidence.
func (r *run) judge(oc HostOutcome) {
	oc.Seconds = oc.EvalSeconds + oc.BuildSeconds
	r.outcomes[oc.Host] = oc
	r.fresh[oc.Host] = evidence.Host{Status: oc.Status, Phase: oc.Phase, Drv: oc.Drv, Out: oc.Out,
		Seconds: oc.Seconds, EvalSeconds: oc.EvalSeconds, BuildSeconds: oc.BuildSeconds, Builder: oc.Builder,
		Reused: oc.Reused, Error: oc.Error, Nix: r.nixVersion, Time: r.now}
}

// evalAndRealise evaluates hosts and, while evaluation goes on, realises
// what it has given so far: each round takes every host evaluated since the
// last one, so the first hosts are green long before the last one is
// evaluated. Hosts that fail to evaluate are judged red at once. Realise
// calls never overlap: builds of shared dependencies by two nix processes
// can deadlock before Nix 2.9 (NixOS/nix#6468).
func (r *run) evalAndRealise(ctx context.Context, ref nix.FlakeRef, hosts []string) error {
	if len(hosts) == 0 {
		return nil
	}
	ectx, cancel := context.WithCancel(ctx)
	defer cancel()
	evaluated := make(chan nix.HostEval, len(hosts)) // never blocks the evaluator
	evalDone := make(chan error, 1)
	finished := make(chan struct{})
	go func() {
		_, err := r.Nix.EvalHosts(ectx, ref, hosts, nix.EvalOptions{
			Attr: r.Settings.Attribute, Workers: r.Settings.EvalWorkers, MaxMemory: r.Settings.EvalMemory,
			OnStart: func(host string) { r.progress(Event{Host: host, Phase: "evaluating"}) },
			OnResult: func(he nix.HostEval) {
				if he.Err != "" {
					r.progress(Event{Host: he.Host, Phase: "eval-failed"})
				} else {
					r.progress(Event{Host: he.Host, Phase: "evaluated"})
				}
				evaluated <- he
			},
		})
		close(evaluated)
		close(finished)
		evalDone <- err
	}()
	for {
		roundStart := time.Now()
		batch, more := takeReady(evaluated)
		if err := r.judgeEvaluated(ctx, batch); err != nil {
			cancel()
			<-evalDone
			return err
		}
		if !more {
			return <-evalDone
		}
		// Each round is a nix process of its own, taking a core from the
		// evaluators: after the first, let hosts gather for a while.
		if wait := r.roundEvery() - time.Since(roundStart); wait > 0 {
			select {
			case <-time.After(wait):
			case <-finished:
			case <-ctx.Done():
			}
		}
	}
}

// roundEvery is how often realise rounds start at most while evaluation
// goes on.
func (r *run) roundEvery() time.Duration {
	if r.Settings.RoundEvery > 0 {
		return r.Settings.RoundEvery
	}
	return DefaultRoundEvery
}

// takeReady waits for one evaluated host, then takes every other one that
// is ready; more is false once evaluation has ended.
func takeReady(ch <-chan nix.HostEval) (batch []nix.HostEval, more bool) {
	he, ok := <-ch
	if !ok {
		return nil, false
	}
	batch = append(batch, he)
	for {
		select {
		case he, ok := <-ch:
			if !ok {
				return batch, false
			}
			batch = append(batch, he)
		default:
			return batch, true
		}
	}
}

// judgeEvaluated judges the hosts that failed to evaluate red and
// realises the rest.
func (r *run) judgeEvaluated(ctx context.Context, evals []nix.HostEval) error {
	var evaluated []nix.HostEval
	for _, he := range evals {
		if he.Err != "" {
			r.judge(HostOutcome{Host: he.Host, Status: evidence.Red, Phase: evidence.PhaseEval, EvalSeconds: he.Seconds, Error: he.Err})
			continue
		}
		evaluated = append(evaluated, he)
	}
	return r.realise(ctx, evaluated)
}

// realise answers the hosts the note already shows green, where their
// entry stands up to this evaluation; reports hosts whose output is valid,
// or whose derivation was green before with its output in build.cache, as
// reused; and builds the rest in one nix call.
func (r *run) realise(ctx context.Context, evaluated []nix.HostEval) error {
	if len(evaluated) == 0 {
		return nil
	}
	toBuild, rest, err := r.reuseNote(ctx, evaluated)
	if err != nil {
		return err
	}
	outs := make([]string, len(rest))
	for i, he := range rest {
		outs[i] = he.Out
	}
	valid, err := r.Nix.ValidPaths(ctx, outs)
	if err != nil {
		return err
	}
	var elsewhere []nix.HostEval // green before, with the output not here
	for _, he := range rest {
		if valid[he.Out] {
			r.judge(HostOutcome{Host: he.Host, Status: evidence.Green, Phase: evidence.PhaseBuild, Drv: he.Drv, Out: he.Out, EvalSeconds: he.Seconds, Reused: true})
			r.progress(Event{Host: he.Host, Phase: "reused"})
			continue
		}
		if r.Settings.Cache == "" {
			toBuild = append(toBuild, he)
			continue
		}
		// Read only when needed: it walks every note.
		if r.greenDrvs == nil {
			if r.greenDrvs, err = r.Evidence.GreenDrvs(); err != nil {
				return err
			}
		}
		if r.greenDrvs[he.Drv] {
			elsewhere = append(elsewhere, he)
			continue
		}
		toBuild = append(toBuild, he)
	}
	// A derivation green at another commit counts only with its output
	// somewhere: here (above) or in build.cache. Otherwise it is built.
	if len(elsewhere) > 0 {
		var away []string
		for _, he := range elsewhere {
			away = append(away, he.Out)
		}
		cached := r.Verify.InCache(ctx, away)
		for _, he := range elsewhere {
			if !cached[he.Out] {
				toBuild = append(toBuild, he)
				continue
			}
			r.judge(HostOutcome{Host: he.Host, Status: evidence.Green, Phase: evidence.PhaseBuild, Drv: he.Drv, Out: he.Out, EvalSeconds: he.Seconds, Reused: true})
			h := r.fresh[he.Host]
			h.Cache = r.Settings.Cache
			r.fresh[he.Host] = h
			r.progress(Event{Host: he.Host, Phase: "reused"})
		}
	}
	if len(toBuild) == 0 {
		return nil
	}
	byDrv := map[string][]nix.HostEval{}
	var drvs []nix.DrvOut
	for _, he := range toBuild {
		r.progress(Event{Host: he.Host, Phase: "building"})
		if _, dup := byDrv[he.Drv]; !dup {
			drvs = append(drvs, nix.DrvOut{Drv: he.Drv, Out: he.Out})
		}
		byDrv[he.Drv] = append(byDrv[he.Drv], he)
	}
	results, err := r.Nix.Realise(ctx, drvs, nix.RealiseOptions{
		Jobs: r.Settings.Jobs, Builders: r.Settings.Builders,
		Timeout: r.Settings.Timeout, MaxSilent: r.Settings.MaxSilent,
		OnFinished: func(drv string) {
			for _, he := range byDrv[drv] {
				r.progress(Event{Host: he.Host, Phase: "finished"})
			}
		},
		OnLog: func(drv, line string) {
			r.progress(Event{Host: logSource(byDrv[drv], drv), Phase: PhaseLog, Line: line})
		},
	})
	var nb *nix.NoBuilderError
	if errors.As(err, &nb) {
		return &NoBuilderError{Machines: nb.Machines(), Reason: nb.Reason()}
	}
	if err != nil {
		return err
	}
	for _, br := range results {
		for _, he := range byDrv[br.Drv] {
			if br.NotTaken {
				// Not red: nothing was tried. Left unrecorded, so that
				// the next build takes the host again.
				r.outcomes[he.Host] = HostOutcome{Host: he.Host, Status: NotBuilt, Phase: evidence.PhaseBuild, Drv: he.Drv, Out: he.Out,
					EvalSeconds: he.Seconds, Seconds: he.Seconds, Error: br.Err}
				if !slices.Contains(r.notTakenWhy, br.Err) {
					r.notTakenWhy = append(r.notTakenWhy, br.Err)
				}
				r.progress(Event{Host: he.Host, Phase: "not-built"})
				continue
			}
			phase := "built"
			if !br.OK {
				phase = "build-failed"
			}
			r.progress(Event{Host: he.Host, Phase: phase})
			oc := HostOutcome{Host: he.Host, Status: evidence.Green, Phase: evidence.PhaseBuild, Drv: he.Drv, Out: he.Out, EvalSeconds: he.Seconds, BuildSeconds: br.Seconds, Builder: br.Builder,
				Unverified: r.unverified[he.Host]}
			if !br.OK {
				oc.Status, oc.Error = evidence.Red, br.Err
			}
			if !br.OK && br.TimedOut != "" {
				oc.Phase, oc.Error = evidence.PhaseTimeout, r.timedOutText(br)+"\n"+br.Err
			}
			r.judge(oc)
		}
	}
	return nil
}

// logSource says whose build a log line is of: the hosts whose toplevel
// drv is, else (a dependency) the derivation's name.
func logSource(hosts []nix.HostEval, drv string) string {
	if len(hosts) == 0 {
		return nix.DrvName(drv)
	}
	names := make([]string, len(hosts))
	for i, he := range hosts {
		names[i] = he.Host
	}
	return strings.Join(names, ", ")
}

// recordEvidence copies green outputs to the cache, when there is one, and
// records the fresh outcomes at commit.
func (r *run) recordEvidence(ctx context.Context, commit string) error {
	if r.Settings.Cache != "" {
		if err := r.copyToCache(ctx); err != nil {
			// The evidence of the build itself still stands.
			if rerr := r.Evidence.Record(ctx, commit, r.fresh); rerr != nil {
				return rerr
			}
			return err
		}
	}
	if len(r.fresh) > 0 {
		return r.Evidence.Record(ctx, commit, r.fresh)
	}
	return nil
}

// copyToCache copies every green output that is in the local store to
// build.cache and notes the cache in those hosts' evidence.
func (r *run) copyToCache(ctx context.Context) error {
	var names, outs []string
	for name, h := range r.fresh {
		if h.Status == evidence.Green && h.Out != "" {
			names = append(names, name)
			outs = append(outs, h.Out)
		}
	}
	if len(outs) == 0 {
		return nil
	}
	valid, err := r.Nix.ValidPaths(ctx, outs)
	if err != nil {
		return err
	}
	var present []string
	for _, o := range outs {
		if valid[o] {
			present = append(present, o)
		}
	}
	if len(present) == 0 {
		return nil
	}
	cache := r.Settings.Cache
	if err := r.Nix.CopyTo(ctx, cache, present); err != nil {
		return fmt.Errorf("copy green outputs to build.cache %s: %w", cache, err)
	}
	for _, name := range names {
		h := r.fresh[name]
		if valid[h.Out] {
			h.Cache = cache
			r.fresh[name] = h
		}
	}
	return nil
}

// selectHosts keeps the hosts matching any pattern (all when none); a
// pattern that matches nothing is an error naming it.
func selectHosts(all, patterns []string, commit string) ([]string, error) {
	sorted := append([]string(nil), all...)
	sort.Strings(sorted)
	if len(patterns) == 0 {
		return sorted, nil
	}
	keep := map[string]bool{}
	for _, p := range patterns {
		if _, err := path.Match(p, ""); err != nil {
			return nil, &UnknownHostPatternError{Pattern: p, Commit: commit, Err: err}
		}
		matched := false
		for _, h := range sorted {
			if ok, _ := path.Match(p, h); ok || p == h {
				keep[h], matched = true, true
			}
		}
		if !matched {
			return nil, &UnknownHostPatternError{Pattern: p, Commit: commit}
		}
	}
	var out []string
	for _, h := range sorted {
		if keep[h] {
			out = append(out, h)
		}
	}
	return out, nil
}
