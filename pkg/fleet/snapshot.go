package fleet

import (
	"context"

	"github.com/ringflow/ringflow/pkg/metrics"
)

// Snapshot gathers the metrics of every ring as they stand.
func (f *Fleet) Snapshot(ctx context.Context) (metrics.Snapshot, error) {
	now := f.Now()
	snap := metrics.Snapshot{Time: now}
	st, err := f.State(ctx)
	if err != nil {
		return snap, err
	}
	if st.DevCommit != "" {
		ci, err := f.Repo.Commit(st.DevCommit)
		if err != nil {
			return snap, err
		}
		snap.DevCommitAge = now.Sub(ci.Time)
	}
	tallies, _, err := f.GroupEvidence(ctx, st)
	if err != nil {
		return snap, err
	}
	for i, rs := range st.Rings {
		m := metrics.Ring{Name: rs.Ring.Name, Frozen: f.Frozen(i) != nil}
		if rs.Position != "" {
			ci, err := f.Repo.Commit(rs.Position)
			if err != nil {
				return snap, err
			}
			m.PositionAge = now.Sub(ci.Time)
			if _, src := st.Source(i); src != "" {
				if m.Behind, err = f.Repo.CountBetween(rs.Position, src); err != nil {
					return snap, err
				}
			}
			if m.SoakLeft, err = f.SoakLeft(i, rs.Position); err != nil {
				return snap, err
			}
		}
		for _, gs := range rs.Groups {
			if gs.Group.Pinned {
				m.PinnedGroups++
			}
			t := tallies[gs.Group.Name]
			m.Green, m.Red, m.Missing = m.Green+t.Green, m.Red+t.Red, m.Missing+t.Missing
		}
		snap.Rings = append(snap.Rings, m)
	}
	return snap, nil
}
