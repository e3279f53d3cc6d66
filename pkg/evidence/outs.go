package evidence

import "sort"

// Outs indexes the out path of every host at every commit with evidence,
// both ways, so that what a host runs (its toplevel, an out path) can be
// told as a commit. Several commits often share one host's out path: a
// commit that changes nothing for that host (a README, another host's
// module) evaluates to the same toplevel, so a toplevel names a set of
// commits, never one.
type Outs struct {
	commits map[string]map[string][]string // host -> out path -> commits, sorted
	outs    map[string]map[string]string   // commit -> host -> out path
}

// Outs reads every note (local, and the remote's as last fetched, merged
// as Get merges them) into an index. Any entry with an out path counts,
// red ones too: the out path is fixed by evaluation, so a host that built
// and switched to it runs exactly that commit's system even when the
// build here failed.
func (s *Store) Outs() (*Outs, error) {
	merged := map[string]*Note{}
	err := s.each(func(n *Note) {
		if cur, ok := merged[n.Commit]; ok {
			cur.Merge(n)
			return
		}
		merged[n.Commit] = n
	})
	if err != nil {
		return nil, err
	}
	return IndexOuts(merged), nil
}

// IndexOuts indexes notes by commit; Store.Outs reads them from the
// notes refs.
func IndexOuts(notes map[string]*Note) *Outs {
	o := &Outs{commits: map[string]map[string][]string{}, outs: map[string]map[string]string{}}
	for commit, n := range notes {
		for host, h := range n.Hosts {
			if h.Out == "" {
				continue
			}
			if o.outs[commit] == nil {
				o.outs[commit] = map[string]string{}
			}
			o.outs[commit][host] = h.Out
			if o.commits[host] == nil {
				o.commits[host] = map[string][]string{}
			}
			o.commits[host][h.Out] = append(o.commits[host][h.Out], commit)
		}
	}
	for _, byOut := range o.commits {
		for _, cs := range byOut {
			sort.Strings(cs)
		}
	}
	return o
}

// Commits returns, sorted, every commit at which host's evidence has out
// as its out path; nil when none has (the host runs something ringflow
// never evaluated: unknown). The caller must not change the slice.
func (o *Outs) Commits(host, out string) []string {
	if o == nil || out == "" {
		return nil
	}
	return o.commits[host][out]
}

// Out returns host's out path at commit; "" when the evidence has none.
func (o *Outs) Out(commit, host string) string {
	if o == nil {
		return ""
	}
	return o.outs[commit][host]
}
