// Package root builds the ringflow command tree: the global flags, the
// usage-error handling, and every command.
package root

import (
	"time"

	"github.com/spf13/cobra"

	cmdAdopt "github.com/ringflow/ringflow/pkg/cmd/adopt"
	cmdBuild "github.com/ringflow/ringflow/pkg/cmd/build"
	cmdCheck "github.com/ringflow/ringflow/pkg/cmd/check"
	cmdCycle "github.com/ringflow/ringflow/pkg/cmd/cycle"
	cmdDiff "github.com/ringflow/ringflow/pkg/cmd/diff"
	cmdHistory "github.com/ringflow/ringflow/pkg/cmd/history"
	cmdHold "github.com/ringflow/ringflow/pkg/cmd/hold"
	cmdHosts "github.com/ringflow/ringflow/pkg/cmd/hosts"
	cmdInit "github.com/ringflow/ringflow/pkg/cmd/init"
	cmdPin "github.com/ringflow/ringflow/pkg/cmd/pin"
	cmdPromote "github.com/ringflow/ringflow/pkg/cmd/promote"
	cmdRestore "github.com/ringflow/ringflow/pkg/cmd/restore"
	cmdRollback "github.com/ringflow/ringflow/pkg/cmd/rollback"
	cmdStatus "github.com/ringflow/ringflow/pkg/cmd/status"
	cmdUpdate "github.com/ringflow/ringflow/pkg/cmd/update"
	cmdVersion "github.com/ringflow/ringflow/pkg/cmd/version"
	cmdWatch "github.com/ringflow/ringflow/pkg/cmd/watch"
	"github.com/ringflow/ringflow/pkg/cmdutil"
)

// NewCmdRoot returns the root command with every command added.
func NewCmdRoot(f *cmdutil.Factory) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "ringflow COMMAND [flags]",
		Short: "Move a NixOS fleet's flake through deployment rings",
		Long: `ringflow refreshes a NixOS fleet's flake.lock on a dev branch, test-builds every
host there, and promotes the known-good commit by fast-forward to the ring
branches (canary, early, stable, …) that the hosts pull from.`,
		Example: `  $ ringflow init
  $ ringflow hosts
  $ ringflow promote canary
  $ ringflow status -o json`,
		SilenceErrors: true,
		SilenceUsage:  true,
		Version:       f.Version,
		PersistentPreRunE: func(cmd *cobra.Command, args []string) error {
			switch f.Globals.Output {
			case "text", "json":
			default:
				return cmdutil.UsageErrorf("invalid value %q for -o/--output: want text or json", f.Globals.Output)
			}
			if f.Globals.JSON() && cmd.Annotations[cmdutil.AnnotationJSON] != "true" {
				return cmdutil.UsageErrorf("%s has no JSON output", cmd.CommandPath())
			}
			if f.Globals.NoColor {
				f.IOStreams.SetColorEnabled(false)
			}
			f.Globals.NoHeal = !cmdutil.HealsFor(cmd)
			return nil
		},
	}
	cmd.SetFlagErrorFunc(func(c *cobra.Command, err error) error { return cmdutil.NewUsageError(err) })
	setUsage(cmd, f.IOStreams.TerminalWidth())

	pf := cmd.PersistentFlags()
	pf.String("config", "", "config file (default: ./ringflow.yaml, else ringflow.yaml in $XDG_CONFIG_HOME/ringflow or /etc/ringflow)")
	pf.String("repo", "", "git repository holding the flake (config key repo)")
	pf.String("remote", "", `remote to fetch from and push to; "" = local branches only (config key remote)`)
	pf.StringVarP(&f.Globals.Output, "output", "o", "text", "output format: text or json")
	pf.BoolVarP(&f.Globals.Verbose, "verbose", "v", false, "print every nix call and its duration on stderr")
	pf.BoolVar(&f.Globals.NoColor, "no-color", false, "never colour output (also: NO_COLOR=1)")
	pf.DurationVar(&f.Globals.RemoteTimeout, "remote-timeout", 2*time.Minute, "give up on a fetch or push the remote has not answered within this time (0 = wait forever)")
	f.Globals.Flags = pf

	cmd.AddCommand(
		cmdInit.NewCmdInit(f, nil),
		cmdCheck.NewCmdCheck(f, nil),
		cmdHosts.NewCmdHosts(f, nil),
		cmdStatus.NewCmdStatus(f, nil),
		cmdDiff.NewCmdDiff(f, nil),
		cmdUpdate.NewCmdUpdate(f, nil),
		cmdBuild.NewCmdBuild(f, nil),
		cmdPromote.NewCmdPromote(f, nil),
		cmdRollback.NewCmdRollback(f, nil),
		cmdAdopt.NewCmdAdopt(f, nil),
		cmdRestore.NewCmdRestore(f, nil),
		cmdPin.NewCmdPin(f, nil),
		cmdPin.NewCmdUnpin(f, nil),
		cmdHold.NewCmdHold(f, nil),
		cmdHold.NewCmdRelease(f, nil),
		cmdHistory.NewCmdHistory(f, nil),
		cmdCycle.NewCmdCycle(f, nil),
		cmdWatch.NewCmdWatch(f, nil),
		cmdVersion.NewCmdVersion(f),
		newHelpTopicExitCodes(),
	)
	addCompletionExamples(cmd)
	return cmd
}

// addCompletionExamples gives cobra's generated completion commands the
// examples every other command has.
func addCompletionExamples(root *cobra.Command) {
	root.InitDefaultCompletionCmd()
	for _, c := range root.Commands() {
		if c.Name() != "completion" {
			continue
		}
		// An unknown shell is bad usage, not a reason to print help.
		c.Args = func(cmd *cobra.Command, args []string) error {
			if len(args) > 0 {
				return cmdutil.UsageErrorf("unknown shell %q: want bash, zsh, fish or powershell", args[0])
			}
			return nil
		}
		c.RunE = func(cmd *cobra.Command, args []string) error { return cmd.Help() }
		c.Example = `  $ source <(ringflow completion bash)
  $ ringflow completion zsh > "${fpath[1]}/_ringflow"
  $ ringflow completion fish > ~/.config/fish/completions/ringflow.fish`
		for _, sh := range c.Commands() {
			sh.Example = "  $ ringflow completion " + sh.Name() + " --help"
			switch sh.Name() {
			case "bash":
				sh.Example = "  $ ringflow completion bash > /etc/bash_completion.d/ringflow"
			case "zsh":
				sh.Example = `  $ ringflow completion zsh > "${fpath[1]}/_ringflow"`
			case "fish":
				sh.Example = "  $ ringflow completion fish > ~/.config/fish/completions/ringflow.fish"
			case "powershell":
				sh.Example = "  PS> ringflow completion powershell | Out-String | Invoke-Expression"
			}
		}
	}
}

func newHelpTopicExitCodes() *cobra.Command {
	return &cobra.Command{
		Use:   "exit-codes",
		Short: "What ringflow's exit codes mean",
		Long: `ringflow exits with:
  0    done, including "nothing to do"
  1    failure (I/O, git, nix missing or failing, remote unreachable)
  2    bad usage or bad config (the message names the key, flag or argument;
       also: not in a repository, the configured remote missing)
  3    a promotion gate refused (every failed gate is listed)
  4    a build was red
  130  interrupted

New codes may be added; treat any other non-zero code as failure.`,
	}
}
