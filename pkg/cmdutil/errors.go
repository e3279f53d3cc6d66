// Package cmdutil holds what every command shares: the Factory that hands
// out dependencies, the usage error type, the --output flag and argument
// validators. It knows nothing about any single command.
package cmdutil

import (
	"errors"
	"fmt"

	"github.com/spf13/cobra"
)

// UsageError is bad usage: a wrong flag, a missing argument, an unknown
// name. It exits 2 and prints the command's usage.
type UsageError struct{ err error }

// UsageErrorf formats a UsageError.
func UsageErrorf(format string, args ...any) error {
	return &UsageError{err: fmt.Errorf(format, args...)}
}

// NewUsageError wraps err as a UsageError.
func NewUsageError(err error) error { return &UsageError{err: err} }

func (e *UsageError) Error() string { return e.err.Error() }
func (e *UsageError) Unwrap() error { return e.err }

// ReportedError marks an error whose report the command has already
// printed; Main keeps its exit code but does not print it again.
type ReportedError struct{ Err error }

// Reported wraps err as already reported. Reported(nil) is nil.
func Reported(err error) error {
	if err == nil {
		return nil
	}
	return &ReportedError{Err: err}
}

func (e *ReportedError) Error() string { return e.Err.Error() }
func (e *ReportedError) Unwrap() error { return e.Err }

// IsReported says whether err was already printed by its command.
func IsReported(err error) bool {
	var r *ReportedError
	return errors.As(err, &r)
}

// ExactArgs is cobra.ExactArgs returning a UsageError that says what is
// missing.
func ExactArgs(n int, msg string) cobra.PositionalArgs { return RangeArgs(n, n, msg) }

// RangeArgs accepts between min and max arguments.
func RangeArgs(min, max int, msg string) cobra.PositionalArgs {
	return func(cmd *cobra.Command, args []string) error {
		if len(args) > max {
			return UsageErrorf("too many arguments: %q", args[max:])
		}
		if len(args) < min {
			return UsageErrorf("%s", msg)
		}
		return nil
	}
}

// NonEmpty refuses an empty value where a name or revision is meant: an
// empty REV must not quietly mean "the default".
func NonEmpty(what string, values ...string) error {
	for _, v := range values {
		if v == "" {
			return UsageErrorf("%s is empty", what)
		}
	}
	return nil
}

// NoArgs refuses positional arguments.
func NoArgs(cmd *cobra.Command, args []string) error {
	if len(args) > 0 {
		return UsageErrorf("%s takes no arguments, got %q", cmd.CommandPath(), args)
	}
	return nil
}
