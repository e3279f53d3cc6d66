// Command hostsim is one simulated NixOS host of a fleet, for ringflow's
// tests (see package test/hostsim): it follows its group's branch as
// system.autoUpgrade does — fetch, build with nix, switch its own
// current-system link — and exports what it runs on /metrics and as a
// node_exporter textfile.
//
//	hostsim -host lab-1 -remote /tmp/f/origin.git -branch canary -state /tmp/lab-1
//	hostsim -host web-2 -remote /tmp/f/origin.git -branch stable -state /tmp/web-2 -comin
//	hostsim -host web-1 -remote /tmp/f/origin.git -branch early -state /tmp/web-1 -never-switch
//
// It runs until SIGINT or SIGTERM. The address it serves /metrics on is
// written to STATE/listen once it listens.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"strings"
	"syscall"

	"github.com/ringflow/ringflow/test/hostsim"
)

// listFlag collects a repeatable flag.
type listFlag []string

func (l *listFlag) String() string     { return strings.Join(*l, ",") }
func (l *listFlag) Set(v string) error { *l = append(*l, v); return nil }

// usageError is a mistake on the command line, which exits 2.
type usageError struct{ error }

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	err := run(ctx, os.Args[1:], os.Stderr)
	stop()
	switch {
	case errors.Is(err, flag.ErrHelp):
	case errors.As(err, new(usageError)):
		fmt.Fprintln(os.Stderr, "hostsim:", err)
		os.Exit(2)
	case err != nil:
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
}

func run(ctx context.Context, args []string, stderr io.Writer) error {
	o, err := parse(args, stderr)
	if err != nil {
		return err
	}
	sim, err := hostsim.New(o)
	if err != nil {
		return err
	}
	return sim.Run(ctx)
}

// parse reads the command line into the simulator's options.
func parse(args []string, stderr io.Writer) (hostsim.Options, error) {
	var o hostsim.Options
	fs := flag.NewFlagSet("hostsim", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.StringVar(&o.Host, "host", "", "the host's `NAME` in nixosConfigurations")
	fs.StringVar(&o.Remote, "remote", "", "the fleet's remote, a `PATH` or URL git fetches from")
	fs.StringVar(&o.Branch, "branch", "", "the `BRANCH` of the host's group")
	fs.StringVar(&o.FlakeDir, "flake-dir", "", "the flake's `DIR` inside the repository")
	fs.StringVar(&o.State, "state", "", "the host's state `DIR` (created if missing)")
	fs.DurationVar(&o.Interval, "interval", 0, "how often to fetch (default 1s)")
	fs.StringVar(&o.Listen, "listen", "", "`ADDR` to serve /metrics on (default 127.0.0.1:0, a free port)")
	fs.StringVar(&o.Textfile, "textfile", "", "where to write the node_exporter textfile (default STATE/"+hostsim.TextfileName+"; - for none)")
	fs.BoolVar(&o.Comin, "comin", false, "serve comin's comin_deployment_info instead of the host metric")
	fs.BoolVar(&o.NeverSwitch, "never-switch", false, "fail every switch after the first (the system the host was installed with)")
	var fail listFlag
	fs.Var(&fail, "fail-switch", "fail the switch to this `COMMIT` (a prefix of 4+ hex digits) or toplevel path (repeatable)")
	fs.StringVar(&o.Nix, "nix", "nix", "nix binary")
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return o, err
		}
		return o, usageError{err}
	}
	if fs.NArg() > 0 {
		return o, usageError{fmt.Errorf("unexpected arguments: %s", strings.Join(fs.Args(), " "))}
	}
	for _, f := range []struct{ name, value string }{{"host", o.Host}, {"remote", o.Remote}, {"branch", o.Branch}, {"state", o.State}} {
		if f.value == "" {
			return o, usageError{fmt.Errorf("-%s is required", f.name)}
		}
	}
	if o.Interval < 0 {
		return o, usageError{fmt.Errorf("-interval %s is negative", o.Interval)}
	}
	o.FailSwitch = fail
	return o, nil
}
