// Package factory is the only place ringflow's real dependencies are
// built: the config from file, environment and flags; the repository; nix.
package factory

import (
	"sync"
	"time"

	"github.com/ringflow/ringflow/pkg/cmdutil"
	"github.com/ringflow/ringflow/pkg/config"
	"github.com/ringflow/ringflow/pkg/fleet"
	"github.com/ringflow/ringflow/pkg/iostreams"
	"github.com/ringflow/ringflow/pkg/nix"
)

// New returns a Factory whose dependencies are built on first use.
func New(ios *iostreams.IOStreams, env []string, version string) *cmdutil.Factory {
	f := &cmdutil.Factory{
		IOStreams: ios,
		Env:       env,
		Now:       time.Now,
		Version:   version,
		Globals:   &cmdutil.Globals{},
	}

	// Depends on Globals.Flags (set by the root command before any run) and Env.
	f.Config = sync.OnceValues(func() (*config.Config, error) {
		opts := config.LoadOptions{Env: env, Flags: f.Globals.Flags}
		if f.Globals.Flags != nil {
			opts.File, _ = f.Globals.Flags.GetString("config")
		}
		return config.Load(opts)
	})

	// Depends on IOStreams (nix's debug lines) and Globals.
	f.OpenFleet = func(cfg *config.Config) (*fleet.Fleet, error) {
		nopts := nix.Options{Env: env, ExtraArgs: cfg.Build.NixArgs}
		if f.Globals.Verbose {
			nopts.Debug = ios.ErrOut
		}
		fl, err := fleet.Open(cfg, nix.New(nopts), ios.ErrOut, f.Now)
		if err != nil {
			return nil, err
		}
		fl.Repo.SetRemoteTimeout(f.Globals.RemoteTimeout)
		fl.NoHeal = f.Globals.NoHeal
		return fl, nil
	}

	// Depends on Config and OpenFleet. What a killed run left that no
	// process uses goes on the way, unless the command does not heal
	// (check lists it, and removes it with --repair; dry runs).
	f.Fleet = sync.OnceValues(func() (*fleet.Fleet, error) {
		cfg, err := f.Config()
		if err != nil {
			return nil, err
		}
		fl, err := f.OpenFleet(cfg)
		if err != nil {
			return nil, err
		}
		fl.SweepLeftovers()
		return fl, nil
	})
	return f
}
