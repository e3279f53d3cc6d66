package cmdutil

import (
	"time"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"

	"github.com/ringflow/ringflow/pkg/config"
	"github.com/ringflow/ringflow/pkg/fleet"
	"github.com/ringflow/ringflow/pkg/iostreams"
)

// Factory hands commands their dependencies. Each func builds lazily, so
// `--help` and flag errors never read a config or open a repository.
type Factory struct {
	IOStreams *iostreams.IOStreams
	Env       []string // the process environment, KEY=VALUE
	Now       func() time.Time
	Version   string
	Globals   *Globals

	Config    func() (*config.Config, error)
	Fleet     func() (*fleet.Fleet, error)               // the fleet of Config()
	OpenFleet func(*config.Config) (*fleet.Fleet, error) // a fleet for another config (init)
}

// Globals are the root command's persistent flags.
type Globals struct {
	Output        string // text or json
	Verbose       bool
	NoColor       bool
	RemoteTimeout time.Duration  // limit of one fetch or push
	Flags         *pflag.FlagSet // the persistent flag set: --config, --repo, --remote feed the config

	// NoHeal: the command must not finish what an earlier run left
	// (fleet.Fleet.NoHeal): check (annotated NoHealing) and dry runs.
	NoHeal bool
}

// JSON says whether -o json was asked for.
func (g *Globals) JSON() bool { return g.Output == "json" }

// AnnotationJSON marks a command that supports -o json.
const AnnotationJSON = "ringflow/json"

// JSONCapable marks cmd as supporting -o json.
func JSONCapable(cmd *cobra.Command) *cobra.Command {
	if cmd.Annotations == nil {
		cmd.Annotations = map[string]string{}
	}
	cmd.Annotations[AnnotationJSON] = "true"
	return cmd
}

// AnnotationNoHeal marks a command whose fetch must not heal what an
// earlier run left (check, which names it instead).
const AnnotationNoHeal = "ringflow/no-heal"

// NoHealing marks cmd as one that does not heal.
func NoHealing(cmd *cobra.Command) *cobra.Command {
	if cmd.Annotations == nil {
		cmd.Annotations = map[string]string{}
	}
	cmd.Annotations[AnnotationNoHeal] = "true"
	return cmd
}

// HealsFor says whether cmd, with the flags it was given, may heal: not
// when annotated NoHealing, nor with --dry-run.
func HealsFor(cmd *cobra.Command) bool {
	if cmd.Annotations[AnnotationNoHeal] == "true" {
		return false
	}
	if d := cmd.Flags().Lookup("dry-run"); d != nil && d.Value.String() == "true" {
		return false
	}
	return true
}
