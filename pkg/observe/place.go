package observe

import "slices"

// Outs is what Place needs of the evidence (evidence.Outs has it): every
// host's out path at every commit built.
type Outs interface {
	// Commits returns every commit whose evidence gives host out as its
	// out path.
	Commits(host, out string) []string
	// Out returns host's out path at commit; "" when unknown.
	Out(commit, host string) string
}

// Placed is a Run told as commits.
type Placed struct {
	Run
	// Commits are every commit at which the host would run what it runs:
	// those whose evidence gives it Toplevel as its out path (several,
	// when commits change nothing for this host), or, from a source that
	// names the commit, that commit and every commit sharing its out
	// path. Sorted; nil when the evidence knows the toplevel nowhere
	// (unknown), or the host could not be read.
	Commits []string
	// Newest is the first commit of the history Place was given that is
	// among Commits: the one to show. "" when none is (the host runs
	// something off that history, or unknown). Run.Commit when the source
	// named one.
	Newest string
}

// Unknown says the host was read but runs nothing ringflow evaluated.
func (p Placed) Unknown() bool { return p.Err == "" && len(p.Commits) == 0 }

// Place tells each run as the commits that give it, by the evidence, and
// names the newest of them along history (a branch's commits, newest
// first, e.g. dev's log). A run from a source that names the commit gets
// its Toplevel from the evidence where that has it.
//
// To ask whether a host runs a candidate, use Runs, not Newest: a host
// runs the candidate when its toplevel is the candidate's out path for
// that host, whichever of the commits sharing it the host was switched
// from.
func Place(runs map[string]Run, outs Outs, history []string) map[string]Placed {
	out := make(map[string]Placed, len(runs))
	for h, r := range runs {
		p := Placed{Run: r}
		if r.Err == "" {
			if r.Toplevel == "" && r.Commit != "" {
				p.Toplevel = outs.Out(r.Commit, h)
			}
			p.Commits = slices.Clone(outs.Commits(h, p.Toplevel))
			if r.Commit != "" && !slices.Contains(p.Commits, r.Commit) {
				p.Commits = append(p.Commits, r.Commit)
				slices.Sort(p.Commits)
			}
			p.Newest = r.Commit
			if p.Newest == "" {
				for _, c := range history {
					if _, found := slices.BinarySearch(p.Commits, c); found {
						p.Newest = c
						break
					}
				}
			}
		}
		out[h] = p
	}
	return out
}

// Runs says whether the host of r runs candidate: its toplevel is the
// candidate's out path for it, or the source names the candidate itself
// (comin). A host whose toplevel the candidate's evidence lacks (not
// built for it) runs it only by that name.
func Runs(r Run, candidate string, outs Outs) bool {
	if r.Err != "" {
		return false
	}
	if r.Commit != "" && r.Commit == candidate {
		return true
	}
	want := outs.Out(candidate, r.Host)
	if want == "" {
		return false
	}
	top := r.Toplevel
	if top == "" && r.Commit != "" {
		top = outs.Out(r.Commit, r.Host)
	}
	return top == want
}
