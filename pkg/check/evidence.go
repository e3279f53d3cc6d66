package check

import (
	"errors"
	"fmt"
	"slices"
	"strings"

	"github.com/ringflow/ringflow/pkg/evidence"
	"github.com/ringflow/ringflow/pkg/ring"
)

// malformedNotes names every evidence note that is not ringflow's evidence
// (not JSON, cut short, a host with an unknown status, another commit's
// note), here and in the remote's copy as last fetched. Such a note counts
// as no evidence — promote refuses its commit as unbuilt, build rebuilds
// its hosts — so it stops nothing; but a person should know it is there,
// and which build replaces it (the old note then stays in the notes ref's
// history). No repair: replacing it means building.
func (c *checker) malformedNotes() []string {
	type bad struct {
		commit, blob, reason string
		where                []string
	}
	var found []*bad
	byNote := map[string]*bad{} // commit + blob
	refs := [][2]string{{evidence.Ref, "here"}}
	if c.s.Remote != "" {
		refs = append(refs, [2]string{c.s.EvidenceTracking, "on remote " + c.s.Remote})
	}
	var problems []string
	for _, r := range refs {
		tip, ok, err := c.repo.Ref(r[0])
		if err != nil || !ok {
			continue // an unreadable ref is a problem of its own (BrokenRefs)
		}
		notes, err := c.repo.Notes(tip)
		if err != nil {
			problems = append(problems, fmt.Sprintf("the evidence notes %s (%s at %s) cannot be read: %v", r[1], r[0], ring.Short(tip), err))
			continue
		}
		for commit, blob := range notes {
			if b, seen := byNote[commit+" "+blob]; seen {
				b.where = append(b.where, r[1])
				continue
			}
			data, err := c.repo.NoteBlob(blob)
			if err != nil {
				problems = append(problems, fmt.Sprintf("the evidence note on %s %s cannot be read: %v", ring.Short(commit), r[1], err))
				continue
			}
			_, err = evidence.Decode(commit, data)
			var m *evidence.MalformedError
			if !errors.As(err, &m) {
				continue
			}
			b := &bad{commit: commit, blob: blob, reason: m.Reason, where: []string{r[1]}}
			byNote[commit+" "+blob] = b
			found = append(found, b)
		}
	}
	slices.SortFunc(found, func(a, b *bad) int { return strings.Compare(a.commit+a.blob, b.commit+b.blob) })
	for _, b := range found {
		c := ring.Short(b.commit)
		problems = append(problems, fmt.Sprintf("the evidence note on %s in %s (%s) is not ringflow's evidence (%s): it counts as no evidence (ringflow build %s builds the commit's hosts again and replaces it; the old note stays in the notes history)",
			c, evidence.Ref, strings.Join(b.where, " and "), b.reason, c))
	}
	return problems
}
