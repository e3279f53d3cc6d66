package cmdutil

import (
	"fmt"
	"strings"

	"github.com/ringflow/ringflow/pkg/suggest"
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
	if s := suggest.Nearest(e.Name, all); s != "" {
		msg += fmt.Sprintf(": did you mean %s?", s)
	}
	if len(lists) > 0 {
		msg += " (" + strings.Join(lists, "; ") + ")"
	}
	return msg
}
