// Package iostreams owns ringflow's standard streams: where results and
// messages go, whether each stream is a terminal, and whether colour is on.
// Commands write only through it, so tests capture everything.
package iostreams

import (
	"bytes"
	"io"
	"os"
	"strconv"
	"strings"

	"golang.org/x/term"
)

// IOStreams are the streams of one run.
type IOStreams struct {
	In     io.Reader
	Out    io.Writer // results only
	ErrOut io.Writer // messages, progress, warnings

	stdoutTTY, stderrTTY bool
	colorEnabled         bool
	width                int // columns of the terminal results go to; 0: not known
}

// System returns the process's streams, with colour decided from the
// environment the way the NO_COLOR / CLICOLOR conventions say.
func System(env []string) *IOStreams {
	s := &IOStreams{In: os.Stdin, Out: os.Stdout, ErrOut: os.Stderr}
	s.stdoutTTY = isTerminal(os.Stdout)
	s.stderrTTY = isTerminal(os.Stderr)
	s.colorEnabled = colorFromEnv(env, s.stdoutTTY)
	s.width = widthFromEnv(env)
	if s.stdoutTTY {
		if w, _, err := term.GetSize(int(os.Stdout.Fd())); err == nil && w > 0 {
			s.width = w
		}
	}
	return s
}

// DefaultWidth is the width assumed for a terminal that does not say.
const DefaultWidth = 80

// TerminalWidth is how many columns a line of results may take on the
// terminal: the terminal's own size, else $COLUMNS, else 80. Through a
// pipe nothing is cut, and callers should not ask.
func (s *IOStreams) TerminalWidth() int {
	if s.width > 0 {
		return s.width
	}
	return DefaultWidth
}

// SetTerminalWidth overrides the terminal's width (tests).
func (s *IOStreams) SetTerminalWidth(w int) { s.width = w }

func widthFromEnv(env []string) int {
	for _, kv := range env {
		if v, ok := strings.CutPrefix(kv, "COLUMNS="); ok {
			if n, err := strconv.Atoi(v); err == nil && n > 0 {
				return n
			}
		}
	}
	return 0
}

// Test returns streams backed by buffers: stdin, stdout, stderr.
func Test() (*IOStreams, *bytes.Buffer, *bytes.Buffer, *bytes.Buffer) {
	in, out, errOut := &bytes.Buffer{}, &bytes.Buffer{}, &bytes.Buffer{}
	return &IOStreams{In: in, Out: out, ErrOut: errOut}, in, out, errOut
}

// IsStdoutTTY says whether results go to a terminal (aligned, coloured
// tables) or to a pipe (tab-separated, no header).
func (s *IOStreams) IsStdoutTTY() bool { return s.stdoutTTY }

// IsStderrTTY says whether messages go to a terminal.
func (s *IOStreams) IsStderrTTY() bool { return s.stderrTTY }

// SetStdoutTTY overrides terminal detection (tests).
func (s *IOStreams) SetStdoutTTY(v bool) { s.stdoutTTY = v }

// SetStderrTTY overrides terminal detection (tests).
func (s *IOStreams) SetStderrTTY(v bool) { s.stderrTTY = v }

// SetColorEnabled overrides colour (tests, --no-color).
func (s *IOStreams) SetColorEnabled(v bool) { s.colorEnabled = v }

// ColorEnabled says whether output may carry ANSI colour.
func (s *IOStreams) ColorEnabled() bool { return s.colorEnabled }

// ProgressEnabled says whether a live progress line may be drawn: only
// when both streams are terminals, so logs never fill with redraws.
func (s *IOStreams) ProgressEnabled() bool { return s.stdoutTTY && s.stderrTTY }

// ColorScheme returns helpers that colour text only when colour is on.
func (s *IOStreams) ColorScheme() *ColorScheme { return &ColorScheme{on: s.colorEnabled} }

func isTerminal(f *os.File) bool { return term.IsTerminal(int(f.Fd())) }

// colorFromEnv follows https://no-color.org and the CLICOLOR convention:
// CLICOLOR_FORCE wins, then NO_COLOR and CLICOLOR=0 switch colour off on a
// terminal.
func colorFromEnv(env []string, tty bool) bool {
	get := func(k string) string {
		for _, kv := range env {
			if v, ok := strings.CutPrefix(kv, k+"="); ok {
				return v
			}
		}
		return ""
	}
	if f := get("CLICOLOR_FORCE"); f != "" && f != "0" {
		return true
	}
	return tty && get("NO_COLOR") == "" && get("CLICOLOR") != "0"
}

// ColorScheme colours text when colour is on and returns it unchanged
// otherwise.
type ColorScheme struct{ on bool }

func (c *ColorScheme) wrap(code, s string) string {
	if !c.on {
		return s
	}
	return "\x1b[" + code + "m" + s + "\x1b[0m"
}

// Green marks success.
func (c *ColorScheme) Green(s string) string { return c.wrap("32", s) }

// Red marks failure.
func (c *ColorScheme) Red(s string) string { return c.wrap("31", s) }

// Yellow marks something waiting or held.
func (c *ColorScheme) Yellow(s string) string { return c.wrap("33", s) }

// Bold marks headings.
func (c *ColorScheme) Bold(s string) string { return c.wrap("1", s) }

// Gray marks secondary detail.
func (c *ColorScheme) Gray(s string) string { return c.wrap("90", s) }
