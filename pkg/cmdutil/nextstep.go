package cmdutil

import (
	"errors"
	"fmt"

	"github.com/ringflow/ringflow/pkg/gitrepo"
)

// SetupError is a problem with where ringflow runs rather than with what
// it was asked — no repository there, no such remote — told with the
// command that fixes it. It exits 2, like a bad config, without the usage.
type SetupError struct {
	Err  error  // what is wrong, naming the thing at fault
	Next string // what to do about it
}

func (e *SetupError) Error() string { return e.Err.Error() + ": " + e.Next }
func (e *SetupError) Unwrap() error { return e.Err }

// WithNextStep adds the next step to errors of where ringflow runs that
// the packages below the CLI report plainly (they know no flags or
// commands); other errors come back as they are.
func WithNextStep(err error) error {
	var (
		setup    *SetupError
		notRepo  *gitrepo.NotRepositoryError
		noRemote *gitrepo.NoRemoteError
	)
	switch {
	case err == nil, errors.As(err, &setup):
		return err
	case errors.As(err, &notRepo):
		next := "cd to a clone of your fleet's flake, or pass --repo DIR"
		if notRepo.Within != "" {
			next = fmt.Sprintf("cd %s, or pass --repo %s", notRepo.Within, notRepo.Within)
		}
		return &SetupError{Err: err, Next: next}
	case errors.As(err, &noRemote):
		return &SetupError{Err: err, Next: fmt.Sprintf(
			"add it with `git remote add %s URL`, or set remote: \"\" in ringflow.yaml (or pass --remote '') to work on local branches only",
			noRemote.Remote)}
	}
	return err
}
