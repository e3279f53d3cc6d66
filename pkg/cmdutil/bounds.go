package cmdutil

import (
	"time"

	"github.com/spf13/cobra"

	"github.com/ringflow/ringflow/pkg/config"
)

// BuildBounds are the --timeout and --max-silent flags of the commands
// that build (build, cycle): for one run they replace build.timeout and
// build.max-silent.
type BuildBounds struct {
	timeout, maxSilent string

	Timeout, MaxSilent       time.Duration
	SetTimeout, SetMaxSilent bool // the flag was given
}

// AddBuildBoundFlags adds --timeout and --max-silent to cmd.
func AddBuildBoundFlags(cmd *cobra.Command, b *BuildBounds) {
	cmd.Flags().StringVar(&b.timeout, "timeout", "", "stop a build of a host (or of a dependency) running longer than this, e.g. 90m; none = no bound (default: build.timeout, 2h)")
	cmd.Flags().StringVar(&b.maxSilent, "max-silent", "", "stop a build printing nothing for this long, e.g. 20m; none = no bound (default: build.max-silent, none)")
}

// Parse reads the flags given to cmd; a bad value is a usage error naming
// the flag. Call it in RunE.
func (b *BuildBounds) Parse(cmd *cobra.Command) error {
	var err error
	if cmd.Flags().Changed("timeout") {
		if b.Timeout, err = config.ParseBound(b.timeout); err != nil {
			return UsageErrorf("--timeout: %v", err)
		}
		b.SetTimeout = true
	}
	if cmd.Flags().Changed("max-silent") {
		if b.MaxSilent, err = config.ParseBound(b.maxSilent); err != nil {
			return UsageErrorf("--max-silent: %v", err)
		}
		b.SetMaxSilent = true
	}
	return nil
}

// Apply puts the flags given over the config's build settings.
func (b *BuildBounds) Apply(c *config.Build) {
	if b.SetTimeout {
		c.Timeout = b.Timeout
	}
	if b.SetMaxSilent {
		c.MaxSilent = b.MaxSilent
	}
}
