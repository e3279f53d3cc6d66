package gitrepo

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"strings"
	"time"
)

// RefSpec maps one ref on a remote to a local ref, as a forced refspec
// "+Src:Dst" does.
type RefSpec struct {
	Src string // full ref name on the remote, e.g. refs/notes/ringflow/evidence
	Dst string // full local ref name, e.g. refs/ringflow/remotes/origin/notes/evidence
}

// FetchRefs fetches arbitrary refs (notes refs, say) in one `git fetch`: for
// each spec the remote's Src into the local Dst, forced. A Src the remote
// does not have is not an error: its Dst, if present, is deleted (by
// compare-and-swap). Errors name the remote and its URL without password.
// Objects fetched are visible to this Repo's reads at once.
func (r *Repo) FetchRefs(ctx context.Context, remote string, specs []RefSpec) (err error) {
	label, _, err := r.remoteLabel(remote)
	if err != nil {
		return err
	}
	ctx, done := r.remoteCtx(ctx, "fetch from", label)
	defer func() { err = done(err) }()
	if len(specs) == 0 {
		return nil
	}
	for _, s := range specs {
		for _, name := range []string{s.Src, s.Dst} {
			if !plainRefName(name) {
				return fmt.Errorf("fetch from %s: %q: not a full ref name", label, name)
			}
		}
	}
	defer r.invalidate()
	// git's fetch reads every worktree's HEAD: not while a scratch worktree
	// is half added or removed (those hold this lock exclusively).
	unlock, err := r.lockShared(ctx, "scratch")
	if err != nil {
		return fmt.Errorf("fetch from %s: %w", label, err)
	}
	defer unlock()
	err = r.fetchSpecs(ctx, remote, specs)
	var ce *cmdError
	if err != nil && errors.As(err, &ce) && strings.Contains(ce.stderr, "couldn't find remote ref") {
		// As in Fetch: git fails the whole fetch for one missing ref.
		var present map[string]bool
		present, err = r.remoteRefs(ctx, remote, specs)
		if err == nil {
			var have []RefSpec
			var gone []RefUpdate
			for _, s := range specs {
				if present[s.Src] {
					have = append(have, s)
					continue
				}
				if cur, ok, rerr := r.Ref(s.Dst); rerr == nil && ok {
					gone = append(gone, RefUpdate{Ref: s.Dst, Old: cur})
				}
			}
			for _, u := range gone {
				var conflict *RefConflictError
				if uerr := r.UpdateRefs(ctx, []RefUpdate{u}, "ringflow: fetch: ref gone from "+remote); uerr != nil && !errors.As(uerr, &conflict) {
					return fmt.Errorf("fetch from %s: %w", label, uerr)
				}
			}
			if len(have) > 0 {
				err = r.fetchSpecs(ctx, remote, have)
			}
		}
	}
	if err != nil {
		return fmt.Errorf("fetch from %s: %w", label, err)
	}
	return nil
}

// plainRefName accepts full ref names without refspec or revision syntax;
// git checks the rest.
func plainRefName(name string) bool {
	return strings.HasPrefix(name, "refs/") && len(name) > len("refs/") &&
		!strings.ContainsAny(name, ": \t\n\x00*^~?[\\") && !strings.Contains(name, "..")
}

func (r *Repo) fetchSpecs(ctx context.Context, remote string, specs []RefSpec) error {
	args := []string{"fetch", "--quiet", "--no-tags", "--no-write-fetch-head", "--no-recurse-submodules", remote}
	for _, s := range specs {
		args = append(args, "+"+s.Src+":"+s.Dst)
	}
	for attempt := 1; ; attempt++ {
		_, err := r.run(ctx, gitCmd{args: args})
		// Two fetches into one repository race on its tracking refs
		// ("cannot lock ref …: is at X but expected Y"): the loser's
		// refs are simply fetched again.
		var ce *cmdError
		if err == nil || attempt == 6 || !errors.As(err, &ce) || !strings.Contains(ce.stderr, "cannot lock ref") || ctx.Err() != nil {
			return err
		}
		time.Sleep(time.Duration(attempt*attempt) * 25 * time.Millisecond)
	}
}

// remoteRefs reports which of the specs' sources the remote has.
func (r *Repo) remoteRefs(ctx context.Context, remote string, specs []RefSpec) (map[string]bool, error) {
	args := []string{"ls-remote", "--refs", remote}
	for _, s := range specs {
		args = append(args, s.Src)
	}
	out, err := r.run(ctx, gitCmd{args: args})
	if err != nil {
		return nil, err
	}
	present := map[string]bool{}
	sc := bufio.NewScanner(strings.NewReader(string(out)))
	for sc.Scan() {
		// Patterns match trailing path components too: keep exact names.
		if _, ref, ok := strings.Cut(sc.Text(), "\t"); ok {
			present[ref] = true
		}
	}
	return present, nil
}
