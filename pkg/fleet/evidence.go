package fleet

import (
	"context"

	"github.com/ringflow/ringflow/pkg/evidence"
	"github.com/ringflow/ringflow/pkg/membership"
)

// GroupEvidence tallies, for every group, its hosts' evidence at the
// commit its branch holds. Hosts are placed at each commit afresh, since
// membership can change between commits; a commit whose hosts cannot be
// read is reported in errs by group and left out of the tallies.
func (f *Fleet) GroupEvidence(ctx context.Context, st *State) (tallies map[string]evidence.Tally, errs map[string]error, err error) {
	tallies, errs = map[string]evidence.Tally{}, map[string]error{}
	placed := map[string][]membership.Placement{}
	placeErr := map[string]error{}
	for _, rs := range st.Rings {
		for _, gs := range rs.Groups {
			if gs.Commit == "" {
				continue
			}
			ps, seen := placed[gs.Commit]
			if !seen && placeErr[gs.Commit] == nil {
				ps, placeErr[gs.Commit] = f.Hosts(ctx, gs.Commit)
				placed[gs.Commit] = ps
			}
			if e := placeErr[gs.Commit]; e != nil {
				if ctx.Err() != nil {
					return nil, nil, ctx.Err()
				}
				errs[gs.Group.Name] = e
				continue
			}
			var hosts []string
			for _, p := range ps {
				if p.Group == gs.Group.Name {
					hosts = append(hosts, p.Host)
				}
			}
			note, err := f.Evidence.Get(gs.Commit)
			if err != nil {
				return nil, nil, err
			}
			tallies[gs.Group.Name] = note.Tally(hosts)
		}
	}
	return tallies, errs, nil
}
