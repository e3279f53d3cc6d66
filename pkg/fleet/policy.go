package fleet

import (
	"context"
	"errors"
	"fmt"
	"os"
	"strings"
	"time"

	"github.com/ringflow/ringflow/pkg/freeze"
	"github.com/ringflow/ringflow/pkg/gitrepo"
	"github.com/ringflow/ringflow/pkg/hook"
	"github.com/ringflow/ringflow/pkg/ledger"
	"github.com/ringflow/ringflow/pkg/ring"
)

// gateFacts gathers what the soak, freeze, signature and verify gates of
// a promotion into ring i decide on.
func (f *Fleet) gateFacts(ctx context.Context, i int, req *ring.Request, forceSoak bool) error {
	now := f.Now()
	req.Now = now
	req.Frozen = f.Frozen(i)
	if i > 0 {
		src := f.Config.Rings[i-1]
		req.SoakNeeded, req.SkipSoak = src.Soak, forceSoak
		if src.Soak > 0 && !forceSoak {
			since, waived, err := f.heldSince(src.Name, req.Candidate)
			if err != nil {
				return err
			}
			req.SoakSince, req.SoakWaived = since, waived
		}
		if len(src.Verify) > 0 {
			check, err := f.runVerify(ctx, src.Name, req.Candidate)
			if err != nil {
				return err
			}
			req.Verify = check
		}
	}
	if kr := f.Config.Gates.SignedBy; kr != "" {
		check, err := f.checkSignature(req.Candidate, kr)
		if err != nil {
			return err
		}
		req.Signature = check
	}
	return nil
}

func freezeReason(by []freeze.Window) string {
	var parts []string
	for _, w := range by {
		if w.Reason != "" {
			parts = append(parts, w.Reason)
		} else {
			parts = append(parts, freeze.Describe(w))
		}
	}
	return strings.Join(parts, "; ")
}

// heldSince reads the ledger for when ring first held commit or a
// descendant of it without letting go since; zero when it never did (or
// no entry says so). waived says the entry that took it changed no host.
func (f *Fleet) heldSince(ringName, commit string) (since time.Time, waived bool, err error) {
	entries, err := f.Ledger.Entries(0)
	if err != nil {
		return since, false, err
	}
	for i := len(entries) - 1; i >= 0; i-- { // oldest first
		e := entries[i]
		if e.Ring != ringName || e.To == "" {
			continue
		}
		holds, err := f.Repo.IsAncestor(commit, e.To)
		if err != nil {
			// A position the repository no longer has cannot hold commit.
			if errors.Is(err, gitrepo.ErrUnknownRevision) {
				holds = false
			} else {
				return since, false, err
			}
		}
		switch {
		case holds && since.IsZero():
			since, waived = e.Time, e.NoImpact
		case !holds:
			since, waived = time.Time{}, false
		}
	}
	return since, waived, nil
}

// SoakLeft says how much longer ring i's position must sit before the
// next ring may take it (0 when it may).
func (f *Fleet) SoakLeft(i int, position string) (time.Duration, error) {
	r := f.Config.Rings[i]
	if r.Soak <= 0 || position == "" {
		return 0, nil
	}
	since, waived, err := f.heldSince(r.Name, position)
	if err != nil || waived || since.IsZero() {
		return 0, err
	}
	return ring.SoakLeft(r.Soak, since, f.Now()), nil
}

// runVerify runs the verify hook of ring name, with the ring, the commit
// and the ring's hosts at that commit in its environment.
func (f *Fleet) runVerify(ctx context.Context, name, commit string) (*ring.Check, error) {
	r, _ := f.Config.Ring(name)
	ps, err := f.Hosts(ctx, commit)
	if err != nil {
		return nil, err
	}
	var hosts []string
	for _, p := range ps {
		if p.Ring == name {
			hosts = append(hosts, p.Host)
		}
	}
	timeout := r.VerifyTimeout
	if timeout <= 0 {
		timeout = 5 * time.Minute
	}
	env := []string{"RINGFLOW_RING=" + name, "RINGFLOW_COMMIT=" + commit, "RINGFLOW_HOSTS=" + strings.Join(hosts, " ")}
	fmt.Fprintf(f.Log, "running the verify hook of %s: %s\n", name, strings.Join(r.Verify, " "))
	res, err := hook.Run(ctx, r.Verify, f.Env, env, timeout)
	if err != nil {
		return &ring.Check{Failure: fmt.Sprintf("verify hook of %s could not run: %v", name, err)}, nil
	}
	return &ring.Check{Failure: res.Failure("verify hook of " + name)}, nil
}

// checkSignature verifies commit against the armored keyring at path.
func (f *Fleet) checkSignature(commit, path string) (*ring.Check, error) {
	keyring, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("gates.signed-by: %w", err)
	}
	_, err = f.Repo.VerifySignature(commit, keyring)
	var unknown *gitrepo.UnknownKeyError
	var bad *gitrepo.BadSignatureError
	switch {
	case err == nil:
		return &ring.Check{}, nil
	case errors.Is(err, gitrepo.ErrUnsigned):
		return &ring.Check{Failure: fmt.Sprintf("%s is not signed (%v)", ring.Short(commit), err)}, nil
	case errors.As(err, &unknown):
		return &ring.Check{Failure: fmt.Sprintf("%s is signed by key %s, which is not in %s", ring.Short(commit), unknown.KeyID, path)}, nil
	case errors.As(err, &bad):
		return &ring.Check{Failure: fmt.Sprintf("%s has a bad signature: %s", ring.Short(commit), bad.Reason)}, nil
	}
	return nil, err
}

// newEntry starts a ledger entry stamped with the actor and the clock.
func (f *Fleet) newEntry(event, ringName string) ledger.Entry {
	return ledger.Entry{Event: event, Ring: ringName, Actor: f.Actor, Time: f.Now().UTC()}
}

// Frozen says whether ring i is in a freeze window now, and until when.
func (f *Fleet) Frozen(i int) *ring.Freeze {
	if frozen, until, by := freeze.Active(f.Config.Rings[i].Freeze, f.Now()); frozen {
		return &ring.Freeze{Until: until, Reason: freezeReason(by)}
	}
	return nil
}
