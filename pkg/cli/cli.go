// Package cli turns arguments into a run of ringflow and its outcome into
// an exit code. It holds the one place where errors become exit codes.
package cli

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/signal"
	"runtime/debug"
	"strings"
	"syscall"

	"github.com/ringflow/ringflow/pkg/adopt"
	"github.com/ringflow/ringflow/pkg/pin"
	"github.com/ringflow/ringflow/pkg/promote"

	"github.com/ringflow/ringflow/pkg/build"
	"github.com/ringflow/ringflow/pkg/check"
	"github.com/ringflow/ringflow/pkg/cmd/factory"
	"github.com/ringflow/ringflow/pkg/cmd/root"
	"github.com/ringflow/ringflow/pkg/cmdutil"
	"github.com/ringflow/ringflow/pkg/config"
	"github.com/ringflow/ringflow/pkg/deploy"
	"github.com/ringflow/ringflow/pkg/fleet"
	"github.com/ringflow/ringflow/pkg/gitrepo"
	"github.com/ringflow/ringflow/pkg/initbranches"
	"github.com/ringflow/ringflow/pkg/iostreams"
	"github.com/ringflow/ringflow/pkg/membership"
	"github.com/ringflow/ringflow/pkg/ring"
	"github.com/ringflow/ringflow/pkg/update"
)

// Exit codes, as SPEC.md fixes them.
const (
	ExitOK          = 0
	ExitFailure     = 1
	ExitUsage       = 2
	ExitGateRefused = 3
	ExitBuildRed    = 4
	ExitInterrupted = 130
)

// version is set by the linker: -X github.com/ringflow/ringflow/pkg/cli.version=…
var version = "dev"

// Main runs ringflow with args and returns the exit code.
func Main(args []string) (code int) {
	ios := iostreams.System(os.Environ())
	defer func() {
		// An unrecovered panic would exit 2, which means bad usage here.
		if r := recover(); r != nil {
			fmt.Fprintf(ios.ErrOut, "ringflow: internal error: %v\n%s", r, debug.Stack())
			code = ExitFailure
		}
	}()
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	return Run(ctx, ios, os.Environ(), args)
}

// Run executes one command line against the given streams and environment.
func Run(ctx context.Context, ios *iostreams.IOStreams, env []string, args []string) int {
	f := factory.New(ios, env, buildVersion())
	cmd := root.NewCmdRoot(f)
	cmd.SetArgs(args)
	cmd.SetIn(ios.In)
	cmd.SetOut(ios.Out)
	cmd.SetErr(ios.ErrOut)
	executed, err := cmd.ExecuteContextC(ctx)
	if f.Globals.Verbose {
		reportPeakMemory(ios)
	}
	if err == nil {
		return ExitOK
	}
	// cobra reports an unknown command as a plain error.
	if strings.HasPrefix(err.Error(), "unknown command ") {
		err = cmdutil.NewUsageError(err)
	}
	err = cmdutil.WithNextStep(err)
	code := ExitCode(err)
	if !cmdutil.IsReported(err) {
		printError(ios.ErrOut, err)
		var ue *cmdutil.UsageError
		if errors.As(err, &ue) && executed != nil {
			fmt.Fprintf(ios.ErrOut, "\n%s", executed.UsageString())
		}
	}
	if f.Globals.JSON() {
		fmt.Fprintf(ios.ErrOut, "{\"type\":\"error\",\"code\":%d,\"message\":%q}\n", code, message(err))
	}
	return code
}

// ExitCode maps an error to its exit code; the first match wins.
func ExitCode(err error) int {
	var (
		usage   *cmdutil.UsageError
		cfgErr  *config.Error
		member  *membership.Error
		refused *ring.GateRefusedError
		adoptNo *adopt.RefusedError
		checked *check.CheckError
		noRings *fleet.NoRingsError
		noRing  *fleet.UnknownRingError
		noHost  *build.UnknownHostPatternError
		noInput *update.UnknownInputError
		noHostN *deploy.UnknownHostError
		red     *build.RedError
		noGroup *promote.UnknownGroupError
		noPinG  *pin.UnknownGroupError
		cfgPin  *pin.ConfigPinError
		remote  *initbranches.RemoteError
		setup   *cmdutil.SetupError
		noName  *cmdutil.UnknownNameError
		noRepo  *gitrepo.NotRepositoryError
		noRem   *gitrepo.NoRemoteError
	)
	switch {
	case err == nil:
		return ExitOK
	case errors.Is(err, context.Canceled):
		return ExitInterrupted
	case errors.As(err, &refused), errors.As(err, &adoptNo):
		return ExitGateRefused
	case errors.As(err, &red):
		return ExitBuildRed
	case errors.As(err, &usage), errors.As(err, &cfgErr), errors.As(err, &member),
		errors.As(err, &checked), errors.As(err, &noRings), errors.As(err, &noRing), errors.As(err, &noHost),
		errors.As(err, &noInput), errors.As(err, &noHostN), errors.As(err, &noGroup),
		errors.As(err, &noPinG), errors.As(err, &cfgPin), errors.As(err, &remote), errors.As(err, &setup),
		errors.As(err, &noRepo), errors.As(err, &noRem), errors.As(err, &noName):
		return ExitUsage
	}
	return ExitFailure
}

func printError(w io.Writer, err error) {
	fmt.Fprintf(w, "ringflow: %s\n", message(err))
}

// message is err for a person: an interruption says so in words, not as
// Go's "context canceled".
func message(err error) string {
	msg := err.Error()
	if errors.Is(err, context.Canceled) {
		if rest, ok := strings.CutSuffix(msg, context.Canceled.Error()); ok {
			msg = rest + "interrupted"
		}
	}
	return msg
}

func buildVersion() string {
	if version != "dev" {
		return version
	}
	if bi, ok := debug.ReadBuildInfo(); ok && bi.Main.Version != "" && bi.Main.Version != "(devel)" {
		return bi.Main.Version
	}
	return version
}

// reportPeakMemory tells, under -v, the peak memory of ringflow's own
// process — not of the nix and git processes it ran, which the kernel
// counts separately.
func reportPeakMemory(ios *iostreams.IOStreams) {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err == nil {
		fmt.Fprintf(ios.ErrOut, "ringflow: peak memory of this process: %.1f MB\n", float64(ru.Maxrss)/1024) // KiB on Linux
	}
}
