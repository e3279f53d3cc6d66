package gitrepo

import (
	"encoding/hex"
	"errors"
	"fmt"
	"strconv"
	"strings"

	"github.com/go-git/go-git/v5/plumbing"
	"github.com/go-git/go-git/v5/plumbing/object"
	"github.com/go-git/go-git/v5/plumbing/storer"
)

// ResolveCommit returns the 40-hex commit a revision names: a branch, a tag
// (peeled to its commit), a remote-tracking name such as "origin/dev", HEAD,
// a full ref name, or a full or unique abbreviated (≥4) hex commit ID. As in
// git, a ref wins over a hex prefix, and suffixes ~N and ^N walk to ancestors.
func (r *Repo) ResolveCommit(rev string) (string, error) {
	var h plumbing.Hash
	err := r.read(func(s *store) error {
		var err error
		h, err = s.resolve(rev)
		return err
	})
	if err != nil {
		return "", revError(rev, err)
	}
	return h.String(), nil
}

func revError(rev string, err error) error {
	if errors.Is(err, plumbing.ErrObjectNotFound) || errors.Is(err, plumbing.ErrReferenceNotFound) || errors.Is(err, ErrUnknownRevision) {
		return &UnknownRevisionError{Rev: rev, cause: err}
	}
	return fmt.Errorf("revision %q: %w", rev, err)
}

// UnknownRevisionError is ErrUnknownRevision naming the revision. It keeps
// the cause too, so that Repo.read sees a missing object and retries after
// reloading the pack list.
type UnknownRevisionError struct {
	Rev   string
	cause error
}

func (e *UnknownRevisionError) Error() string {
	return fmt.Sprintf("%v %q", ErrUnknownRevision, e.Rev)
}

func (e *UnknownRevisionError) Unwrap() []error { return []error{ErrUnknownRevision, e.cause} }

// Ref returns the commit a full ref name (refs/heads/dev,
// refs/remotes/origin/dev, HEAD) points to, following symbolic refs and
// peeling tags. ok is false when the ref does not exist.
func (r *Repo) Ref(name string) (commit string, ok bool, err error) {
	if name != "HEAD" && !strings.HasPrefix(name, "refs/") {
		return "", false, fmt.Errorf("ref %q: not a full ref name", name)
	}
	var h plumbing.Hash
	err = r.read(func(s *store) error {
		ref, err := storer.ResolveReference(s.st, plumbing.ReferenceName(name))
		if errors.Is(err, plumbing.ErrReferenceNotFound) {
			return nil
		}
		if err != nil {
			return err
		}
		h, err = s.peel(ref.Hash())
		return err
	})
	if err != nil {
		return "", false, fmt.Errorf("ref %s: %w", name, err)
	}
	if h.IsZero() {
		return "", false, nil
	}
	return h.String(), true, nil
}

// Commit returns the metadata of the commit rev names (usually a 40-hex ID).
func (r *Repo) Commit(rev string) (CommitInfo, error) {
	var ci CommitInfo
	err := r.read(func(s *store) error {
		h, err := s.resolve(rev)
		if err != nil {
			return err
		}
		c, err := object.GetCommit(s.st, h)
		if err != nil {
			return err
		}
		ci = commitInfo(c)
		return nil
	})
	if err != nil {
		return CommitInfo{}, revError(rev, err)
	}
	return ci, nil
}

func commitInfo(c *object.Commit) CommitInfo {
	// Like git's %s: the first paragraph, its lines joined by spaces.
	msg := strings.TrimLeft(strings.ReplaceAll(c.Message, "\r\n", "\n"), "\n")
	subject, body, _ := strings.Cut(msg, "\n\n")
	subject = strings.Join(strings.Fields(strings.ReplaceAll(subject, "\n", " ")), " ")
	return CommitInfo{
		Hash:        c.Hash.String(),
		Subject:     subject,
		Body:        strings.TrimRight(strings.TrimLeft(body, "\n"), "\n"),
		Author:      c.Author.Name,
		AuthorEmail: c.Author.Email,
		Time:        c.Committer.When,
	}
}

// CheckedOutBranch returns the short name of the branch the work tree's HEAD
// is on (also when that branch has no commit yet). ok is false for a bare
// repository or a detached HEAD.
func (r *Repo) CheckedOutBranch() (branch string, ok bool) {
	if r.bare {
		return "", false
	}
	_ = r.read(func(s *store) error {
		head, err := s.st.Reference(plumbing.HEAD)
		if err != nil || head.Type() != plumbing.SymbolicReference {
			return nil
		}
		branch, ok = strings.CutPrefix(head.Target().String(), "refs/heads/")
		return nil
	})
	return branch, ok
}

// resolve implements ResolveCommit's revision syntax.
func (s *store) resolve(rev string) (plumbing.Hash, error) {
	base, ops := rev, ""
	if i := strings.IndexAny(rev, "~^"); i >= 0 {
		base, ops = rev[:i], rev[i:]
	}
	h, err := s.resolveName(base)
	if err != nil {
		return plumbing.ZeroHash, err
	}
	for ops != "" {
		op := ops[0]
		ops = ops[1:]
		if op == '^' && strings.HasPrefix(ops, "{") {
			// ^{} and ^{commit}: we always peel to a commit already.
			end := strings.IndexByte(ops, '}')
			if end < 0 || (ops[1:end] != "" && ops[1:end] != "commit") {
				return plumbing.ZeroHash, fmt.Errorf("%w: unsupported suffix", ErrUnknownRevision)
			}
			ops = ops[end+1:]
			continue
		}
		digits := 0
		for digits < len(ops) && ops[digits] >= '0' && ops[digits] <= '9' {
			digits++
		}
		n := 1
		if digits > 0 {
			if n, err = strconv.Atoi(ops[:digits]); err != nil {
				return plumbing.ZeroHash, fmt.Errorf("%w: %v", ErrUnknownRevision, err)
			}
			ops = ops[digits:]
		}
		if op == '^' {
			if n == 0 {
				continue
			}
			h, err = s.parent(h, n-1)
			if err != nil {
				return plumbing.ZeroHash, err
			}
			continue
		}
		for ; n > 0; n-- {
			if h, err = s.parent(h, 0); err != nil {
				return plumbing.ZeroHash, err
			}
		}
	}
	return h, nil
}

func (s *store) parent(h plumbing.Hash, i int) (plumbing.Hash, error) {
	n, err := s.nodes.Get(h)
	if err != nil {
		return plumbing.ZeroHash, err
	}
	ps := n.ParentHashes()
	if i >= len(ps) || s.shallow[h] {
		return plumbing.ZeroHash, fmt.Errorf("%w: %s has no parent %d", ErrUnknownRevision, h, i+1)
	}
	return ps[i], nil
}

// resolveName resolves a revision without ~/^ suffixes, in git's order:
// full hex, then refs by git's "dwim" rules, then a unique hex prefix.
func (s *store) resolveName(name string) (plumbing.Hash, error) {
	if name == "" {
		return plumbing.ZeroHash, ErrUnknownRevision
	}
	if len(name) == 40 && isHex(name) {
		return s.peel(plumbing.NewHash(name))
	}
	if name == "@" {
		name = "HEAD"
	}
	var candidates []string
	if strings.HasPrefix(name, "refs/") || isPseudoRef(name) {
		candidates = append(candidates, name)
	}
	candidates = append(candidates,
		"refs/"+name,
		"refs/tags/"+name,
		"refs/heads/"+name,
		"refs/remotes/"+name,
		"refs/remotes/"+name+"/HEAD",
	)
	for _, c := range candidates {
		ref, err := storer.ResolveReference(s.st, plumbing.ReferenceName(c))
		if errors.Is(err, plumbing.ErrReferenceNotFound) {
			continue
		}
		if err != nil {
			// go-git rejects names git would not create (e.g. "a..b"): not a ref.
			continue
		}
		return s.peel(ref.Hash())
	}
	if len(name) >= 4 && len(name) < 40 && isHex(name) {
		return s.resolvePrefix(strings.ToLower(name))
	}
	return plumbing.ZeroHash, ErrUnknownRevision
}

// resolvePrefix finds the one commit (or tag of a commit) whose ID starts
// with prefix; like git in a commit context, other objects don't count.
func (s *store) resolvePrefix(prefix string) (plumbing.Hash, error) {
	raw, err := hex.DecodeString(prefix[:len(prefix)/2*2])
	if err != nil {
		return plumbing.ZeroHash, ErrUnknownRevision
	}
	hashes, err := s.st.HashesWithPrefix(raw)
	if err != nil {
		return plumbing.ZeroHash, err
	}
	var found []plumbing.Hash
	seen := map[plumbing.Hash]bool{}
	for _, h := range hashes {
		if !strings.HasPrefix(h.String(), prefix) {
			continue
		}
		c, err := s.peel(h)
		if err != nil || seen[c] {
			continue
		}
		seen[c] = true
		found = append(found, c)
	}
	switch len(found) {
	case 0:
		return plumbing.ZeroHash, plumbing.ErrObjectNotFound
	case 1:
		return found[0], nil
	}
	return plumbing.ZeroHash, fmt.Errorf("ambiguous: %d commits start with %s", len(found), prefix)
}

// peel follows annotated tags to the commit they name.
func (s *store) peel(h plumbing.Hash) (plumbing.Hash, error) {
	for range 16 {
		o, err := s.st.EncodedObject(plumbing.AnyObject, h)
		if err != nil {
			return plumbing.ZeroHash, err
		}
		switch o.Type() {
		case plumbing.CommitObject:
			return h, nil
		case plumbing.TagObject:
			t, err := object.DecodeTag(s.st, o)
			if err != nil {
				return plumbing.ZeroHash, err
			}
			h = t.Target
		default:
			return plumbing.ZeroHash, fmt.Errorf("%s is a %s, not a commit", h, o.Type())
		}
	}
	return plumbing.ZeroHash, fmt.Errorf("%s: tags nested too deep", h)
}

func isHex(s string) bool {
	for i := 0; i < len(s); i++ {
		c := s[i]
		if (c < '0' || c > '9') && (c < 'a' || c > 'f') && (c < 'A' || c > 'F') {
			return false
		}
	}
	return s != ""
}

// isPseudoRef matches the pseudo-refs kept as plain ref files in the git
// dir (FETCH_HEAD has its own format and is left out).
func isPseudoRef(s string) bool {
	return s == "HEAD" || s == "ORIG_HEAD"
}
