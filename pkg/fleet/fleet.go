// Package fleet runs ringflow's operations on one repository: it ties the
// config, the git repository and nix together, reads where dev and every
// ring stand, places hosts in groups, and moves ring branches. Commands
// call it; it knows nothing of cobra or of how results are printed.
package fleet

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"
	"time"

	"github.com/ringflow/ringflow/pkg/config"
	"github.com/ringflow/ringflow/pkg/evidence"
	"github.com/ringflow/ringflow/pkg/gitrepo"
	"github.com/ringflow/ringflow/pkg/ledger"
	"github.com/ringflow/ringflow/pkg/membership"
	"github.com/ringflow/ringflow/pkg/nix"
	"github.com/ringflow/ringflow/pkg/refmove"
	"github.com/ringflow/ringflow/pkg/ring"
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

	// hostNames caches the host names of each commit evaluated this run:
	// one commit is asked for by several steps of one operation.
	hostNames map[string]hostNames

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
		Now: now, Actor: actor(os.Environ()), Env: os.Environ(), hostNames: map[string]hostNames{}}, nil
}

// actor names who runs ringflow, for the ledger: user@host.
func actor(env []string) string {
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

// Branches returns dev followed by every group branch, in file order.
func (f *Fleet) Branches() []string {
	bs := []string{f.Config.Dev}
	for _, g := range f.Config.Groups() {
		bs = append(bs, g.Branch)
	}
	return bs
}

// Sync fetches dev, every group branch, the evidence and the ledger from
// the remote in one fetch, once per run. Without a remote the local refs
// are the truth.
func (f *Fleet) Sync(ctx context.Context) error {
	if f.Config.Remote == "" || f.synced {
		return nil
	}
	var specs []gitrepo.RefSpec
	for _, b := range f.Branches() {
		specs = append(specs, gitrepo.RefSpec{Src: "refs/heads/" + b, Dst: f.BranchRef(b)})
	}
	specs = append(specs, gitrepo.RefSpec{Src: evidence.Ref, Dst: f.Evidence.TrackingRef()}, f.Ledger.FetchSpec())
	if err := f.Repo.FetchRefs(ctx, f.Config.Remote, specs); err != nil {
		return err
	}
	tip, err := f.Ledger.Tip()
	if err != nil {
		return err
	}
	f.synced, f.ledgerTip, f.ledgerTipSet = true, tip, true
	return nil
}

// Refresh fetches again, even when this run already did: an operation
// that lost a race starts over from the remote's refs.
func (f *Fleet) Refresh(ctx context.Context) error {
	f.synced = false
	return f.Sync(ctx)
}

// CarriesTrailer marks a commit ringflow made on a group branch whose
// tree is a dev commit's tree (a rollback, or a promotion landed on top of
// one): "Ringflow-Carries: <dev commit>".
const CarriesTrailer = "Ringflow-Carries"

// carried returns the dev commit a branch head carries: the head itself,
// or the commit its Ringflow-Carries trailer names.
func (f *Fleet) carried(head string) (string, error) {
	ci, err := f.Repo.Commit(head)
	if err != nil {
		return "", err
	}
	lines := strings.Split(strings.TrimRight(ci.Body, "\n"), "\n")
	for i := len(lines) - 1; i >= 0 && lines[i] != ""; i-- {
		if v, ok := strings.CutPrefix(lines[i], CarriesTrailer+": "); ok {
			return strings.TrimSpace(v), nil
		}
	}
	return head, nil
}

// BranchRef is the ref holding a branch's true position: the remote's copy
// when there is a remote, else the local branch.
func (f *Fleet) BranchRef(branch string) string {
	if f.Config.Remote != "" {
		return "refs/remotes/" + f.Config.Remote + "/" + branch
	}
	return "refs/heads/" + branch
}

// BranchCommit returns where branch stands ("" when it does not exist).
func (f *Fleet) BranchCommit(branch string) (string, error) {
	c, ok, err := f.Repo.Ref(f.BranchRef(branch))
	if err != nil || !ok {
		return "", err
	}
	return c, nil
}

// DevCommit returns dev's head, or an error naming the missing branch.
func (f *Fleet) DevCommit() (string, error) {
	c, err := f.BranchCommit(f.Config.Dev)
	if err != nil {
		return "", err
	}
	if c == "" {
		return "", fmt.Errorf("dev branch %q does not exist%s: create it or run `ringflow init`", f.Config.Dev, f.where())
	}
	return c, nil
}

func (f *Fleet) where() string {
	if f.Config.Remote != "" {
		return " on remote " + f.Config.Remote
	}
	return ""
}

// RingState is where one ring stands.
type RingState struct {
	Ring     config.Ring
	Groups   []ring.GroupState
	Position string // "" when no branch exists or the groups diverged
	Err      error  // *ring.DivergedError
}

// State is where dev and every ring stand.
type State struct {
	Dev       string
	DevCommit string // "" when dev is missing
	Rings     []RingState
}

// State reads dev and every group branch (after Sync).
func (f *Fleet) State(ctx context.Context) (*State, error) {
	if err := f.Sync(ctx); err != nil {
		return nil, err
	}
	st := &State{Dev: f.Config.Dev}
	var err error
	if st.DevCommit, err = f.BranchCommit(f.Config.Dev); err != nil {
		return nil, err
	}
	for _, r := range f.Config.Rings {
		rs := RingState{Ring: r}
		for _, g := range r.Groups {
			head, err := f.BranchCommit(g.Branch)
			if err != nil {
				return nil, err
			}
			gs := ring.GroupState{Group: GroupOf(g), Commit: head, Head: head}
			if head != "" {
				if gs.Commit, err = f.carried(head); err != nil {
					return nil, err
				}
			}
			rs.Groups = append(rs.Groups, gs)
		}
		rs.Position, rs.Err = ring.Position(rs.Groups, f.Repo)
		var de *ring.DivergedError
		if rs.Err != nil && !errors.As(rs.Err, &de) {
			return nil, rs.Err
		}
		st.Rings = append(st.Rings, rs)
	}
	return st, nil
}

// GroupOf is a config group as the gates see it.
func GroupOf(g config.Group) ring.Group {
	return ring.Group{Name: g.Name, Ring: g.Ring, Branch: g.Branch, Pinned: g.Pin.Pinned}
}

// Source returns the name and position a ring takes candidates from.
func (st *State) Source(i int) (name, commit string) {
	if i == 0 {
		return st.Dev, st.DevCommit
	}
	return st.Rings[i-1].Ring.Name, st.Rings[i-1].Position
}

// RingIndex finds a ring by name, or returns a usage error listing them.
func (f *Fleet) RingIndex(name string) (int, error) {
	for i, r := range f.Config.Rings {
		if r.Name == name {
			return i, nil
		}
	}
	return -1, &UnknownRingError{Ring: name, Known: f.Config.RingNames()}
}

// UnknownRingError names a ring the config does not have.
type UnknownRingError struct {
	Ring  string
	Known []string
}

func (e *UnknownRingError) Error() string {
	return fmt.Sprintf("unknown ring %q (rings: %s)", e.Ring, strings.Join(e.Known, ", "))
}

// Resolve turns what a user typed into a commit: dev or a group branch
// (read from the remote when there is one), a ring name (its position), or
// anything git can resolve.
func (f *Fleet) Resolve(ctx context.Context, rev string) (string, error) {
	if err := f.Sync(ctx); err != nil {
		return "", err
	}
	for _, b := range f.Branches() {
		if rev == b {
			c, err := f.BranchCommit(b)
			if err == nil && c == "" {
				err = fmt.Errorf("branch %q does not exist%s", b, f.where())
			}
			return c, err
		}
	}
	if i, err := f.RingIndex(rev); err == nil {
		st, err := f.State(ctx)
		if err != nil {
			return "", err
		}
		rs := st.Rings[i]
		if rs.Err != nil {
			return "", rs.Err
		}
		if rs.Position == "" {
			return "", fmt.Errorf("ring %q has no branch yet", rev)
		}
		return rs.Position, nil
	}
	return f.Repo.ResolveCommit(rev)
}

// FlakeRef is the flake at commit, read from git. In a bare repository
// nix also needs a ref that reaches the commit: the first of dev and the
// group branches that does.
func (f *Fleet) FlakeRef(commit string) (nix.FlakeRef, error) {
	ref := nix.FlakeRef{Repo: f.Repo.Path(), Rev: commit, Dir: f.Config.FlakeDir}
	if !f.Repo.IsBare() {
		return ref, nil
	}
	for _, b := range f.Branches() {
		name := f.BranchRef(b)
		tip, ok, err := f.Repo.Ref(name)
		if err != nil {
			return ref, err
		}
		if !ok {
			continue
		}
		if reach, err := f.Repo.IsAncestor(commit, tip); err != nil {
			return ref, err
		} else if reach {
			ref.Ref = name
			return ref, nil
		}
	}
	return ref, fmt.Errorf("commit %s is on none of the branches %s: nix can only read a bare repository's commit through a branch that holds it",
		ring.Short(commit), strings.Join(f.Branches(), ", "))
}

type hostNames struct {
	names []string
	err   error
}

// HostNames lists the hosts of the flake at commit, evaluated once per run.
func (f *Fleet) HostNames(ctx context.Context, commit string) ([]string, error) {
	if c, ok := f.hostNames[commit]; ok {
		return c.names, c.err
	}
	ref, err := f.FlakeRef(commit)
	if err != nil {
		return nil, err
	}
	names, err := f.Nix.HostNames(ctx, ref)
	if ctx.Err() == nil { // a cancelled evaluation says nothing of the commit
		f.hostNames[commit] = hostNames{names, err}
	}
	return names, err
}

// Hosts places every host of the flake at commit into its group.
func (f *Fleet) Hosts(ctx context.Context, commit string) ([]membership.Placement, error) {
	names, err := f.HostNames(ctx, commit)
	if err != nil {
		return nil, err
	}
	return membership.Assign(f.Config.Groups(), names)
}
