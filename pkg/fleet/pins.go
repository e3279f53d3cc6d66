package fleet

import (
	"context"

	"github.com/ringflow/ringflow/pkg/config"
	"github.com/ringflow/ringflow/pkg/ring"
)

// Pins says what pins each group, by group name, as State has it: the
// config's pin and the ledger's (ringflow pin). A group nothing pins is
// absent. For what does not read the branches (hosts).
func (f *Fleet) Pins(ctx context.Context) (map[string]*ring.Pin, error) {
	if err := f.Sync(ctx); err != nil {
		return nil, err
	}
	facts, err := f.readLedgerFacts()
	if err != nil {
		return nil, err
	}
	pins := map[string]*ring.Pin{}
	for _, g := range f.Config.Groups() {
		if gr := facts.group(g); gr.Pin != nil {
			pins[g.Name] = gr.Pin
		}
	}
	return pins, nil
}

// group is g as the gates see it, pinned by the config or by the ledger.
func (lf *ledgerFacts) group(g config.Group) ring.Group {
	gr := GroupOf(g)
	if p, ok := lf.pins[g.Name]; ok {
		gr = PinnedByLedger(gr, p)
	}
	return gr
}
