package nix

import (
	"bufio"
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

// DefaultAttr is the attribute of a host that `ringflow build` realises.
const DefaultAttr = "config.system.build.toplevel"

// DefaultEvalMemory is the resident memory past which an evaluator process
// is replaced after its current host (nix-eval-jobs' default too).
const DefaultEvalMemory = 4 << 30

// HostEval is the evaluation of one host's attribute.
type HostEval struct {
	Host    string
	Drv     string  // /nix/store/….drv; "" when evaluation failed
	Out     string  // the path of the derivation's output "out"
	Err     string  // nix's error message (the "error: …" lines, without the trace); "" when ok
	Seconds float64 // how long this host's own evaluation took
}

// EvalOptions tunes EvalHosts.
type EvalOptions struct {
	Attr    string // dot path below nixosConfigurations.<host>; default DefaultAttr
	Workers int    // evaluator processes at once; 0 = runtime.NumCPU()
	// MaxMemory is the resident memory (bytes) past which an evaluator
	// process is replaced once its current host is done; 0 =
	// DefaultEvalMemory. A host that alone needs more is still evaluated.
	MaxMemory int64
	// OnResult, when set, hears of each host as soon as its result is
	// final. Calls never overlap (EvalHosts serialises them, with OnStart),
	// but they come from EvalHosts' worker goroutines and in no particular
	// order.
	OnResult func(HostEval)
	// OnStart, when set, hears of each host as an evaluator starts on it.
	OnStart func(host string)
}

// EvalHosts evaluates the derivation and output path of attribute o.Attr of
// every host at ref. It returns one HostEval per host, in the order given,
// also when some fail to evaluate: that is the host's own result (Err). The
// error is for what is no host's fault: nix missing, ctx cancelled, a flake
// that cannot be read as a whole.
//
// A NixOS host keeps hundreds of MB in the evaluator, so each host is
// evaluated from a fresh builtins.getFlake of the locked ref: once its
// derivation is known nothing reaches its configuration any more and the
// evaluator frees it, while the parsed files (nixpkgs) stay cached for the
// next host of the same process. Each worker runs one `nix eval` over its
// hosts in order, which reports every host on stderr (builtins.trace) the
// moment it is done: results stream, per-host times are the host's own,
// and after a failure the hosts already reported are known. A process whose
// resident memory passes o.MaxMemory is replaced after its current host.
// Within a process builtins.tryEval isolates `throw` and `assert`; any
// other error (a missing attribute, `abort`, infinite recursion) ends the
// process at the host being evaluated, which is then evaluated alone for
// nix's message, and the rest go on in a new process.
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
	maxMem := o.MaxMemory
	if maxMem <= 0 {
		maxMem = DefaultEvalMemory
	}
	var tok [8]byte
	if _, err := rand.Read(tok[:]); err != nil {
		return nil, err
	}
	e := &evaluator{n: n, ref: ref, attr: attr, maxMem: maxMem, onResult: o.OnResult, onStart: o.OnStart,
		mark: "ringflow-eval-" + hex.EncodeToString(tok[:]), results: make([]HostEval, len(hosts))}
	items := make([]evalItem, len(hosts))
	for i, h := range hosts {
		items[i] = evalItem{index: i, host: h}
	}
	g := newGroup(ctx, workers)
	for _, share := range cutShares(items, workers) {
		g.Go(func(ctx context.Context) error { return e.evalShare(ctx, share) })
	}
	if err := g.Wait(); err != nil {
		return nil, err
	}
	return e.results, nil
}

// cutShares deals items out to at most workers processes, round robin, so
// that hosts that sit together in the list (and may cost alike) spread.
func cutShares(items []evalItem, workers int) [][]evalItem {
	k := max(min(workers, len(items)), 1)
	out := make([][]evalItem, k)
	for i, it := range items {
		out[i%k] = append(out[i%k], it)
	}
	return out
}

type evalItem struct {
	index int
	host  string
}

type evaluator struct {
	n        *Nix
	ref      FlakeRef
	attr     []string
	maxMem   int64
	mark     string // starts the trace lines that carry results
	onResult func(HostEval)
	onStart  func(host string)

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

func (e *evaluator) started(it evalItem) {
	if e.onStart == nil {
		return
	}
	e.mu.Lock()
	defer e.mu.Unlock()
	e.onStart(it.host)
}

// evalShare evaluates items in as few processes as memory and failures
// allow.
func (e *evaluator) evalShare(ctx context.Context, items []evalItem) error {
	for len(items) > 0 {
		run, err := e.runProcess(ctx, items)
		// throw and assert: tryEval kept the message; ask nix for it.
		for _, it := range run.caught {
			if err := e.evalAlone(ctx, it); err != nil {
				return err
			}
		}
		items = items[run.reported:]
		switch {
		case err == nil:
			continue // all done, or a new process for the rest
		case !isNixFailure(err):
			return err
		case len(items) == 0:
			// Every host was reported, then nix failed: nothing of a host's.
			return err
		}
		// Before blaming the host being evaluated, make sure the flake
		// itself can be read.
		if err := e.probe(ctx); err != nil {
			return err
		}
		if err := e.evalAlone(ctx, items[0]); err != nil {
			return err
		}
		items = items[1:]
	}
	return nil
}

// processRun is what one evaluator process got through.
type processRun struct {
	reported int        // items reported, in order, before it ended
	caught   []evalItem // of those, the ones tryEval caught failing
}

// runProcess evaluates items in order in one `nix eval`, until all are
// reported, the process fails, or its memory passes the limit after a host
// (then it is stopped and err is nil with hosts left).
func (e *evaluator) runProcess(ctx context.Context, items []evalItem) (processRun, error) {
	var run processRun
	pctx, stop := context.WithCancel(ctx)
	defer stop()
	var pid atomic.Int64
	var parseErr error
	replaced := false // for memory
	start := time.Now()
	last := start
	stderr := &lineWriter{line: func(l string) {
		body, ok := strings.CutPrefix(l, "trace: "+e.mark+" ")
		if !ok || parseErr != nil || replaced || run.reported >= len(items) {
			return
		}
		it := items[run.reported]
		now := time.Now()
		secs := now.Sub(last).Seconds()
		last = now
		var r struct {
			Success bool            `json:"success"`
			Value   json.RawMessage `json:"value"` // { drv, out }, or false
		}
		var v struct{ Drv, Out string }
		err := json.Unmarshal([]byte(body), &r)
		if err == nil && r.Success {
			if err = json.Unmarshal(r.Value, &v); err == nil && v.Drv == "" {
				err = errors.New("no drv")
			}
		}
		if err != nil {
			parseErr = fmt.Errorf("nix: evaluating host %q at %s: unexpected result %.200q: %v", it.host, short(e.ref.Rev), body, err)
			stop()
			return
		}
		run.reported++
		if run.reported < len(items) {
			e.started(items[run.reported])
		}
		if !r.Success {
			run.caught = append(run.caught, it)
		} else {
			e.done(it, HostEval{Drv: v.Drv, Out: v.Out, Seconds: secs})
		}
		if p := pid.Load(); run.reported < len(items) && p > 0 && residentBytes(int(p)) > e.maxMem {
			// Replaced after this host: whatever it reports from here on
			// is not taken, and the rest start on a fresh heap.
			replaced = true
			stop()
		}
	}}
	e.started(items[0])
	var tail bytes.Buffer // what a failure reports: the end of stderr
	both := multiLine{stderr, &tail}
	_, err := e.n.runWith(pctx, e.n.opts.Binary, e.n.flakeArgs("eval", "--json", "--expr", streamExpr(e.ref, e.mark, hostNames(items), e.attr)),
		both, func(p int) { pid.Store(int64(p)) })
	stderr.flush()
	if parseErr != nil {
		return run, parseErr
	}
	if replaced && ctx.Err() == nil {
		return run, nil
	}
	if err != nil {
		var ne *Error
		if errors.As(err, &ne) {
			ne.Stderr = lastLines(tail.String(), 200)
		}
		return run, err
	}
	if run.reported != len(items) {
		return run, fmt.Errorf("nix: evaluating hosts at %s: %d of %d hosts reported", short(e.ref.Rev), run.reported, len(items))
	}
	return run, nil
}

// multiLine hands each write to a line parser and keeps it too.
type multiLine struct {
	lines *lineWriter
	keep  *bytes.Buffer
}

func (m multiLine) Write(p []byte) (int, error) {
	m.lines.Write(p)
	m.keep.Write(p)
	if m.keep.Len() > 4<<20 { // keep the end
		b := m.keep.Bytes()
		rest := append([]byte(nil), b[len(b)-(1<<20):]...)
		m.keep.Reset()
		m.keep.Write(rest)
	}
	return len(p), nil
}

func hostNames(items []evalItem) []string {
	names := make([]string, len(items))
	for i, it := range items {
		names[i] = it.host
	}
	return names
}

// residentBytes is a process's resident memory (VmRSS), 0 when unknown.
func residentBytes(pid int) int64 {
	f, err := os.Open("/proc/" + strconv.Itoa(pid) + "/status")
	if err != nil {
		return 0
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		if v, ok := strings.CutPrefix(sc.Text(), "VmRSS:"); ok {
			kb, err := strconv.ParseInt(strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(v), "kB")), 10, 64)
			if err != nil {
				return 0
			}
			return kb << 10
		}
	}
	return 0
}

// evalAlone evaluates one host without tryEval, so that a failure leaves
// nix's own message on stderr. It selects the host in Nix code rather than
// in the installable's attribute path, because that path has no escapes and
// is percent-decoded: a host named `a"b` or `50%` could not be reached.
func (e *evaluator) evalAlone(ctx context.Context, it evalItem) error {
	e.started(it)
	start := time.Now()
	// --show-trace: from Nix 2.20 on, what failed (an assertion's
	// condition, say) may sit in a frame that the short trace leaves out.
	out, err := e.n.output(ctx, e.n.flakeArgs("eval", "--json", "--show-trace", e.ref.String()+"#nixosConfigurations", "--apply", hostExpr(it.host, e.attr)))
	secs := time.Since(start).Seconds()
	if err != nil {
		var ne *Error
		if !errors.As(err, &ne) {
			return err
		}
		msg := evalErrorMessage(ne.Stderr, e.ref.Repo)
		if msg == "" {
			msg = ne.Err.Error()
		}
		e.done(it, HostEval{Err: msg, Seconds: secs})
		return nil
	}
	var r struct{ Drv, Out string }
	if err := json.Unmarshal(out, &r); err != nil || r.Drv == "" {
		return fmt.Errorf("nix: evaluating host %q at %s: unexpected output %.200q: %v", it.host, short(e.ref.Rev), out, err)
	}
	// It evaluated alone though not in its process: a resource limit, or
	// a nondeterministic failure. Alone, it is fine.
	e.done(it, HostEval{Drv: r.Drv, Out: r.Out, Seconds: secs})
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

// streamExpr evaluates hosts in order, each from a fresh getFlake of ref,
// and reports each on stderr as `trace: <mark> {"success":…,"value":{"drv":…,"out":…}}`
// before the next starts. deepSeq forces both paths inside tryEval, so
// that a throw anywhere below the attribute is caught there; the value is
// a list of nulls, so nothing keeps a host's configuration reachable.
func streamExpr(ref FlakeRef, mark string, hosts, attr []string) string {
	return "let sel = " + selectExpr(attr) + "; " +
		"one = h: let t = sel (builtins.getFlake " + Quote(ref.String()) + ").nixosConfigurations.${h}; " +
		"r = { drv = t.drvPath; out = (t.out or t).outPath; }; " +
		"in builtins.trace (" + Quote(mark+" ") + " + builtins.toJSON (builtins.tryEval (builtins.deepSeq r r))) null; " +
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
