package initbranches

import (
	"fmt"
	"slices"
	"strings"

	"github.com/ringflow/ringflow/pkg/config"
)

// RemoteChoice is the remote a starter config names, and why.
type RemoteChoice struct {
	Remote string // "" = local branches only
	Why    string // a phrase, e.g. "the repository's only remote"
}

// RemoteError is a remote init cannot use, or cannot choose alone: bad
// usage, the message says what to pass.
type RemoteError struct{ msg string }

func (e *RemoteError) Error() string { return e.msg }

// PickRemote chooses the remote for a starter config from the
// repository's remotes: the one given (--remote or RINGFLOW_REMOTE, when
// given is true), which must exist; else none, the only one, or origin
// among several. Several without origin is an error asking for --remote.
func PickRemote(remotes []string, remote string, given bool) (RemoteChoice, error) {
	switch {
	case given && remote == "":
		return RemoteChoice{Why: "as given: local branches only"}, nil
	case given && slices.Contains(remotes, remote):
		return RemoteChoice{Remote: remote, Why: "as given"}, nil
	case given:
		return RemoteChoice{}, &RemoteError{fmt.Sprintf("remote %q is not configured in this repository (%s): %s", remote, listRemotes(remotes), addOrPass(remotes))}
	case len(remotes) == 0:
		return RemoteChoice{Why: "the repository has no git remote"}, nil
	case len(remotes) == 1:
		return RemoteChoice{Remote: remotes[0], Why: "the repository's only remote"}, nil
	case slices.Contains(remotes, "origin"):
		return RemoteChoice{Remote: "origin", Why: "of the repository's remotes " + strings.Join(remotes, ", ")}, nil
	default:
		return RemoteChoice{}, &RemoteError{fmt.Sprintf("the repository has several remotes (%s) and none is called origin: pass the one the hosts pull from, e.g. `ringflow init --remote %s`, or --remote \"\" for local branches only", strings.Join(remotes, ", "), remotes[0])}
	}
}

// CheckRemote says, for a config that names remote (file: where it was
// read from; "" when from --remote or the environment), whether the
// repository has it, and if not what to do: a *config.Error on key remote.
func CheckRemote(remotes []string, remote, file string) error {
	if remote == "" || slices.Contains(remotes, remote) {
		return nil
	}
	next := fmt.Sprintf("add it with `git remote add %s URL`", remote)
	if len(remotes) > 0 {
		next = "set one of them"
	}
	msg := fmt.Sprintf("%q is not configured in this repository (%s): %s, or set \"\" for local branches only", remote, listRemotes(remotes), next)
	return &config.Error{File: file, Problems: []config.Problem{{Key: "remote", Message: msg}}}
}

func listRemotes(remotes []string) string {
	if len(remotes) == 0 {
		return "it has no remote"
	}
	return "its remotes: " + strings.Join(remotes, ", ")
}

func addOrPass(remotes []string) string {
	if len(remotes) == 0 {
		return "add it with `git remote add NAME URL`, or pass --remote \"\" for local branches only"
	}
	return fmt.Sprintf("pass one of them, e.g. --remote %s, or --remote \"\" for local branches only", remotes[0])
}
