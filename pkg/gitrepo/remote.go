package gitrepo

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"strings"
)

// RemoteURL returns the fetch URL of a configured remote as git uses it
// (after url.<base>.insteadOf rewriting and config includes), so it may
// carry credentials: redact before printing.
func (r *Repo) RemoteURL(remote string) (string, error) {
	if remote == "" || strings.HasPrefix(remote, "-") || strings.ContainsAny(remote, " \t\n:") {
		// Perhaps a URL given where a remote's name belongs: no password.
		return "", fmt.Errorf("remote %q: not a remote name", redactURL(remote))
	}
	out, err := r.run(context.Background(), gitCmd{args: []string{"remote", "get-url", remote}})
	if err != nil {
		var ce *cmdError
		if errors.As(err, &ce) && strings.Contains(ce.stderr, "No such remote") {
			return "", &NoRemoteError{Remote: remote, Repo: r.path}
		}
		return "", fmt.Errorf("remote %q: %w", remote, err)
	}
	return strings.TrimSpace(string(out)), nil
}

// IsSCPLike matches git's scp-like remote form, [user@]host:path; a colon
// after a slash is part of a local path instead.
func IsSCPLike(s string) bool {
	colon := strings.Index(s, ":")
	slash := strings.Index(s, "/")
	return colon > 0 && (slash < 0 || colon < slash)
}

// remoteLabel names a remote in errors: its name and its URL without password.
func (r *Repo) remoteLabel(remote string) (label, redacted string, err error) {
	url, err := r.RemoteURL(remote)
	if err != nil {
		return "", "", err
	}
	redacted = redactURL(url)
	return fmt.Sprintf("remote %s (%s)", remote, redacted), redacted, nil
}

// Fetch updates refs/remotes/<remote>/<b> from the remote's refs/heads/<b>
// for each branch, forced like git's default refspec. A branch the remote
// does not have is not an error: its stale tracking ref, if any, is deleted.
// Objects fetched are visible to this Repo's reads at once.
func (r *Repo) Fetch(ctx context.Context, remote string, branches []string) (err error) {
	label, _, err := r.remoteLabel(remote)
	if err != nil {
		return err
	}
	ctx, done := r.remoteCtx(ctx, "fetch from", label)
	defer func() { err = done(err) }()
	if len(branches) == 0 {
		return nil
	}
	for _, b := range branches {
		if b == "" || strings.ContainsAny(b, ": \t\n*^~?[\\") || strings.HasPrefix(b, "-") {
			return fmt.Errorf("fetch from %s: branch %q: not a branch name", label, b)
		}
	}
	defer r.invalidate()
	err = r.fetch(ctx, remote, branches)
	var ce *cmdError
	if err != nil && errors.As(err, &ce) && strings.Contains(ce.stderr, "couldn't find remote ref") {
		// git fails the whole fetch when one named branch is missing and
		// does not say which in a parseable way: ask the remote what it
		// has, prune the tracking refs of missing branches, fetch the rest.
		var present map[string]bool
		present, err = r.remoteBranches(ctx, remote)
		if err == nil {
			var have []string
			for _, b := range branches {
				if present[b] {
					have = append(have, b)
					continue
				}
				track := "refs/remotes/" + remote + "/" + b
				if cur, ok, rerr := r.Ref(track); rerr == nil && ok {
					var conflict *RefConflictError
					if uerr := r.updateRefs(ctx, []RefUpdate{{Ref: track, Old: cur}}, "ringflow: fetch: branch gone from "+remote); uerr != nil && !errors.As(uerr, &conflict) {
						return fmt.Errorf("fetch from %s: %w", label, uerr)
					}
				}
			}
			if len(have) > 0 {
				err = r.fetch(ctx, remote, have)
			}
		}
	}
	if err != nil {
		return fmt.Errorf("fetch from %s: %w", label, err)
	}
	return nil
}

func (r *Repo) fetch(ctx context.Context, remote string, branches []string) error {
	args := []string{"fetch", "--quiet", "--no-tags", "--no-write-fetch-head", "--no-recurse-submodules", remote}
	for _, b := range branches {
		args = append(args, "+refs/heads/"+b+":refs/remotes/"+remote+"/"+b)
	}
	_, err := r.run(ctx, gitCmd{args: args})
	return err
}

func (r *Repo) remoteBranches(ctx context.Context, remote string) (map[string]bool, error) {
	out, err := r.run(ctx, gitCmd{args: []string{"ls-remote", "--heads", remote}})
	if err != nil {
		return nil, err
	}
	present := map[string]bool{}
	sc := bufio.NewScanner(strings.NewReader(string(out)))
	for sc.Scan() {
		_, ref, ok := strings.Cut(sc.Text(), "\t")
		if b, isHead := strings.CutPrefix(ref, "refs/heads/"); ok && isHead {
			present[b] = true
		}
	}
	return present, nil
}

// Push sends all updates in one `git push --atomic`, each with
// --force-with-lease=<ref>:<old>, so the remote moves every ref or none, and
// only from the values we expect (Old "" = the ref must not exist there).
// A refusal yields *PushRejectedError; an interruption (ctx cancelled) an
// *InterruptedPushError that says whether the push landed. After success the remote-tracking
// refs refs/remotes/<remote>/<branch> match what was pushed.
func (r *Repo) Push(ctx context.Context, remote string, updates []RefUpdate) (err error) {
	label, redacted, err := r.remoteLabel(remote)
	if err != nil {
		return err
	}
	ctx, done := r.remoteCtx(ctx, "push to", label)
	defer func() { err = done(err) }()
	if len(updates) == 0 {
		return nil
	}
	// No --no-verify: the user's pre-push hooks run as for their own pushes.
	args := []string{"push", "--atomic", "--porcelain"}
	for _, u := range updates {
		if err := checkUpdate(u); err != nil {
			return err
		}
		args = append(args, "--force-with-lease="+u.Ref+":"+u.Old)
	}
	args = append(args, remote)
	for _, u := range updates {
		args = append(args, u.New+":"+u.Ref)
	}
	stdout, stderr, err := r.runFull(ctx, gitCmd{args: args, killTree: true})
	if err != nil {
		if interrupted(ctx) {
			return r.interruptedPush(ctx, remote, redacted, updates, ctx.Err())
		}
		if ctx != nil && ctx.Err() != nil {
			return fmt.Errorf("push to %s: %w", label, err)
		}
		rej := parsePorcelain(string(stdout))
		if len(rej) == 0 {
			return fmt.Errorf("push to %s: %w", label, err)
		}
		return &PushRejectedError{Remote: remote, URL: redacted, Refs: rej, Output: remoteLines(string(stderr)), LockLost: lockLostIn(string(stderr))}
	}
	// git updates tracking refs only for refs its fetch refspecs map; make
	// sure ours (the ones Fetch maintains) match what the remote now has.
	for _, u := range updates {
		b, ok := strings.CutPrefix(u.Ref, "refs/heads/")
		if !ok {
			continue
		}
		track := "refs/remotes/" + remote + "/" + b
		cur, _, err := r.Ref(track)
		if err != nil || cur == u.New {
			continue
		}
		var conflict *RefConflictError
		if err := r.updateRefs(ctx, []RefUpdate{{Ref: track, Old: cur, New: u.New}}, "ringflow: push to "+remote); err != nil && !errors.As(err, &conflict) {
			return fmt.Errorf("pushed to %s, but updating %s: %w", label, track, err)
		}
	}
	return nil
}

// lockLostIn says whether any line of git's stderr is a ref lock lost to
// another writer.
func lockLostIn(stderr string) bool {
	for _, line := range strings.Split(stderr, "\n") {
		if lostLock(line) {
			return true
		}
	}
	return false
}

// parsePorcelain returns the refs `git push --porcelain` flags '!':
// "!\t<src>:<dst>\t[rejected] (stale info)".
func parsePorcelain(out string) []RejectedRef {
	var rej []RejectedRef
	for _, line := range strings.Split(out, "\n") {
		fields := strings.SplitN(line, "\t", 3)
		if len(fields) != 3 || fields[0] != "!" {
			continue
		}
		_, dst, _ := strings.Cut(fields[1], ":")
		reason := fields[2]
		if i := strings.LastIndex(reason, "("); i >= 0 && strings.HasSuffix(reason, ")") {
			reason = reason[i+1 : len(reason)-1]
		}
		rej = append(rej, RejectedRef{Ref: dst, Reason: reason})
	}
	return rej
}

// remoteLines keeps what the remote itself said (hook output arrives as
// "remote: …" lines), bounded so a chatty hook can't flood the message.
func remoteLines(stderr string) []string {
	const max = 20
	var lines []string
	for _, line := range strings.Split(stderr, "\n") {
		msg, ok := strings.CutPrefix(line, "remote: ")
		if !ok {
			continue
		}
		// git pads remote lines with spaces or an erase-line escape.
		msg = strings.TrimSpace(strings.ReplaceAll(msg, "\x1b[K", ""))
		if msg == "" {
			continue
		}
		if len(lines) == max {
			lines = append(lines, "…")
			break
		}
		lines = append(lines, redactText(msg))
	}
	return lines
}
