package cmdutil

import (
	"bytes"
	"fmt"
	"regexp"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/ringflow/ringflow/pkg/build"
	"github.com/ringflow/ringflow/pkg/iostreams"
)

// fakeClock is the progress's time, moved by the test.
type fakeClock struct{ t time.Time }

func (c *fakeClock) now() time.Time      { return c.t }
func (c *fakeClock) add(d time.Duration) { c.t = c.t.Add(d) }
func newClock() *fakeClock               { return &fakeClock{t: time.Date(2026, 12, 8, 1, 0, 0, 0, time.UTC)} }
func frames(s string) []string           { return strings.Split(strings.ReplaceAll(s, "\x1b[K", ""), "\r") }
func terminal(cols int) (*iostreams.IOStreams, *bytes.Buffer) {
	ios, _, _, errOut := iostreams.Test()
	ios.SetStdoutTTY(true)
	ios.SetStderrTTY(true)
	ios.SetTerminalWidth(cols)
	return ios, errOut
}

// On a terminal, the line keeps moving while a build runs: every tick
// redraws it with the time passed, and it names what is being built, the
// longest at it first; it is cleared at the end and nothing is drawn
// after.
func TestBuildProgressTicks(t *testing.T) {
	c := newClock()
	ios, errOut := terminal(160)
	p := newBuildProgress(ios, c.now, ProgressOptions{})
	for _, ev := range []build.Event{{Host: "plex", Phase: "evaluating"}, {Host: "plex", Phase: "evaluated"}, {Host: "lab-1", Phase: "reused"}, {Host: "plex", Phase: "building"}} {
		p.Event(ev)
	}
	c.add(time.Second)
	p.Event(build.Event{Host: "desk-1", Phase: "building"})
	for range 3 {
		c.add(time.Second)
		p.tick()
	}
	want := []string{
		"0s · building plex · evaluated 2 · built 0 · reused 1 · failed 0",
		"1s · building plex, desk-1 · evaluated 3 · built 0 · reused 1 · failed 0",
		"2s · building plex, desk-1 · evaluated 3",
		"3s · building plex, desk-1 · evaluated 3",
		"4s · building plex, desk-1 · evaluated 3 · built 0 · reused 1 · failed 0",
	}
	got := errOut.String()
	for _, w := range want {
		if !strings.Contains(got, "\r\x1b[K"+w) {
			t.Errorf("terminal progress %q\nwant a redraw %q", got, w)
		}
	}
	p.Done()
	if !strings.HasSuffix(errOut.String(), "\r\x1b[K") {
		t.Errorf("the line was not cleared at the end: %q", errOut.String())
	}
	n := errOut.Len()
	c.add(time.Second)
	p.tick()
	p.Event(build.Event{Host: "plex", Phase: "built"})
	if errOut.Len() != n {
		t.Errorf("drawn after Done: %q", errOut.String()[n:])
	}
}

// The live line is cut to the terminal's width (one column short, so it
// never wraps): host names, then counts give way, and the time stays.
func TestBuildProgressWidth(t *testing.T) {
	long := strings.Repeat("field-board-", 4)
	for _, cols := range []int{20, 40, 80, 160} {
		c := newClock()
		ios, errOut := terminal(cols)
		p := newBuildProgress(ios, c.now, ProgressOptions{Steps: true})
		p.Step("build")
		for i := range 8 {
			p.Event(build.Event{Host: fmt.Sprintf("%s%d", long, i), Phase: "evaluating"})
			c.add(time.Second)
		}
		for i := range 6 {
			p.Event(build.Event{Host: fmt.Sprintf("%s%d", long, i), Phase: "evaluated"})
			p.Event(build.Event{Host: fmt.Sprintf("%s%d", long, i), Phase: "building"})
		}
		c.add(3 * time.Second)
		p.tick()
		p.Done()
		all := frames(errOut.String())
		for _, f := range all {
			if w := utf8.RuneCountInString(f); w > cols-1 {
				t.Errorf("%d columns: a frame of %d: %q", cols, w, f)
			}
		}
		last := all[len(all)-2] // the last drawn; the clearing follows
		if !strings.HasPrefix(last, "build · 11s") {
			t.Errorf("%d columns: last frame %q, want the step and its time first", cols, last)
		}
		if cols >= 80 && !strings.Contains(last, "building "+long+"0") {
			t.Errorf("%d columns: last frame %q, want the longest-building host named", cols, last)
		}
		if cols == 160 && !strings.Contains(last, "(+5) · evaluating "+long+"6 (+1) · evaluated 6") {
			t.Errorf("160 columns: last frame %q, want the counts too", last)
		}
	}
}

// Through a pipe: no redraws; a line when nix takes a host's build and
// when its outcome is known; while builds run in silence, a "still" line
// naming each host and how long it has been at it, after 5 s, then after
// 10, 20, 40 s and at most every minute; any other line starts over.
func TestBuildProgressPipe(t *testing.T) {
	c := newClock()
	ios, _, _, errOut := iostreams.Test()
	p := newBuildProgress(ios, c.now, ProgressOptions{})
	p.Event(build.Event{Host: "plex", Phase: "evaluating"})
	p.Event(build.Event{Host: "plex", Phase: "evaluated"})
	p.Event(build.Event{Host: "plex", Phase: "building"})
	p.Event(build.Event{Host: "desk-1", Phase: "eval-failed"})
	var at []int
	for s := 1; s <= 200; s++ {
		c.add(time.Second)
		n := errOut.Len()
		p.tick()
		if errOut.Len() != n {
			at = append(at, s)
		}
		if s == 100 {
			p.Event(build.Event{Host: "lab-1", Phase: "reused"})
		}
	}
	if want := []int{5, 15, 35, 75, 105, 115, 135, 175}; fmt.Sprint(at) != fmt.Sprint(want) {
		t.Errorf("still lines at %v s, want %v", at, want)
	}
	p.Event(build.Event{Host: "plex", Phase: "built"})
	c.add(time.Minute)
	p.tick()
	p.Done()
	got := errOut.String()
	if strings.Contains(got, "\r") || strings.Contains(got, "\x1b") {
		t.Errorf("redraws through a pipe: %q", got)
	}
	lines := strings.Split(strings.TrimSuffix(got, "\n"), "\n")
	for i, want := range map[int]string{0: "plex: building", 1: "desk-1: eval-failed", 2: "still building plex (5s)", 3: "still building plex (15s)",
		6: "lab-1: reused", 7: "still building plex (1m45s)", len(lines) - 1: "plex: built"} {
		if lines[i] != want {
			t.Errorf("line %d = %q, want %q (all: %q)", i, lines[i], want, lines)
		}
	}
}

// -L: each build log line is said, prefixed with its host, control
// characters dropped; on a terminal above the live line, which is drawn
// again below it. Without -L nothing of the logs shows.
func TestBuildProgressLogs(t *testing.T) {
	ev := build.Event{Host: "plex", Phase: build.PhaseLog, Line: "host plex hangs\x1b[2J for 5\tseconds"}
	for _, logs := range []bool{false, true} {
		c := newClock()
		ios, _, _, errOut := iostreams.Test()
		p := newBuildProgress(ios, c.now, ProgressOptions{Logs: logs})
		p.Event(build.Event{Host: "plex", Phase: "building"})
		p.Event(ev)
		p.Done()
		want := "plex: building\n"
		if logs {
			want += "plex> host plex hangs[2J for 5\tseconds\n"
		}
		if got := errOut.String(); got != want {
			t.Errorf("logs %v, pipe: %q, want %q", logs, got, want)
		}
	}
	c := newClock()
	ios, errOut := terminal(80)
	p := newBuildProgress(ios, c.now, ProgressOptions{Logs: true})
	p.Event(build.Event{Host: "plex", Phase: "building"})
	c.add(2 * time.Second)
	p.Event(ev)
	p.Done()
	want := regexp.MustCompile(`^\r\x1b\[K0s · building plex[^\r\n]*\r\x1b\[Kplex> host plex hangs\[2J for 5\tseconds\n\r\x1b\[K2s · building plex[^\r\n]*\r\x1b\[K$`)
	if got := errOut.String(); !want.MatchString(got) {
		t.Errorf("terminal: %q, want the log line between two drawings", got)
	}
}

// A command run in steps (cycle) draws nothing before its first step, then
// names the step it is in, counting its own time; a message goes above
// the line.
func TestBuildProgressSteps(t *testing.T) {
	c := newClock()
	ios, errOut := terminal(80)
	p := newBuildProgress(ios, c.now, ProgressOptions{Steps: true})
	c.add(time.Second)
	p.tick()
	if errOut.Len() != 0 {
		t.Errorf("drawn before the first step: %q", errOut.String())
	}
	p.Message("waiting for %s", "another cycle")
	p.Step("update")
	c.add(3 * time.Second)
	p.tick()
	p.Step("build")
	p.Event(build.Event{Host: "plex", Phase: "building"})
	c.add(2 * time.Second)
	p.tick()
	p.Step("promote canary")
	p.Done()
	got := errOut.String()
	for _, w := range []string{"waiting for another cycle\n", "\r\x1b[Kupdate · 3s\r", "\r\x1b[Kbuild · 2s · building plex · evaluated 1", "\r\x1b[Kpromote canary · 0s\r"} {
		if !strings.Contains(got, w) {
			t.Errorf("%q\nwant %q", got, w)
		}
	}
	if strings.Contains(got, "promote canary · 0s · ") {
		t.Errorf("the build's counts stayed into the next step: %q", got)
	}
}

// The hosts whose build printed last are named first: Nix 2.8 reports a
// quick build finished only when the whole nix build ends, so the one at
// work must not hide behind those done. Counts give way before names.
func TestBuildProgressOrder(t *testing.T) {
	c := newClock()
	ios, errOut := terminal(60)
	p := newBuildProgress(ios, c.now, ProgressOptions{})
	for _, h := range []string{"desk-1", "lab-1", "plex", "web-1"} {
		p.Event(build.Event{Host: h, Phase: "building"})
	}
	c.add(time.Second)
	p.Event(build.Event{Host: "web-1", Phase: build.PhaseLog, Line: "x"})
	c.add(time.Second)
	p.Event(build.Event{Host: "plex", Phase: build.PhaseLog, Line: "y"})
	c.add(time.Second)
	p.Event(build.Event{Host: "nixpkgs-stand-in", Phase: build.PhaseLog, Line: "a dependency's"})
	p.tick()
	p.Done()
	all := frames(errOut.String())
	if got, want := all[len(all)-2], "3s · building plex, web-1 (+2) · evaluated 4 · built 0"; got != want {
		t.Errorf("last frame %q, want %q", got, want)
	}
}

// Through a pipe a command run in steps says nothing of its steps but
// names the step in its "still" lines.
func TestBuildProgressStepsPipe(t *testing.T) {
	c := newClock()
	ios, _, _, errOut := iostreams.Test()
	p := newBuildProgress(ios, c.now, ProgressOptions{Steps: true})
	p.Step("update")
	p.Step("build")
	p.Event(build.Event{Host: "plex", Phase: "building"})
	c.add(5 * time.Second)
	p.tick()
	p.Step("promote canary")
	p.Done()
	if got, want := errOut.String(), "plex: building\nbuild: still building plex (5s)\n"; got != want {
		t.Errorf("pipe: %q, want %q", got, want)
	}
}

// The real ticker redraws on its own while events come from another
// goroutine, and stops at Done.
func TestBuildProgressTicker(t *testing.T) {
	ios, errOut := terminal(80)
	p := NewBuildProgress(ios, time.Now, ProgressOptions{})
	done := make(chan struct{})
	go func() {
		defer close(done)
		p.Event(build.Event{Host: "plex", Phase: "building"})
	}()
	<-done
	time.Sleep(1100 * time.Millisecond)
	p.Done()
	n := errOut.Len()
	time.Sleep(1100 * time.Millisecond)
	if !strings.Contains(errOut.String(), "\r\x1b[K1s · building plex") || errOut.Len() != n {
		t.Errorf("ticker: %q (then %d bytes more)", errOut.String(), errOut.Len()-n)
	}
}

// What else is said on stderr meanwhile goes above the live line, which
// is drawn again once the line is whole, never in the middle of it.
func TestBuildProgressWriter(t *testing.T) {
	c := newClock()
	ios, errOut := terminal(80)
	p := newBuildProgress(ios, c.now, ProgressOptions{})
	w := p.Writer()
	p.Event(build.Event{Host: "plex", Phase: "building"})
	fmt.Fprint(w, "nix: nix build")
	c.add(time.Second)
	p.tick()
	fmt.Fprint(w, " … (3s)\n")
	p.Done()
	want := regexp.MustCompile(`^\r\x1b\[K0s · building plex[^\r\n]*\r\x1b\[Knix: nix build … \(3s\)\n\r\x1b\[K1s · building plex[^\r\n]*\r\x1b\[K$`)
	if got := errOut.String(); !want.MatchString(got) {
		t.Errorf("terminal: %q", got)
	}
}
