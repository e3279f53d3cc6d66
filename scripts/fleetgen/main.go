// Command fleetgen generates a throwaway NixOS fleet (stand-in nixpkgs, bare
// remote, work tree on branch dev) for ringflow's demo and manual testing:
//
//	go run ./scripts/fleetgen -dir /tmp/fleet -hosts 12 -eval-error broken=boom -build-fail host-003 -build-hang host-004=7200
//
// It prints the paths it made, one "key value" pair a line, so that scripts
// can pick them out with awk.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"strconv"
	"strings"

	"github.com/ringflow/ringflow/pkg/fleetgen"
)

// listFlag collects a repeatable flag.
type listFlag []string

func (l *listFlag) String() string     { return strings.Join(*l, ",") }
func (l *listFlag) Set(v string) error { *l = append(*l, v); return nil }

// usageError is a mistake on the command line, which exits 2.
type usageError string

func (e usageError) Error() string { return string(e) }

func usagef(format string, args ...any) error { return usageError(fmt.Sprintf(format, args...)) }

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	err := run(ctx, os.Args[1:], os.Stdout, os.Stderr)
	stop()
	switch {
	case errors.Is(err, flag.ErrHelp):
	case errors.As(err, new(usageError)):
		fmt.Fprintln(os.Stderr, "fleetgen:", err)
		os.Exit(2)
	case err != nil:
		// The package's errors already start with "fleetgen:".
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
}

func run(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("fleetgen", flag.ContinueOnError)
	fs.SetOutput(stderr)
	var (
		o                                             fleetgen.Options
		names, evalErrors, buildFails, wrk, subFlakes listFlag
		hangs                                         listFlag
	)
	fs.StringVar(&o.Dir, "dir", "", "directory to create the fleet in (created if missing; must be empty)")
	fs.IntVar(&o.Count, "hosts", 0, "number of hosts named host-001 … (ignored when -host is given)")
	fs.Var(&names, "host", "a host `NAME` (repeatable)")
	fs.Var(&evalErrors, "eval-error", "`NAME=MSG`: evaluating host NAME throws MSG (repeatable; adds NAME if missing)")
	fs.Var(&buildFails, "build-fail", "host `NAME` fails to build (repeatable; adds NAME if missing)")
	fs.Var(&hangs, "build-hang", "`NAME=SECONDS`: building host NAME sleeps this long first, a hanging build (repeatable; adds NAME if missing)")
	fs.Var(&wrk, "work", "`NAME=N`: host NAME costs N steps of extra evaluation (repeatable; adds NAME if missing)")
	fs.Var(&subFlakes, "sub-flake", "host `NAME` gets a sub-flake hosts/NAME with its own input (repeatable; adds NAME if missing)")
	memory := fs.Int("memory", 0, "every host keeps `N` host-unique strings of ~220 bytes in its configuration while evaluated (600000 ≈ a NixOS host's 170 MB)")
	fs.StringVar(&o.FlakeDir, "flake-dir", "", "put the flake in this subdirectory of the repository")
	fs.IntVar(&o.PkgsFiles, "pkgs-files", 0, "number of package-set files every host imports")
	fs.IntVar(&o.PkgsFileBytes, "pkgs-bytes", 0, "approximate size of each package-set file")
	fs.StringVar(&o.Salt, "salt", "", "string put into every derivation, for fresh derivations")
	fs.StringVar(&o.Nix, "nix", "nix", "nix binary")
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return err
		}
		return usagef("%v", err)
	}
	if fs.NArg() > 0 {
		return usagef("unexpected argument %q", fs.Arg(0))
	}
	if o.Dir == "" {
		return usagef("-dir is required")
	}

	for _, n := range names {
		o.Hosts = append(o.Hosts, fleetgen.Host{Name: n})
	}
	if len(o.Hosts) == 0 {
		for i := 1; i <= o.Count; i++ {
			o.Hosts = append(o.Hosts, fleetgen.Host{Name: fmt.Sprintf("host-%03d", i)})
		}
	}
	// host returns the named host, adding it: a broken host is usually
	// wanted on top of the healthy ones.
	host := func(name string) *fleetgen.Host {
		for i := range o.Hosts {
			if o.Hosts[i].Name == name {
				return &o.Hosts[i]
			}
		}
		o.Hosts = append(o.Hosts, fleetgen.Host{Name: name})
		return &o.Hosts[len(o.Hosts)-1]
	}
	for _, kv := range evalErrors {
		name, msg, ok := strings.Cut(kv, "=")
		if !ok || name == "" || msg == "" {
			return usagef("-eval-error %q is not NAME=MSG", kv)
		}
		host(name).EvalError = msg
	}
	for _, name := range buildFails {
		host(name).BuildFail = true
	}
	for _, kv := range wrk {
		name, v, ok := strings.Cut(kv, "=")
		n, err := strconv.Atoi(v)
		if !ok || name == "" || err != nil || n < 0 {
			return usagef("-work %q is not NAME=N", kv)
		}
		host(name).Work = n
	}
	for _, kv := range hangs {
		name, v, ok := strings.Cut(kv, "=")
		n, err := strconv.Atoi(v)
		if !ok || name == "" || err != nil || n < 0 {
			return usagef("-build-hang %q is not NAME=SECONDS", kv)
		}
		host(name).BuildHang = n
	}
	for _, name := range subFlakes {
		host(name)
		o.SubFlakes = append(o.SubFlakes, name)
	}
	if len(o.Hosts) == 0 {
		return usagef("no hosts: give -hosts N or -host NAME")
	}
	if *memory < 0 {
		return usagef("-memory %d is negative", *memory)
	}
	for i := range o.Hosts {
		o.Hosts[i].Memory = *memory
	}

	f, err := fleetgen.Generate(ctx, o)
	if err != nil {
		return err
	}
	dev, err := f.Rev(ctx, fleetgen.DevBranch)
	if err != nil {
		return err
	}
	fmt.Fprintf(stdout, "dir      %s\nnixpkgs  %s\nremote   %s\nrepo     %s\nflake    %s\ndev      %s\nhosts    %d\n",
		f.Dir, f.Nixpkgs, f.Remote, f.Repo, f.FlakeURL(""), dev, len(f.Hosts))
	return nil
}
