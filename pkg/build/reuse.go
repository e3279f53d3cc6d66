package build

import (
	"context"

	"github.com/ringflow/ringflow/pkg/evidence"
	"github.com/ringflow/ringflow/pkg/nix"
)

// reuseNote answers the evaluated hosts that the note at the commit shows
// green, where their entry stands up to this evaluation: the same drv and
// out path, and the output valid here or in build.cache. Those are reused
// as recorded, with nothing new to record. A green entry that does not
// stand up — written by hand, its output in no store, another evaluation's
// drv — is no evidence: its host is built (never reused, even when its
// output happens to be valid) and its entry replaced. toBuild are those;
// rest are the hosts the note has no green entry for.
func (r *run) reuseNote(ctx context.Context, evaluated []nix.HostEval) (toBuild, rest []nix.HostEval, err error) {
	var claimed []string
	got := map[string]evidence.Evaluated{}
	for _, he := range evaluated {
		if e, ok := r.note.Hosts[he.Host]; ok && e.Status == evidence.Green {
			claimed = append(claimed, he.Host)
			got[he.Host] = evidence.Evaluated{Drv: he.Drv, Out: he.Out}
			continue
		}
		rest = append(rest, he)
	}
	if len(claimed) == 0 {
		return nil, rest, nil
	}
	why, err := r.Verify.Unverified(ctx, r.note, claimed, got)
	if err != nil {
		return nil, nil, err
	}
	for _, he := range evaluated {
		if _, ok := got[he.Host]; !ok {
			continue
		}
		if w := why[he.Host]; w != "" {
			r.unverified[he.Host] = w
			toBuild = append(toBuild, he)
			continue
		}
		e := r.note.Hosts[he.Host]
		r.outcomes[he.Host] = HostOutcome{Host: he.Host, Status: evidence.Green, Phase: evidence.PhaseBuild, Drv: e.Drv, Out: e.Out,
			EvalSeconds: he.Seconds, Seconds: he.Seconds, Reused: true}
		r.progress(Event{Host: he.Host, Phase: "reused"})
	}
	return toBuild, rest, nil
}
