package fleet

import (
	"fmt"

	"github.com/ringflow/ringflow/pkg/leftover"
)

// SweepLeftovers removes what a killed ringflow left on this machine that
// no running process uses — scratch checkouts of this repository,
// temporary index directories of evidence writes (package leftover) —
// with a note on the log for each. Every command that opens the fleet
// does it on its way, so a kill -9 needs no `check --repair` for them;
// as with healing (heal.go), check and dry runs do not (NoHeal): check
// lists them, and --repair removes them.
func (f *Fleet) SweepLeftovers() {
	if f.NoHeal {
		return
	}
	for _, done := range leftover.New(f.Repo, f.Now).Sweep() {
		fmt.Fprintf(f.Log, "note: %s, left by a ringflow that was killed\n", done)
	}
}
