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
	width  int      // the terminal's columns; 0: no limit
	shrink []shrink // columns that give way, in order, when rows are wider
}

// shrink is a column that may be cut down to min characters.
type shrink struct {
	col, min int
	keepEnd  bool // cut the start ("…?ref=early#desk-2"), not the end
}

// FitWidth makes a terminal table fit width columns by cutting the
// columns named by Shrink, in the order they were named; through a pipe
// nothing is cut.
func (p *Printer) FitWidth(width int) { p.width = width }

// Shrink lets column col (0-based) be cut to as few as min characters when
// the table is wider than FitWidth's: its end gives way ("some reas…"), or
// with keepEnd its start ("…?ref=early#desk-2"), where a value's end is
// what tells rows apart.
func (p *Printer) Shrink(col, min int, keepEnd bool) {
	p.shrink = append(p.shrink, shrink{col: col, min: max(min, 2), keepEnd: keepEnd})
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
	p.fit(widths)
	var b strings.Builder
	for _, r := range rows {
		b.Reset()
		for i, c := range r {
			if i < len(widths) && utf8.RuneCountInString(c.text) > widths[i] {
				c.text = p.cut(i, c.text, widths[i])
			}
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

// fit narrows widths of the shrinkable columns, in order, until a row
// fits p.width (as far as their minimums allow).
func (p *Printer) fit(widths []int) {
	if p.width <= 0 {
		return
	}
	total := 2 * (len(widths) - 1)
	for _, w := range widths {
		total += w
	}
	for _, s := range p.shrink {
		if total <= p.width {
			return
		}
		if s.col >= len(widths) || widths[s.col] <= s.min {
			continue
		}
		give := min(total-p.width, widths[s.col]-s.min)
		widths[s.col] -= give
		total -= give
	}
}

// cut shortens text of column col to n characters with an ellipsis.
func (p *Printer) cut(col int, text string, n int) string {
	r := []rune(text)
	for _, s := range p.shrink {
		if s.col == col && s.keepEnd {
			return "…" + string(r[len(r)-(n-1):])
		}
	}
	return strings.TrimRight(string(r[:n-1]), " ") + "…"
}
