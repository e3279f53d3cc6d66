package build

import (
	"context"
	"fmt"
	"maps"
	"time"

	"github.com/ringflow/ringflow/pkg/evidence"
	"github.com/ringflow/ringflow/pkg/nix"
)

// fakeTarget is a fleet whose dev stands at dev and whose flake has hosts
// at every commit.
type fakeTarget struct {
	dev    string
	revs   map[string]string // what Resolve knows
	hosts  []string
	synced bool
}

func (t *fakeTarget) Sync(context.Context) error { t.synced = true; return nil }

func (t *fakeTarget) DevCommit() (string, error) { return t.dev, nil }

func (t *fakeTarget) Resolve(_ context.Context, rev string) (string, error) {
	if c, ok := t.revs[rev]; ok && t.synced {
		return c, nil
	}
	return "", fmt.Errorf("unknown revision %q (synced %v)", rev, t.synced)
}

func (t *fakeTarget) FlakeRef(commit string) (nix.FlakeRef, error) {
	return nix.FlakeRef{Repo: "/repo", Rev: commit}, nil
}

func (t *fakeTarget) HostNames(context.Context, string) ([]string, error) { return t.hosts, nil }

// fakeEvidence keeps notes in memory and remembers what was recorded.
type fakeEvidence struct {
	notes     map[string]map[string]evidence.Host // commit → host → evidence
	malformed map[string][]evidence.Malformed     // commit → its notes that are not evidence
	green     map[string]bool                     // derivations green at some commit
	recorded  map[string]map[string]evidence.Host
}

func (e *fakeEvidence) Get(commit string) (*evidence.Note, error) {
	hosts := map[string]evidence.Host{}
	maps.Copy(hosts, e.notes[commit])
	return &evidence.Note{Commit: commit, Hosts: hosts, Malformed: e.malformed[commit]}, nil
}

func (e *fakeEvidence) GreenDrvs() (map[string]bool, error) { return e.green, nil }

func (e *fakeEvidence) Record(_ context.Context, commit string, hosts map[string]evidence.Host) error {
	if e.recorded == nil {
		e.recorded = map[string]map[string]evidence.Host{}
	}
	e.recorded[commit] = maps.Clone(hosts)
	return nil
}

// fakeNix evaluates every host to evals[host] (or to drvOf(host)), realises
// derivations in buildSeconds unless fail names them, and keeps a store of
// valid paths that a successful build adds to.
type fakeNix struct {
	evals      map[string]nix.HostEval    // by host, when not drvOf's
	valid      map[string]bool            // outputs in the store
	cache      map[string]bool            // outputs in build.cache
	cacheAsked [][]string                 // what ValidPathsIn was asked
	fail       map[string]string          // drv → nix's error
	builtOn    map[string]string          // drv → where it was built, when not here
	stopped    map[string]nix.BuildResult // failed drv → its TimedOut and TimedOutDrv
	notTaken   map[string]string          // drv → what nix said: no builder took it
	realiseErr error                      // Realise fails with it, building nothing
	// logs: drv → the log lines its build (or a dependency's, drv
	// first) prints, each as [drv, line].
	logs    map[string][][2]string
	copyErr error
	// afterResult, when set, runs after each host's result is handed on,
	// before the next host is evaluated.
	afterResult func(host string)
	// realisedCh, when set, hears each derivation Realise built.
	realisedCh chan string

	evaluated [][]string
	realised  [][]nix.DrvOut
	options   []nix.RealiseOptions // of each Realise
	copiedTo  string
	copied    []string
}

const buildSeconds = 2

// drvOf is a host's own derivation, evaluated in one second.
func drvOf(host string) nix.HostEval {
	return nix.HostEval{Host: host, Drv: "/nix/store/" + host + ".drv", Out: "/nix/store/" + host, Seconds: 1}
}

func (n *fakeNix) Version(context.Context) (nix.Version, error) {
	return nix.Version{Major: 2, Minor: 8, Patch: 0}, nil
}

func (n *fakeNix) EvalHosts(_ context.Context, _ nix.FlakeRef, hosts []string, o nix.EvalOptions) ([]nix.HostEval, error) {
	n.evaluated = append(n.evaluated, append([]string(nil), hosts...))
	var out []nix.HostEval
	for _, h := range hosts {
		he, ok := n.evals[h]
		if !ok {
			he = drvOf(h)
		}
		he.Host = h
		o.OnResult(he)
		if n.afterResult != nil {
			n.afterResult(h)
		}
		out = append(out, he)
	}
	return out, nil
}

func (n *fakeNix) ValidPaths(_ context.Context, paths []string) (map[string]bool, error) {
	valid := map[string]bool{}
	for _, p := range paths {
		if n.valid[p] {
			valid[p] = true
		}
	}
	return valid, nil
}

func (n *fakeNix) ValidPathsIn(_ context.Context, _ string, paths []string) (map[string]bool, error) {
	n.cacheAsked = append(n.cacheAsked, paths)
	valid := map[string]bool{}
	for _, p := range paths {
		valid[p] = n.cache[p]
	}
	return valid, nil
}

func (n *fakeNix) Realise(_ context.Context, drvs []nix.DrvOut, o nix.RealiseOptions) ([]nix.BuildResult, error) {
	n.realised = append(n.realised, append([]nix.DrvOut(nil), drvs...))
	n.options = append(n.options, o)
	if n.realiseErr != nil {
		return nil, n.realiseErr
	}
	var results []nix.BuildResult
	for _, d := range drvs {
		if why, ok := n.notTaken[d.Drv]; ok {
			results = append(results, nix.BuildResult{Drv: d.Drv, Out: d.Out, NotTaken: true, Err: why})
			continue
		}
		msg, failed := n.fail[d.Drv]
		for _, l := range n.logs[d.Drv] {
			o.OnLog(l[0], l[1])
		}
		o.OnFinished(d.Drv)
		where := n.builtOn[d.Drv]
		if where == "" {
			where = nix.LocalBuilder
		}
		br := nix.BuildResult{Drv: d.Drv, Out: d.Out, OK: !failed, Err: msg, Seconds: buildSeconds, Builder: where}
		if s, ok := n.stopped[d.Drv]; ok && failed {
			br.TimedOut, br.TimedOutDrv = s.TimedOut, s.TimedOutDrv
		}
		results = append(results, br)
		if n.realisedCh != nil {
			n.realisedCh <- d.Drv
		}
		if !failed {
			if n.valid == nil {
				n.valid = map[string]bool{}
			}
			n.valid[d.Out] = true
		}
	}
	return results, nil
}

func (n *fakeNix) CopyTo(_ context.Context, storeURL string, paths []string) error {
	if n.copyErr != nil {
		return n.copyErr
	}
	n.copiedTo = storeURL
	n.copied = append(n.copied, paths...)
	return nil
}

// clockTime is the fakes' now, off UTC on purpose.
var clockTime = time.Date(2026, 12, 7, 3, 0, 0, 0, time.FixedZone("CET", 3600))

// fakes is a builder over fakes, with dev at commit "c1".
type fakes struct {
	target   *fakeTarget
	evidence *fakeEvidence
	nix      *fakeNix
	builder  *Builder
}

func newFakes(hosts ...string) *fakes {
	f := &fakes{
		target:   &fakeTarget{dev: "c1", hosts: hosts},
		evidence: &fakeEvidence{},
		nix:      &fakeNix{},
	}
	f.builder = &Builder{Target: f.target, Evidence: f.evidence, Nix: f.nix,
		Verify: verifier{f},
		Now:    func() time.Time { return clockTime }, Settings: Settings{Attribute: nix.DefaultAttr, Jobs: "auto"}}
	return f
}

// verifier is the real evidence.Verifier over the fake store and cache,
// with the cache the builder's settings name.
type verifier struct{ f *fakes }

func (v verifier) real() *evidence.Verifier {
	return &evidence.Verifier{Stores: v.f.nix, Cache: v.f.builder.Settings.Cache}
}

func (v verifier) Unverified(ctx context.Context, n *evidence.Note, hosts []string, evaluated map[string]evidence.Evaluated) (map[string]string, error) {
	return v.real().Unverified(ctx, n, hosts, evaluated)
}

func (v verifier) InCache(ctx context.Context, outs []string) map[string]bool {
	return v.real().InCache(ctx, outs)
}
