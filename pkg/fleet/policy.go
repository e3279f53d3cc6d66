package fleet

import (
	"time"

	"github.com/ringflow/ringflow/pkg/ring"
	"github.com/ringflow/ringflow/pkg/soak"
)

// SoakLeft says how much longer ring i's position must sit before the
// next ring may take it (0 when it may).
func (f *Fleet) SoakLeft(i int, position string) (time.Duration, error) {
	r := f.Config.Rings[i]
	if r.Soak <= 0 || position == "" {
		return 0, nil
	}
	entries, err := f.Ledger.Entries(0)
	if err != nil {
		return 0, err
	}
	return soak.Left(entries, r.Name, r.Soak, position, f.Now(), f.Repo)
}

// Frozen says whether ring i is in a freeze window now, and until when.
func (f *Fleet) Frozen(i int) *ring.Freeze {
	return ring.FrozenAt(f.Config.Rings[i].Freeze, f.Now())
}
