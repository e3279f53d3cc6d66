// Package promote implements `ringflow promote RING [REV]`: offer the
// candidate to a ring, pass every gate or refuse with all the reasons, and
// fast-forward the ring's unpinned group branches in one atomic push.
package promote

import (
	"context"
	"fmt"
	"strings"

	"github.com/spf13/cobra"

	"github.com/ringflow/ringflow/pkg/cmdutil"
	"github.com/ringflow/ringflow/pkg/fleet"
	"github.com/ringflow/ringflow/pkg/iostreams"
	"github.com/ringflow/ringflow/pkg/promote"
	"github.com/ringflow/ringflow/pkg/ring"
)

// PromoteOptions are the inputs of `ringflow promote`.
type PromoteOptions struct {
	IO    *iostreams.IOStreams
	Fleet func() (*fleet.Fleet, error)
	JSON  bool

	Ring      string
	Group     string
	Rev       string
	DryRun    bool
	ForceSoak bool
	Reason    string
}

// NewCmdPromote returns `ringflow promote`.
func NewCmdPromote(f *cmdutil.Factory, runF func(context.Context, *PromoteOptions) error) *cobra.Command {
	opts := &PromoteOptions{IO: f.IOStreams, Fleet: f.Fleet}
	cmd := &cobra.Command{
		Use:   "promote RING [REV] [--group GROUP] [--dry-run]",
		Short: "Fast-forward a ring's branches to the candidate",
		Long: `Offer a commit to RING: by default the candidate, which is dev's head for the
first ring and the position of the ring before for every later ring; or REV,
which must lie on that source. Every gate is checked and every refusal listed
(exit 3). Pinned groups (config pin: or ringflow pin) stay where they are.
With a remote, the moved branches are pushed in one atomic push that carries
their expected old values, so a concurrent writer makes it fail rather than be
overwritten; local branches follow only after the push succeeded.

The gates, in the order refusals are listed:
` + gatesHelp() + `

With --group, only that group of RING moves, pinned or not: to REV, by default
to the ring's own position (a pinned group catching up), always forward (a
fast-forward, or a commit on top carrying REV's tree when REV is older). REV
must lie on the ring or on its source; the group's own hosts need evidence
there; hold, freeze and signature apply; the soak and verify hook of the
source ring only when REV is newer than what the ring itself took.`,
		Example: `  $ ringflow promote canary
  $ ringflow promote early --dry-run
  $ ringflow promote canary 3f2a9c1
  $ ringflow promote stable --group field-sbc
  $ ringflow promote stable --group field-sbc 734a2e0 --reason "fair is over"`,
		Args:              cmdutil.RangeArgs(1, 2, "promote needs a ring: ringflow promote RING [REV]"),
		ValidArgsFunction: cmdutil.Completer(f, cmdutil.CompleteRings, 1),
		RunE: func(cmd *cobra.Command, args []string) error {
			if err := cmdutil.NonEmpty("the ring or REV", args...); err != nil {
				return err
			}
			opts.Ring = args[0]
			if len(args) == 2 {
				opts.Rev = args[1]
			}
			opts.JSON = f.Globals.JSON()
			if opts.ForceSoak && opts.Reason == "" {
				return cmdutil.UsageErrorf("--force-soak needs --reason TEXT: the ledger keeps why the soak was skipped")
			}
			if runF != nil {
				return runF(cmd.Context(), opts)
			}
			return promoteRun(cmd.Context(), opts)
		},
	}
	cmd.Flags().StringVar(&opts.Group, "group", "", "move only this group of the ring, pinned or not (default to the ring's position)")
	cmd.Flags().BoolVar(&opts.DryRun, "dry-run", false, "print exactly what would move, and move nothing")
	cmd.Flags().BoolVar(&opts.ForceSoak, "force-soak", false, "skip the soak gate (only that gate); needs --reason")
	cmd.Flags().StringVar(&opts.Reason, "reason", "", "why, for the ledger")
	return cmdutil.JSONCapable(cmd)
}

// PromoteJSON is `promote -o json`; field names are stable.
type PromoteJSON struct {
	Ring      string         `json:"ring"`
	Group     string         `json:"group,omitempty"` // promote --group
	Candidate string         `json:"candidate"`
	DryRun    bool           `json:"dry_run"`
	NoImpact  bool           `json:"no_impact"`
	Moved     []ring.Move    `json:"moved"`
	Held      []ring.Held    `json:"held"`
	Refused   []ring.Refusal `json:"refused"`
	// DoneBy: another run moved the ring to the candidate while this one
	// was deciding (it lost the race; nothing left to do).
	DoneBy *cmdutil.DoneByJSON `json:"done_by,omitempty"`
	// NothingToDo: the ring holds the candidate already (nothing refused,
	// nothing moves); Why says so in words, Next is the command that moves
	// things on when a ring before it waits.
	NothingToDo bool   `json:"nothing_to_do"`
	Why         string `json:"why,omitempty"`
	Next        string `json:"next,omitempty"`
	// DecidedAgain: other runs landed these ledger entries (none moving
	// this ring) while this one was deciding; it decided the same
	// candidate again on the facts fetched again.
	DecidedAgain []cmdutil.DoneByJSON `json:"decided_again,omitempty"`
}

func promoteRun(ctx context.Context, opts *PromoteOptions) error {
	fl, err := opts.Fleet()
	if err != nil {
		return err
	}
	if err := fl.RequireRings(); err != nil {
		return err
	}
	plan, err := promote.New(fl).Run(ctx, promote.Options{Ring: opts.Ring, Group: opts.Group, Rev: opts.Rev, DryRun: opts.DryRun,
		ForceSoak: opts.ForceSoak, Reason: opts.Reason})
	if plan == nil {
		return err
	}
	why, next := nothingToDo(plan)
	if opts.JSON {
		out := PromoteJSON{Ring: plan.Ring, Group: plan.Group, Candidate: plan.Candidate, DryRun: opts.DryRun, NoImpact: plan.NoImpact,
			Moved: plan.Moves, Held: plan.Held, Refused: plan.Refusals, DoneBy: cmdutil.DoneBy(plan.DoneBy),
			NothingToDo: why != "", Why: why, Next: next}
		for i := range plan.DecidedAgain {
			out.DecidedAgain = append(out.DecidedAgain, *cmdutil.DoneBy(&plan.DecidedAgain[i]))
		}
		if out.Moved == nil {
			out.Moved = []ring.Move{}
		}
		if out.Held == nil {
			out.Held = []ring.Held{}
		}
		if out.Refused == nil {
			out.Refused = []ring.Refusal{}
		}
		if jerr := cmdutil.WriteJSON(opts.IO.Out, out); jerr != nil {
			return jerr
		}
		return err
	}
	if err != nil {
		return err
	}
	cs := opts.IO.ColorScheme()
	for _, e := range plan.DecidedAgain {
		fmt.Fprintf(opts.IO.ErrOut, "the ledger took another entry while this promotion was deciding (%s): decided again\n", e.Who())
	}
	if why != "" {
		fmt.Fprintf(opts.IO.ErrOut, "nothing to do: %s\n", why)
	}
	verb := "moved"
	if opts.DryRun {
		verb = "would move"
	}
	for _, m := range plan.Moves {
		from := ring.Short(m.From)
		if m.From == "" {
			from = "(new branch)"
		}
		to := m.To
		if m.To != m.Carries {
			// A copy of the candidate's tree on top of a rolled-back branch.
			to = fmt.Sprintf("%s (carries %s)", cmdutil.ShortOr(m.To, "new commit"), m.Carries)
		}
		fmt.Fprintf(opts.IO.Out, "%s %s: %s %s -> %s\n", verb, m.Group, m.Branch, from, to)
	}
	if plan.NoImpact && len(plan.Moves) > 0 {
		fmt.Fprintf(opts.IO.ErrOut, "no host of %s changes derivation: the soak of %s is not needed before the next ring\n", plan.Ring, plan.Ring)
	}
	for _, h := range plan.Held {
		fmt.Fprintf(opts.IO.Out, "held %s: %s stays at %s (%s)\n", h.Group, h.Branch, ring.Short(h.Commit), h.Reason)
	}
	if opts.ForceSoak {
		fmt.Fprintf(opts.IO.ErrOut, "soak gate skipped: %s\n", opts.Reason)
	}
	if !opts.DryRun && len(plan.Moves) > 0 {
		target := plan.Ring
		if plan.Group != "" {
			target += " group " + plan.Group
		}
		fmt.Fprintf(opts.IO.ErrOut, "%s promoted %s to %s\n", cs.Green("✓"), target, ring.Short(plan.Candidate))
	}
	return nil
}

// nothingToDo says, when the promotion has nothing to do, why (without
// "nothing to do: ") and the command that moves things on, if any; "" when
// there is something to do or a gate refused.
func nothingToDo(plan *promote.Promotion) (why, next string) {
	if plan.Refused() || !plan.NothingToDo() {
		return "", ""
	}
	what := "ring " + plan.Ring
	if plan.Group != "" {
		what = fmt.Sprintf("group %s of %s", plan.Group, plan.Ring)
	}
	switch {
	case plan.DoneBy != nil:
		return fmt.Sprintf("%s already holds %s: another run got there first (%s)", what, ring.Short(plan.Candidate), plan.DoneBy.Who()), ""
	case plan.Idle != nil:
		return plan.Idle.Why(), plan.Idle.Next()
	}
	return fmt.Sprintf("%s already holds %s", what, ring.Short(plan.Candidate)), ""
}

// gateHelp says what each gate of ring.DefaultGates checks, for --help;
// TestGatesHelp fails when a gate has no line here.
var gateHelp = map[string]string{
	"drift":        "no branch of the ring, nor of its source, moved outside ringflow",
	"hold":         "the ring is not held (ringflow hold)",
	"fast-forward": "the commit descends from each unpinned group branch",
	"order":        "the commit lies on the source ring, and on dev",
	"evidence":     "every host that moves built green at the commit",
	"healthy":      "with observe:, no more hosts of the source ring unhealthy than its max-unhealthy",
	"converge":     "with observe:, enough hosts of the source ring run the commit",
	"soak":         "the commit sat on the source ring for its soak (observed: since its hosts ran it); --force-soak skips it",
	"pin":          "no freeze window is open, and not every group is pinned",
	"signature":    "with gates.signed-by, the commit is signed by a key of that keyring",
	"verify":       "the source ring's verify hook passes",
}

// gatesHelp lists every gate a promotion checks, one per line, from the
// list the promotion really runs, so that the help cannot leave one out.
func gatesHelp() string {
	var b strings.Builder
	for _, g := range ring.DefaultGates() {
		b.WriteString(wrapHelp(fmt.Sprintf("  %-14s", g.Name()), gateHelp[g.Name()], 80))
	}
	return strings.TrimSuffix(b.String(), "\n")
}

// wrapHelp puts text after head, wrapped at width with later lines
// indented as far as head.
func wrapHelp(head, text string, width int) string {
	var b strings.Builder
	line := head
	for _, w := range strings.Fields(text) {
		if len(line)+1+len(w) > width && len(line) > len(head) {
			b.WriteString(strings.TrimRight(line, " ") + "\n")
			line = strings.Repeat(" ", len(head))
		}
		if len(line) > len(head) {
			line += " "
		}
		line += w
	}
	b.WriteString(line + "\n")
	return b.String()
}
