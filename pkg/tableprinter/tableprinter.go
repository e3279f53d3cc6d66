// Package tableprinter prints rows two ways: on a terminal aligned under a
// header, for people; through a pipe tab-separated with no header and no
// truncation, so scripts can `cut -f`.
package tableprinter

import (
	"fmt"
	"io"
	"strconv"
	"strings"
	"unicode"
	"unicode/utf8"
)

// Printer collects rows and prints them.
type Printer struct {
	w      io.Writer
	tty    bool
	header []string
	rows   [][]cell
}

type cell struct {
	text  string
	color func(string) string
}

// New returns a printer; header is shown on a terminal only.
func New(w io.Writer, tty bool, header ...string) *Printer {
	return &Printer{w: w, tty: tty, header: header}
}

// Escape shows control characters in a field as Go escapes (\n, \t,
// \x1b): a host name holding a newline or a tab must not split a row or a
// column, nor send a terminal escape.
func Escape(s string) string {
	if !strings.ContainsFunc(s, unicode.IsControl) {
		return s
	}
	q := strconv.Quote(s)
	return q[1 : len(q)-1]
}

// AddRow adds one row of plain fields.
func (p *Printer) AddRow(fields ...string) {
	row := make([]cell, len(fields))
	for i, f := range fields {
		row[i] = cell{text: Escape(f)}
	}
	p.rows = append(p.rows, row)
}

// AddColoredRow adds a row whose field i is coloured by colors[i] when
// that is not nil. Widths are measured on the plain text, so colour never
// breaks alignment.
func (p *Printer) AddColoredRow(fields []string, colors []func(string) string) {
	row := make([]cell, len(fields))
	for i, f := range fields {
		row[i] = cell{text: Escape(f)}
		if i < len(colors) {
			row[i].color = colors[i]
		}
	}
	p.rows = append(p.rows, row)
}

// Render writes every row.
func (p *Printer) Render() error {
	if !p.tty {
		for _, r := range p.rows {
			texts := make([]string, len(r))
			for i, c := range r {
				texts[i] = c.text
			}
			if _, err := fmt.Fprintln(p.w, strings.Join(texts, "\t")); err != nil {
				return err
			}
		}
		return nil
	}
	rows := p.rows
	if len(p.header) > 0 {
		h := make([]cell, len(p.header))
		for i, t := range p.header {
			h[i] = cell{text: t}
		}
		rows = append([][]cell{h}, rows...)
	}
	var widths []int
	for _, r := range rows {
		for i, c := range r {
			if i >= len(widths) {
				widths = append(widths, 0)
			}
			widths[i] = max(widths[i], utf8.RuneCountInString(c.text))
		}
	}
	var b strings.Builder
	for _, r := range rows {
		b.Reset()
		for i, c := range r {
			text := c.text
			if i < len(r)-1 {
				text += strings.Repeat(" ", widths[i]-utf8.RuneCountInString(c.text)+2)
			}
			if c.color != nil {
				// Colour the text, not the padding.
				text = c.color(c.text) + text[len(c.text):]
			}
			b.WriteString(text)
		}
		if _, err := fmt.Fprintln(p.w, strings.TrimRight(b.String(), " ")); err != nil {
			return err
		}
	}
	return nil
}
