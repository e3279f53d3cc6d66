package config

import (
	"fmt"
	"strings"
)

// Error is a config file that cannot be used. It lists every problem
// found, so one run shows them all.
type Error struct {
	File     string    // the file at fault; "" when the problem came from env or flags alone
	Problems []Problem // in file order
	Err      error     // underlying cause: *NotFoundError, or viper's parse error
}

// Problem is one fault, naming the key at fault and where it is written.
type Problem struct {
	Pos     Pos    // the file and line of the key; no file when it came from env or a flag
	Key     string // e.g. "rings[1].share" or "rings[2].groups[0].hosts[3]"; "" for the file as a whole
	Message string
}

// String is "FILE:LINE: KEY: MESSAGE", leaving out what is not known.
func (p Problem) String() string {
	s := p.Message
	if p.Key != "" {
		s = p.Key + ": " + s
	}
	if w := p.Pos.String(); w != "" {
		s = w + ": " + s
	}
	return s
}

// Error puts a single problem on one line and several one per line, so
// each is greppable on its own.
func (e *Error) Error() string {
	head := "config"
	if e.File != "" {
		head += " " + e.File
	}
	switch len(e.Problems) {
	case 0:
		if e.Err != nil {
			return head + ": " + e.Err.Error()
		}
		return head + ": invalid"
	case 1:
		if p := e.Problems[0]; p.Pos.File != "" {
			return "config " + p.String()
		}
		return head + ": " + e.Problems[0].String()
	}
	var b strings.Builder
	fmt.Fprintf(&b, "%s: %d problems:", head, len(e.Problems))
	for _, p := range e.Problems {
		b.WriteString("\n  ")
		b.WriteString(p.String())
	}
	return b.String()
}

func (e *Error) Unwrap() error { return e.Err }

// NotFoundError is a --config file that does not exist. Load returns it
// wrapped in an *Error, so it exits as a config error, and it unwraps to
// the fs.ErrNotExist of the open, so errors.Is works too.
type NotFoundError struct {
	File string
	Err  error
}

func (e *NotFoundError) Error() string { return "config " + e.File + ": file not found" }
func (e *NotFoundError) Unwrap() error { return e.Err }
