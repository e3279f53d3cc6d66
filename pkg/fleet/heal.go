package fleet

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/ringflow/ringflow/pkg/evidence"
	"github.com/ringflow/ringflow/pkg/gitrepo"
	"github.com/ringflow/ringflow/pkg/ledger"
	"github.com/ringflow/ringflow/pkg/ring"
)

// Healing: what an earlier run left unfinished that needs no care is
// finished by the next ordinary command, right after its fetch, and said
// in one "healed: …" line each on the log (stderr):
//
//   - the local ledger behind the remote's (another clone appended, or a
//     run was killed between its push and moving the local copy) is
//     fast-forwarded to it, over entries that decode only;
//   - evidence recorded here and never pushed (a run killed before its
//     push, or run with no remote) is pushed, merged onto the remote's
//     notes by compare-and-swap as every evidence write is.
//
// Neither can lose anything: the ledger copy only moves forward to what
// the remote already has, and evidence is merged, newer result per host
// winning. What needs a person stays for `ringflow check` to name; check
// itself and dry runs do not heal (NoHeal). Healing never fails the
// command: what could not be done is said in a note, and the next command
// tries again (only an interrupt stops the command).

// heal runs once per run, after the first fetch.
func (f *Fleet) heal(ctx context.Context) error {
	if f.NoHeal || f.healed || f.Config.Remote == "" {
		return nil
	}
	f.healed = true
	f.catchUpLedger(ctx)
	return f.pushLocalEvidence(ctx)
}

// catchUpLedger fast-forwards the local ledger to the remote's, as far as
// its entries decode.
func (f *Fleet) catchUpLedger(ctx context.Context) {
	lag, err := f.Ledger.Lag()
	if err != nil {
		fmt.Fprintf(f.Log, "note: the local ledger %s could not be compared with remote %s's: %v\n", ledger.Ref, f.Config.Remote, err)
		return
	}
	if lag.To == "" || lag.To == lag.Local {
		return // nothing behind, or only entries that do not decode: `check` names them
	}
	err = f.Mover.CatchUp(ctx, ledger.Ref, lag.Local, lag.To, "ringflow: catch up with remote "+f.Config.Remote+"'s ledger")
	var conflict *gitrepo.RefConflictError
	switch {
	case errors.As(err, &conflict):
		return // another ringflow here moved it meanwhile
	case err != nil:
		fmt.Fprintf(f.Log, "note: the local ledger %s stays %d entr%s behind remote %s's: %v\n", ledger.Ref, len(lag.Behind), plural(len(lag.Behind), "y", "ies"), f.Config.Remote, err)
		return
	}
	msg := fmt.Sprintf("healed: the local ledger %s was %d entr%s behind remote %s's; fast-forwarded %s -> %s",
		ledger.Ref, len(lag.Behind), plural(len(lag.Behind), "y", "ies"), f.Config.Remote, ring.Short(lag.Local), ring.Short(lag.To))
	if lag.Stop != nil {
		msg += fmt.Sprintf(", stopping before entry %s, which does not decode (ringflow check names it)", ring.Short(lag.Stop.Commit))
	}
	fmt.Fprintln(f.Log, msg)
}

// pushLocalEvidence pushes the evidence recorded here that the remote's
// lacks.
func (f *Fleet) pushLocalEvidence(ctx context.Context) error {
	todo, err := f.Evidence.Unpushed()
	if err != nil {
		fmt.Fprintf(f.Log, "note: the evidence recorded here could not be compared with remote %s's: %v\n", f.Config.Remote, err)
		return nil
	}
	if len(todo) == 0 {
		return nil
	}
	pushed, err := f.Evidence.PushPending(ctx, todo)
	if len(pushed) > 0 {
		fmt.Fprintf(f.Log, "healed: pushed evidence recorded only here to remote %s: %s\n", f.Config.Remote, pendingList(pushed))
	}
	if err != nil {
		if ctx.Err() != nil {
			return ctx.Err()
		}
		fmt.Fprintf(f.Log, "note: evidence recorded only here was not pushed to remote %s (the next command tries again): %v\n", f.Config.Remote, err)
	}
	return nil
}

// pendingList names each commit and its hosts: "3f2a9c1e0d4b (lab-1, web-3); …".
func pendingList(ps []evidence.Pending) string {
	parts := make([]string, 0, len(ps))
	for _, p := range ps {
		parts = append(parts, fmt.Sprintf("%s (%s)", ring.Short(p.Commit), strings.Join(p.Names(), ", ")))
	}
	return strings.Join(parts, "; ")
}

func plural(n int, one, many string) string {
	if n == 1 {
		return one
	}
	return many
}
