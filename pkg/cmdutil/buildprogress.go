package cmdutil

import (
	"fmt"
	"io"
	"slices"
	"strings"
	"sync"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/spf13/cobra"

	"github.com/ringflow/ringflow/pkg/build"
	"github.com/ringflow/ringflow/pkg/iostreams"
	"github.com/ringflow/ringflow/pkg/tableprinter"
)

// AddPrintBuildLogsFlag adds -L, --print-build-logs (nix's name for it)
// to a command that builds.
func AddPrintBuildLogsFlag(cmd *cobra.Command, v *bool) {
	cmd.Flags().BoolVarP(v, "print-build-logs", "L", false, "print each build's log lines on stderr as they come, prefixed with the host (as nix build -L)")
}

// ProgressOptions say what a BuildProgress shows besides the build.
type ProgressOptions struct {
	// Logs (-L, --print-build-logs): print each line of each build's log,
	// prefixed "host> " as nix build -L prefixes the derivation.
	Logs bool
	// Steps: the command runs in steps (cycle), named by Step; nothing is
	// drawn before the first.
	Steps bool
}

// BuildProgress shows a build going on, on stderr. On a terminal (stdout
// and stderr both) it is one live line, redrawn at every event and every
// second, cut to the terminal's width: the step (cycle), the time it has
// taken, what is being built and evaluated now, and the counts. Through a
// pipe it never redraws: one plain line when nix takes a host's build and
// when the host's outcome is known, and while builds run with nothing else
// said, a "still building" line after 5 s, then after 10, 20, 40 s and at
// most once a minute, so that a nightly job's log shows life.
type BuildProgress struct {
	io   *iostreams.IOStreams
	out  io.Writer // stderr itself
	now  func() time.Time
	opts ProgressOptions
	live bool

	mu        sync.Mutex
	step      string               // the step being run (Steps); "" before the first
	stepStart time.Time            // when the step (or the build) began
	state     map[string]string    // host → its latest phase
	since     map[string]time.Time // host → when its evaluation or build began
	printed   map[string]time.Time // host → when its build last printed a line
	drawn     bool                 // live: a line is on the screen
	midLine   bool                 // Writer was given the start of a line, not yet its end
	lastSaid  time.Time            // plain: when the last line was written
	quiet     int                  // plain: "still" lines since the last other line
	stopped   bool
	stop      chan struct{}
}

// NewBuildProgress starts showing a build's progress; call Done before
// printing results, and say anything else meanwhile through Writer.
func NewBuildProgress(ios *iostreams.IOStreams, now func() time.Time, o ProgressOptions) *BuildProgress {
	p := newBuildProgress(ios, now, o)
	go p.tickEvery(time.Second)
	return p
}

// newBuildProgress is a progress that ticks only when told (tests).
func newBuildProgress(ios *iostreams.IOStreams, now func() time.Time, o ProgressOptions) *BuildProgress {
	start := now()
	return &BuildProgress{io: ios, out: ios.ErrOut, now: now, opts: o, live: ios.ProgressEnabled(), stepStart: start, lastSaid: start,
		state: map[string]string{}, since: map[string]time.Time{}, printed: map[string]time.Time{}, stop: make(chan struct{})}
}

func (p *BuildProgress) tickEvery(d time.Duration) {
	t := time.NewTicker(d)
	defer t.Stop()
	for {
		select {
		case <-p.stop:
			return
		case <-t.C:
			p.tick()
		}
	}
}

// tick redraws the live line, so that the time keeps moving; through a
// pipe it says what is still being built once it has been quiet long
// enough.
func (p *BuildProgress) tick() {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.stopped {
		return
	}
	if p.live {
		p.draw()
		return
	}
	now := p.now()
	if now.Sub(p.lastSaid) < quietGap(p.quiet) {
		return
	}
	if s := p.stillLine(now); s != "" {
		quiet := p.quiet
		p.say(s)
		p.quiet = quiet + 1
	}
}

// quietGap is how long a pipe hears nothing before the next "still"
// line: 5 s, then twice as long each time, at most a minute.
func quietGap(said int) time.Duration {
	return min(5*time.Second<<min(said, 4), time.Minute)
}

// Step says the command went on to step (cycle: "update", "build",
// "promote canary"): the line names it and counts its time.
func (p *BuildProgress) Step(step string) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.stopped {
		return
	}
	p.step, p.stepStart = step, p.now()
	clear(p.state)
	clear(p.since)
	clear(p.printed)
	if p.live {
		p.draw()
	}
}

// Event takes one step of the build (build.Options.Progress).
func (p *BuildProgress) Event(ev build.Event) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.stopped {
		return
	}
	if ev.Phase == build.PhaseLog {
		if _, ok := p.state[ev.Host]; ok {
			p.printed[ev.Host] = p.now()
		}
		if p.opts.Logs {
			p.say(tableprinter.Escape(ev.Host) + "> " + logText(ev.Line))
		}
		return
	}
	if prev := p.state[ev.Host]; prev != ev.Phase && (ev.Phase == "evaluating" || ev.Phase == "building") {
		p.since[ev.Host] = p.now()
	}
	p.state[ev.Host] = ev.Phase
	if finalPhase[ev.Phase] {
		delete(p.since, ev.Host)
		delete(p.printed, ev.Host)
	}
	if p.live {
		p.draw()
		return
	}
	if ev.Phase == "building" || finalPhase[ev.Phase] {
		p.say(tableprinter.Escape(ev.Host) + ": " + ev.Phase)
	}
}

// Message writes a line of its own (above the live line on a terminal).
func (p *BuildProgress) Message(format string, args ...any) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.say(fmt.Sprintf(format, args...))
}

// Writer is stderr for everything else said while the progress shows
// (warnings, nix's lines of -v): on a terminal each line goes above the
// live line, which is drawn again below it once the line is whole. A
// command puts it in place of IOStreams.ErrOut before opening the fleet.
func (p *BuildProgress) Writer() io.Writer { return progressWriter{p} }

type progressWriter struct{ p *BuildProgress }

func (w progressWriter) Write(b []byte) (int, error) {
	p := w.p
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.drawn {
		fmt.Fprint(p.out, "\r\x1b[K")
		p.drawn = false
	}
	n, err := p.out.Write(b)
	if len(b) > 0 {
		p.midLine = b[len(b)-1] != '\n'
	}
	if !p.midLine {
		p.lastSaid, p.quiet = p.now(), 0
		if p.live && !p.stopped {
			p.draw()
		}
	}
	return n, err
}

// Done ends the progress: the live line is cleared, the ticker stopped,
// and later events are not shown.
func (p *BuildProgress) Done() {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.stopped {
		return
	}
	p.stopped = true
	close(p.stop)
	if p.drawn {
		fmt.Fprint(p.out, "\r\x1b[K")
		p.drawn = false
	}
}

// say writes a whole line; on a terminal the live line is cleared first
// and drawn again below it. p.mu is held.
func (p *BuildProgress) say(line string) {
	if p.drawn {
		fmt.Fprint(p.out, "\r\x1b[K")
		p.drawn = false
	}
	fmt.Fprintln(p.out, line)
	p.lastSaid, p.quiet = p.now(), 0
	if p.live && !p.stopped {
		p.draw()
	}
}

// finalPhase are a host's outcomes; the other phases are steps on the way.
var finalPhase = map[string]bool{"eval-failed": true, "built": true, "build-failed": true, "reused": true, "not-built": true}

// draw writes the live line over the last one. p.mu is held.
func (p *BuildProgress) draw() {
	if (p.opts.Steps && p.step == "") || p.midLine {
		return
	}
	// One column short of the width: a line filling the last column
	// makes some terminals wrap, and the next redraw then misses a row.
	fmt.Fprint(p.out, "\r\x1b[K"+p.line(p.io.TerminalWidth()-1))
	p.drawn = true
}

// line is the live line, at most width columns: the step and its time
// first, so that they always show, then what is being built and
// evaluated, then the counts, which give way first, then host names (two, then one
// of each list).
func (p *BuildProgress) line(width int) string {
	now := p.now()
	head := elapsed(now.Sub(p.stepStart))
	if p.step != "" {
		head = tableprinter.Escape(p.step) + " · " + head
	}
	building, evaluating := p.active()
	var evaluated, built, reused, failed int
	for _, ph := range p.state {
		switch ph {
		case "evaluated", "building", "not-built":
			evaluated++
		case "finished", "built":
			// A finished build counts as built until nix says otherwise.
			evaluated++
			built++
		case "reused":
			evaluated++
			reused++
		case "eval-failed":
			failed++
		case "build-failed":
			evaluated++
			failed++
		}
	}
	var counts []string
	if len(p.state) > 0 {
		counts = []string{fmt.Sprintf("evaluated %d", evaluated), fmt.Sprintf("built %d", built),
			fmt.Sprintf("reused %d", reused), fmt.Sprintf("failed %d", failed)}
	}
	compose := func(shown, nCounts int) string {
		parts := []string{head}
		if len(building) > 0 {
			parts = append(parts, "building "+someNames(building, shown))
		}
		if len(evaluating) > 0 {
			parts = append(parts, "evaluating "+someNames(evaluating, shown))
		}
		return strings.Join(append(parts, counts[:nCounts]...), " · ")
	}
	for _, shown := range []int{2, 1} {
		for n := len(counts); n >= 0; n-- {
			if s := compose(shown, n); utf8.RuneCountInString(s) <= width {
				return s
			}
		}
	}
	return cut(compose(1, 0), width)
}

// active lists the hosts being built and evaluated. Those whose build
// printed last come first, then the longest at it: nix (2.8) may report a
// build finished only when the whole nix build ends, and a build that
// still prints is surely at work.
func (p *BuildProgress) active() (building, evaluating []string) {
	for h, ph := range p.state {
		switch ph {
		case "building":
			building = append(building, h)
		case "evaluating":
			evaluating = append(evaluating, h)
		}
	}
	byStart := func(a, b string) int {
		if c := p.printed[b].Compare(p.printed[a]); c != 0 {
			return c
		}
		if c := p.since[a].Compare(p.since[b]); c != 0 {
			return c
		}
		return strings.Compare(a, b)
	}
	slices.SortFunc(building, byStart)
	slices.SortFunc(evaluating, byStart)
	return building, evaluating
}

// stillLine says, through a pipe, what is still being built and evaluated
// and for how long; "" when nothing is. p.mu is held.
func (p *BuildProgress) stillLine(now time.Time) string {
	building, evaluating := p.active()
	var parts []string
	for _, a := range []struct {
		what  string
		hosts []string
	}{{"building", building}, {"evaluating", evaluating}} {
		if len(a.hosts) == 0 {
			continue
		}
		shown := a.hosts[:min(5, len(a.hosts))]
		names := make([]string, len(shown))
		for i, h := range shown {
			names[i] = fmt.Sprintf("%s (%s)", tableprinter.Escape(h), elapsed(now.Sub(p.since[h])))
		}
		s := a.what + " " + strings.Join(names, ", ")
		if more := len(a.hosts) - len(shown); more > 0 {
			s += fmt.Sprintf(" and %d more", more)
		}
		parts = append(parts, s)
	}
	if len(parts) == 0 {
		return ""
	}
	prefix := "still "
	if p.step != "" {
		prefix = tableprinter.Escape(p.step) + ": still "
	}
	return prefix + strings.Join(parts, "; ")
}

// someNames lists up to n hosts and how many more.
func someNames(hosts []string, n int) string {
	shown := make([]string, min(n, len(hosts)))
	for i := range shown {
		shown[i] = tableprinter.Escape(hosts[i])
	}
	s := strings.Join(shown, ", ")
	if more := len(hosts) - len(shown); more > 0 {
		s += fmt.Sprintf(" (+%d)", more)
	}
	return s
}

// elapsed is a duration in whole seconds: 0s, 12s, 1m5s.
func elapsed(d time.Duration) string {
	return max(d, 0).Truncate(time.Second).String()
}

// cut shortens s to width columns, marking the cut with "…".
func cut(s string, width int) string {
	if utf8.RuneCountInString(s) <= width {
		return s
	}
	if width <= 0 {
		return ""
	}
	r := []rune(s)
	return string(r[:width-1]) + "…"
}

// logText is a build's log line as it may be shown: control characters
// other than tabs dropped, so that a build cannot move the cursor or
// clear the screen.
func logText(s string) string {
	return strings.Map(func(r rune) rune {
		if r != '\t' && unicode.IsControl(r) {
			return -1
		}
		return r
	}, s)
}
