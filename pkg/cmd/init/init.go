// Package initcmd implements `ringflow init`: write a starter
// ringflow.yaml from the hosts it finds (never over an existing one) and
// create the dev and group branches that are missing, at HEAD.
package initcmd

import (
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"unicode/utf8"

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
	// RemoteGiven: --remote or RINGFLOW_REMOTE names the remote, so init
	// does not choose one from the repository's remotes.
	RemoteGiven bool
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
is one, and as local branches.

The starter proposes canary from host names that look like lab or test
machines (a word lab, test, testing, canary, staging, dev, ci, vm or
sandbox), else the first host; names that look like field boards (field,
sbc, rpi, pi, board) get a group of their own in the last ring. Its remote
is --remote when given, else the repository's only remote, origin among
several, or "" (local branches only) when it has none. Init says what it
guessed, and how to commit the file.`,
		Example: `  $ ringflow init
  $ ringflow init --remote "" --dry-run`,
		Args: cmdutil.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			opts.File, _ = f.Globals.Flags.GetString("config")
			opts.RemoteGiven = f.Globals.Flags.Changed("remote") || slices.ContainsFunc(f.Env, func(kv string) bool {
				return strings.HasPrefix(kv, config.EnvName("remote")+"=")
			})
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
	var wrote string // the starter file this run wrote
	if cfg == nil || cfg.File == "" {
		if fl, wrote, err = writeStarter(ctx, opts); err != nil {
			return err
		}
	} else {
		if fl, err = opts.Fleet(); err != nil {
			return err
		}
		fmt.Fprintf(opts.IO.ErrOut, "using %s (left as it is)\n", cfg.File)
		remotes, err := fl.Repo.Remotes()
		if err != nil {
			return err
		}
		from := cfg.File
		if opts.RemoteGiven {
			from = ""
		}
		if err := initbranches.CheckRemote(remotes, fl.Config.Remote, from); err != nil {
			return err
		}
	}
	created, err := createBranches(ctx, opts, fl)
	if err != nil {
		if wrote != "" && os.Remove(wrote) == nil {
			// A rerun then starts afresh, as if this one had not been.
			fmt.Fprintf(opts.IO.ErrOut, "removed %s again; run `ringflow init` once this is fixed\n", wrote)
		}
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
	if wrote != "" {
		printNext(opts.IO.ErrOut, fl, wrote)
	}
	return nil
}

// createBranches creates the missing branches at HEAD.
func createBranches(ctx context.Context, opts *InitOptions, fl *fleet.Fleet) ([]initbranches.BranchCreation, error) {
	head, err := fl.Repo.ResolveCommit("HEAD")
	if err != nil {
		return nil, fmt.Errorf("init needs a commit at HEAD: %w", err)
	}
	return initbranches.New(fl).CreateMissingBranches(ctx, head, opts.DryRun)
}

// printNext tells how to keep the starter file with the flake: committed
// on dev (and pushed), where the nightly job's clone finds it too. Only
// for a file inside the work tree.
func printNext(w io.Writer, fl *fleet.Fleet, file string) {
	if fl.Repo.IsBare() {
		return
	}
	abs, err := filepath.Abs(file)
	if err != nil {
		return
	}
	if real, err := filepath.EvalSymlinks(abs); err == nil {
		abs = real
	}
	top, _, _ := fl.Repo.RealDirs()
	rel, err := filepath.Rel(top, abs)
	if err != nil || rel == ".." || strings.HasPrefix(rel, ".."+string(filepath.Separator)) {
		return
	}
	fmt.Fprintf(w, "next: edit %s, run `ringflow check`, then commit it on %s:\n", file, fl.Config.Dev)
	if b, ok := fl.Repo.CheckedOutBranch(); !ok || b != fl.Config.Dev {
		fmt.Fprintf(w, "  git switch %s\n", fl.Config.Dev)
	}
	fmt.Fprintf(w, "  git add %s\n", file)
	fmt.Fprintf(w, "  git commit -m \"ringflow: rings\"\n")
	if fl.Config.Remote != "" {
		fmt.Fprintf(w, "  git push %s %s\n", fl.Config.Remote, fl.Config.Dev)
	}
}

// writeStarter writes the starter config from the hosts at HEAD and opens
// the fleet with it; wrote is the file written ("" in a dry run).
func writeStarter(ctx context.Context, opts *InitOptions) (fl *fleet.Fleet, wrote string, err error) {
	file := opts.File
	if file == "" {
		file = config.FileName
	}
	// The repository comes from defaults, environment and flags alone.
	bare, err := opts.Reload("")
	if err != nil {
		return nil, "", err
	}
	head, err := bare.Repo.ResolveCommit("HEAD")
	if err != nil {
		return nil, "", fmt.Errorf("init needs a commit at HEAD: %w", err)
	}
	remotes, err := bare.Repo.Remotes()
	if err != nil {
		return nil, "", err
	}
	remote, err := initbranches.PickRemote(remotes, bare.Config.Remote, opts.RemoteGiven)
	if err != nil {
		return nil, "", err
	}
	ref, err := bare.FlakeRef(head)
	if err != nil {
		return nil, "", err
	}
	names, err := bare.Nix.HostNames(ctx, ref)
	if err != nil {
		return nil, "", err
	}
	starter := config.NewStarter(names, remote.Remote)
	text := starter.YAML()
	if opts.DryRun {
		fmt.Fprintf(opts.IO.ErrOut, "would write %s:\n", file)
		fmt.Fprint(opts.IO.ErrOut, text)
		describe(opts.IO, starter, remote)
		// Load it from a scratch copy so the branches it would create can be listed.
		tmp, err := os.CreateTemp("", "ringflow-*.yaml")
		if err != nil {
			return nil, "", err
		}
		defer os.Remove(tmp.Name())
		if _, err := tmp.WriteString(text); err != nil {
			tmp.Close()
			return nil, "", err
		}
		if err := tmp.Close(); err != nil {
			return nil, "", err
		}
		fl, err := opts.Reload(tmp.Name())
		return fl, "", err
	}
	fh, err := os.OpenFile(file, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o644)
	if errors.Is(err, fs.ErrExist) {
		return nil, "", fmt.Errorf("%s exists already: not overwritten", file)
	}
	if err != nil {
		return nil, "", err
	}
	if _, err := fh.WriteString(text); err != nil {
		fh.Close()
		os.Remove(file)
		return nil, "", err
	}
	if err := fh.Close(); err != nil {
		os.Remove(file)
		return nil, "", err
	}
	fmt.Fprintf(opts.IO.ErrOut, "wrote %s with %d hosts:\n", file, len(names))
	describe(opts.IO, starter, remote)
	if fl, err = opts.Reload(file); err != nil {
		os.Remove(file)
		return nil, "", err
	}
	return fl, file, nil
}

// describe says what the starter guessed and why, one line per ring and
// the remote, so the operator knows what to check in the file.
func describe(ios *iostreams.IOStreams, s config.Starter, remote initbranches.RemoteChoice) {
	w, width := ios.ErrOut, ios.TerminalWidth()
	if len(s.Hosts) > 0 {
		fmt.Fprintf(w, "  canary: %s (%s)\n", hostList(s.Canary, width-len("  canary:  ()")-len(s.Why)), s.Why)
	}
	if s.HasEarly() {
		fmt.Fprintln(w, "  early: 20% of the hosts no other rule names, by a stable hash")
	}
	fmt.Fprintln(w, "  stable: the other hosts")
	if len(s.Field) > 0 {
		const why = "names look like field boards"
		fmt.Fprintf(w, "    group field: %s (%s)\n", hostList(s.Field, width-len("    group field:  ()")-len(why)), why)
	}
	if remote.Remote == "" {
		fmt.Fprintf(w, "  remote: \"\" = local branches only (%s);\n", remote.Why)
		fmt.Fprintln(w, "    to use one: `git remote add origin URL`, then set remote: origin")
	} else {
		fmt.Fprintf(w, "  remote: %s (%s)\n", remote.Remote, remote.Why)
	}
}

// hostList joins hosts, ending in "… and N more" where the whole list would
// be wider than width (but naming at least one host).
func hostList(hosts []string, width int) string {
	all := strings.Join(hosts, ", ")
	if utf8.RuneCountInString(all) <= width {
		return all
	}
	for n := len(hosts) - 1; n > 1; n-- {
		s := fmt.Sprintf("%s … and %d more", strings.Join(hosts[:n], ", "), len(hosts)-n)
		if utf8.RuneCountInString(s) <= width {
			return s
		}
	}
	return fmt.Sprintf("%s … and %d more", hosts[0], len(hosts)-1)
}
