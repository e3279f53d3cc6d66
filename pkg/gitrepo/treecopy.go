package gitrepo

import (
	"errors"
	"fmt"
	"time"

	"github.com/go-git/go-git/v5/plumbing"
	"github.com/go-git/go-git/v5/plumbing/object"
)

// EmptyTree is the ID of the tree with no entries.
const EmptyTree = "4b825dc642cb6eb9a060e54bf8d69288fbee4904"

// CommitTreeOf creates a commit whose tree is the tree of commit treeFrom
// ("" = the empty tree) and whose only parent is parent ("" = a root commit
// with no parent). Both are commit IDs or any revision ResolveCommit
// accepts. No ref moves: point a ref at the result with UpdateRefs or Push.
//
// It serves every commit that copies content instead of editing it: a
// rollback (a new commit on a ring branch whose tree is an older commit's),
// a promotion that lands a candidate's exact tree on top of a branch, and
// ledger entries (empty-tree commits chained on a ref, the message the
// entry). The new tree may equal parent's; that is not an error.
//
// Author and committer are identity ("Name <email>") at when, kept to the
// second with when's zone offset. message is stored byte for byte, plus a
// final newline if a non-empty message lacks one (as CommitFiles and `git
// commit` do), so trailers at its end stay trailers. The empty tree object
// is written when it is used, so that git finds every object it names.
func (r *Repo) CommitTreeOf(parent, treeFrom, message, identity string, when time.Time) (string, error) {
	sig, message, err := commitMeta("commit tree", identity, when, message)
	if err != nil {
		return "", err
	}

	var commit plumbing.Hash
	err = r.read(func(s *store) error {
		var parents []plumbing.Hash
		if parent != "" {
			ph, err := s.resolve(parent)
			if err != nil {
				return revError(parent, err)
			}
			parents = []plumbing.Hash{ph}
		}
		var tree plumbing.Hash
		if treeFrom == "" {
			o := s.st.NewEncodedObject()
			if err := (&object.Tree{}).Encode(o); err != nil {
				return err
			}
			if err := s.writeObject(o); err != nil {
				return err
			}
			tree = o.Hash()
		} else {
			th, err := s.resolve(treeFrom)
			if err != nil {
				return revError(treeFrom, err)
			}
			c, err := object.GetCommit(s.st, th)
			if err != nil {
				return err
			}
			tree = c.TreeHash
			// The tree of a commit we can read is in the object database
			// (or the repository is corrupt, which git would report).
			if err := s.st.HasEncodedObject(tree); err != nil {
				return fmt.Errorf("tree %s of %s: %w", tree, treeFrom, err)
			}
		}
		commit, err = s.writeCommit(sig, message, tree, parents)
		return err
	})
	var ure *UnknownRevisionError
	if errors.As(err, &ure) {
		return "", err
	}
	if err != nil {
		return "", fmt.Errorf("commit tree of %s on %s: %w", orEmptyTree(treeFrom), orRoot(parent), err)
	}
	return commit.String(), nil
}

// TreeOf returns the ID of the tree of commit (any revision ResolveCommit
// accepts): two commits with the same tree have the same content.
func (r *Repo) TreeOf(commit string) (string, error) {
	var tree plumbing.Hash
	err := r.read(func(s *store) error {
		h, err := s.resolve(commit)
		if err != nil {
			return revError(commit, err)
		}
		c, err := object.GetCommit(s.st, h)
		if err != nil {
			return err
		}
		tree = c.TreeHash
		return nil
	})
	var ure *UnknownRevisionError
	if errors.As(err, &ure) {
		return "", err
	}
	if err != nil {
		return "", fmt.Errorf("tree of %s: %w", commit, err)
	}
	return tree.String(), nil
}

func orEmptyTree(rev string) string {
	if rev == "" {
		return "the empty tree"
	}
	return rev
}

func orRoot(rev string) string {
	if rev == "" {
		return "no parent"
	}
	return rev
}
