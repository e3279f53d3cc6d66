package config

import (
	"fmt"
	"strings"
	"testing"
)

// lineBase is a config as an operator writes it: comments, blank lines,
// nested rings and groups, block and flow lists. Line numbers below are
// as an editor shows them (the first line is 1).
var lineBase = strings.Split(`# ringflow config for the home fleet
repo: .
remote: origin

# rings, first to last
rings:
  - name: canary
    hosts: [lab-1]
    soak: 24h

  - name: early
    # the desktops and some boards
    groups:
      - name: desktops
        hosts:
          - desk-1
          - desk-2
      - name: boards
        share: 20%

  # everything else
  - name: stable
    hosts: ["*"]
    soak: 3d
    auto: true
build:
  jobs: auto`, "\n")

// withLine returns lineBase with line n (1-based) replaced by text.
func withLine(n int, text string) string {
	l := append([]string(nil), lineBase...)
	l[n-1] = text
	return strings.Join(l, "\n") + "\n"
}

func TestProblemLinesAsAnEditorShows(t *testing.T) {
	cases := []struct {
		name string
		line int
		text string
		want string // in the message
	}{
		{"bad value deep in the file", 25, "    auto: yes", "rings[2].auto: want true or false"},
		{"bad duration", 24, "    soak: 3x", "rings[2].soak: want a duration"},
		{"unknown ring key", 24, "    sook: 3d", "rings[2].sook: unknown key (did you mean soak?)"},
		{"unknown group key", 19, "        shar: 20%", "rings[1].groups[1].shar: unknown key (did you mean share?)"},
		{"bad block list entry", 17, "          - 7", "rings[1].groups[0].hosts[1]: want a host name or glob"},
		{"bad share", 19, "        share: lots", "rings[1].groups[1].share: want a percentage"},
		{"unknown top key, capitalised", 26, "Bulid:", "bulid: unknown key (did you mean build?)"},
		{"bad nested scalar", 27, "  jobs: many", "build.jobs: want auto or a number"},
		{"misindented key", 25, "   auto: true", "yaml: "},
		{"misindented key in a group", 19, "         share: 20%", "yaml: "},
		{"unclosed flow list", 23, "    hosts: [\"*\"", "yaml: did not find expected ',' or ']'"},
		{"tab indentation", 24, "\tsoak: 3d", "yaml: "},
		{"unterminated quote", 25, "    auto: \"true", "yaml: found unexpected end of stream"},
		{"colon in a plain value", 9, "    soak: a: b", "yaml: mapping values are not allowed"},
		{"duplicate key", 25, "    soak: 4d", "mapping key \"soak\" already defined at line 24"},
		{"list where a mapping belongs", 23, "    - x", "yaml: "},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			_, err := loadYAML(t, withLine(c.line, c.text))
			var p Problem
			for _, q := range problemsOf(t, err) {
				if strings.Contains(q.String(), c.want) {
					p = q
					break
				}
			}
			if p.Message == "" {
				t.Fatalf("no problem says %q: %v", c.want, err)
			}
			if p.Pos.Line != c.line || !strings.HasSuffix(p.Pos.File, FileName) {
				t.Errorf("%q at %s, want line %d: %v", c.text, p.Pos, c.line, p)
			}
			want := fmt.Sprintf("%s:%d: ", p.Pos.File, c.line)
			if s := p.String(); !strings.HasPrefix(s, want) || !strings.Contains(s, c.want) {
				t.Errorf("problem %q, want it to start %q and contain %q", s, want, c.want)
			}
			if s := err.Error(); !strings.HasPrefix(s, "config "+want) && !strings.Contains(s, "\n  "+want) {
				t.Errorf("error %q does not say %q", s, want)
			}
		})
	}
}

// A problem at a key the file does not write is at the nearest key it
// does: a ring without a name at the ring.
func TestProblemLineOfMissingKeyIsItsParent(t *testing.T) {
	_, err := loadYAML(t, withLine(22, "  - nam: stable"))
	var got []string
	for _, p := range problemsOf(t, err) {
		got = append(got, fmt.Sprintf("%d %s", p.Pos.Line, p.Key))
	}
	want := "22 rings[2].nam 22 rings[2].name"
	if strings.Join(got, " ") != want {
		t.Errorf("got %q, want %q", strings.Join(got, " "), want)
	}
}

// Several problems are each at their own line, and the error lists them
// one per line, each with its position.
func TestEveryProblemHasItsLine(t *testing.T) {
	body := withLine(9, "    soak: 3x")
	body = strings.Replace(body, "    auto: true", "    auto: yes", 1)
	_, err := loadYAML(t, body)
	ps := problemsOf(t, err)
	if len(ps) != 2 || ps[0].Pos.Line != 9 || ps[1].Pos.Line != 25 {
		t.Fatalf("got %v, want problems at lines 9 and 25", ps)
	}
	for _, l := range strings.Split(err.Error(), "\n")[1:] {
		if !strings.Contains(l, FileName+":") {
			t.Errorf("line %q of the error does not say FILE:LINE", l)
		}
	}
}

// A problem from the environment is not the file's, so it has no position.
func TestProblemFromEnvHasNoPosition(t *testing.T) {
	_, err := loadYAML(t, strings.Join(lineBase, "\n"), "RINGFLOW_BUILD_JOBS=lots")
	ps := problemsOf(t, err)
	if len(ps) != 1 || ps[0].Pos != (Pos{}) || !strings.HasSuffix(ps[0].Message, "(from RINGFLOW_BUILD_JOBS)") {
		t.Errorf("got %#v, want one problem without a position, from RINGFLOW_BUILD_JOBS", ps)
	}
}

// In a huge file the line at fault is found by halving, not by parsing a
// line longer each time.
func TestSyntaxLineInAHugeFile(t *testing.T) {
	var b strings.Builder
	b.WriteString("rings:\n  - name: stable\n    hosts: [\"*\"]\n    groups:\n")
	for i := 0; i < 5000; i++ {
		fmt.Fprintf(&b, "      - name: g%d\n        hosts: [h%d]\n", i, i)
	}
	b.WriteString("     - name: misindented\n")
	want := 4 + 2*5000 + 1
	_, err := loadYAML(t, b.String())
	ps := problemsOf(t, err)
	if len(ps) != 1 || ps[0].Pos.Line != want {
		t.Errorf("got %v, want the problem at line %d", ps, want)
	}
}
