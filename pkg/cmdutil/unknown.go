package cmdutil

import (
	"fmt"
	"strings"
)

// UnknownNameError is a name typed on the command line that names nothing
// ringflow knows: it says what was looked for, the nearest known name
// when it is plausibly a typo, and what there is. It exits 2, without the
// usage.
type UnknownNameError struct {
	What  string // e.g. "ring, branch or commit"
	Name  string
	Known []Names // each kind of name there is, in order
}

// Names are the known names of one kind, e.g. {Kind: "rings", Names: …}.
type Names struct {
	Kind  string
	Names []string
}

func (e *UnknownNameError) Error() string {
	var all, lists []string
	for _, k := range e.Known {
		all = append(all, k.Names...)
		if len(k.Names) > 0 {
			lists = append(lists, k.Kind+": "+strings.Join(k.Names, ", "))
		}
	}
	msg := fmt.Sprintf("unknown %s %q", e.What, e.Name)
	if s := Suggest(e.Name, all); s != "" {
		msg += fmt.Sprintf(": did you mean %s?", s)
	}
	if len(lists) > 0 {
		msg += " (" + strings.Join(lists, "; ") + ")"
	}
	return msg
}

// Suggest returns the known name nearest to name when it is plausibly a
// typo (at most two edits, fewer than the name is long); "" otherwise.
func Suggest(name string, known []string) string {
	best, bestD := "", 3
	for _, c := range known {
		if d := editDistance(strings.ToLower(name), strings.ToLower(c)); d < bestD && d < len(c) {
			best, bestD = c, d
		}
	}
	return best
}

// editDistance is the optimal string alignment distance: a swap such as
// "stabel" counts as one edit.
func editDistance(a, b string) int {
	ra, rb := []rune(a), []rune(b)
	d := make([][]int, len(ra)+1)
	for i := range d {
		d[i] = make([]int, len(rb)+1)
		d[i][0] = i
	}
	for j := range d[0] {
		d[0][j] = j
	}
	for i := 1; i <= len(ra); i++ {
		for j := 1; j <= len(rb); j++ {
			cost := 1
			if ra[i-1] == rb[j-1] {
				cost = 0
			}
			d[i][j] = min(d[i-1][j]+1, d[i][j-1]+1, d[i-1][j-1]+cost)
			if i > 1 && j > 1 && ra[i-1] == rb[j-2] && ra[i-2] == rb[j-1] {
				d[i][j] = min(d[i][j], d[i-2][j-2]+1)
			}
		}
	}
	return d[len(ra)][len(rb)]
}
