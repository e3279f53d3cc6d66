package fleet

import (
	"context"
	"errors"
	"fmt"
	"os"
	"strings"
	"time"

	"github.com/ringflow/ringflow/pkg/gitrepo"
	"github.com/ringflow/ringflow/pkg/hook"
	"github.com/ringflow/ringflow/pkg/ring"
	"github.com/ringflow/ringflow/pkg/soak"
)

// gateFacts gathers what the soak, freeze, signature and verify gates of
// a promotion into ring i decide on.
func (f *Fleet) gateFacts(ctx context.Context, i int, req *ring.Request, forceSoak bool) error {
	req.Now = f.Now()
	req.Freeze = f.Config.Rings[i].Freeze
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

// heldSince reads the ledger for when ring first held commit (see
// soak.HeldSince).
func (f *Fleet) heldSince(ringName, commit string) (since time.Time, waived bool, err error) {
	entries, err := f.Ledger.Entries(0)
	if err != nil {
		return since, false, err
	}
	return soak.HeldSince(entries, ringName, commit, f.Repo)
}

// runVerify runs the verify hook of ring name, with the ring, the commit
// and the ring's hosts at that commit in its environment.
func (f *Fleet) runVerify(ctx context.Context, name, commit string) (*ring.HookRun, error) {
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
		return &ring.HookRun{Ring: name, RunError: err.Error()}, nil
	}
	return &ring.HookRun{Ring: name, ExitCode: res.ExitCode, TimedOut: res.TimedOut, Duration: res.Duration, Output: res.Output}, nil
}

// checkSignature verifies commit against the armored keyring at path.
func (f *Fleet) checkSignature(commit, path string) (*ring.SignatureCheck, error) {
	keyring, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("gates.signed-by: %w", err)
	}
	_, err = f.Repo.VerifySignature(commit, keyring)
	var unknown *gitrepo.UnknownKeyError
	var bad *gitrepo.BadSignatureError
	check := &ring.SignatureCheck{Keyring: path}
	switch {
	case err == nil:
	case errors.Is(err, gitrepo.ErrUnsigned):
		check.Unsigned = err.Error()
	case errors.As(err, &unknown):
		check.UnknownKey = unknown.KeyID
	case errors.As(err, &bad):
		check.Bad = bad.Reason
	default:
		return nil, err
	}
	return check, nil
}
