package tableprinter

import (
	"bytes"
	"strings"
	"testing"
	"unicode/utf8"
)

func TestRender(t *testing.T) {
	var b bytes.Buffer
	p := New(&b, false, "HOST", "GROUP")
	p.AddRow("web.example", "stable")
	p.AddRow("lab-1", "canary")
	if err := p.Render(); err != nil {
		t.Fatal(err)
	}
	if got, want := b.String(), "web.example\tstable\nlab-1\tcanary\n"; got != want {
		t.Errorf("pipe output = %q, want %q", got, want)
	}
	b.Reset()
	p = New(&b, true, "HOST", "GROUP")
	p.AddRow("web.example", "stable")
	if err := p.Render(); err != nil {
		t.Fatal(err)
	}
	if got, want := b.String(), "HOST         GROUP\nweb.example  stable\n"; got != want {
		t.Errorf("tty output = %q, want %q", got, want)
	}
}

func TestColourKeepsAlignment(t *testing.T) {
	var b bytes.Buffer
	red := func(s string) string { return "<" + s + ">" }
	p := New(&b, true, "A", "B")
	p.AddColoredRow([]string{"x", "1"}, []func(string) string{red, nil})
	p.AddRow("long", "2")
	if err := p.Render(); err != nil {
		t.Fatal(err)
	}
	want := "A     B\n<x>     1\nlong  2\n"
	if b.String() != want {
		t.Errorf("output = %q, want %q (padding outside the colour)", b.String(), want)
	}
}

func TestFitWidth(t *testing.T) {
	render := func(width int, tty bool) string {
		var b bytes.Buffer
		p := New(&b, tty, "HOST", "URI", "REASON")
		p.FitWidth(width)
		p.Shrink(2, 6, false)
		p.Shrink(1, 10, true)
		p.AddRow("desk-1", "git+file:///srv/fleet/origin.git?ref=stable#desk-1", "a reason long enough to cut")
		p.AddRow("lab-1", "git+file:///srv/fleet/origin.git?ref=canary#lab-1", "-")
		if err := p.Render(); err != nil {
			t.Fatal(err)
		}
		return b.String()
	}
	// Wide enough: nothing is cut.
	if got := render(200, true); !strings.Contains(got, "a reason long enough to cut") || !strings.Contains(got, "git+file:///srv/fleet/origin.git?ref=canary#lab-1") {
		t.Errorf("at 200 columns something was cut:\n%s", got)
	}
	for _, w := range []int{80, 60, 40} {
		got := render(w, true)
		for _, line := range strings.Split(strings.TrimRight(got, "\n"), "\n") {
			if n := utf8.RuneCountInString(line); n > w {
				t.Errorf("at %d columns a line is %d wide: %q", w, n, line)
			}
		}
		// The URI keeps its end, which tells the rows apart.
		if !strings.Contains(got, "ref=canary#lab-1") || !strings.Contains(got, "…") {
			t.Errorf("at %d columns the URI lost its end or nothing shows the cut:\n%s", w, got)
		}
	}
	// The reason gives way first: at 80 the URI is whole.
	if got := render(80, true); !strings.Contains(got, "git+file:///srv/fleet/origin.git?ref=canary#lab-1") || strings.Contains(got, "long enough to cut") {
		t.Errorf("at 80 columns the reason should give way before the URI:\n%s", got)
	}
	// Minimums hold even when the table cannot fit: 10 is too narrow.
	if got := render(10, true); !strings.Contains(got, "…") || strings.Contains(got, "desk…") {
		t.Errorf("at 10 columns: %s", got)
	}
	// Through a pipe nothing is cut.
	if got := render(20, false); !strings.Contains(got, "a reason long enough to cut") {
		t.Errorf("a pipe was cut:\n%s", got)
	}
}
