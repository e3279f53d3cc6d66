package fleet

import (
	"context"

	"github.com/ringflow/ringflow/pkg/ledger"
)

// History returns the ledger newest first, only ring's entries when ring
// is set (dev's updates when ring is the dev branch's name).
func (f *Fleet) History(ctx context.Context, ringName string) ([]ledger.Entry, error) {
	if ringName != "" && ringName != f.Config.Dev {
		if _, err := f.RingIndex(ringName); err != nil {
			return nil, err
		}
	}
	if err := f.Sync(ctx); err != nil {
		return nil, err
	}
	all, err := f.Ledger.Entries(0)
	if err != nil || ringName == "" {
		return all, err
	}
	var out []ledger.Entry
	for _, e := range all {
		if e.Ring == ringName || (ringName == f.Config.Dev && e.Ring == "") {
			out = append(out, e)
		}
	}
	return out, nil
}
