package nix

import (
	"net/url"
	"regexp"
	"strings"
)

// maxFrames is how many trace frames, innermost first, a host's error
// keeps: enough for the failing assertion and the attribute that led there,
// few enough for a table row's details.
const maxFrames = 3

// evalFrame is one "… while …" line of nix's trace, or the error itself.
type evalFrame struct {
	text []string // the message or the frame's words, one entry per line
	at   string   // the location, "file:line:col", or ""
}

var ansiRE = regexp.MustCompile("\x1b\\[[0-9;]*[A-Za-z]")

func stripANSI(s string) string { return ansiRE.ReplaceAllString(s, "") }

// excerptRE matches the source excerpt nix prints under a location:
// "   4|   code" and the caret line "    |    ^".
var excerptRE = regexp.MustCompile(`^\s*\d*\|`)

// evalErrorMessage makes a host's error from nix's stderr of an evaluation
// run with --show-trace: the error's message, where it happened, and the
// innermost frames of the trace that have a place in the flake, e.g.
//
//	error: an integer with value '1' is not equal to an integer with value '2'
//	  while evaluating the condition of the assertion '(1 == 2)' at flake.nix:4:51
//	  while evaluating the attribute 'web.config.system.build.toplevel' at flake.nix:4:20
//
// Nix words and orders this differently from version to version: 2.8 prints
// the message first (with the failing assertion in it) and the trace after
// it, innermost first; 2.20 and later print a bare "error:", the trace
// outermost first, and the message last, where an assertion's text sits in a
// frame. Both are read into the same parts, so that what failed and where
// survive on every version. Frames located in «string» are ringflow's own
// --apply expression and say nothing to the user. repo, when set, is the
// repository evaluated: a location inside it is shown relative to it.
func evalErrorMessage(stderr, repo string) string {
	lines := strings.Split(strings.ReplaceAll(stripANSI(stderr), "\r", ""), "\n")
	var (
		frames []evalFrame // in the order printed
		main   = -1        // index in frames of the last error with a message
		cur    *evalFrame  // the block that a continuation line extends
		open   bool        // cur's text may still go on
	)
	for _, l := range lines {
		t := strings.TrimSpace(l)
		switch {
		case t == "":
			open = false
		case strings.HasPrefix(t, "error:"):
			msg := strings.TrimSpace(strings.TrimPrefix(t, "error:"))
			frames = append(frames, evalFrame{})
			cur, open = &frames[len(frames)-1], true
			if msg != "" {
				cur.text = []string{"error: " + location(msg, repo)}
				main = len(frames) - 1
			} else {
				cur.text = []string{"error:"} // a bare "error:": the message comes later
			}
		case strings.HasPrefix(t, "… "):
			frames = append(frames, evalFrame{text: []string{location(strings.TrimPrefix(t, "… "), repo)}})
			cur, open = &frames[len(frames)-1], true
		case strings.HasPrefix(t, "at ") && strings.HasSuffix(t, ":") && cur != nil && cur.at == "":
			cur.at = location(strings.TrimSuffix(strings.TrimPrefix(t, "at "), ":"), repo)
			open = false
		case excerptRE.MatchString(l), strings.HasPrefix(t, "(use '--show-trace'"),
			strings.HasPrefix(t, "(stack trace truncated"):
			open = false
		case strings.HasPrefix(t, "Did you mean") && cur != nil:
			cur.text = append(cur.text, t)
		case open && cur != nil:
			t = location(t, repo)
			if len(cur.text) == 1 && cur.text[0] == "error:" {
				cur.text[0] = "error: " + t // nix 2.20+: the message on the line after "error:"
				main = len(frames) - 1
			} else {
				cur.text = append(cur.text, t)
			}
		}
	}
	if main < 0 {
		return strings.TrimSpace(lastLines(stripANSI(stderr), 5))
	}
	m := frames[main]
	out := append([]string(nil), m.text...)
	if m.at != "" && !ownCode(m.at) {
		out = append(out, "  at "+m.at)
	}
	// Innermost first: frames printed after the message (2.8) are in that
	// order already; frames printed before it (2.20+) are reversed.
	var inner []evalFrame
	inner = append(inner, frames[main+1:]...)
	for i := main - 1; i >= 0; i-- {
		inner = append(inner, frames[i])
	}
	kept := 0
	for _, f := range inner {
		if kept == maxFrames {
			break
		}
		if f.at == "" || ownCode(f.at) || strings.HasPrefix(f.text[0], "error:") {
			continue
		}
		out = append(out, "  "+strings.Join(f.text, " ")+" at "+f.at)
		kept++
	}
	return strings.Join(out, "\n")
}

// ownCode says a location is in ringflow's own --apply expression.
func ownCode(at string) bool { return strings.HasPrefix(at, "«string»") }

// sourceRE matches how Nix 2.34 names a file of a flake: «URL»/path.
var sourceRE = regexp.MustCompile(`«([^»\s]*)»/?`)

// location shortens how Nix 2.34 names a file of a flake,
// «git+file:///repo?ref=…&rev=…&shallow=1»/path, in a location or any text:
// a file of the evaluated repository to its path in the repository, any
// other source to its URL with only a short rev («git+file:///x?rev=a9d8f53ed163»).
// Nix 2.8 and 2.26 name the source's copy in the store, which is left as it
// is (a path that can be opened).
func location(text, repo string) string {
	return sourceRE.ReplaceAllStringFunc(text, func(m string) string {
		u, err := url.Parse(sourceRE.FindStringSubmatch(m)[1])
		if err != nil || u.RawQuery == "" && u.Path != repo {
			return m
		}
		if repo != "" && strings.HasPrefix(u.Scheme, "git+") && u.Path == repo {
			return ""
		}
		q := u.Query()
		u.RawQuery = ""
		if rev := q.Get("rev"); rev != "" {
			u.RawQuery = "rev=" + short(rev)
		}
		return "«" + u.String() + "»/"
	})
}
