package cmdutil

import (
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/ringflow/ringflow/pkg/ring"
)

// PinJSON is, in -o json (status, hosts), what pins a group:
// `"pin": {"config","commit","actor","time","reason"}`, null when nothing
// does. Fields that do not apply are "".
type PinJSON struct {
	Config string `json:"config"` // the config key that pins it ("rings[2].groups[1].pin")
	Commit string `json:"commit"` // the commit that key names (pin: <commit>)
	Actor  string `json:"actor"`  // who pinned it with `ringflow pin`
	Time   string `json:"time"`   // when, RFC 3339
	Reason string `json:"reason"` // why
}

// Pin is p as PinJSON; nil for nil.
func Pin(p *ring.Pin) *PinJSON {
	if p == nil {
		return nil
	}
	pj := &PinJSON{Config: p.Config, Commit: p.Commit, Actor: p.Actor, Reason: p.Reason}
	if !p.Time.IsZero() {
		pj.Time = p.Time.UTC().Format(time.RFC3339)
	}
	return pj
}

// HoldJSON is, in -o json (status, hold, release), who held a ring, when
// (RFC 3339) and why: `"hold": {"actor","time","reason"}`, null when not
// held.
type HoldJSON struct {
	Actor  string `json:"actor"`
	Time   string `json:"time"`
	Reason string `json:"reason"`
}

// Hold is h as HoldJSON; nil for nil.
func Hold(h *ring.Hold) *HoldJSON {
	if h == nil {
		return nil
	}
	return &HoldJSON{Actor: h.Actor, Time: h.Time.UTC().Format(time.RFC3339), Reason: h.Reason}
}

// PinWidth is the most a pin takes of a terminal table row, so that the
// table stays readable in 80 columns.
const PinWidth = 24

// PinCell is what pins a group, as a table shows it: "-" for nothing. On a
// terminal it is short ("config", "config@734a2e0", "ops@x: trade show",
// cut at PinWidth); through a pipe, which never truncates, it is
// ring.Pin.Describe ("pinned by the config (rings[2].groups[1].pin)"), so
// a field that starts with "pinned" still tells a pinned group.
func PinCell(p *ring.Pin, tty bool) string {
	switch {
	case p == nil:
		return "-"
	case !tty:
		return p.Describe()
	}
	var parts []string
	if p.Config != "" {
		s := "config"
		if p.Commit != "" {
			s += "@" + ShortCommit(p.Commit)
		}
		parts = append(parts, s)
	}
	if !p.Time.IsZero() {
		parts = append(parts, Who(p.Actor, p.Reason))
	}
	label := strings.Join(parts, ", ")
	if len(parts) == 2 && utf8.RuneCountInString(label) > PinWidth {
		// Pinned twice: who pinned it says more than a reason cut short.
		label = parts[0] + ", " + p.Actor
	}
	return Truncate(label, PinWidth)
}

// Who is "actor: reason" (the reason's first line), or the actor alone
// when there is no reason: who pinned or held something, and why.
func Who(actor, reason string) string {
	reason, _, _ = strings.Cut(reason, "\n")
	if reason = strings.TrimSpace(reason); reason == "" {
		return actor
	}
	return actor + ": " + reason
}

// Truncate cuts s to at most n characters, ending a cut one with "…":
// after a whole word when one ends in the last third, never on a
// separator ("ops@x: trade…", not "ops@x: trade sh…" or "ops@x:…").
func Truncate(s string, n int) string {
	all := []rune(s)
	if len(all) <= n {
		return s
	}
	r := all[:max(n-1, 0)]
	if !unicode.IsSpace(all[len(r)]) {
		if i := lastSpace(r); i > len(r)*2/3 {
			r = r[:i]
		}
	}
	return strings.TrimRight(string(r), " :,;") + "…"
}

func lastSpace(r []rune) int {
	for i := len(r) - 1; i >= 0; i-- {
		if unicode.IsSpace(r[i]) {
			return i
		}
	}
	return -1
}
