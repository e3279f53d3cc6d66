package status

import (
	"cmp"
	"io"
	"unicode/utf8"

	"github.com/ringflow/ringflow/pkg/cmdutil"
	"github.com/ringflow/ringflow/pkg/tableprinter"
)

// column is one column of a terminal table, and how it gives way when the
// table is wider than the terminal.
type column struct {
	header string
	cells  []string
	colors []func(string) string
	// compact is the column as it reads when space is short ("3d" for
	// "3d ago"), under compactHeader if that is set; nil = no such form.
	compact       []string
	compactHeader string
	cut           int  // cells are cut to this many characters ("…" included); 0 = not cut
	least         int  // the least it was allowed to be cut to
	dropped       bool // left out
}

func (c *column) add(text string, color func(string) string) {
	c.cells, c.colors = append(c.cells, text), append(c.colors, color)
}

// addShort adds a cell that has a compact form.
func (c *column) addShort(text string, color func(string) string, compact string) {
	c.add(text, color)
	c.compact = append(c.compact, compact)
}

// natural is the column's width uncut.
func (c *column) natural() int {
	w := utf8.RuneCountInString(c.header)
	for _, s := range c.cells {
		w = max(w, utf8.RuneCountInString(s))
	}
	return w
}

func (c *column) width() int {
	switch {
	case c.dropped:
		return 0
	case c.cut > 0:
		return min(c.natural(), max(c.cut, utf8.RuneCountInString(c.header)))
	}
	return c.natural()
}

// fitted is a terminal table fitted to a width: steps make it narrower,
// in order, as long as it is too wide.
type fitted struct {
	width int
	cols  []*column
	cuts  []*column // in the order they were cut
}

func (t *fitted) total() int {
	n, w := 0, 0
	for _, c := range t.cols {
		if !c.dropped {
			n++
			w += c.width()
		}
	}
	return w + 2*max(n-1, 0)
}

// A step makes the table narrower.
type step func(t *fitted)

// cut cuts c's cells (free text) to what the width leaves, not below least.
func cut(c *column, least int) step {
	return func(t *fitted) {
		if c.dropped {
			return
		}
		w := c.width()
		if to := max(least, w-(t.total()-t.width)); to < w {
			if c.cut == 0 {
				t.cuts = append(t.cuts, c)
			}
			c.cut, c.least = to, least
		}
	}
}

// drop leaves c out when when holds.
func drop(c *column, when bool) step {
	return func(*fitted) { c.dropped = c.dropped || when }
}

// shorten puts each of cs in its compact form.
func shorten(cs ...*column) step {
	return func(*fitted) {
		for _, c := range cs {
			if c.compact != nil {
				c.cells = c.compact
				c.header = cmp.Or(c.compactHeader, c.header)
			}
		}
	}
}

// fit runs the steps while the table is too wide, then shares the room
// later steps freed among the columns cut, a character at a time.
func (t *fitted) fit(steps ...step) {
	for _, s := range steps {
		if t.total() <= t.width {
			break
		}
		s(t)
	}
	// Each column cut starts again from its least and takes a character
	// in turn while there is room: room is shared, not left to the column
	// cut last.
	for _, c := range t.cuts {
		c.cut = min(c.least, c.natural())
	}
	for grown := true; grown; {
		grown = false
		for _, c := range t.cuts {
			if !c.dropped && c.cut < c.natural() && t.total() < t.width {
				c.cut++
				grown = true
			}
		}
	}
	for _, c := range t.cuts {
		if c.cut >= c.natural() {
			c.cut = 0
		}
	}
}

// cutEven cuts every one of cs to one width, the most that lets the
// table fit, not below least.
func cutEven(least int, cs ...*column) step {
	return func(t *fitted) {
		widest := 0
		for _, c := range cs {
			widest = max(widest, c.width())
		}
		for w := widest - 1; w >= least && t.total() > t.width; w-- {
			for _, c := range cs {
				if c.width() > w {
					if c.cut == 0 {
						t.cuts = append(t.cuts, c)
					}
					c.cut, c.least = w, least
				}
			}
		}
	}
}

// render prints the table aligned under its header.
func (t *fitted) render(w io.Writer) error {
	var header []string
	var cols []*column
	for _, c := range t.cols {
		if !c.dropped {
			header, cols = append(header, c.header), append(cols, c)
		}
	}
	tp := tableprinter.New(w, true, header...)
	rows := 0
	if len(cols) > 0 {
		rows = len(cols[0].cells)
	}
	for i := 0; i < rows; i++ {
		fields := make([]string, len(cols))
		colors := make([]func(string) string, len(cols))
		for j, c := range cols {
			fields[j] = c.cells[i]
			if c.cut > 0 {
				fields[j] = cmdutil.Truncate(fields[j], c.width())
			}
			colors[j] = c.colors[i]
		}
		tp.AddColoredRow(fields, colors)
	}
	return tp.Render()
}
