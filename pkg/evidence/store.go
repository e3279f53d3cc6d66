package evidence

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"time"

	"github.com/ringflow/ringflow/pkg/gitrepo"
)

// Store reads and writes evidence notes in a repository and, when there
// is a remote, on the remote too.
type Store struct {
	Repo     *gitrepo.Repo
	Remote   string // "" = local only
	Identity string // "Name <email>" for notes commits
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
// remote's (as last fetched).
func (s *Store) Get(commit string) (*Note, error) {
	n := &Note{Commit: commit, Hosts: map[string]Host{}}
	for _, ref := range s.refs() {
		other, err := s.noteIn(ref, commit)
		if err != nil {
			return nil, err
		}
		n.Merge(other)
	}
	return n, nil
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

// Record merges hosts into commit's note: locally by compare-and-swap on
// the notes ref, then, with a remote, by a push leased on the remote's
// value. Either way a racing writer's hosts are merged, not lost.
func (s *Store) Record(ctx context.Context, commit string, hosts map[string]Host) error {
	add := &Note{Commit: commit, Hosts: hosts}
	merged, err := s.casMerge(ctx, Ref, commit, add, func(ref, old, new string) error {
		return s.Repo.UpdateRefs(ctx, []gitrepo.RefUpdate{{Ref: ref, Old: old, New: new}}, "ringflow: evidence for "+commit)
	}, nil)
	if err != nil || s.Remote == "" {
		return err
	}
	_, err = s.casMerge(ctx, s.TrackingRef(), commit, merged, func(_, old, new string) error {
		if err := s.Repo.Push(ctx, s.Remote, []gitrepo.RefUpdate{{Ref: Ref, Old: old, New: new}}); err != nil {
			return err
		}
		// The remote now holds new: so does our copy of it.
		return s.Repo.UpdateRefs(ctx, []gitrepo.RefUpdate{{Ref: s.TrackingRef(), Old: old, New: new}}, "ringflow: pushed evidence")
	}, s.Fetch)
	return err
}

// casMerge writes add merged with the note already at ref, on top of
// ref's tip, and moves it with move(ref, old, new). A lost race (a stale
// old value) refreshes and merges again.
func (s *Store) casMerge(ctx context.Context, ref, commit string, add *Note, move func(ref, old, new string) error, refresh func(context.Context) error) (*Note, error) {
	var lastErr error
	for attempt := 0; attempt < maxAttempts; attempt++ {
		if attempt > 0 {
			select {
			case <-time.After(retryPause(attempt)):
			case <-ctx.Done():
				return nil, ctx.Err()
			}
		}
		if refresh != nil {
			if err := refresh(ctx); err != nil {
				return nil, err
			}
		}
		tip, _, err := s.Repo.Ref(ref)
		if err != nil {
			return nil, err
		}
		cur, err := s.noteIn(ref, commit)
		if err != nil {
			return nil, err
		}
		note := &Note{Commit: commit, Hosts: map[string]Host{}}
		note.Merge(cur)
		note.Merge(add)
		notesCommit, err := s.Repo.WriteNoteCommit(ctx, tip, commit, note.Encode(), "ringflow: evidence for "+commit, s.Identity)
		if err != nil {
			return nil, err
		}
		err = move(ref, tip, notesCommit)
		var conflict *gitrepo.RefConflictError
		var rejected *gitrepo.PushRejectedError
		switch {
		case err == nil:
			return note, nil
		case errors.As(err, &conflict), errors.As(err, &rejected) && rejected.Stale() && refresh != nil:
			lastErr = err
			continue
		default:
			return nil, err
		}
	}
	return nil, fmt.Errorf("evidence: %s kept moving under %d attempts to record %s: %w", ref, maxAttempts, commit, lastErr)
}

// GreenDrvs indexes every derivation with green evidence at any commit,
// so a host whose derivation was built before is not built again.
func (s *Store) GreenDrvs() (map[string]bool, error) {
	green := map[string]bool{}
	seen := map[string]bool{}
	for _, ref := range s.refs() {
		tip, ok, err := s.Repo.Ref(ref)
		if err != nil {
			return nil, err
		}
		if !ok {
			continue
		}
		notes, err := s.Repo.Notes(tip)
		if err != nil {
			return nil, err
		}
		for commit, blob := range notes {
			if seen[blob] {
				continue
			}
			seen[blob] = true
			data, err := s.Repo.NoteBlob(blob)
			if err != nil {
				return nil, err
			}
			n, err := Decode(commit, data)
			if err != nil {
				continue // a foreign note says nothing about our builds
			}
			for _, h := range n.Hosts {
				if h.Status == Green && h.Drv != "" {
					green[h.Drv] = true
				}
			}
		}
	}
	return green, nil
}
