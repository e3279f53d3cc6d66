// Package initcmd implements `ringflow init`: write a starter
// ringflow.yaml from the hosts it finds (never over an existing one) and
// create the dev and group branches that are missing, at HEAD.
package initcmd

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"

	"github.com/spf13/cobra"

	"github.com/ringflow/ringflow/pkg/cmdutil"
	"github.com/ringflow/ringflow/pkg/config"
	"github.com/ringflow/ringflow/pkg/fleet"
	"github.com/ringflow/ringflow/pkg/initbranches"
	"github.com/ringflow/ringflow/pkg/iostreams"
	"github.com/ringflow/ringflow/pkg/ring"
)

// InitOptions are the inputs of `ringflow init`.
type InitOptions struct {
	IO     *iostreams.IOStreams
	Config func() (*config.Config, error)
	Fleet  func() (*fleet.Fleet, error)
	// Reload opens the fleet again once the starter file is written.
	Reload func(file string) (*fleet.Fleet, error)

	File   string // --config, where the starter file goes; default ./ringflow.yaml
	DryRun bool
}

// NewCmdInit returns `ringflow init`.
func NewCmdInit(f *cmdutil.Factory, runF func(context.Context, *InitOptions) error) *cobra.Command {
	opts := &InitOptions{IO: f.IOStreams, Config: f.Config, Fleet: f.Fleet}
	cmd := &cobra.Command{
		Use:   "init [--dry-run]",
		Short: "Write a starter ringflow.yaml and create the ring branches",
		Long: `Write a commented starter ringflow.yaml (to --config, else ./ringflow.yaml)
from the hosts found at HEAD, unless a config is found already: an existing
file is never overwritten. Then create the dev branch and every group branch
that does not exist yet, at HEAD: on the remote (one atomic push) when there
is one, and as local branches.`,
		Example: `  $ ringflow init
  $ ringflow init --remote "" --dry-run`,
		Args: cmdutil.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			opts.File, _ = f.Globals.Flags.GetString("config")
			opts.Reload = func(file string) (*fleet.Fleet, error) {
				cfg, err := config.Load(config.LoadOptions{File: file, Env: f.Env, Flags: f.Globals.Flags})
				if err != nil {
					return nil, err
				}
				return f.OpenFleet(cfg)
			}
			if runF != nil {
				return runF(cmd.Context(), opts)
			}
			return initRun(cmd.Context(), opts)
		},
	}
	cmd.Flags().BoolVar(&opts.DryRun, "dry-run", false, "print what would be written and created, and change nothing")
	return cmd
}

func initRun(ctx context.Context, opts *InitOptions) error {
	cfg, err := opts.Config()
	var notFound *config.NotFoundError
	if errors.As(err, &notFound) && opts.File != "" {
		// --config names the file init is asked to write.
		cfg, err = nil, nil
	}
	if err != nil {
		return err
	}
	var fl *fleet.Fleet
	if cfg == nil || cfg.File == "" {
		if fl, err = writeStarter(ctx, opts); err != nil {
			return err
		}
	} else {
		if fl, err = opts.Fleet(); err != nil {
			return err
		}
		fmt.Fprintf(opts.IO.ErrOut, "using %s (left as it is)\n", cfg.File)
	}
	head, err := fl.Repo.ResolveCommit("HEAD")
	if err != nil {
		return fmt.Errorf("init needs a commit at HEAD: %w", err)
	}
	created, err := initbranches.New(fl).CreateMissingBranches(ctx, head, opts.DryRun)
	if err != nil {
		return err
	}
	verb := "created"
	if opts.DryRun {
		verb = "would create"
	}
	for _, c := range created {
		where := "local"
		if c.Remote {
			where = "on " + fl.Config.Remote
		}
		if c.Restored {
			where += "; deleted outside ringflow, put back where the ledger has it"
		}
		fmt.Fprintf(opts.IO.Out, "%s branch %s at %s (%s)\n", verb, c.Branch, ring.Short(c.Commit), where)
	}
	if len(created) == 0 {
		fmt.Fprintln(opts.IO.ErrOut, "every branch exists already")
	}
	return nil
}

// writeStarter writes the starter config from the hosts at HEAD and opens
// the fleet with it.
func writeStarter(ctx context.Context, opts *InitOptions) (*fleet.Fleet, error) {
	file := opts.File
	if file == "" {
		file = "ringflow.yaml"
	}
	// The repository comes from defaults, environment and flags alone.
	bare, err := opts.Reload("")
	if err != nil {
		return nil, err
	}
	head, err := bare.Repo.ResolveCommit("HEAD")
	if err != nil {
		return nil, fmt.Errorf("init needs a commit at HEAD: %w", err)
	}
	ref, err := bare.FlakeRef(head)
	if err != nil {
		return nil, err
	}
	names, err := bare.Nix.HostNames(ctx, ref)
	if err != nil {
		return nil, err
	}
	text := config.StarterYAML(names)
	if opts.DryRun {
		fmt.Fprintf(opts.IO.ErrOut, "would write %s:\n", file)
		fmt.Fprint(opts.IO.ErrOut, text)
		// Load it from a scratch copy so the branches it would create can be listed.
		tmp, err := os.CreateTemp("", "ringflow-*.yaml")
		if err != nil {
			return nil, err
		}
		defer os.Remove(tmp.Name())
		if _, err := tmp.WriteString(text); err != nil {
			tmp.Close()
			return nil, err
		}
		if err := tmp.Close(); err != nil {
			return nil, err
		}
		return opts.Reload(tmp.Name())
	}
	fh, err := os.OpenFile(file, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o644)
	if errors.Is(err, fs.ErrExist) {
		return nil, fmt.Errorf("%s exists already: not overwritten", file)
	}
	if err != nil {
		return nil, err
	}
	if _, err := fh.WriteString(text); err != nil {
		fh.Close()
		os.Remove(file)
		return nil, err
	}
	if err := fh.Close(); err != nil {
		return nil, err
	}
	fmt.Fprintf(opts.IO.ErrOut, "wrote %s with %d hosts: edit the rings, then run `ringflow check`\n", file, len(names))
	return opts.Reload(file)
}
