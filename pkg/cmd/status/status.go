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
	"unicode/utf8"

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
  $ ringflow status -o json | jq '.rings[] | {name, lagging: .observed.lagging}'`,
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

// InputJSON is one key input pinned at a position: its type, full
// revision and date, and its NAR hash.
type InputJSON struct {
	Name string `json:"name"`
	Type string `json:"type"` // github, git, path, tarball, …
	// Rev is the full commit the input is locked at; "" when the lock
	// names none (path, tarball and file inputs).
	Rev     string `json:"rev"`
	Date    string `json:"date,omitempty"` // RFC 3339, from lastModified; absent when the lock has no real time
	NarHash string `json:"nar_hash,omitempty"`
	// Where says what an input without a commit is: "path ./hosts/plex".
	Where string `json:"where,omitempty"`
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
	var err error
	if io.IsStdoutTTY() {
		err = printTerminal(io, s)
	} else {
		err = printRows(io, s)
	}
	if err != nil {
		return err
	}
	cs := io.ColorScheme()
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

// printRows is status through a pipe: tab-separated rows, none cut, whose
// first field says what the row is; each kind has its own fixed columns
// (README, "At a glance"):
//
//	dev       BRANCH  COMMIT|missing  TIME  SUBJECT
//	ring      RING  GROUP  BRANCH  COMMIT|missing  TIME  BEHIND  PINNED|-  EVIDENCE  SOAK  SUBJECT
//	observed  …, lagging  …, observe-error  …  (printObserved)
//	input     POSITION  INPUT  TYPE  REV|-  DATE|-  NARHASH|-
func printRows(io *iostreams.IOStreams, s StatusJSON) error {
	cs := io.ColorScheme()
	tp := tableprinter.New(io.Out, false)
	tp.AddRow("dev", s.Dev.Branch, cmp.Or(s.Dev.Commit, "missing"), s.Dev.CommitTime, s.Dev.Subject)
	for _, r := range s.Rings {
		soak, _ := fmtSoak(r, false, cs)
		for _, g := range r.Groups {
			pinned := cmdutil.PinCell(g.pin, false)
			if g.Pinned && g.pin == nil {
				pinned = "pinned"
			}
			ev, _ := fmtEvidence(g.Evidence, cs)
			tp.AddRow("ring", r.Name, g.Name, g.Branch, cmp.Or(g.Commit, "missing"), g.CommitTime, strconv.Itoa(g.Behind),
				pinned, ev, soak, g.Subject)
		}
	}
	if err := tp.Render(); err != nil {
		return err
	}
	if err := printObserved(io, s); err != nil {
		return err
	}
	tp = tableprinter.New(io.Out, false)
	for _, pos := range positions(s) {
		for _, in := range pos.inputs {
			tp.AddRow("input", pos.name, in.Name, in.Type, cmp.Or(in.Rev, "-"), cmp.Or(in.Date, "-"), cmp.Or(in.NarHash, "-"))
		}
	}
	return tp.Render()
}

// position is dev or a ring, with the inputs pinned there.
type position struct {
	name   string
	inputs []InputJSON
}

func positions(s StatusJSON) []position {
	ps := []position{{"dev", s.Dev.Inputs}}
	for _, r := range s.Rings {
		ps = append(ps, position{r.Name, r.Inputs})
	}
	return ps
}

// printTerminal is status for a person: the pipeline line, the table of
// groups, what the hosts run and the inputs, each fitted to the
// terminal's width (free text is cut first, names, commits and counts
// kept).
func printTerminal(io *iostreams.IOStreams, s StatusJSON) error {
	cs := io.ColorScheme()
	width := io.TerminalWidth()
	fmt.Fprintln(io.Out, pipeline(s, cs, width))
	fmt.Fprintln(io.Out)
	if err := groupTable(s, cs, width).render(io.Out); err != nil {
		return err
	}
	if err := printObserved(io, s); err != nil {
		return err
	}
	return printInputs(io, s)
}

// groupTable is a row for dev and one per group. When the terminal is too
// narrow, the branch is left out first where it only repeats the group's
// name, then the subject is cut, the pin and the hold cut to their start, ages
// shortened, the soak left (which the pipeline line shows per ring) left
// out, the pin cut to its commit, evidence shortened, and at last the
// subject left out.
func groupTable(s StatusJSON, cs *iostreams.ColorScheme, width int) *fitted {
	ringC, groupC, branchC, commitC := &column{header: "RING"}, &column{header: "GROUP"}, &column{header: "BRANCH"}, &column{header: "COMMIT"}
	ageC, behindC, pinC := &column{header: "AGE"}, &column{header: "BEHIND"}, &column{header: "PINNED"}
	evC, soakC, subjC := &column{header: "EVIDENCE", compactHeader: "GREEN"}, &column{header: "SOAK LEFT"}, &column{header: "SUBJECT"}
	commit := func(c string) (string, func(string) string) {
		if c == "" {
			return "missing", cs.Red
		}
		return ring.Short(c)[:7], nil
	}
	age := func(seconds int64, commit string) (string, string) {
		if commit == "" {
			return "", ""
		}
		d := time.Duration(seconds) * time.Second
		return fmtAge(d, true, ""), shortAge(d)
	}
	ringC.add("dev", cs.Bold)
	groupC.add("-", nil)
	branchC.add(s.Dev.Branch, nil)
	commitC.add(commit(s.Dev.Commit))
	a, short := age(s.Dev.AgeSeconds, s.Dev.Commit)
	ageC.addShort(a, nil, short)
	behindC.add("-", nil)
	pinC.add("-", nil)
	evC.addShort("-", nil, "-")
	soakC.add("-", nil)
	subjC.add(s.Dev.Subject, nil)
	redundant := s.Dev.Branch == "dev"
	for _, r := range s.Rings {
		soak, soakColor := fmtSoak(r, true, cs)
		for _, g := range r.Groups {
			redundant = redundant && g.Branch == g.Name
			ringC.add(r.Name, cs.Bold)
			groupC.add(g.Name, nil)
			branchC.add(g.Branch, nil)
			commitC.add(commit(g.Commit))
			a, short := age(g.AgeSeconds, g.Commit)
			ageC.addShort(a, nil, short)
			var behindColor, pinColor func(string) string
			if g.Behind > 0 {
				behindColor = cs.Yellow
			}
			if g.Pinned {
				pinColor = cs.Yellow
			}
			behindC.add(strconv.Itoa(g.Behind), behindColor)
			pinC.add(pinLabel(g, s.now), pinColor)
			ev, evColor := fmtEvidence(g.Evidence, cs)
			evC.addShort(ev, evColor, shortEvidence(g.Evidence))
			soakC.add(soak, soakColor)
			subjC.add(g.Subject, nil)
		}
	}
	t := &fitted{width: width, cols: []*column{ringC, groupC, branchC, commitC, ageC, behindC, pinC, evC, soakC, subjC}}
	t.fit(
		drop(branchC, redundant),
		cut(subjC, 24),
		cut(pinC, 24),
		cut(soakC, 16),
		shorten(ageC),
		cut(subjC, 12),
		cut(pinC, 16),
		drop(soakC, true),
		cut(pinC, 8),
		shorten(evC),
		drop(subjC, true),
		drop(branchC, true),
	)
	return t
}

// pinLabel says, for a terminal, what a group is pinned to and by whom:
// the commit (the one the config names, else the group's own: a pin keeps
// a group where it stands), "config" or who pinned it how long ago, then
// why: "734a2e0 by config", "34c069c by ops 2d ago: trade show". The table
// cuts it to the room it has, the reason first.
func pinLabel(g GroupJSON, now time.Time) string {
	p := g.pin
	switch {
	case p == nil && g.Pinned:
		return "pinned" // not said what pins it: still never "-"
	case p == nil:
		return "-"
	}
	var who []string
	if p.Config != "" {
		who = append(who, "config")
	}
	if !p.Time.IsZero() {
		who = append(who, p.Actor+" "+fmtAge(now.Sub(p.Time), true, ""))
	}
	label := "by " + strings.Join(who, ", ")
	if at := cmp.Or(p.Commit, g.Commit); at != "" {
		label = cmdutil.ShortCommit(at) + " " + label
	}
	if reason, _, _ := strings.Cut(p.Reason, "\n"); strings.TrimSpace(reason) != "" && !p.Time.IsZero() {
		label += ": " + strings.TrimSpace(reason)
	}
	return label
}

// shortAge is fmtAge without "ago": "3d", "now".
func shortAge(d time.Duration) string {
	if d < time.Minute {
		return "now"
	}
	return strings.TrimSuffix(fmtAge(d, true, ""), " ago")
}

// shortEvidence is fmtEvidence under the header GREEN: "2/3, 1 unbuilt".
func shortEvidence(t *evidence.Tally) string {
	if t == nil {
		return "?"
	}
	s := fmt.Sprintf("%d/%d", t.Green, t.Green+t.Red+t.Missing)
	if t.Red > 0 {
		s += fmt.Sprintf(", %d red", t.Red)
	}
	if t.Missing > 0 {
		s += fmt.Sprintf(", %d unbuilt", t.Missing)
	}
	return s
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
		l := in.Locked
		ij := InputJSON{Name: in.Path, Type: l.Type, Rev: l.Rev, NarHash: l.NarHash, Where: l.Where()}
		if d := l.Date(); !d.IsZero() {
			ij.Date = d.UTC().Format(time.RFC3339)
		}
		out = append(out, ij)
	}
	return out
}

// inputCell is an input at one position on a terminal: its commit and
// date, "7b345ae (2024-01-01)", or, without a commit, what it is ("path
// ./hosts/plex": a sub-flake is part of each commit); short leaves the
// date and a path's "path" out.
func inputCell(in InputJSON, short bool) string {
	s := in.Where
	if short && in.Type == "path" {
		s = strings.TrimPrefix(s, "path ")
	}
	if in.Rev != "" {
		s = cmdutil.ShortCommit(in.Rev)
	}
	if in.Date != "" && !short {
		s += " (" + in.Date[:10] + ")"
	}
	return s
}

// printInputs shows, on a terminal, one row per input and one column per
// position, so a glance says which ring runs which nixpkgs. When that is
// too wide, the dates go first.
func printInputs(io *iostreams.IOStreams, s StatusJSON) error {
	ps := positions(s)
	var names []string
	seen := map[string]bool{}
	for _, p := range ps {
		for _, in := range p.inputs {
			if !seen[in.Name] {
				seen[in.Name] = true
				names = append(names, in.Name)
			}
		}
	}
	if len(names) == 0 {
		return nil
	}
	sort.Strings(names)
	fmt.Fprintln(io.Out)
	nameC := &column{header: "INPUT"}
	for _, name := range names {
		nameC.add(name, nil)
	}
	t := &fitted{width: io.TerminalWidth(), cols: []*column{nameC}}
	var cols []*column
	for _, p := range ps {
		c := &column{header: p.name}
		m := index(p.inputs)
		for _, name := range names {
			if in, ok := m[name]; ok {
				c.addShort(inputCell(in, false), nil, inputCell(in, true))
			} else {
				c.addShort("-", nil, "-")
			}
		}
		cols = append(cols, c)
	}
	t.cols = append(t.cols, cols...)
	t.fit(shorten(cols...), cutEven(9, cols...), cut(nameC, 12))
	return t.render(io.Out)
}

func index(ins []InputJSON) map[string]InputJSON {
	m := make(map[string]InputJSON, len(ins))
	for _, in := range ins {
		m[in.Name] = in
	}
	return m
}

// segment is a part of the pipeline line, plain (to measure) and coloured.
type segment struct{ plain, colored string }

func (g *segment) add(text string, color func(string) string) {
	g.plain += text
	if color != nil {
		text = color(text)
	}
	g.colored += text
}

func (g segment) width() int { return utf8.RuneCountInString(g.plain) }

// pipeline draws dev → canary → … for a terminal: each ring's commit, how
// far behind the ring before it, its evidence and soak left (or what
// holds it). A line that would be wider than width breaks before an
// arrow; a ring's notes that do not fit even alone are cut.
func pipeline(s StatusJSON, cs *iostreams.ColorScheme, width int) string {
	var segs []segment
	var dev segment
	dev.add("dev", cs.Bold)
	dev.add(" "+cmdutil.ShortCommit(s.Dev.Commit), nil)
	segs = append(segs, dev)
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
		var seg segment
		if behind > 0 {
			seg.add(fmt.Sprintf("─%d─▶ ", behind), cs.Yellow)
		} else {
			seg.add("─▶ ", nil)
		}
		seg.add(r.Name, cs.Bold)
		seg.add(" "+cmdutil.ShortCommit(r.Position), nil)
		var notes []segment
		note := func(text string, color func(string) string) {
			var n segment
			n.add(text, color)
			notes = append(notes, n)
		}
		if ev, color := fmtEvidence(&t, cs); t.Green+t.Red+t.Missing > 0 {
			note(ev, color)
		}
		switch {
		case r.hold != nil:
			note("held by "+r.hold.Actor, cs.Yellow)
		case r.FrozenUntil != "":
			note("frozen until "+r.FrozenUntil, cs.Yellow)
		case r.SoakLeftSeconds > 0:
			soak, color := fmtSoak(r, true, cs)
			var n segment
			n.add("soak ", nil)
			n.add(soak, color)
			notes = append(notes, n)
		}
		if o := r.Observed; o != nil {
			runs, color := fmtRunIt(o, s.ObserveError != "", cs)
			note(runs, color)
		}
		// A continued line is indented by two: a segment alone there must fit.
		for len(notes) > 0 && seg.width()+notesWidth(notes) > width-2 {
			notes = notes[:len(notes)-1]
			if len(notes) == 0 || seg.width()+notesWidth(notes)+3 <= width-2 {
				notes = append(notes, segment{plain: "…", colored: "…"})
				break
			}
		}
		for i, n := range notes {
			sep := ", "
			if i == 0 {
				sep = " ("
			}
			seg.add(sep, nil)
			seg.plain, seg.colored = seg.plain+n.plain, seg.colored+n.colored
		}
		if len(notes) > 0 {
			seg.add(")", nil)
		}
		segs = append(segs, seg)
	}
	var b strings.Builder
	line := 0
	for i, seg := range segs {
		switch {
		case i == 0:
		case line+1+seg.width() <= width:
			b.WriteString(" ")
			line++
		default:
			b.WriteString("\n  ")
			line = 2
		}
		b.WriteString(seg.colored)
		line += seg.width()
	}
	return b.String()
}

// notesWidth is how wide " (a, b)" is.
func notesWidth(notes []segment) int {
	if len(notes) == 0 {
		return 0
	}
	w := 3 + 2*(len(notes)-1)
	for _, n := range notes {
		w += n.width()
	}
	return w
}

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
			// Indented by two, and two to spare, as it always was at 80 columns.
			lagging = append(lagging, "  "+cmdutil.Truncate(lagLine(h, r.Name, s.now), io.TerminalWidth()-4))
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

// fmtSoak shows the soak left, or what holds the ring: a hold, which
// waits for a person, before a freeze, which ends by itself.
func fmtSoak(r RingJSON, tty bool, cs *iostreams.ColorScheme) (string, func(string) string) {
	if r.hold != nil {
		if !tty {
			return r.hold.Describe(), cs.Yellow
		}
		return "held by " + cmdutil.Who(r.hold.Actor, r.hold.Reason), cs.Yellow // the table cuts it
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
