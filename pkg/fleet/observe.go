package fleet

import (
	"sync"

	"github.com/ringflow/ringflow/pkg/observe"
)

// Observer tells what the hosts run (observe:) and reads the evidence's
// out paths to tell a toplevel as commits; nil when the config has no
// observe section.
func (f *Fleet) Observer() *Observed {
	if f.Config.Observe == nil {
		return nil
	}
	f.observeOnce.Do(func() { f.observed = &Observed{fl: f} })
	return f.observed
}

// Observed is a fleet's observation source and its evidence index, each
// made once per run.
type Observed struct {
	fl     *Fleet
	source sync.Once
	src    observe.Source
	srcErr error
}

// Source is the source the config names.
func (o *Observed) Source() (observe.Source, error) {
	o.source.Do(func() { o.src, o.srcErr = observe.New(o.fl.Config.Observe, observe.Options{}) })
	return o.src, o.srcErr
}

// Outs indexes every host's out path at every commit with evidence.
func (o *Observed) Outs() (observe.Outs, error) {
	return o.fl.Evidence.Outs()
}
