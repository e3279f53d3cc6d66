package tableprinter

import (
	"bytes"
	"testing"
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
