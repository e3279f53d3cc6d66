package evidence

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"time"

	"github.com/ringflow/ringflow/pkg/gitrepo"
	"github.com/ringflow/ringflow/pkg/refmove"
)

// Store reads and writes evidence notes in a repository and, when there
// is a remote, on the remote too.
type Store struct {
	Repo     *gitrepo.Repo
	Remote   string         // "" = local only
	Identity string         // "Name <email>" for notes commits
	Mover    *refmove.Mover // how the notes ref moves; nil = one for Repo and Remote
}

// maxAttempts bounds the compare-and-swap retries of one write: each retry
// means another writer landed in between, and merging again is cheap.
const maxAttempts = 12

// retryPause is how long a writer that lost a race waits before it tries
// again: a random share of a window that doubles with every loss (up to a
// second), so that writers that collided once do not collide again in step
// (seen with eight clones recording at once, whose fetch-merge-push rounds
// otherwise stay in lockstep).
func retryPause(attempt int) time.Duration {
	window := min(20*time.Millisecond<<attempt, time.Second)
	return rand.N(window)
}

// TrackingRef holds the remote's evidence as last fetched.
func (s *Store) TrackingRef() string {
	return "refs/ringflow/remotes/" + s.Remote + "/notes/evidence"
}

// Fetch brings the remote's evidence into the tracking ref.
func (s *Store) Fetch(ctx context.Context) error {
	if s.Remote == "" {
		return nil
	}
	return s.Repo.FetchRefs(ctx, s.Remote, []gitrepo.RefSpec{{Src: Ref, Dst: s.TrackingRef()}})
}

// Get returns the evidence of commit: the local note merged with the
// remote's (as last fetched). A note that is not ringflow's evidence counts
// as none and is listed in the Note's Malformed, never an error: one bad
// note must not stop a build, a promotion or a cycle.
func (s *Store) Get(commit string) (*Note, error) {
	n := &Note{Commit: commit, Hosts: map[string]Host{}}
	for _, ref := range s.refs() {
		other, err := s.noteIn(ref, commit)
		var bad *MalformedError
		if errors.As(err, &bad) {
			if !hasReason(n.Malformed, bad.Reason) {
				m := Malformed{Commit: commit, Reason: bad.Reason}
				if ref != Ref {
					m.Remote = s.Remote
				}
				n.Malformed = append(n.Malformed, m)
			}
			continue
		}
		if err != nil {
			return nil, err
		}
		n.Merge(other)
	}
	return n, nil
}

// hasReason says whether one of ms already says why: the local notes ref
// and the remote's copy mostly hold the same note.
func hasReason(ms []Malformed, reason string) bool {
	for _, m := range ms {
		if m.Reason == reason {
			return true
		}
	}
	return false
}

func (s *Store) refs() []string {
	if s.Remote == "" {
		return []string{Ref}
	}
	return []string{Ref, s.TrackingRef()}
}

func (s *Store) noteIn(ref, commit string) (*Note, error) {
	tip, ok, err := s.Repo.Ref(ref)
	if err != nil || !ok {
		return nil, err
	}
	data, ok, err := s.Repo.NoteAt(tip, commit)
	if err != nil || !ok {
		return nil, err
	}
	return Decode(commit, data)
}

// Record merges hosts into commit's note and moves the notes ref by
// compare-and-swap: on the remote when there is one (leased on its value
// as just fetched; the local copies follow), else locally. A racing
// writer's hosts are merged, not lost: a lost race fetches, merges again
// and retries.
func (s *Store) Record(ctx context.Context, commit string, hosts map[string]Host) error {
	add := &Note{Commit: commit, Hosts: hosts}
	base := Ref
	if s.Remote != "" {
		base = s.TrackingRef()
	}
	var lastErr error
	for attempt := 0; attempt < maxAttempts; attempt++ {
		if attempt > 0 {
			select {
			case <-time.After(retryPause(attempt)):
			case <-ctx.Done():
				return ctx.Err()
			}
		}
		if err := s.Fetch(ctx); err != nil {
			return err
		}
		tip, _, err := s.Repo.Ref(base)
		if err != nil {
			return err
		}
		cur, err := s.noteIn(base, commit)
		var bad *MalformedError
		if errors.As(err, &bad) {
			// Not ringflow's evidence: replaced by a new notes commit on
			// top, so the old note stays in the notes ref's history.
			cur, err = nil, nil
		}
		if err != nil {
			return err
		}
		note := &Note{Commit: commit, Hosts: map[string]Host{}}
		note.Merge(cur)
		note.Merge(add)
		notesCommit, err := s.Repo.WriteNoteCommit(ctx, tip, commit, note.Encode(), "ringflow: evidence for "+commit, s.Identity)
		if err != nil {
			return err
		}
		err = s.mover().Move(ctx, refmove.Change{
			Own: []refmove.Own{{Ref: Ref, Tracking: s.TrackingRef(), Old: tip, New: notesCommit}},
			Why: "ringflow: evidence for " + commit,
		})
		var conflict *gitrepo.RefConflictError
		var rejected *gitrepo.PushRejectedError
		switch {
		case err == nil:
			return nil
		case errors.As(err, &conflict), errors.As(err, &rejected) && rejected.Stale():
			lastErr = err
		default:
			return err
		}
	}
	return fmt.Errorf("evidence: %s kept moving under %d attempts to record %s: %w", base, maxAttempts, commit, lastErr)
}

func (s *Store) mover() *refmove.Mover {
	if s.Mover != nil {
		return s.Mover
	}
	return &refmove.Mover{Repo: s.Repo, Remote: s.Remote}
}

// GreenDrvs indexes every derivation with green evidence at any commit,
// so a host whose derivation was built before is not built again.
func (s *Store) GreenDrvs() (map[string]bool, error) {
	green := map[string]bool{}
	err := s.each(func(n *Note) {
		for _, h := range n.Hosts {
			if h.Status == Green && h.HasPaths() {
				green[h.Drv] = true
			}
		}
	})
	if err != nil {
		return nil, err
	}
	return green, nil
}

// each calls fn with every note that decodes, in the local notes ref and
// the remote's as last fetched; a note both hold alike is read once. A
// commit whose two copies differ is passed twice, once per copy.
func (s *Store) each(fn func(*Note)) error {
	seen := map[string]bool{}
	for _, ref := range s.refs() {
		tip, ok, err := s.Repo.Ref(ref)
		if err != nil {
			return err
		}
		if !ok {
			continue
		}
		notes, err := s.Repo.Notes(tip)
		if err != nil {
			return err
		}
		for commit, blob := range notes {
			if seen[blob] {
				continue
			}
			seen[blob] = true
			data, err := s.Repo.NoteBlob(blob)
			if err != nil {
				return err
			}
			n, err := Decode(commit, data)
			if err != nil {
				continue // a foreign note says nothing about our builds
			}
			fn(n)
		}
	}
	return nil
}
