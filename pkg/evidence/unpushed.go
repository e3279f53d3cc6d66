package evidence

import (
	"context"
	"slices"
	"strings"
)

// Unpushed evidence: every write goes to the remote first and the local
// notes follow, so results recorded here and not on the remote come from
// a run that wrote its notes locally and did not get to push them (killed,
// or run with no remote). Every reader merges the local notes with the
// remote's, so such results answer here — a later build reuses them and
// never records them again — while the remote, and every other machine,
// would never see them. Unpushed finds them; the next ordinary command
// pushes them with Record.

// Pending is evidence recorded here that the remote's notes, as last
// fetched, lack or hold older.
type Pending struct {
	Commit string
	Hosts  map[string]Host
}

// Names are the pending hosts, in order.
func (p Pending) Names() []string {
	n := &Note{Hosts: p.Hosts}
	return n.Names()
}

// NotesReader is what finding unpushed evidence reads (*gitrepo.Repo).
type NotesReader interface {
	Ref(name string) (commit string, ok bool, err error)
	IsAncestor(ancestor, descendant string) (bool, error)
	Notes(notesCommit string) (map[string]string, error)
	NoteBlob(blob string) ([]byte, error)
}

// Unpushed lists, by commit, the hosts whose results the local notes hold
// and the remote's (as last fetched) lack or hold older. A note that is
// not ringflow's evidence is not ringflow's to push. Without a remote
// there is nothing to push.
func (s *Store) Unpushed() ([]Pending, error) {
	if s.Remote == "" {
		return nil, nil
	}
	return UnpushedIn(s.Repo, Ref, s.TrackingRef())
}

// UnpushedIn is Unpushed with the local notes at localRef and the
// remote's, as last fetched, at remoteRef.
func UnpushedIn(r NotesReader, localRef, remoteRef string) ([]Pending, error) {
	localTip, lok, err := r.Ref(localRef)
	if err != nil || !lok {
		return nil, err
	}
	remoteTip, rok, err := r.Ref(remoteRef)
	if err != nil {
		return nil, err
	}
	if !rok {
		remoteTip = ""
	}
	if localTip == remoteTip {
		return nil, nil
	}
	// The usual case: the local notes are a state the remote's went
	// through, so the remote saw every note they hold (and what it
	// dropped since was dropped on purpose).
	if remoteTip != "" {
		if seen, err := r.IsAncestor(localTip, remoteTip); err != nil || seen {
			return nil, err
		}
	}
	local, err := r.Notes(localTip)
	if err != nil {
		return nil, err
	}
	remote, err := r.Notes(remoteTip)
	if err != nil {
		return nil, err
	}
	decode := func(commit, blob string) (*Note, error) {
		data, err := r.NoteBlob(blob)
		if err != nil {
			return nil, err
		}
		return Decode(commit, data)
	}
	var todo []Pending
	for commit, blob := range local {
		if remote[commit] == blob {
			continue
		}
		ln, err := decode(commit, blob)
		if err != nil {
			continue // not ringflow's: not ours to push
		}
		rn := &Note{Hosts: map[string]Host{}}
		if rb, ok := remote[commit]; ok {
			if rn, err = decode(commit, rb); err != nil {
				continue // Record would not merge onto it either
			}
		}
		p := Pending{Commit: commit, Hosts: map[string]Host{}}
		for h, e := range ln.Hosts {
			if cur, ok := rn.Hosts[h]; !ok || e.Time.After(cur.Time) {
				p.Hosts[h] = e
			}
		}
		if len(p.Hosts) > 0 {
			todo = append(todo, p)
		}
	}
	slices.SortFunc(todo, func(a, b Pending) int { return strings.Compare(a.Commit, b.Commit) })
	return todo, nil
}

// PushPending records each pending result on the remote, merged onto the
// remote's notes by compare-and-swap (Record), and returns those pushed.
// It stops at the first that fails.
func (s *Store) PushPending(ctx context.Context, todo []Pending) (pushed []Pending, err error) {
	for _, p := range todo {
		if err := s.Record(ctx, p.Commit, p.Hosts); err != nil {
			return pushed, err
		}
		pushed = append(pushed, p)
	}
	return pushed, nil
}
