// Package update implements `ringflow update [--input NAME]…`: the
// nightly lock refresh on dev, committed with a changelog of every input.
package update

import (
	"context"
	"fmt"

	"github.com/spf13/cobra"

	"github.com/ringflow/ringflow/pkg/cmdutil"
	"github.com/ringflow/ringflow/pkg/flakelock"
	"github.com/ringflow/ringflow/pkg/fleet"
	"github.com/ringflow/ringflow/pkg/iostreams"
	"github.com/ringflow/ringflow/pkg/ring"
	"github.com/ringflow/ringflow/pkg/update"
)

// UpdateOptions are the inputs of `ringflow update`.
type UpdateOptions struct {
	IO    *iostreams.IOStreams
	Fleet func() (*fleet.Fleet, error)
	JSON  bool

	Inputs []string
	DryRun bool
}

// NewCmdUpdate returns `ringflow update`.
func NewCmdUpdate(f *cmdutil.Factory, runF func(context.Context, *UpdateOptions) error) *cobra.Command {
	opts := &UpdateOptions{IO: f.IOStreams, Fleet: f.Fleet}
	cmd := &cobra.Command{
		Use:   "update [--input NAME]... [--dry-run]",
		Short: "Refresh flake.lock on dev and commit it with a changelog",
		Long: `Check out dev's head in a scratch directory (never your work tree), update the
flake's lock there — every input, or those named with --input (update.inputs
in the config) — and commit the changed lock file(s) on top of dev as
update.author, with a message listing every changed input: old and new
revision and date, a compare URL for GitHub and GitLab inputs, added and
removed inputs, nested inputs by path. dev is then moved by compare-and-swap
(with a remote: one push leased on dev's old value). If dev moved meanwhile,
the update is redone on the new head, up to three times.

An --input that names a sub-flake of this repository (a path:./… input, e.g.
path:./hosts/plex) updates that sub-flake's own lock and the top lock's entry
in one commit. Nothing changed: no commit, exit 0.`,
		Example: `  $ ringflow update
  $ ringflow update --input nixpkgs --input home-manager
  $ ringflow update --input plex-flake --dry-run`,
		Args: cmdutil.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			opts.JSON = f.Globals.JSON()
			if len(opts.Inputs) == 0 {
				if cfg, err := f.Config(); err == nil {
					opts.Inputs = cfg.Update.Inputs
				}
			}
			if runF != nil {
				return runF(cmd.Context(), opts)
			}
			return updateRun(cmd.Context(), opts)
		},
	}
	cmd.Flags().StringArrayVar(&opts.Inputs, "input", nil, "update only this input (repeatable; nested as a/b)")
	cmd.Flags().BoolVar(&opts.DryRun, "dry-run", false, "update the lock in the scratch checkout and print the commit message; commit nothing")
	return cmdutil.JSONCapable(cmd)
}

// UpdateJSON is `update -o json`; field names are stable.
type UpdateJSON struct {
	Committed bool                  `json:"committed"`
	Commit    string                `json:"commit"`
	Base      string                `json:"base"`
	DryRun    bool                  `json:"dry_run"`
	Inputs    []flakelock.InputJSON `json:"inputs"`
	Message   string                `json:"message,omitempty"`
	// DoneBy: another run updated the lock on dev while this one was
	// updating (it lost the race; nothing left to commit).
	DoneBy *cmdutil.DoneByJSON `json:"done_by,omitempty"`
}

func updateRun(ctx context.Context, opts *UpdateOptions) error {
	fl, err := opts.Fleet()
	if err != nil {
		return err
	}
	res, err := update.New(fl).Run(ctx, update.Options{Inputs: opts.Inputs, DryRun: opts.DryRun})
	if err != nil {
		return err
	}
	if opts.JSON {
		out := UpdateJSON{Committed: res.Committed, Commit: res.Commit, Base: res.Base, DryRun: opts.DryRun,
			Inputs: []flakelock.InputJSON{}, Message: res.Message, DoneBy: cmdutil.DoneBy(res.DoneBy)}
		for _, c := range res.Changes {
			out.Inputs = append(out.Inputs, c.JSON())
		}
		return cmdutil.WriteJSON(opts.IO.Out, out)
	}
	switch {
	case res.DoneBy != nil:
		fmt.Fprintf(opts.IO.ErrOut, "lock is current: nothing to commit on %s (at %s): another run got there first (%s)\n",
			fl.Config.Dev, ring.Short(res.Base), res.DoneBy.Who())
	case res.Message == "":
		fmt.Fprintf(opts.IO.ErrOut, "lock is current: nothing to commit on %s (at %s)\n", fl.Config.Dev, ring.Short(res.Base))
	case opts.DryRun:
		fmt.Fprintf(opts.IO.ErrOut, "would commit on %s (at %s):\n", fl.Config.Dev, ring.Short(res.Base))
		fmt.Fprint(opts.IO.Out, res.Message)
	default:
		fmt.Fprint(opts.IO.Out, res.Message)
		fmt.Fprintf(opts.IO.ErrOut, "%s committed %s on %s\n", opts.IO.ColorScheme().Green("✓"), ring.Short(res.Commit), fl.Config.Dev)
	}
	return nil
}
