package nix

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"runtime"
	"strings"
	"sync"
	"time"
)

// DefaultAttr is the attribute of a host that `ringflow build` realises.
const DefaultAttr = "config.system.build.toplevel"

// HostEval is the evaluation of one host's attribute.
type HostEval struct {
	Host    string
	Drv     string  // /nix/store/….drv; "" when evaluation failed
	Out     string  // the path of the derivation's output "out"
	Err     string  // nix's error message (the "error: …" lines, without the trace); "" when ok
	Seconds float64 // this host's share of the evaluation time
}

// EvalOptions tunes EvalHosts.
type EvalOptions struct {
	Attr     string // dot path below nixosConfigurations.<host>; default DefaultAttr
	Workers  int    // most evaluator processes at once; 0 = runtime.NumCPU()
	MinSlice int    // fewest hosts worth a process of their own; 0 = 8
	// OnResult, when set, hears of each host as soon as its result is
	// final. Calls never overlap (EvalHosts serialises them), but they come
	// from EvalHosts' worker goroutines and in no particular order.
	OnResult func(HostEval)
}

// EvalHosts evaluates the derivation and output path of attribute o.Attr of
// every host at ref. It returns one HostEval per host, in the order given,
// also when some fail to evaluate: that is the host's own result (Err). The
// error is for what is no host's fault: nix missing, ctx cancelled, a flake
// that cannot be read as a whole.
//
// Evaluation dominates on real fleets, and each evaluator process pays for
// fetching the flake and parsing nixpkgs again, so the hosts are cut into as
// few slices as the workers make worthwhile, and each slice is one
// `nix eval` over all its hosts. Within it builtins.tryEval isolates
// `throw` and `assert`; any other error (a missing attribute, `abort`,
// infinite recursion, a crash) fails the whole process, and the slice is
// then halved until the culprits stand alone. Each failed host is evaluated
// once more by itself without tryEval, for nix's message.
func (n *Nix) EvalHosts(ctx context.Context, ref FlakeRef, hosts []string, o EvalOptions) ([]HostEval, error) {
	attr, err := splitAttr(o.Attr)
	if err != nil {
		return nil, err
	}
	if len(hosts) == 0 {
		return nil, nil
	}
	workers := o.Workers
	if workers <= 0 {
		workers = runtime.NumCPU()
	}
	minSlice := o.MinSlice
	if minSlice <= 0 {
		minSlice = 8
	}

	e := &evaluator{n: n, ref: ref, attr: attr, onResult: o.OnResult, results: make([]HostEval, len(hosts))}
	items := make([]evalItem, len(hosts))
	for i, h := range hosts {
		items[i] = evalItem{index: i, host: h}
	}
	e.g = newGroup(ctx, workers)
	for _, slice := range cutSlices(items, workers, minSlice) {
		e.g.Go(func(ctx context.Context) error { return e.evalSlice(ctx, slice) })
	}
	if err := e.g.Wait(); err != nil {
		return nil, err
	}
	return e.results, nil
}

// cutSlices cuts items into at most workers contiguous slices of nearly equal
// size, none (but a lone one) smaller than minSlice.
func cutSlices(items []evalItem, workers, minSlice int) [][]evalItem {
	k := min(workers, (len(items)+minSlice-1)/minSlice)
	k = max(k, 1)
	out := make([][]evalItem, 0, k)
	for i := range k {
		lo, hi := i*len(items)/k, (i+1)*len(items)/k
		out = append(out, items[lo:hi])
	}
	return out
}

type evalItem struct {
	index   int
	host    string
	seconds float64 // share of earlier, failed evaluations
}

type evaluator struct {
	n        *Nix
	ref      FlakeRef
	attr     []string
	onResult func(HostEval)
	g        *group

	mu      sync.Mutex // guards results and serialises onResult
	results []HostEval

	probeOnce sync.Once
	probeErr  error
}

func (e *evaluator) done(it evalItem, he HostEval) {
	he.Host = it.host
	e.mu.Lock()
	defer e.mu.Unlock()
	e.results[it.index] = he
	if e.onResult != nil {
		e.onResult(he)
	}
}

// evalSlice evaluates items in one process; on failure it queues the two
// halves.
func (e *evaluator) evalSlice(ctx context.Context, items []evalItem) error {
	names := make([]string, len(items))
	for i, it := range items {
		names[i] = it.host
	}
	start := time.Now()
	out, err := e.n.output(ctx, e.n.flakeArgs("eval", "--json", e.ref.String()+"#nixosConfigurations", "--apply", sliceExpr(names, e.attr)))
	share := time.Since(start).Seconds() / float64(len(items))
	for i := range items {
		items[i].seconds += share
	}
	if err != nil {
		if !isNixFailure(err) {
			return err
		}
		// Before blaming hosts, make sure the flake itself can be read:
		// otherwise halving would end in one identical error per host.
		if err := e.probe(ctx); err != nil {
			return err
		}
		if len(items) == 1 {
			return e.evalAlone(ctx, items[0])
		}
		// The halves queue for workers like any slice, so that idle
		// workers share the search.
		lo, hi := items[:len(items)/2], items[len(items)/2:]
		e.g.Go(func(ctx context.Context) error { return e.evalSlice(ctx, lo) })
		e.g.Go(func(ctx context.Context) error { return e.evalSlice(ctx, hi) })
		return nil
	}
	var res []struct {
		Success bool            `json:"success"`
		Value   json.RawMessage `json:"value"` // { drv, out }, or false
	}
	// Nix prints JSON as it evaluates, so stdout is only read on success.
	if err := json.Unmarshal(out, &res); err != nil || len(res) != len(items) {
		return fmt.Errorf("nix: evaluating hosts at %s: unexpected output %.200q: %v", short(e.ref.Rev), out, err)
	}
	for i, r := range res {
		if !r.Success {
			// throw or assert: tryEval kept the message to itself.
			if err := e.evalAlone(ctx, items[i]); err != nil {
				return err
			}
			continue
		}
		var v struct{ Drv, Out string }
		if err := json.Unmarshal(r.Value, &v); err != nil || v.Drv == "" {
			return fmt.Errorf("nix: evaluating host %q at %s: unexpected value %.200q: %v", items[i].host, short(e.ref.Rev), r.Value, err)
		}
		e.done(items[i], HostEval{Drv: v.Drv, Out: v.Out, Seconds: items[i].seconds})
	}
	return nil
}

// evalAlone evaluates one host without tryEval, so that a failure leaves
// nix's own message on stderr. It selects the host in Nix code rather than
// in the installable's attribute path, because that path has no escapes and
// is percent-decoded: a host named `a"b` or `50%` could not be reached.
func (e *evaluator) evalAlone(ctx context.Context, it evalItem) error {
	start := time.Now()
	// --show-trace: from Nix 2.20 on, what failed (an assertion's
	// condition, say) may sit in a frame that the short trace leaves out.
	out, err := e.n.output(ctx, e.n.flakeArgs("eval", "--json", "--show-trace", e.ref.String()+"#nixosConfigurations", "--apply", hostExpr(it.host, e.attr)))
	it.seconds += time.Since(start).Seconds()
	if err != nil {
		var ne *Error
		if !errors.As(err, &ne) {
			return err
		}
		msg := evalErrorMessage(ne.Stderr, e.ref.Repo)
		if msg == "" {
			msg = ne.Err.Error()
		}
		e.done(it, HostEval{Err: msg, Seconds: it.seconds})
		return nil
	}
	var r struct{ Drv, Out string }
	if err := json.Unmarshal(out, &r); err != nil || r.Drv == "" {
		return fmt.Errorf("nix: evaluating host %q at %s: unexpected output %.200q: %v", it.host, short(e.ref.Rev), out, err)
	}
	// It evaluated alone though not with its slice: a resource limit, or
	// a nondeterministic failure. Alone, it is fine.
	e.done(it, HostEval{Drv: r.Drv, Out: r.Out, Seconds: it.seconds})
	return nil
}

// probe checks once that the flake's nixosConfigurations can be listed.
func (e *evaluator) probe(ctx context.Context) error {
	e.probeOnce.Do(func() {
		_, e.probeErr = e.n.HostNames(ctx, e.ref)
	})
	return e.probeErr
}

// isNixFailure says nix ran and failed, which may be a host's fault; any
// other error (nix missing, ctx cancelled) ends the evaluation.
func isNixFailure(err error) bool {
	var ne *Error
	return errors.As(err, &ne)
}

// splitAttr splits "config.system.build.toplevel" into its names.
func splitAttr(attr string) ([]string, error) {
	if attr == "" {
		attr = DefaultAttr
	}
	parts := strings.Split(attr, ".")
	for _, p := range parts {
		if p == "" {
			return nil, fmt.Errorf("nix: attribute path %q has an empty name", attr)
		}
	}
	return parts, nil
}

// selectExpr is a Nix function from a host's configuration to the attribute
// at path; every name is a string literal, never code.
func selectExpr(path []string) string {
	return "(c: builtins.foldl' (a: k: a.${k}) c " + nixList(path) + ")"
}

// sliceExpr is the --apply function for a slice: from nixosConfigurations
// to a list, in the order of hosts, of tryEval results whose value is
// { drv, out }. deepSeq forces both paths inside tryEval, so that a throw
// anywhere below the attribute is caught there.
func sliceExpr(hosts, attr []string) string {
	return "cs: let sel = " + selectExpr(attr) + "; " +
		"one = h: let t = sel cs.${h}; r = { drv = t.drvPath; out = (t.out or t).outPath; }; " +
		"in builtins.tryEval (builtins.deepSeq r r); " +
		"in map one " + nixList(hosts)
}

// hostExpr is the --apply function that evaluates one host without
// tryEval: from nixosConfigurations to { drv, out }.
func hostExpr(host string, attr []string) string {
	return "cs: let sel = " + selectExpr(attr) + "; t = sel cs.${" + Quote(host) + "}; " +
		"in { drv = t.drvPath; out = (t.out or t).outPath; }"
}

func nixList(elems []string) string {
	var b strings.Builder
	b.WriteString("[")
	for _, e := range elems {
		b.WriteString(" ")
		b.WriteString(Quote(e))
	}
	b.WriteString(" ]")
	return b.String()
}

// Quote quotes s as a Nix string literal. Every `$` is escaped, so no
// `${` can start an interpolation; `\n`, `\r` and `\t` are Nix's only
// character escapes, and any other byte may stand in a literal as it is.
func Quote(s string) string {
	var b strings.Builder
	b.Grow(len(s) + 2)
	b.WriteByte('"')
	for i := 0; i < len(s); i++ {
		switch c := s[i]; c {
		case '"', '\\', '$':
			b.WriteByte('\\')
			b.WriteByte(c)
		case '\n':
			b.WriteString(`\n`)
		case '\r':
			b.WriteString(`\r`)
		case '\t':
			b.WriteString(`\t`)
		default:
			b.WriteByte(c)
		}
	}
	b.WriteByte('"')
	return b.String()
}

// group runs functions with at most limit at once; the first error cancels
// the rest. (golang.org/x/sync/errgroup's job; this module does not require
// x/sync.)
type group struct {
	ctx    context.Context
	cancel context.CancelCauseFunc
	sem    chan struct{}
	wg     sync.WaitGroup
	once   sync.Once
	err    error
}

func newGroup(ctx context.Context, limit int) *group {
	ctx, cancel := context.WithCancelCause(ctx)
	return &group{ctx: ctx, cancel: cancel, sem: make(chan struct{}, max(limit, 1))}
}

func (g *group) Go(f func(context.Context) error) {
	g.wg.Add(1)
	go func() {
		defer g.wg.Done()
		select {
		case g.sem <- struct{}{}:
		case <-g.ctx.Done():
			g.fail(context.Cause(g.ctx))
			return
		}
		defer func() { <-g.sem }()
		if err := f(g.ctx); err != nil {
			g.fail(err)
		}
	}()
}

func (g *group) fail(err error) {
	g.once.Do(func() {
		g.err = err
		g.cancel(err)
	})
}

func (g *group) Wait() error {
	g.wg.Wait()
	g.cancel(nil)
	return g.err
}
