// Package pin implements `ringflow pin GROUP [REV] --reason TEXT` and
// `ringflow unpin GROUP --reason TEXT`: hold a group's branch where it is
// while its ring moves (first moving it to REV), and let it follow again,
// recorded in the ledger.
package pin

import (
	"context"
	"fmt"
	"strings"

	"github.com/spf13/cobra"

	"github.com/ringflow/ringflow/pkg/cmdutil"
	"github.com/ringflow/ringflow/pkg/fleet"
	"github.com/ringflow/ringflow/pkg/iostreams"
	"github.com/ringflow/ringflow/pkg/pin"
	"github.com/ringflow/ringflow/pkg/ring"
)

// PinOptions are the inputs of `ringflow pin` and `ringflow unpin`.
type PinOptions struct {
	IO    *iostreams.IOStreams
	Fleet func() (*fleet.Fleet, error)
	JSON  bool

	Group  string
	Rev    string
	Unpin  bool
	Reason string
	DryRun bool
}

// NewCmdPin returns `ringflow pin`.
func NewCmdPin(f *cmdutil.Factory, runF func(context.Context, *PinOptions) error) *cobra.Command {
	opts := &PinOptions{IO: f.IOStreams, Fleet: f.Fleet}
	cmd := &cobra.Command{
		Use:   "pin GROUP [REV] --reason TEXT [--dry-run]",
		Short: "Hold a group's branch where it is while its ring moves",
		Long: `Record in the ledger that GROUP stays where it is when its ring moves: the
field boards keep what they run while stable moves on. With REV, the group is
first moved there, as ringflow promote RING --group GROUP REV would (its gates,
always forward), and pinned there in the same change. The pin is shown in
status, hosts and history with who, when and why, and holds until ringflow
unpin. A pinned group moves only on purpose: promote RING --group GROUP, or
pin GROUP REV.

pin: true (or a commit) in the config is a group's standing policy and pins
it as well; ringflow unpin does not lift it.`,
		Example: `  $ ringflow pin field-sbc --reason "boards at the trade show until Friday"
  $ ringflow pin field-sbc 734a2e0 --reason "rev B boards boot this kernel"`,
		Args:              cmdutil.RangeArgs(1, 2, "pin needs a group: ringflow pin GROUP [REV] --reason TEXT"),
		ValidArgsFunction: cmdutil.Completer(f, cmdutil.CompleteGroups, 1),
		RunE: func(cmd *cobra.Command, args []string) error {
			return run(cmd, f, opts, args, runF)
		},
	}
	return flags(cmd, opts)
}

// NewCmdUnpin returns `ringflow unpin`.
func NewCmdUnpin(f *cmdutil.Factory, runF func(context.Context, *PinOptions) error) *cobra.Command {
	opts := &PinOptions{IO: f.IOStreams, Fleet: f.Fleet, Unpin: true}
	cmd := &cobra.Command{
		Use:   "unpin GROUP --reason TEXT [--dry-run]",
		Short: "Let a group pinned by ringflow pin follow its ring again",
		Long: `Record in the ledger that GROUP, pinned by ringflow pin, follows its ring
again: its branch moves with the ring's next promotion. No branch moves now;
ringflow says what its hosts meet then (how many change derivation between
the group's commit and the ring's, by the evidence) and the command that
moves them at once. A pin: in the config is not lifted here.`,
		Example:           `  $ ringflow unpin field-sbc --reason "boards back from the fair"`,
		Args:              cmdutil.ExactArgs(1, "unpin needs a group: ringflow unpin GROUP --reason TEXT"),
		ValidArgsFunction: cmdutil.Completer(f, cmdutil.CompleteGroups, 1),
		RunE: func(cmd *cobra.Command, args []string) error {
			return run(cmd, f, opts, args, runF)
		},
	}
	return flags(cmd, opts)
}

func flags(cmd *cobra.Command, opts *PinOptions) *cobra.Command {
	cmd.Flags().StringVar(&opts.Reason, "reason", "", "why, for the ledger")
	cmd.Flags().BoolVar(&opts.DryRun, "dry-run", false, "print what would be recorded (and moved), and change nothing")
	return cmdutil.JSONCapable(cmd)
}

func run(cmd *cobra.Command, f *cmdutil.Factory, opts *PinOptions, args []string, runF func(context.Context, *PinOptions) error) error {
	if err := cmdutil.NonEmpty("GROUP or REV", args...); err != nil {
		return err
	}
	opts.Group = args[0]
	if len(args) == 2 {
		opts.Rev = args[1]
	}
	opts.JSON = f.Globals.JSON()
	if opts.Reason == "" {
		return cmdutil.UsageErrorf("--reason TEXT is required: the ledger keeps why %s was %s", opts.Group, map[bool]string{false: "pinned", true: "unpinned"}[opts.Unpin])
	}
	if runF != nil {
		return runF(cmd.Context(), opts)
	}
	return pinRun(cmd.Context(), opts)
}

// PinJSON is `pin -o json` and `unpin -o json`; field names are stable.
type PinJSON struct {
	Group   string      `json:"group"`
	Ring    string      `json:"ring"`
	Commit  string      `json:"commit"` // where the group's branch stands (after a move)
	Pinned  bool        `json:"pinned"` // by the ledger, after the command
	Changed bool        `json:"changed"`
	DryRun  bool        `json:"dry_run"`
	Moved   []ring.Move `json:"moved"`
	Impact  *ImpactJSON `json:"impact"` // unpin: what the ring's next move does to the group's hosts
}

// ImpactJSON is what a group's hosts meet when its ring moves them.
type ImpactJSON struct {
	From    string   `json:"from"` // the group's commit
	To      string   `json:"to"`   // the ring's position
	Hosts   []string `json:"hosts"`
	Changed []string `json:"changed"` // hosts whose derivation differs
	Unknown []string `json:"unknown"` // hosts without green evidence at both
}

func pinRun(ctx context.Context, opts *PinOptions) error {
	fl, err := opts.Fleet()
	if err != nil {
		return err
	}
	if err := fl.RequireRings(); err != nil {
		return err
	}
	res, err := pin.New(fl).Run(ctx, pin.Options{Group: opts.Group, Rev: opts.Rev, Unpin: opts.Unpin, Reason: opts.Reason, DryRun: opts.DryRun})
	if res == nil {
		return err
	}
	var moved []ring.Move
	if res.Move != nil {
		moved = res.Move.Moves
	}
	if opts.JSON {
		out := PinJSON{Group: res.Group, Ring: res.Ring, Commit: res.Commit, Pinned: !opts.Unpin, Changed: res.Entry != nil,
			DryRun: opts.DryRun, Moved: moved}
		if out.Moved == nil {
			out.Moved = []ring.Move{}
		}
		if im := res.Impact; im != nil {
			out.Impact = &ImpactJSON{From: im.From, To: im.To, Hosts: orEmpty(im.Hosts), Changed: orEmpty(im.Changed), Unknown: orEmpty(im.Unknown)}
		}
		if jerr := cmdutil.WriteJSON(opts.IO.Out, out); jerr != nil {
			return jerr
		}
		return err
	}
	if err != nil {
		return err // refused by a gate of the move
	}
	printResult(opts, res, moved)
	return nil
}

func printResult(opts *PinOptions, res *pin.Result, moved []ring.Move) {
	cs := opts.IO.ColorScheme()
	verb := "moved"
	if opts.DryRun {
		verb = "would move"
	}
	for _, m := range moved {
		fmt.Fprintf(opts.IO.Out, "%s %s: %s %s -> %s\n", verb, m.Group, m.Branch, ring.Short(m.From), cmdutil.ShortOr(m.To, "a commit carrying "+ring.Short(m.Carries)))
	}
	ledgerPin := res.Was != nil && !res.Was.Time.IsZero()
	switch {
	case opts.Unpin && !ledgerPin:
		fmt.Fprintf(opts.IO.ErrOut, "nothing to do: group %s is not pinned by ringflow pin\n", res.Group)
		return
	case !opts.Unpin && res.Entry == nil && !opts.DryRun:
		fmt.Fprintf(opts.IO.ErrOut, "nothing to do: group %s is already %s, at %s\n", res.Group, res.Was.Describe(), ring.Short(res.Commit))
		return
	case opts.DryRun:
		what := "pin"
		if opts.Unpin {
			what = "unpin"
		}
		fmt.Fprintf(opts.IO.Out, "would %s %s at %s: %s\n", what, res.Group, ring.Short(res.Commit), opts.Reason)
	case opts.Unpin:
		fmt.Fprintf(opts.IO.ErrOut, "%s unpinned %s: it follows %s from its next promotion\n", cs.Green("✓"), res.Group, res.Ring)
	default:
		fmt.Fprintf(opts.IO.ErrOut, "%s pinned %s at %s: it stays there when %s moves, until `ringflow unpin %s --reason TEXT`\n",
			cs.Green("✓"), res.Group, ring.Short(res.Commit), res.Ring, res.Group)
	}
	if im := res.Impact; im != nil {
		fmt.Fprintf(opts.IO.Out, "%s is at %s, %s at %s: %s\n", res.Group, ring.Short(im.From), res.Ring, ring.Short(im.To), impactText(im))
		fmt.Fprintf(opts.IO.ErrOut, "to move them now: ringflow promote %s --group %s\n", res.Ring, res.Group)
	}
	if res.Was != nil && res.Was.Config != "" && opts.Unpin {
		fmt.Fprintf(opts.IO.ErrOut, "%s %s stays pinned by the config (%s)\n", cs.Yellow("!"), res.Group, res.Was.Config)
	}
}

// impactText says how many of the group's hosts change derivation.
func impactText(im *pin.Impact) string {
	s := fmt.Sprintf("%d of %d host(s) change derivation", len(im.Changed), len(im.Hosts))
	if len(im.Changed) > 0 {
		s += " (" + strings.Join(im.Changed, ", ") + ")"
	}
	if len(im.Unknown) > 0 {
		s += fmt.Sprintf("; %d unknown, not green at both: %s (ringflow build %s)", len(im.Unknown), strings.Join(im.Unknown, ", "), ring.Short(im.To))
	}
	return s
}

func orEmpty(s []string) []string {
	if s == nil {
		return []string{}
	}
	return s
}
