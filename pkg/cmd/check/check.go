// Package check implements `ringflow check`: validate the config against
// the flake and the repository's invariants, listing every problem.
package check

import (
	"context"
	"errors"
	"fmt"

	"github.com/spf13/cobra"

	"github.com/ringflow/ringflow/pkg/check"
	"github.com/ringflow/ringflow/pkg/cmdutil"
	"github.com/ringflow/ringflow/pkg/config"
	"github.com/ringflow/ringflow/pkg/fleet"
	"github.com/ringflow/ringflow/pkg/iostreams"
	"github.com/ringflow/ringflow/pkg/ring"
)

// CheckOptions are the inputs of `ringflow check`.
type CheckOptions struct {
	IO     *iostreams.IOStreams
	Fleet  func() (*fleet.Fleet, error)
	JSON   bool
	Repair bool
}

// NewCmdCheck returns `ringflow check`.
func NewCmdCheck(f *cmdutil.Factory, runF func(context.Context, *CheckOptions) error) *cobra.Command {
	opts := &CheckOptions{IO: f.IOStreams, Fleet: f.Fleet}
	cmd := &cobra.Command{
		Use:   "check",
		Short: "Validate the config against the flake and the ring branches",
		Long: `Check the config (every key), the hosts of the flake at dev's head (a named
host that does not exist, a host no group takes), the branches (dev and every
group branch exist, a pinned group is at its pinned commit, a ring's groups
agree) and the order invariant (each ring's position lies on the ring before
it, the first ring's on dev). Every problem is listed; exit 2 if there is any.

An evidence note that is not ringflow's evidence (not JSON, cut short) is a
problem too: it counts as no evidence, and "ringflow build COMMIT" replaces it.

It also finds what a killed ringflow or git leaves behind: lock files git
left ("Unable to create '….lock': File exists"), scratch checkouts of
"ringflow update" nobody uses, ref files cut short, and a local ledger behind
the remote's. --repair clears what can be cleared safely and says so, one
"repaired: …" line each on stderr; what needs a person stays a problem.
The local ledger is caught up only over entries that decode, and evidence
recorded only here is pushed; the next ordinary command does both too.

A ledger commit that holds no entry (written by hand) is named: every
command passes over it and it stays, as the ledger is append-only.

Scratch checkouts and temporary directories no process uses are also removed
by the next other command, with a note; check lists them, --repair removes them.`,
		Example: `  $ ringflow check
  $ ringflow check --repair
  $ ringflow check --config /etc/ringflow/ringflow.yaml`,
		Args: cmdutil.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			opts.JSON = f.Globals.JSON()
			if runF != nil {
				return runF(cmd.Context(), opts)
			}
			return checkRun(cmd.Context(), opts)
		},
	}
	cmd.Flags().BoolVar(&opts.Repair, "repair", false, "fix what a killed run left behind: stale git lock files and scratch checkouts, ref files cut short, a ledger copy behind the remote's")
	// check names what the next ordinary command would heal, and --repair
	// fixes it: neither heals on the way.
	return cmdutil.NoHealing(cmdutil.JSONCapable(cmd))
}

// CheckJSON is `check -o json`.
type CheckJSON struct {
	OK       bool     `json:"ok"`
	Problems []string `json:"problems"`
	Repaired []string `json:"repaired,omitzero"` // with --repair only: one entry per fix, [] when none
}

func checkRun(ctx context.Context, opts *CheckOptions) error {
	var problems []string
	fl, err := opts.Fleet()
	var cerr *config.Error
	var report *check.CheckReport
	switch {
	case errors.As(err, &cerr):
		for _, p := range cerr.Problems {
			problems = append(problems, p.String())
		}
	case err != nil:
		return err
	default:
		report, err = check.Check(ctx, check.ForFleet(fl), check.CheckOptions{Repair: opts.Repair})
		var ferr *check.CheckError
		if errors.As(err, &ferr) {
			problems = ferr.Problems
		} else if err != nil {
			return err
		}
	}
	var repaired []string
	if report != nil {
		repaired = report.Repaired
	}
	for _, r := range repaired {
		fmt.Fprintf(opts.IO.ErrOut, "repaired: %s\n", r)
	}
	if opts.JSON {
		if problems == nil {
			problems = []string{}
		}
		doc := CheckJSON{OK: len(problems) == 0, Problems: problems}
		if opts.Repair {
			doc.Repaired = append([]string{}, repaired...)
		}
		if err := cmdutil.WriteJSON(opts.IO.Out, doc); err != nil {
			return err
		}
	} else {
		for _, p := range problems {
			fmt.Fprintln(opts.IO.Out, p)
		}
	}
	if len(problems) > 0 {
		return cmdutil.Reported(&check.CheckError{Problems: problems})
	}
	if !opts.JSON {
		fmt.Fprintf(opts.IO.ErrOut, "%s %d hosts in %d groups on %d rings; dev at %s; all branches in order\n",
			opts.IO.ColorScheme().Green("ok:"), report.Hosts, report.Groups, report.Rings, ring.Short(report.DevCommit))
	}
	return nil
}
