// Package fleet is the core every operation shares, for one repository:
// it opens it with its config, nix, evidence and ledger; reads where dev
// and every ring stand (fetched once per run) and resolves names
// (state.go); lists a commit's hosts, evaluated once per run (hosts.go);
// reads lock files (lock.go); and lands an operation's branch moves and
// ledger entries through the one ref mover (land.go). The operations
// themselves live in their own packages (promote, build, update, …).
package fleet

import (
	"cmp"
	"context"
	"fmt"
	"io"
	"os"
	"strings"
	"sync"
	"time"

	"github.com/ringflow/ringflow/pkg/config"
	"github.com/ringflow/ringflow/pkg/evidence"
	"github.com/ringflow/ringflow/pkg/gitrepo"
	"github.com/ringflow/ringflow/pkg/ledger"
	"github.com/ringflow/ringflow/pkg/nix"
	"github.com/ringflow/ringflow/pkg/refmove"
)

// Fleet is one flake repository under ringflow's control.
type Fleet struct {
	Config   *config.Config
	Repo     *gitrepo.Repo
	Nix      *nix.Nix
	Evidence *evidence.Store
	Ledger   *ledger.Store
	Mover    *refmove.Mover // the one way refs move
	Log      io.Writer      // one line per step worth telling (stderr)

	Now   func() time.Time // the clock soak and freeze windows read
	Actor string           // who the ledger says acted: user@host
	Env   []string         // the environment verify hooks inherit

	// NoHeal keeps the first fetch from finishing what an earlier run left
	// (heal.go): for check, which names it instead, and for dry runs.
	NoHeal bool
	healed bool

	// hostNames caches the host names of each commit evaluated this run:
	// one commit is asked for by several steps of one operation.
	hostNames map[string]hostNames

	// facts caches what the state reads from the ledger (recorded heads,
	// pins, holds) for the ledger tip it was read at.
	facts    *ledgerFacts
	factsTip string

	observeOnce sync.Once
	observed    *Observed

	synced bool
	// ledgerTip is the ledger's tip as fetched together with the branches:
	// the expected old value of the next entry. Read later, another
	// process's entry could slip under a movement that is no longer ours.
	ledgerTip    string
	ledgerTipSet bool
}

// Open opens the repository the config names. now is the one clock every
// operation reads (soak, freeze windows, ledger and evidence times).
func Open(cfg *config.Config, nx *nix.Nix, log io.Writer, now func() time.Time) (*Fleet, error) {
	if log == nil {
		log = io.Discard
	}
	if now == nil {
		now = time.Now
	}
	repo, err := gitrepo.Open(cfg.Repo)
	if err != nil {
		return nil, err
	}
	mover := &refmove.Mover{Repo: repo, Remote: cfg.Remote, Log: log}
	ev := &evidence.Store{Repo: repo, Remote: cfg.Remote, Identity: cfg.Update.Author, Mover: mover}
	led := &ledger.Store{Repo: repo, Remote: cfg.Remote, Identity: cfg.Update.Author}
	return &Fleet{Config: cfg, Repo: repo, Nix: nx, Evidence: ev, Ledger: led, Mover: mover, Log: log,
		Now: now, Actor: actor(repo, os.Environ()), Env: os.Environ(), hostNames: map[string]hostNames{}}, nil
}

// actor names who runs ringflow, for the ledger: the person git would
// name as a commit's author (user.name, else user.email), as the rest of
// the repository's history names people; without one, user@host from the
// environment.
func actor(repo *gitrepo.Repo, env []string) string {
	name, email := repo.UserIdentity(context.Background())
	if id := cmp.Or(name, email); id != "" {
		return id
	}
	return loginActor(env)
}

// loginActor is user@host: the login name ($SUDO_USER, $USER, $LOGNAME)
// and the host name.
func loginActor(env []string) string {
	user := "unknown"
	for _, k := range []string{"SUDO_USER", "USER", "LOGNAME"} {
		for _, kv := range env {
			if v, ok := strings.CutPrefix(kv, k+"="); ok && v != "" {
				user = v
				break
			}
		}
		if user != "unknown" {
			break
		}
	}
	host, err := os.Hostname()
	if err != nil || host == "" {
		host = "localhost"
	}
	return user + "@" + host
}

// NoRingsError says the config defines no rings, so there is nothing to
// manage; it is a configuration error.
type NoRingsError struct{ File string }

func (e *NoRingsError) Error() string {
	if e.File == "" {
		return "no ringflow.yaml found (looked in ., $XDG_CONFIG_HOME/ringflow, /etc/ringflow): run `ringflow init` or pass --config"
	}
	return fmt.Sprintf("config %s defines no rings", e.File)
}

// RequireRings fails with a NoRingsError when the config has no rings.
func (f *Fleet) RequireRings() error {
	if len(f.Config.Rings) == 0 {
		return &NoRingsError{File: f.Config.File}
	}
	return nil
}
