package nix

import (
	"bytes"
	"cmp"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"
)

// DrvOut is a derivation to realise and the output path it should produce.
type DrvOut struct {
	Drv string // /nix/store/….drv
	Out string // its output "out"
}

// RealiseOptions tunes Realise.
type RealiseOptions struct {
	Jobs     string // "auto" or a number: --max-jobs; "" = nix's default
	Builders string // --builders; "" = not passed, so nix.conf's builders apply
	// Timeout and MaxSilent bound each derivation's build: --timeout (how
	// long it may run) and --max-silent-time (how long it may print
	// nothing), in whole seconds, rounded up; 0 = not passed, so nix.conf's
	// timeout and max-silent-time apply (by default none). A build nix
	// stops at one is a failed BuildResult whose TimedOut names the bound.
	Timeout   time.Duration
	MaxSilent time.Duration
	// OnFinished, when set, hears of each top-level derivation whose build
	// stopped, while nix still runs, from nix's log stream; whether it
	// succeeded is in Realise's results once nix is done (Nix 2.8 reports
	// a failed top-level derivation only at the end). Calls never overlap.
	OnFinished func(drv string)
	// OnLog, when set, hears each line of each build's log as nix relays
	// it (the top-level derivations' and their dependencies'), colour
	// codes removed: what nix build -L prints. Calls never overlap.
	OnLog func(drv, line string)
}

// BuildResult is the outcome of one derivation of a Realise.
type BuildResult struct {
	Drv, Out string
	OK       bool
	Err      string  // nix's error and the last lines of the build log; "" when OK
	Seconds  float64 // time its build ran; 0 when nix did not build it
	// Builder is where nix built it: LocalBuilder, or the store URI of the
	// remote builder (build.builders) it went to, e.g. ssh-ng://builder;
	// "" when nix did not build it in this run (its output was valid).
	Builder string
	// TimedOut is the bound nix stopped this build at, or the build of a
	// dependency it needed (TimedOutDrv): LimitTimeout or LimitMaxSilent;
	// "" when nothing it needed was stopped for time.
	TimedOut    TimeLimit
	TimedOutDrv string
	// NotTaken: nothing may build here (--max-jobs 0) and no remote
	// builder took this derivation, nor a failed dependency of it: nix
	// gave up for want of a builder (buildMonitor.declined). It is not a
	// failed build; Err says what nix said of the builders.
	NotTaken bool
}

// LocalBuilder is BuildResult.Builder of a build on this machine.
const LocalBuilder = "local"

// logTailLines is how much of a failed build's log a BuildResult keeps.
const logTailLines = 20

// Realise builds every derivation in one `nix build --no-link --keep-going`,
// so that nix schedules all of them (and what they share) together, and
// reports each one's outcome: OK when its output is valid in the store
// afterwards. A derivation that fails is a BuildResult with OK false, not an
// error; the error is for when nothing could be attempted (nix missing, ctx
// cancelled, a derivation missing from the store, bad options).
//
// nix's stderr is read as --log-format internal-json and never passed on,
// except to Options.Debug: it yields each build's log lines, for the error
// of a failed one, and each build's start, for its time and for progress.
func (n *Nix) Realise(ctx context.Context, drvs []DrvOut, o RealiseOptions) ([]BuildResult, error) {
	if len(drvs) == 0 {
		return nil, nil
	}
	if err := checkJobs(o.Jobs); err != nil {
		return nil, err
	}
	if o.Timeout < 0 || o.MaxSilent < 0 {
		return nil, fmt.Errorf("nix: realise: negative time bound (timeout %s, max-silent %s)", o.Timeout, o.MaxSilent)
	}
	for _, d := range drvs {
		if !strings.HasSuffix(d.Drv, ".drv") || d.Out == "" {
			return nil, fmt.Errorf("nix: realise: %q is not a derivation with an output path", d.Drv)
		}
	}
	v, err := n.Version(ctx)
	if err != nil {
		return nil, err
	}

	m := newBuildMonitor(drvs, n.opts.Debug)
	m.onLog = o.OnLog

	// While nix runs, each finished build activity of a top-level
	// derivation is told at once, from nix's own log stream: no process is
	// spawned per build (on a small machine that cost as much CPU as the
	// builds). Whether it succeeded is told after nix exits, by validity.
	checked := make(chan struct{})
	go func() {
		defer close(checked)
		for drv := range m.finishedTop {
			if o.OnFinished != nil {
				o.OnFinished(drv)
			}
		}
	}()

	lw := &lineWriter{line: m.line}
	_, runErr := n.run(ctx, n.opts.Binary, realiseArgs(n, v, drvs, o), lw)
	lw.flush()
	end := time.Now()
	close(m.finishedTop)
	<-checked
	if runErr != nil && ctx.Err() != nil {
		return nil, ctx.Err()
	}
	var ne *Error
	if runErr != nil && !errors.As(runErr, &ne) {
		return nil, runErr // nix missing
	}

	valid, err := n.ValidPaths(ctx, outsOf(drvs))
	if err != nil {
		return nil, fmt.Errorf("nix: realise: %w", err)
	}
	if runErr != nil && !m.attemptedAny() && !anyValid(drvs, valid) {
		// Say in ringflow's words when a derivation is not in the store
		// (garbage-collected, or from another machine's evaluation): nix
		// words it differently in every version.
		if missing, err := n.missingPaths(ctx, drvsOf(drvs)); err == nil && len(missing) > 0 {
			return nil, &MissingDerivationsError{Drvs: missing}
		}
		switch {
		case o.Jobs == "0" && slices.ContainsFunc(drvs, func(d DrvOut) bool { return m.declined(d.Drv) }):
			// Nothing may build here and no builder took anything: every
			// derivation is NotTaken, below.
		case o.Jobs == "0":
			// Nothing may build here, and nothing was built, for a reason
			// nix did not put in its usual words.
			return nil, &NoBuilderError{Builders: o.Builders, Nix: m.stderrTail()}
		default:
			ne.Stderr = m.stderrTail()
			return nil, fmt.Errorf("nix: realise %d derivations: %w", len(drvs), ne)
		}
	}

	stops := m.timeStops(drvs, valid, o)
	results := make([]BuildResult, len(drvs))
	for i, d := range drvs {
		r := BuildResult{Drv: d.Drv, Out: d.Out, OK: valid[d.Out]}
		r.Seconds = m.seconds(d.Drv, r.OK, end)
		r.Builder = m.builder(d.Drv)
		if !r.OK && o.Jobs == "0" && m.declined(d.Drv) && r.Builder == "" && len(n.failedDeps(ctx, m, d.Drv)) == 0 {
			r.NotTaken, r.Err = true, builderReason(m.errorMessages())
		} else if !r.OK {
			r.Err = n.failureText(ctx, m, d.Drv, runErr)
			n.noteTimeStop(ctx, m, &r, stops)
		}
		results[i] = r
	}
	return results, nil
}

// realiseArgs is the whole `nix build` command line.
func realiseArgs(n *Nix, v Version, drvs []DrvOut, o RealiseOptions) []string {
	sub := []string{"build", "--no-link", "--keep-going", "--log-format", "internal-json"}
	if o.Jobs != "" {
		sub = append(sub, "--max-jobs", o.Jobs)
	}
	if o.Builders != "" {
		sub = append(sub, "--builders", o.Builders)
	}
	if o.Timeout > 0 {
		sub = append(sub, "--timeout", wholeSeconds(o.Timeout))
	}
	if o.MaxSilent > 0 {
		sub = append(sub, "--max-silent-time", wholeSeconds(o.MaxSilent))
	}
	for _, d := range drvs {
		sub = append(sub, drvInstallable(v, d.Drv))
	}
	return n.flakeArgs(sub...)
}

// drvInstallable names all outputs of a store derivation as nix build takes
// them. Nix 2.13 introduced `drv^*` (and `drv^out`); Nix 2.15 removed the
// older reading of a bare `…drv` as its outputs, so that from then on it
// means the .drv file itself. Before 2.13 (Nix 2.8 here) only the bare path
// builds the outputs: `drv^out` is "not a valid URL" and `drv!out` a missing
// file there. Lix forked from Nix 2.18 and has `^`.
func drvInstallable(v Version, drv string) string {
	if v.Lix || v.Major > 2 || (v.Major == 2 && v.Minor >= 13) {
		return drv + "^*"
	}
	return drv
}

func checkJobs(jobs string) error {
	if jobs == "" || jobs == "auto" {
		return nil
	}
	if j, err := strconv.Atoi(jobs); err != nil || j < 0 {
		return fmt.Errorf("nix: jobs %q: want \"auto\" or a number of jobs", jobs)
	}
	return nil
}

// failureText explains why drv is not valid: nix's messages about it, the
// tail of its build log, and for a derivation that was never built because
// a dependency failed, that dependency's messages and log tail.
func (n *Nix) failureText(ctx context.Context, m *buildMonitor, drv string, runErr error) string {
	var parts []string
	add := func(d string, own bool) {
		msgs, tail, built := m.about(d)
		parts = append(parts, msgs...)
		if len(tail) == 0 && built {
			// No log lines came with the stream (a remote builder that
			// relays none, or an older log); ask nix for the stored log.
			if out, err := n.output(ctx, n.flakeArgs("log", d)); err == nil {
				for _, l := range strings.Split(lastLines(stripANSI(string(out)), logTailLines), "\n") {
					if l = strings.TrimRight(l, " \t\r"); l != "" {
						tail = append(tail, l)
					}
				}
			}
		}
		if len(tail) > 0 && !mentionsLogLines(msgs) {
			head := "last log lines of " + d + ":"
			if own {
				head = "last log lines:"
			}
			parts = append(parts, head+"\n> "+strings.Join(tail, "\n> "))
		}
	}
	add(drv, true)
	for _, f := range n.failedDeps(ctx, m, drv) {
		add(f, false)
	}
	if len(parts) == 0 {
		if runErr != nil {
			parts = append(parts, "error: nix build failed and did not say why "+drv+" is missing: "+lastLines(m.stderrTail(), 5))
		} else {
			parts = append(parts, "error: nix build succeeded but "+drv+"'s output is not valid")
		}
	}
	return strings.TrimSpace(strings.Join(parts, "\n"))
}

// failedDeps are the failed builds that kept drv from being built: none
// when drv's own build started.
func (n *Nix) failedDeps(ctx context.Context, m *buildMonitor, drv string) []string {
	if _, _, built := m.about(drv); built {
		return nil
	}
	failed := m.failedBuilds()
	if len(failed) == 0 {
		return nil
	}
	deps, err := n.requisites(ctx, drv)
	if err != nil {
		return nil
	}
	var in []string
	for _, f := range failed {
		if f != drv && deps[f] {
			in = append(in, f)
		}
	}
	return in
}

func mentionsLogLines(msgs []string) bool {
	for _, m := range msgs {
		if strings.Contains(m, "log lines:") {
			return true
		}
	}
	return false
}

// requisites is the closure of a derivation: every .drv it depends on.
func (n *Nix) requisites(ctx context.Context, drv string) (map[string]bool, error) {
	out, err := n.run(ctx, n.legacyBinary("nix-store"), []string{"--query", "--requisites", drv}, nil)
	if err != nil {
		return nil, err
	}
	set := map[string]bool{}
	for _, l := range strings.Split(string(out), "\n") {
		if l = strings.TrimSpace(l); l != "" {
			set[l] = true
		}
	}
	return set, nil
}

// ValidPaths says which of paths are valid in the store: built, substituted
// or copied there. It asks `nix-store --check-validity --print-invalid`,
// whose output is the same on every Nix version (`nix path-info --json`
// changed shape in Nix 2.19), and which never builds: Nix before 2.15 would
// build the outputs of a .drv given to `nix path-info`. A path that is not
// a store path at all (see IsStorePath) is invalid, without asking.
func (n *Nix) ValidPaths(ctx context.Context, paths []string) (map[string]bool, error) {
	return n.validIn(ctx, "", paths)
}

// MissingDerivationsError is a realisation that could not start because
// derivations are not in the store.
type MissingDerivationsError struct{ Drvs []string }

func (e *MissingDerivationsError) Error() string {
	return fmt.Sprintf("nix: realise: %d derivation(s) not in the store: %s (garbage-collected since the evaluation? evaluate again: ringflow build)",
		len(e.Drvs), strings.Join(e.Drvs, ", "))
}

// NoBuilderError is a realisation with --max-jobs 0 that no remote builder
// took: nothing was built.
type NoBuilderError struct {
	Builders string // --builders as given; "" = nix.conf's
	Nix      string // what nix said, its last lines
}

func (e *NoBuilderError) Error() string {
	return fmt.Sprintf("nix: no remote builder took the build (--max-jobs 0: nothing may build here): %s", e.Reason())
}

// noBuilderLineRE picks nix's lines that say why a builder failed, out of
// its table of machines and features.
var noBuilderLineRE = regexp.MustCompile(`(?i)^\s*(ssh:|cannot |error:|.*(permission denied|connection refused|host key|timed out))`)

// Reason is what nix said of the builders: its error lines, or its last
// lines when none reads as one.
func (e *NoBuilderError) Reason() string {
	return builderReason(strings.Split(e.Nix, "\n"))
}

// builderReason picks what nix said about its builders out of its messages
// or lines, each on one line (Nix 2.26 and later break a message over
// several); its last lines when none reads as such.
func builderReason(msgs []string) string {
	var picked []string
	for _, msg := range msgs {
		if one := strings.Join(strings.Fields(msg), " "); noBuilderLineRE.MatchString(one) && one != "error:" {
			picked = append(picked, one)
		}
	}
	if len(picked) == 0 {
		return lastLines(strings.Join(msgs, "\n"), 8)
	}
	return strings.Join(picked, "\n")
}

// Machines are the store URIs of the builders: the first word of each
// machine of a --builders value ("uri systems key jobs …", separated by
// newlines or ';'); an "@file" is named as it is.
func (e *NoBuilderError) Machines() []string {
	return BuilderURIs(e.Builders)
}

// BuilderURIs are the store URIs of the machines of a --builders value
// (build.builders): the first word of each machine.
func BuilderURIs(builders string) []string {
	var uris []string
	for _, m := range strings.FieldsFunc(builders, func(r rune) bool { return r == ';' || r == '\n' }) {
		if f := strings.Fields(m); len(f) > 0 && !strings.HasPrefix(f[0], "#") {
			uris = append(uris, f[0])
		}
	}
	return uris
}

// missingPaths returns the paths that are not valid in the store, in order.
func (n *Nix) missingPaths(ctx context.Context, paths []string) ([]string, error) {
	valid, err := n.ValidPaths(ctx, paths)
	if err != nil {
		return nil, err
	}
	var missing []string
	for _, p := range paths {
		if !valid[p] {
			missing = append(missing, p)
		}
	}
	return missing, nil
}

func drvsOf(drvs []DrvOut) []string {
	out := make([]string, len(drvs))
	for i, d := range drvs {
		out[i] = d.Drv
	}
	return out
}

// CopyTo copies store paths (with their closures) to the store at storeURL,
// e.g. file:///var/cache/fleet, s3://bucket or ssh-ng://host. The paths
// must be outputs, not .drv files: before Nix 2.15 a .drv would be built.
func (n *Nix) CopyTo(ctx context.Context, storeURL string, paths []string) error {
	if len(paths) == 0 {
		return nil
	}
	if storeURL == "" {
		return errors.New("nix: copy: no store URL")
	}
	args := append([]string{"copy", "--to", storeURL}, paths...)
	if _, err := n.output(ctx, n.flakeArgs(args...)); err != nil {
		return fmt.Errorf("nix: copy %d paths to %s: %w", len(paths), storeURL, err)
	}
	return nil
}

// legacyBinary finds nix-store and its kind next to the nix binary, when
// Options.Binary names a file, so that both come from one installation.
func (n *Nix) legacyBinary(name string) string {
	if strings.ContainsRune(n.opts.Binary, filepath.Separator) {
		return filepath.Join(filepath.Dir(n.opts.Binary), name)
	}
	return name
}

func outsOf(drvs []DrvOut) []string {
	outs := make([]string, len(drvs))
	for i, d := range drvs {
		outs[i] = d.Out
	}
	return outs
}

func anyValid(drvs []DrvOut, valid map[string]bool) bool {
	for _, d := range drvs {
		if valid[d.Out] {
			return true
		}
	}
	return false
}

// Activity and result types of nix's internal-json log, as in Nix's
// logging.hh; they are the same from Nix 2.8 to today and in Lix.
const (
	actCopyPath   = 100
	actBuild      = 105
	actBuilds     = 104
	actSubstitute = 108

	resBuildLogLine = 101
	resProgress     = 105
)

// logEvent is one "@nix {…}" line of --log-format internal-json.
type logEvent struct {
	Action string            `json:"action"`
	ID     uint64            `json:"id"`
	Level  int               `json:"level"`
	Type   int               `json:"type"`
	Text   string            `json:"text"`
	Msg    string            `json:"msg"`
	Fields []json.RawMessage `json:"fields"`
	// Machine is the remote builder an event was relayed from; newer Nix
	// (2.33+) adds it to what a remote daemon's log relays.
	Machine string `json:"machine"`
}

// buildMonitor follows nix build's internal-json log.
type buildMonitor struct {
	debug io.Writer
	onLog func(drv, line string) // RealiseOptions.OnLog; called outside mu
	clock func() time.Time       // when each line came; time.Now

	finishedTop chan string // top-level derivations whose build stopped

	mu        sync.Mutex
	top       map[string]DrvOut    // the derivations asked for
	acts      map[uint64]string    // build activity → its derivation
	buildsAct map[uint64]bool      // the activities counting all builds
	doneCount int64                // builds done so far, by their progress
	failCount int64                // builds failed so far, by their progress
	failedAt  map[string]time.Time // derivation → first build failure after its last log line
	failures  []time.Time          // when each build failure nix counted came, in order
	started   map[string]time.Time // derivation → when its build started
	machine   map[string]string    // derivation → the remote builder it went to
	told      map[string]bool      // top-level derivations sent on finishedTop
	lastLine  map[string]time.Time // derivation → its last log line
	finished  map[string]time.Time // derivation → its build activity stopped
	stopped   []string             // derivations whose build stopped, in order
	logs      map[string][]string  // derivation → last log lines
	mentions  map[string][]string  // derivation → nix's messages naming it
	errNamed  map[string]bool      // derivations an error message names
	attempted bool                 // nix started to build, substitute or copy
	gaveUpMsg bool                 // nix said "unable to start any build"
	errMsgs   []string             // nix's last error messages, each once
	tail      []string             // the last rendered lines, for errors
	seenMsg   map[string]bool      // messages already kept
}

var drvPathRE = regexp.MustCompile(`/[^\s'"]*/[0-9a-df-np-sv-z]{32}-[^\s'"]+\.drv`)

func newBuildMonitor(drvs []DrvOut, debug io.Writer) *buildMonitor {
	m := &buildMonitor{
		debug:       debug,
		clock:       time.Now,
		finishedTop: make(chan string, len(drvs)),
		top:         map[string]DrvOut{},
		acts:        map[uint64]string{},
		buildsAct:   map[uint64]bool{},
		started:     map[string]time.Time{},
		machine:     map[string]string{},
		told:        map[string]bool{},
		lastLine:    map[string]time.Time{},
		failedAt:    map[string]time.Time{},
		finished:    map[string]time.Time{},
		logs:        map[string][]string{},
		mentions:    map[string][]string{},
		seenMsg:     map[string]bool{},
		errNamed:    map[string]bool{},
	}
	for _, d := range drvs {
		m.top[d.Drv] = d
	}
	return m
}

// line takes one line of nix's stderr.
func (m *buildMonitor) line(l string) {
	raw, ok := strings.CutPrefix(l, "@nix ")
	if !ok {
		// Not every message goes through the logger (nix's own usage
		// errors, a crash): keep it as text.
		m.text(stripANSI(l))
		return
	}
	var ev logEvent
	if err := json.Unmarshal([]byte(raw), &ev); err != nil {
		m.text(l)
		return
	}
	if drv, text, ok := m.event(ev); ok && m.onLog != nil {
		m.onLog(drv, text)
	}
}

// event takes one event of nix's log; a build's log line is returned, to
// be passed on without m.mu held.
func (m *buildMonitor) event(ev logEvent) (logDrv, logText string, isLog bool) {
	now := m.clock()
	m.mu.Lock()
	defer m.mu.Unlock()
	switch ev.Action {
	case "start":
		switch ev.Type {
		case actBuild:
			// fields: drv, machine ("" here), round, rounds. A build
			// sent to a remote builder starts twice: here, naming the
			// builder, then as the builder's own build, relayed with
			// machine "" (and, from Nix 2.33, the event's "machine").
			// The second start is when building began, after the
			// upload; the first names where.
			drv := fieldString(ev.Fields, 0)
			m.acts[ev.ID] = drv
			m.started[drv] = now
			m.attempted = true
			if where := cmp.Or(fieldString(ev.Fields, 1), ev.Machine); where != "" && m.machine[drv] == "" {
				m.machine[drv] = where
			}
		case actBuilds:
			m.buildsAct[ev.ID] = true
		case actSubstitute, actCopyPath:
			m.attempted = true
		}
		if ev.Text != "" && ev.Level <= 3 {
			m.debugf("%s", ev.Text)
		}
	case "stop":
		if drv, ok := m.acts[ev.ID]; ok {
			m.finished[drv] = now
			m.stopped = append(m.stopped, drv)
			if _, top := m.top[drv]; top && !m.told[drv] {
				// Buffered for every top-level derivation, each told
				// once (a remote build stops twice): never blocks.
				m.told[drv] = true
				m.finishedTop <- drv
			}
		}
	case "result":
		switch {
		case ev.Type == resBuildLogLine:
			if drv, ok := m.acts[ev.ID]; ok {
				text := strings.TrimRight(stripANSI(fieldString(ev.Fields, 0)), " \t\r")
				m.lastLine[drv] = now
				logDrv, logText, isLog = drv, text, true
				if text == "" {
					break
				}
				lines := append(m.logs[drv], text)
				if len(lines) > logTailLines {
					lines = lines[len(lines)-logTailLines:]
				}
				m.logs[drv] = lines
				m.debugf("%s> %s", drvName(drv), text)
			}
		case ev.Type == resProgress && m.buildsAct[ev.ID]:
			// fields: done, expected, running, failed
			var done, failed int64
			if len(ev.Fields) > 0 && json.Unmarshal(ev.Fields[0], &done) == nil && done > m.doneCount {
				m.doneCount = done
			}
			if len(ev.Fields) > 3 && json.Unmarshal(ev.Fields[3], &failed) == nil && failed > m.failCount {
				for range min(failed-m.failCount, 1<<16) {
					m.failures = append(m.failures, now)
				}
				m.failCount = failed
				m.noteFailure(now)
			}
		}
	case "msg":
		if ev.Level <= 1 { // errors and warnings
			m.message(stripANSI(ev.Msg), ev.Level == 0)
		}
	}
	return
}

// noteFailure: some build failed just now, but the log does not say which.
// It is none that logged since, so every build quiet since its last
// failure mark may have ended now. m.mu is held.
func (m *buildMonitor) noteFailure(now time.Time) {
	for drv, start := range m.started {
		quiet := start
		if t, ok := m.lastLine[drv]; ok {
			quiet = t
		}
		if t, ok := m.failedAt[drv]; !ok || t.Before(quiet) {
			m.failedAt[drv] = now
		}
	}
}

func (m *buildMonitor) text(l string) {
	if strings.TrimSpace(l) == "" {
		return
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	m.message(l, true) // outside the logger: nix's own errors, a crash
}

// message keeps a message of nix, under every derivation it names. m.mu is
// held.
func (m *buildMonitor) message(msg string, isError bool) {
	msg = strings.TrimSpace(msg)
	m.debugf("%s", msg)
	if isError && strings.Contains(strings.ToLower(msg), "unable to start any build") {
		m.gaveUpMsg = true
	}
	if isError && !slices.Contains(m.errMsgs, msg) {
		m.errMsgs = append(m.errMsgs, msg)
		if len(m.errMsgs) > 20 {
			m.errMsgs = m.errMsgs[1:]
		}
	}
	m.tail = append(m.tail, strings.Split(msg, "\n")...)
	if len(m.tail) > 40 {
		m.tail = m.tail[len(m.tail)-40:]
	}
	drvs := drvPathRE.FindAllString(msg, -1)
	if len(drvs) == 0 && isError && strings.Contains(strings.ToLower(msg), "timed out") {
		// Nix 2.34 says only "timed out after N seconds", after the build
		// it stopped ended: it is about the latest build stopped that no
		// such message took yet (the same words may come once per build).
		for i := len(m.stopped) - 1; i >= 0; i-- {
			if d := m.stopped[i]; !m.errNamed[d] {
				m.mentions[d] = append(m.mentions[d], msg)
				m.errNamed[d] = true
				return
			}
		}
	}
	if m.seenMsg[msg] {
		return
	}
	m.seenMsg[msg] = true
	named := map[string]bool{}
	for _, d := range drvs {
		if named[d] {
			continue
		}
		named[d] = true
		m.mentions[d] = append(m.mentions[d], msg)
		if isError {
			m.errNamed[d] = true
		}
	}
}

func (m *buildMonitor) debugf(format string, args ...any) {
	if m.debug != nil {
		fmt.Fprintf(m.debug, "nix: "+format+"\n", args...)
	}
}

// declined says whether nix gave up on drv for want of a builder: Nix
// before 2.34 ends the whole build with "unable to start any build" once
// every derivation left waits for a build slot none may take here
// (--max-jobs 0) and no remote builder took it; Nix 2.34 fails each such
// derivation with "Cannot build 'X'. Reason: local builds are disabled".
func (m *buildMonitor) declined(drv string) bool {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.gaveUpMsg {
		return true
	}
	return slices.ContainsFunc(m.mentions[drv], func(msg string) bool {
		return strings.Contains(msg, "local builds are disabled")
	})
}

// errorMessages are nix's last error messages, whole.
func (m *buildMonitor) errorMessages() []string {
	m.mu.Lock()
	defer m.mu.Unlock()
	return slices.Clone(m.errMsgs)
}

func (m *buildMonitor) attemptedAny() bool {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.attempted
}

// seconds is how long drv's build ran, as far as the log shows: from its
// start to when it was found valid or its activity stopped. A failure's is
// an estimate: up to the first build failure nix counted after drv's last
// log line (Nix 2.8 stops the activity of a failed top-level derivation
// only when all builds are done, and reports its failure only then too).
func (m *buildMonitor) seconds(drv string, ok bool, end time.Time) float64 {
	m.mu.Lock()
	defer m.mu.Unlock()
	start, ok2 := m.started[drv]
	if !ok2 {
		return 0
	}
	stop := end
	if t, found := m.finished[drv]; found && t.Before(stop) {
		stop = t
	}
	if !ok {
		stop = start
		if t, found := m.lastLine[drv]; found {
			stop = t
		}
		if t, found := m.failedAt[drv]; found && t.After(stop) {
			stop = t
		}
	}
	return stop.Sub(start).Seconds()
}

// builder is where drv was built: LocalBuilder, a remote builder's store
// URI, or "" when its build never started.
func (m *buildMonitor) builder(drv string) string {
	m.mu.Lock()
	defer m.mu.Unlock()
	if _, ok := m.started[drv]; !ok {
		return ""
	}
	return cmp.Or(m.machine[drv], LocalBuilder)
}

// about returns nix's messages naming drv, its last log lines, and whether
// its build started here.
func (m *buildMonitor) about(drv string) (msgs, tail []string, built bool) {
	m.mu.Lock()
	defer m.mu.Unlock()
	_, built = m.started[drv]
	return slices.Clone(m.mentions[drv]), slices.Clone(m.logs[drv]), built
}

// failedBuilds are the derivations whose build started and that an error
// names, in the order they started. Nix words a failed build differently in
// every version ("builder for 'X' failed" in 2.8, "Cannot build 'X'. Reason:
// builder failed" in 2.34), but always names the derivation in an error.
func (m *buildMonitor) failedBuilds() []string {
	m.mu.Lock()
	defer m.mu.Unlock()
	var failed []string
	for d := range m.errNamed {
		if _, started := m.started[d]; started {
			failed = append(failed, d)
		}
	}
	slices.SortFunc(failed, func(a, b string) int {
		if c := m.started[a].Compare(m.started[b]); c != 0 {
			return c
		}
		return strings.Compare(a, b)
	})
	return failed
}

func (m *buildMonitor) stderrTail() string {
	m.mu.Lock()
	defer m.mu.Unlock()
	return strings.Join(m.tail, "\n")
}

func fieldString(fields []json.RawMessage, i int) string {
	if i >= len(fields) {
		return ""
	}
	var s string
	_ = json.Unmarshal(fields[i], &s)
	return s
}

// DrvName is a derivation's name without store directory, hash and .drv,
// as nix build -L prefixes its log lines with: "nixos-system-web-1".
func DrvName(drv string) string { return drvName(drv) }

// drvName is a derivation's name without store directory, hash and .drv.
func drvName(drv string) string {
	base := strings.TrimSuffix(filepath.Base(drv), ".drv")
	if len(base) > 33 && base[32] == '-' {
		return base[33:]
	}
	return base
}

// lineWriter calls line for every complete line written to it. exec copies
// a process's output through one goroutine, so calls never overlap.
type lineWriter struct {
	line func(string)
	buf  []byte
}

func (w *lineWriter) Write(p []byte) (int, error) {
	w.buf = append(w.buf, p...)
	for {
		i := bytes.IndexByte(w.buf, '\n')
		if i < 0 {
			break
		}
		w.line(string(w.buf[:i]))
		w.buf = w.buf[i+1:]
	}
	if len(w.buf) > 1<<20 { // a line without end: take it as it is
		w.flush()
	}
	return len(p), nil
}

// flush passes on what is left, a last line without its newline.
func (w *lineWriter) flush() {
	if len(w.buf) > 0 {
		w.line(string(w.buf))
		w.buf = nil
	}
}
