// Package status implements `ringflow status`: where dev and every ring
// and group stand, how old their commits are and how far behind they are.
package status

import (
	"cmp"
	"context"
	"fmt"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/ringflow/ringflow/pkg/cmdutil"
	"github.com/ringflow/ringflow/pkg/evidence"
	"github.com/ringflow/ringflow/pkg/fleet"
	"github.com/ringflow/ringflow/pkg/iostreams"
	"github.com/ringflow/ringflow/pkg/overview"
	"github.com/ringflow/ringflow/pkg/ring"
	"github.com/ringflow/ringflow/pkg/tableprinter"
)

// StatusOptions are the inputs of `ringflow status`.
type StatusOptions struct {
	IO    *iostreams.IOStreams
	Fleet func() (*fleet.Fleet, error)
	Now   func() time.Time
	JSON  bool
}

// NewCmdStatus returns `ringflow status`.
func NewCmdStatus(f *cmdutil.Factory, runF func(context.Context, *StatusOptions) error) *cobra.Command {
	opts := &StatusOptions{IO: f.IOStreams, Fleet: f.Fleet, Now: f.Now}
	cmd := &cobra.Command{
		Use:   "status",
		Short: "Show where dev and every ring stand",
		Long: `Show, per ring and group, the branch, its commit, the commit's age, how many
commits it is behind the ring before it (the first ring: behind dev), what
pins it (the config, or who pinned it with "ringflow pin" and why), its
evidence, and the soak left or what holds the ring (who held it with
"ringflow hold" and why, or a freeze). With a remote, the remote's branches
are fetched first.

With observe: in the config, what the hosts run is asked once: per ring how
many of its hosts run its position ("2/3 run it", also on the pipeline line)
against the converge need, and every host that does not, with what it runs
and since when. A source that fails is named, and status still succeeds.`,
		Example: `  $ ringflow status
  $ ringflow status -o json | jq '.rings[] | {name, position}'
  $ ringflow status -o json | jq '.rings[] | {name, lagging: [.observed.lagging[]?.host]}'`,
		Args: cmdutil.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			opts.JSON = f.Globals.JSON()
			if runF != nil {
				return runF(cmd.Context(), opts)
			}
			return statusRun(cmd.Context(), opts)
		},
	}
	return cmdutil.JSONCapable(cmd)
}

// StatusJSON is `status -o json`; field names are stable.
type StatusJSON struct {
	Dev   BranchJSON `json:"dev"`
	Rings []RingJSON `json:"rings"`
	// ObserveError says why what the hosts run could not be observed
	// (observe:'s source failed as a whole); absent when it answered or
	// the fleet is not observed.
	ObserveError string    `json:"observe_error,omitempty"`
	observed     bool      // observe: is set: the table shows what the hosts run
	now          time.Time // the overview's time, for the lagging hosts' since
}

// ObservedJSON is how far a ring's hosts took its position, observed
// (observe:).
type ObservedJSON struct {
	Hosts     int `json:"hosts"`
	Converged int `json:"converged"` // hosts that run the ring's position
	Unknown   int `json:"unknown"`   // not observed, or running a system built at no commit ringflow knows
	// Need is how many must run it before the next ring takes it, by
	// Rule (converge: as written); 0 and "" without converge.
	Need    int           `json:"need"`
	Rule    string        `json:"rule"`
	Lagging []LaggingJSON `json:"lagging"`
}

// LaggingJSON is a host that does not run its ring's position: what it
// runs (commit "" = unknown), since when, or why it could not be
// observed.
type LaggingJSON struct {
	Host     string `json:"host"`
	Commit   string `json:"commit"`
	Toplevel string `json:"toplevel"`
	Since    string `json:"since"` // RFC 3339; "" = unknown
	Error    string `json:"error"`
}

// InputJSON is one key input pinned at a position: revision and date.
type InputJSON struct {
	Name string `json:"name"`
	Rev  string `json:"rev"`
	Date string `json:"date,omitempty"` // RFC 3339, from lastModified
}

// BranchJSON is dev's position.
type BranchJSON struct {
	Branch     string      `json:"branch"`
	Commit     string      `json:"commit"`
	CommitTime string      `json:"commit_time,omitempty"`
	AgeSeconds int64       `json:"age_seconds"`
	Subject    string      `json:"subject,omitempty"`
	Inputs     []InputJSON `json:"inputs,omitempty"`
}

// RingJSON is one ring.
type RingJSON struct {
	Name     string      `json:"name"`
	Position string      `json:"position"`
	Source   string      `json:"source"`
	Error    string      `json:"error,omitempty"`
	Groups   []GroupJSON `json:"groups"`
	Inputs   []InputJSON `json:"inputs,omitempty"`
	// SoakLeftSeconds is how long the ring's position must still sit
	// before the next ring may take it.
	SoakLeftSeconds int64  `json:"soak_left_seconds"`
	FrozenUntil     string `json:"frozen_until,omitempty"`
	FrozenReason    string `json:"frozen_reason,omitempty"`
	// Hold is who held the ring (ringflow hold), when and why; null when
	// it is not held. A held ring takes no promotion until released.
	Hold *cmdutil.HoldJSON `json:"hold"`
	hold *ring.Hold        // for the table, which words it as the hold gate does
	// Drift lists the ring's branches moved outside ringflow; promotions
	// into and out of the ring wait for `ringflow restore` or `adopt`.
	Drift []ring.Drift `json:"drift,omitempty"`
	// Observed is what the ring's hosts run; absent without observe:.
	Observed *ObservedJSON `json:"observed,omitempty"`
}

// GroupJSON is one group.
type GroupJSON struct {
	Name       string `json:"name"`
	Branch     string `json:"branch"`
	Commit     string `json:"commit"`
	CommitTime string `json:"commit_time,omitempty"`
	AgeSeconds int64  `json:"age_seconds"`
	Pinned     bool   `json:"pinned"`
	// Pin says what pins the group: the config (its key, and the commit it
	// names) and the ledger (ringflow pin: who, when, why); null when
	// nothing does.
	Pin     *cmdutil.PinJSON `json:"pin"`
	pin     *ring.Pin        // for the table (cmdutil.PinCell)
	Behind  int              `json:"behind"`
	Subject string           `json:"subject,omitempty"`
	// Evidence counts the group's hosts green, red and not built at its
	// commit; absent when the hosts there could not be read.
	Evidence *evidence.Tally `json:"evidence,omitempty"`
}

func statusRun(ctx context.Context, opts *StatusOptions) error {
	fl, err := opts.Fleet()
	if err != nil {
		return err
	}
	if err := fl.RequireRings(); err != nil {
		return err
	}
	rd := overview.New(fl)
	rd.Now = opts.Now
	ov, err := rd.Read(ctx)
	if err != nil {
		return err
	}
	out := toJSON(ov, opts.IO)
	if opts.JSON {
		return cmdutil.WriteJSON(opts.IO.Out, out)
	}
	return printText(opts.IO, out)
}

// toJSON is the overview as status shows it; what it could not read is
// said on stderr as it goes.
func toJSON(ov *overview.Overview, io *iostreams.IOStreams) StatusJSON {
	out := StatusJSON{Dev: BranchJSON{Branch: ov.Dev.Branch, Commit: ov.Dev.Commit.Hash}, now: ov.Time}
	if c := ov.Dev.Commit; c.Hash != "" {
		out.Dev.CommitTime, out.Dev.AgeSeconds, out.Dev.Subject = commitTime(c), int64(c.Age.Seconds()), c.Subject
		out.Dev.Inputs = keyInputs(c.Hash, ov.Dev.Inputs, io)
	}
	for _, r := range ov.Rings {
		rj := RingJSON{Name: r.Name, Position: r.Position.Hash, Source: r.Source, Groups: []GroupJSON{}}
		if r.Position.Hash != "" {
			rj.Inputs = keyInputs(r.Position.Hash, r.Inputs, io)
			rj.SoakLeftSeconds = int64(r.SoakLeft.Seconds())
		}
		if fz := r.Frozen; fz != nil {
			rj.FrozenUntil, rj.FrozenReason = fz.Until.UTC().Format(time.RFC3339), fz.Reason
		}
		if h := r.Hold; h != nil {
			rj.Hold, rj.hold = cmdutil.Hold(h), h
		}
		if r.Err != nil {
			rj.Error = r.Err.Error()
		}
		rj.Drift = r.Drifts
		for _, g := range r.Groups {
			gj := GroupJSON{Name: g.Name, Branch: g.Branch, Commit: g.Commit.Hash, Pinned: g.Pinned, Evidence: g.Evidence,
				Pin: cmdutil.Pin(g.Pin), pin: g.Pin}
			if g.EvidenceErr != nil {
				fmt.Fprintf(io.ErrOut, "warning: evidence of group %s unknown: %v\n", g.Name, g.EvidenceErr)
			}
			if c := g.Commit; c.Hash != "" {
				gj.CommitTime, gj.AgeSeconds, gj.Subject = commitTime(c), int64(c.Age.Seconds()), c.Subject
				gj.Behind = g.Behind
			}
			rj.Groups = append(rj.Groups, gj)
		}
		out.Rings = append(out.Rings, rj)
	}
	addObserved(&out, ov.Observed)
	return out
}

// addObserved adds what each ring's hosts run.
func addObserved(out *StatusJSON, o *overview.Observed) {
	if o == nil {
		return
	}
	out.observed = true
	if o.Err != nil {
		out.ObserveError = o.Err.Error()
	}
	for i := range out.Rings {
		rj := &out.Rings[i]
		rj.Observed = &ObservedJSON{Lagging: []LaggingJSON{}}
		for _, ro := range o.Rings {
			if ro.Ring != rj.Name {
				continue
			}
			rj.Observed.Hosts, rj.Observed.Converged, rj.Observed.Unknown = len(ro.Hosts), ro.Converged, ro.Unknown
			rj.Observed.Need, rj.Observed.Rule = ro.Need, ro.Rule
			for _, h := range ro.Lagging {
				lj := LaggingJSON{Host: h.Host, Commit: h.Commit, Toplevel: h.Toplevel, Error: h.Err}
				if !h.Since.IsZero() {
					lj.Since = h.Since.UTC().Format(time.RFC3339)
				}
				rj.Observed.Lagging = append(rj.Observed.Lagging, lj)
			}
		}
	}
}

func commitTime(c overview.Commit) string {
	return c.Time.UTC().Format(time.RFC3339)
}

func printText(io *iostreams.IOStreams, s StatusJSON) error {
	cs := io.ColorScheme()
	tty := io.IsStdoutTTY()
	if tty {
		fmt.Fprintln(io.Out, pipeline(s, cs))
		fmt.Fprintln(io.Out)
	}
	tp := tableprinter.New(io.Out, tty, "RING", "GROUP", "BRANCH", "COMMIT", "AGE", "BEHIND", "PINNED", "EVIDENCE", "SOAK LEFT", "SUBJECT")
	commit := func(c string) string {
		switch {
		case c == "":
			return "missing"
		case tty:
			return ring.Short(c)[:7]
		}
		return c
	}
	missing := func(c string) func(string) string {
		if c == "" {
			return cs.Red
		}
		return nil
	}
	devAge := ""
	if s.Dev.Commit != "" {
		devAge = fmtAge(time.Duration(s.Dev.AgeSeconds)*time.Second, tty, s.Dev.CommitTime)
	}
	tp.AddColoredRow([]string{"dev", "-", s.Dev.Branch, commit(s.Dev.Commit), devAge, "-", "-", "-", "-", s.Dev.Subject},
		[]func(string) string{cs.Bold, nil, nil, missing(s.Dev.Commit)})
	for _, r := range s.Rings {
		for _, g := range r.Groups {
			age, pinned := "", cmdutil.PinCell(g.pin, tty)
			if g.Commit != "" {
				age = fmtAge(time.Duration(g.AgeSeconds)*time.Second, tty, g.CommitTime)
			}
			var behindColor, pinColor func(string) string
			if g.Behind > 0 {
				behindColor = cs.Yellow
			}
			if g.Pinned {
				pinColor = cs.Yellow
				if g.pin == nil { // not said what pins it: still never "-"
					pinned = "pinned"
				}
			}
			ev, evColor := fmtEvidence(g.Evidence, cs)
			soak, soakColor := fmtSoak(r, tty, cs)
			tp.AddColoredRow([]string{r.Name, g.Name, g.Branch, commit(g.Commit), age, strconv.Itoa(g.Behind), pinned, ev, soak, g.Subject},
				[]func(string) string{cs.Bold, nil, nil, missing(g.Commit), nil, behindColor, pinColor, evColor, soakColor})
		}
	}
	if err := tp.Render(); err != nil {
		return err
	}
	if err := printObserved(io, s); err != nil {
		return err
	}
	if err := printInputs(io, s); err != nil {
		return err
	}
	for _, r := range s.Rings {
		if r.Error != "" {
			fmt.Fprintf(io.ErrOut, "warning: %s\n", r.Error)
		}
		for _, d := range r.Drift {
			fmt.Fprintf(io.ErrOut, "%s %s; %s\n", cs.Yellow("warning:"), d, d.Remedy())
		}
	}
	return nil
}

// keyInputs shows the inputs pinned at commit; a lock that could not be
// read is a warning, not a failure of status.
func keyInputs(commit string, ins overview.Inputs, io *iostreams.IOStreams) []InputJSON {
	if ins.Err != nil {
		fmt.Fprintf(io.ErrOut, "warning: inputs at %s unknown: %v\n", ring.Short(commit), ins.Err)
		return nil
	}
	out := make([]InputJSON, 0, len(ins.Inputs))
	for _, in := range ins.Inputs {
		ij := InputJSON{Name: in.Path, Rev: in.Locked.ShortRev()}
		if !in.Locked.LastModified.IsZero() {
			ij.Date = in.Locked.LastModified.UTC().Format(time.RFC3339)
		}
		out = append(out, ij)
	}
	return out
}

// printInputs shows one row per input and one column per position, so a
// glance says which ring runs which nixpkgs.
func printInputs(io *iostreams.IOStreams, s StatusJSON) error {
	cols := []string{"dev"}
	pinned := []map[string]InputJSON{index(s.Dev.Inputs)}
	var names []string
	seen := map[string]bool{}
	add := func(ins []InputJSON) {
		for _, in := range ins {
			if !seen[in.Name] {
				seen[in.Name] = true
				names = append(names, in.Name)
			}
		}
	}
	add(s.Dev.Inputs)
	for _, r := range s.Rings {
		cols = append(cols, r.Name)
		pinned = append(pinned, index(r.Inputs))
		add(r.Inputs)
	}
	if len(names) == 0 {
		return nil
	}
	sort.Strings(names)
	if io.IsStdoutTTY() {
		fmt.Fprintln(io.Out)
	}
	tp := tableprinter.New(io.Out, io.IsStdoutTTY(), append([]string{"INPUT"}, cols...)...)
	for _, name := range names {
		row := []string{name}
		for _, m := range pinned {
			in, ok := m[name]
			switch {
			case !ok:
				row = append(row, "-")
			case in.Date != "":
				row = append(row, in.Rev+" ("+in.Date[:10]+")")
			default:
				row = append(row, in.Rev)
			}
		}
		if !io.IsStdoutTTY() {
			// Through a pipe, a first field tells these rows from the rings'.
			row = append([]string{"input"}, row...)
		}
		tp.AddRow(row...)
	}
	return tp.Render()
}

func index(ins []InputJSON) map[string]InputJSON {
	m := make(map[string]InputJSON, len(ins))
	for _, in := range ins {
		m[in.Name] = in
	}
	return m
}

// pipeline draws dev → canary → … on one line for a terminal: each ring's
// commit, how far behind the ring before it, its evidence and soak left.
func pipeline(s StatusJSON, cs *iostreams.ColorScheme) string {
	var b strings.Builder
	b.WriteString(cs.Bold("dev") + " " + cmdutil.ShortCommit(s.Dev.Commit))
	for _, r := range s.Rings {
		var t evidence.Tally
		behind, known := 0, false
		for _, g := range r.Groups {
			if g.Evidence != nil {
				t.Green, t.Red, t.Missing = t.Green+g.Evidence.Green, t.Red+g.Evidence.Red, t.Missing+g.Evidence.Missing
			}
			if !g.Pinned && g.Commit != "" && !known {
				behind, known = g.Behind, true
			}
		}
		arrow := " ─▶ "
		if behind > 0 {
			arrow = cs.Yellow(fmt.Sprintf(" ─%d─▶ ", behind))
		}
		b.WriteString(arrow + cs.Bold(r.Name) + " " + cmdutil.ShortCommit(r.Position))
		var notes []string
		if ev, color := fmtEvidence(&t, cs); t.Green+t.Red+t.Missing > 0 {
			if color != nil {
				ev = color(ev)
			}
			notes = append(notes, ev)
		}
		switch {
		case r.hold != nil:
			notes = append(notes, cs.Yellow("held by "+r.hold.Actor))
		case r.FrozenUntil != "":
			notes = append(notes, cs.Yellow("frozen until "+r.FrozenUntil))
		case r.SoakLeftSeconds > 0:
			soak, color := fmtSoak(r, true, cs)
			notes = append(notes, "soak "+color(soak))
		}
		if o := r.Observed; o != nil {
			runs, color := fmtRunIt(o, s.ObserveError != "", cs)
			if color != nil {
				runs = color(runs)
			}
			notes = append(notes, runs)
		}
		if len(notes) > 0 {
			b.WriteString(" (" + strings.Join(notes, ", ") + ")")
		}
	}
	return b.String()
}

// laggingWidth is the most a lagging host's line takes on a terminal, so
// that it fits 80 columns indented.
const laggingWidth = 76

// printObserved shows, when the fleet is observed, how many of each
// ring's hosts run its position and the need, then every host that does
// not with what it runs and since when. On a terminal a table; through a
// pipe tab-separated rows whose first field tells them from the rings':
//
//	observed  RING  CONVERGED/HOSTS  RULE|-  UNKNOWN
//	lagging   RING  HOST  COMMIT|-  SINCE|-  STATE
//	observe-error  MESSAGE
func printObserved(io *iostreams.IOStreams, s StatusJSON) error {
	if !s.observed {
		return nil
	}
	cs := io.ColorScheme()
	tty := io.IsStdoutTTY()
	failed := s.ObserveError != ""
	if !tty {
		tp := tableprinter.New(io.Out, false)
		if failed {
			tp.AddRow("observe-error", s.ObserveError)
		}
		for _, r := range s.Rings {
			o := r.Observed
			conv := strconv.Itoa(o.Converged)
			if failed {
				conv = "?"
			}
			tp.AddRow("observed", r.Name, conv+"/"+strconv.Itoa(o.Hosts), cmp.Or(o.Rule, "-"), strconv.Itoa(o.Unknown))
			for _, h := range o.Lagging {
				tp.AddRow("lagging", r.Name, h.Host, cmp.Or(h.Commit, "-"), cmp.Or(h.Since, "-"), lagState(h))
			}
		}
		return tp.Render()
	}
	fmt.Fprintln(io.Out)
	if failed {
		fmt.Fprintf(io.Out, "%s what the hosts run could not be observed: %s\n", cs.Red("!"), s.ObserveError)
	}
	tp := tableprinter.New(io.Out, true, "RING", "HOSTS", "CONVERGE")
	var lagging []string
	for _, r := range s.Rings {
		o := r.Observed
		runs, color := fmtRunIt(o, failed, cs)
		if o.Unknown > 0 {
			runs += fmt.Sprintf(", %d unknown", o.Unknown)
		}
		need := "-"
		if o.Rule != "" {
			need = fmt.Sprintf("%s (%d of %d)", o.Rule, o.Need, o.Hosts)
		}
		tp.AddColoredRow([]string{r.Name, runs, need}, []func(string) string{cs.Bold, color})
		for _, h := range o.Lagging {
			lagging = append(lagging, "  "+cmdutil.Truncate(lagLine(h, r.Name, s.now), laggingWidth))
		}
	}
	if err := tp.Render(); err != nil {
		return err
	}
	if len(lagging) > 0 {
		fmt.Fprintln(io.Out, "\nNot running their ring's position:")
		fmt.Fprintln(io.Out, strings.Join(lagging, "\n"))
	}
	return nil
}

// fmtRunIt reads "2/3 run it": short of the need is yellow; "?/3" when
// the source failed.
func fmtRunIt(o *ObservedJSON, failed bool, cs *iostreams.ColorScheme) (string, func(string) string) {
	if failed {
		return fmt.Sprintf("?/%d run it", o.Hosts), cs.Red
	}
	s := fmt.Sprintf("%d/%d run it", o.Converged, o.Hosts)
	switch {
	case o.Converged < o.Need:
		return s, cs.Yellow
	case o.Converged == o.Hosts:
		return s, cs.Green
	}
	return s, nil
}

// lagState says what a lagging host runs instead, as hosts --running does.
func lagState(h LaggingJSON) string {
	switch {
	case h.Error != "":
		return "not observed: " + h.Error
	case h.Commit == "" && h.Toplevel != "":
		return "runs " + h.Toplevel + ", built at no commit ringflow knows"
	}
	return "behind its ring"
}

// lagLine is a lagging host on a terminal: "lab-2 (canary) runs 0f1e2d3
// since 3h ago", or why it could not be observed.
func lagLine(h LaggingJSON, ringName string, now time.Time) string {
	var what string
	who := h.Host + " (" + ringName + ")"
	switch {
	case h.Error != "":
		return who + " not observed: " + h.Error
	case h.Commit != "":
		what = "runs " + cmdutil.ShortCommit(h.Commit)
	case h.Toplevel != "":
		what = "runs " + h.Toplevel + " (at no commit ringflow knows)"
	default:
		what = "reports nothing"
	}
	if t, err := time.Parse(time.RFC3339, h.Since); err == nil {
		what += " since " + fmtAge(now.Sub(t), true, h.Since)
	}
	return who + " " + what
}

// holdWidth is the most a hold takes of a terminal table row.
const holdWidth = 30

// fmtSoak shows the soak left, or what holds the ring: a hold, which
// waits for a person, before a freeze, which ends by itself.
func fmtSoak(r RingJSON, tty bool, cs *iostreams.ColorScheme) (string, func(string) string) {
	if r.hold != nil {
		if !tty {
			return r.hold.Describe(), cs.Yellow
		}
		return cmdutil.Truncate("held by "+cmdutil.Who(r.hold.Actor, r.hold.Reason), holdWidth), cs.Yellow
	}
	if r.FrozenUntil != "" {
		return "frozen until " + r.FrozenUntil, cs.Yellow
	}
	if r.SoakLeftSeconds <= 0 {
		if tty {
			return "-", nil
		}
		return "0", nil
	}
	d := time.Duration(r.SoakLeftSeconds) * time.Second
	if !tty {
		return strconv.FormatInt(r.SoakLeftSeconds, 10), nil
	}
	return ring.FormatDuration(d), cs.Yellow
}

// fmtEvidence reads "3/4 green, 1 red" style: all green is green, any red
// is red, anything unbuilt is yellow.
func fmtEvidence(t *evidence.Tally, cs *iostreams.ColorScheme) (string, func(string) string) {
	if t == nil {
		return "?", nil
	}
	total := t.Green + t.Red + t.Missing
	s := fmt.Sprintf("%d/%d green", t.Green, total)
	if t.Red > 0 {
		s += fmt.Sprintf(", %d red", t.Red)
	}
	if t.Missing > 0 {
		s += fmt.Sprintf(", %d unbuilt", t.Missing)
	}
	switch {
	case t.Red > 0:
		return s, cs.Red
	case t.Missing > 0:
		return s, cs.Yellow
	}
	return s, cs.Green
}

// fmtAge is relative on a terminal, RFC 3339 through a pipe.
func fmtAge(d time.Duration, tty bool, rfc3339 string) string {
	if !tty {
		return rfc3339
	}
	switch {
	case d < time.Minute:
		return "just now"
	case d < time.Hour:
		return fmt.Sprintf("%dm ago", int(d.Minutes()))
	case d < 48*time.Hour:
		return fmt.Sprintf("%dh ago", int(d.Hours()))
	default:
		return fmt.Sprintf("%dd ago", int(d.Hours()/24))
	}
}
