package fleet

import (
	"context"
	"fmt"
	"path"
	"sort"
	"strings"

	"github.com/ringflow/ringflow/pkg/evidence"
	"github.com/ringflow/ringflow/pkg/nix"
	"github.com/ringflow/ringflow/pkg/ring"
)

// BuildOptions says what to build.
type BuildOptions struct {
	Rev      string   // "" = dev's head
	Patterns []string // host names or globs; none = every host
	// Progress, when set, hears of each host as its outcome is known.
	Progress func(ev BuildEvent)
}

// BuildEvent is one step of a build, for progress lines.
type BuildEvent struct {
	Host string
	// "evaluated", "eval-failed", "finished" (its build stopped; the outcome
	// follows), "built", "build-failed", "reused"
	Phase string
}

// HostOutcome is one host's result.
type HostOutcome struct {
	Host    string  `json:"host"`
	Status  string  `json:"status"` // green or red
	Phase   string  `json:"phase"`  // eval or build
	Drv     string  `json:"drv"`
	Out     string  `json:"out"`
	Seconds float64 `json:"seconds"`
	Reused  bool    `json:"reused"`
	Error   string  `json:"error"`
}

// BuildReport is the outcome of one build.
type BuildReport struct {
	Commit string        `json:"commit"`
	Nix    string        `json:"nix"`
	Hosts  []HostOutcome `json:"hosts"`
}

// Red lists the hosts that failed.
func (r *BuildReport) Red() []HostOutcome {
	var red []HostOutcome
	for _, h := range r.Hosts {
		if h.Status == evidence.Red {
			red = append(red, h)
		}
	}
	return red
}

// BuildRedError says some hosts did not build. It exits 4.
type BuildRedError struct {
	Commit string
	Red    []HostOutcome
}

func (e *BuildRedError) Error() string {
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

// Build test-builds the hosts at a commit straight from git and records
// the evidence. Hosts already green at that commit are answered from the
// evidence without evaluating; hosts whose output is already valid, or
// whose derivation was green at any commit, are reported reused.
func (f *Fleet) Build(ctx context.Context, o BuildOptions) (*BuildReport, error) {
	progress := o.Progress
	if progress == nil {
		progress = func(BuildEvent) {}
	}
	if err := f.Sync(ctx); err != nil {
		return nil, err
	}
	commit, err := f.buildCommit(ctx, o.Rev)
	if err != nil {
		return nil, err
	}
	ref, err := f.FlakeRef(commit)
	if err != nil {
		return nil, err
	}
	all, err := f.HostNames(ctx, commit)
	if err != nil {
		return nil, err
	}
	hosts, err := selectHosts(all, o.Patterns, commit)
	if err != nil {
		return nil, err
	}
	v, err := f.Nix.Version(ctx)
	if err != nil {
		return nil, err
	}
	rep := &BuildReport{Commit: commit, Nix: v.String()}
	note, err := f.Evidence.Get(commit)
	if err != nil {
		return nil, err
	}

	outcomes := map[string]HostOutcome{}
	var toEval []string
	for _, h := range hosts {
		if e, ok := note.Hosts[h]; ok && e.Status == evidence.Green {
			outcomes[h] = HostOutcome{Host: h, Status: evidence.Green, Phase: evidence.PhaseBuild, Drv: e.Drv, Out: e.Out, Reused: true}
			progress(BuildEvent{Host: h, Phase: "reused"})
			continue
		}
		toEval = append(toEval, h)
	}

	fresh := map[string]evidence.Host{}
	now := f.Now().UTC()
	record := func(oc HostOutcome) {
		outcomes[oc.Host] = oc
		fresh[oc.Host] = evidence.Host{Status: oc.Status, Phase: oc.Phase, Drv: oc.Drv, Out: oc.Out,
			Seconds: oc.Seconds, Reused: oc.Reused, Error: oc.Error, Nix: rep.Nix, Time: now}
	}

	if len(toEval) > 0 {
		evals, err := f.Nix.EvalHosts(ctx, ref, toEval, nix.EvalOptions{
			Attr: f.Config.Build.Attribute,
			OnResult: func(he nix.HostEval) {
				if he.Err != "" {
					progress(BuildEvent{Host: he.Host, Phase: "eval-failed"})
				} else {
					progress(BuildEvent{Host: he.Host, Phase: "evaluated"})
				}
			},
		})
		if err != nil {
			return nil, err
		}
		var evaluated []nix.HostEval
		for _, he := range evals {
			if he.Err != "" {
				record(HostOutcome{Host: he.Host, Status: evidence.Red, Phase: evidence.PhaseEval, Seconds: he.Seconds, Error: he.Err})
				continue
			}
			evaluated = append(evaluated, he)
		}
		if err := f.realise(ctx, evaluated, record, progress); err != nil {
			return nil, err
		}
	}

	if f.Config.Build.Cache != "" {
		if err := f.copyToCache(ctx, fresh); err != nil {
			// The evidence of the build itself still stands.
			if rerr := f.Evidence.Record(ctx, commit, fresh); rerr != nil {
				return nil, rerr
			}
			return nil, err
		}
	}
	if len(fresh) > 0 {
		if err := f.Evidence.Record(ctx, commit, fresh); err != nil {
			return nil, err
		}
	}
	for _, h := range hosts {
		rep.Hosts = append(rep.Hosts, outcomes[h])
	}
	return rep, nil
}

// realise reports hosts whose output is valid or whose derivation was
// green before as reused, and builds the rest in one nix call.
func (f *Fleet) realise(ctx context.Context, evaluated []nix.HostEval, record func(HostOutcome), progress func(BuildEvent)) error {
	if len(evaluated) == 0 {
		return nil
	}
	outs := make([]string, len(evaluated))
	for i, he := range evaluated {
		outs[i] = he.Out
	}
	valid, err := f.Nix.ValidPaths(ctx, outs)
	if err != nil {
		return err
	}
	var greenDrvs map[string]bool
	var toBuild []nix.HostEval
	for _, he := range evaluated {
		if !valid[he.Out] {
			if greenDrvs == nil {
				if greenDrvs, err = f.Evidence.GreenDrvs(); err != nil {
					return err
				}
			}
			if !greenDrvs[he.Drv] {
				toBuild = append(toBuild, he)
				continue
			}
		}
		record(HostOutcome{Host: he.Host, Status: evidence.Green, Phase: evidence.PhaseBuild, Drv: he.Drv, Out: he.Out, Seconds: he.Seconds, Reused: true})
		progress(BuildEvent{Host: he.Host, Phase: "reused"})
	}
	if len(toBuild) == 0 {
		return nil
	}
	byDrv := map[string][]nix.HostEval{}
	var drvs []nix.DrvOut
	for _, he := range toBuild {
		if _, dup := byDrv[he.Drv]; !dup {
			drvs = append(drvs, nix.DrvOut{Drv: he.Drv, Out: he.Out})
		}
		byDrv[he.Drv] = append(byDrv[he.Drv], he)
	}
	results, err := f.Nix.Realise(ctx, drvs, nix.RealiseOptions{
		Jobs: f.Config.Build.Jobs, Builders: f.Config.Build.Builders,
		OnFinished: func(drv string) {
			for _, he := range byDrv[drv] {
				progress(BuildEvent{Host: he.Host, Phase: "finished"})
			}
		},
		OnBuilt: func(drv string, ok bool) {
			phase := "built"
			if !ok {
				phase = "build-failed"
			}
			for _, he := range byDrv[drv] {
				progress(BuildEvent{Host: he.Host, Phase: phase})
			}
		},
	})
	if err != nil {
		return err
	}
	for _, br := range results {
		for _, he := range byDrv[br.Drv] {
			oc := HostOutcome{Host: he.Host, Status: evidence.Green, Phase: evidence.PhaseBuild, Drv: he.Drv, Out: he.Out, Seconds: he.Seconds + br.Seconds}
			if !br.OK {
				oc.Status, oc.Error = evidence.Red, br.Err
			}
			record(oc)
		}
	}
	return nil
}

// copyToCache copies every green output that is in the local store to
// build.cache and notes the cache in those hosts' evidence.
func (f *Fleet) copyToCache(ctx context.Context, fresh map[string]evidence.Host) error {
	var names, outs []string
	for name, h := range fresh {
		if h.Status == evidence.Green && h.Out != "" {
			names = append(names, name)
			outs = append(outs, h.Out)
		}
	}
	if len(outs) == 0 {
		return nil
	}
	valid, err := f.Nix.ValidPaths(ctx, outs)
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
	if err := f.Nix.CopyTo(ctx, f.Config.Build.Cache, present); err != nil {
		return fmt.Errorf("copy green outputs to build.cache %s: %w", f.Config.Build.Cache, err)
	}
	for _, name := range names {
		h := fresh[name]
		if valid[h.Out] {
			h.Cache = f.Config.Build.Cache
			fresh[name] = h
		}
	}
	return nil
}

func (f *Fleet) buildCommit(ctx context.Context, rev string) (string, error) {
	if rev == "" {
		return f.DevCommit()
	}
	return f.Resolve(ctx, rev)
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
