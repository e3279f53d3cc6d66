// Package observe owns what each host of the fleet runs: it asks a
// Prometheus server, the hosts themselves over ssh, or a program of the
// operator's, and tells a running toplevel as the commits that give it
// (Place), and how each host fares (Health). It decides nothing: the
// gates weigh what it finds.
// It imports no git and no nix; the evidence comes in through Outs.
package observe

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"time"

	"github.com/ringflow/ringflow/pkg/config"
)

// Run is what one host runs, as far as a source can tell.
type Run struct {
	Host string
	// Toplevel is the system the host runs, a /nix/store path; "" when
	// the source knows only the commit.
	Toplevel string
	// Commit is the commit the host deployed, when the source knows it
	// (comin does); "" otherwise.
	Commit string
	// Since is when the host switched to it; zero when unknown.
	Since time.Time
	// Err says why this host could not be read (unreachable, no metric,
	// a failed deployment); the other fields are then empty. One host's
	// Err never fails the others.
	Err string
}

// Source tells what each host runs.
type Source interface {
	// Running returns a Run for every host asked for, each with Err when
	// that host could not be read. An error means the source as a whole
	// failed (Prometheus unreachable, the command failed).
	Running(ctx context.Context, hosts []string) (map[string]Run, error)
	// Every source tells health too (the healthy gate, the guard).
	HealthSource
}

// Runner runs a program without a shell and returns what it printed on
// stdout; a failure's error carries the end of its stderr. It is the
// only way the ssh and command sources reach os/exec, so their tests
// run without either.
type Runner interface {
	Run(ctx context.Context, argv []string) ([]byte, error)
}

// Options are what the sources reach the world through; a zero field is
// the real thing.
type Options struct {
	Runner Runner            // runs ssh and the command; nil = os/exec
	HTTP   http.RoundTripper // carries Prometheus queries; nil = the client's default
	Now    func() time.Time  // the time a Prometheus query asks about; nil = time.Now
}

// CommandTimeout bounds one run of the command source: the config has no
// key for it, and a hung program must not hold a night's cycle.
const CommandTimeout = time.Minute

// New returns the source cfg describes.
func New(cfg *config.Observe, opts Options) (Source, error) {
	if opts.Runner == nil {
		opts.Runner = ExecRunner{}
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	switch {
	case cfg == nil:
		return nil, errors.New("observe: the config has no observe section: add one to learn what the hosts run")
	case cfg.Prometheus != nil:
		return newPrometheus(cfg.Prometheus, opts)
	case cfg.SSH != nil:
		return newSSH(cfg.SSH, opts.Runner), nil
	case len(cfg.Command) > 0:
		return newCommand(cfg.Command, CommandTimeout, opts.Runner), nil
	}
	return nil, fmt.Errorf("observe: the observe section names no source: want prometheus, ssh or command")
}
