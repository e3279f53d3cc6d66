package ledger

// The local ledger (Ref) is a copy of the remote's: every reader reads the
// remote's as fetched (the tracking ref), and the local copy follows each
// push. It falls behind when another clone appends (two clones taking
// turns at the nightly job) or when a run is killed between its push and
// moving the copy. Lag says how far, and how far the copy may be caught up
// by fast-forward: only over entries that decode, so that nothing moves a
// ledger copy onto a commit that is no entry without a person looking.

// Lag is how the local ledger stands against the remote's as last fetched.
type Lag struct {
	Local, Remote string // the two tips; "" = that ref does not exist
	// Behind are the remote's entries past the local ledger, newest first;
	// empty unless the local ledger exists and is an ancestor of the
	// remote's (equal, absent, ahead or diverged: nothing to catch up).
	Behind []Entry
	// To is where the local ledger may move by fast-forward: the newest
	// entry of Behind with no undecodable entry at or below it; "" when
	// there is none (the first entry past Local does not decode).
	To string
	// Taken is how many entries of Behind the move to To takes.
	Taken int
	// Stop is the oldest undecodable entry of Behind, which the move to To
	// stays before; nil when every entry of Behind decodes.
	Stop *Entry
}

// lagRepo is what Lag reads of a repository (*gitrepo.Repo).
type lagRepo interface {
	logReader
	Ref(name string) (commit string, ok bool, err error)
	IsAncestor(ancestor, descendant string) (bool, error)
}

// Lag compares the local ledger with the remote's as last fetched; without
// a remote there is nothing to compare.
func (s *Store) Lag() (Lag, error) {
	if s.Remote == "" {
		return Lag{}, nil
	}
	return lagOf(s.Repo, Ref, s.TrackingRef())
}

func lagOf(r lagRepo, localRef, remoteRef string) (Lag, error) {
	var l Lag
	local, lok, err := r.Ref(localRef)
	if err != nil {
		return l, err
	}
	remote, rok, err := r.Ref(remoteRef)
	if err != nil {
		return l, err
	}
	l.Local, l.Remote = local, remote
	if !lok || !rok || local == remote {
		return l, nil
	}
	if behind, err := r.IsAncestor(local, remote); err != nil || !behind {
		return l, err // the local copy has entries of its own: not ours to move
	}
	if l.Behind, err = readLog(r, local, remote, 0); err != nil {
		return l, err
	}
	bad := Undecodables(l.Behind)
	if len(bad) == 0 {
		l.To, l.Taken = remote, len(l.Behind)
		return l, nil
	}
	l.Stop = &bad[len(bad)-1]
	// The ledger is a chain, so the newest entry above no undecodable one
	// is the one just below the oldest undecodable; ancestry says it also
	// for a ledger someone merged into.
	for _, e := range l.Behind {
		if e.Undecodable != nil {
			continue
		}
		clean := true
		for _, b := range bad {
			under, err := r.IsAncestor(b.Commit, e.Commit)
			if err != nil {
				return l, err
			}
			if under {
				clean = false
				break
			}
		}
		if clean {
			l.To = e.Commit
			break
		}
	}
	if l.To == "" {
		return l, nil
	}
	for _, e := range l.Behind {
		in, err := r.IsAncestor(e.Commit, l.To)
		if err != nil {
			return l, err
		}
		if in {
			l.Taken++
		}
	}
	return l, nil
}
