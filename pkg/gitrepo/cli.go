package gitrepo

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"net/url"
	"os"
	"os/exec"
	"regexp"
	"slices"
	"strings"
	"time"
)

// gitCmd is one run of the git binary.
type gitCmd struct {
	dir   string   // working directory; the repository is found from it
	args  []string // after "git"
	stdin []byte
	env   []string // added to the environment
	// killTree: when ctx ends, end git and every process under it, not
	// only git (see interrupt.go).
	killTree bool
}

// cmdError is a failed git run: its exit code and its stderr, with
// credentials removed from any URL in it.
type cmdError struct {
	args   []string
	code   int
	stderr string
	err    error
}

func (e *cmdError) Error() string {
	msg := strings.TrimSpace(e.stderr)
	if msg == "" {
		msg = e.err.Error()
	}
	// A lock file a killed git left behind blocks every later run the
	// same way; say what clears it.
	if strings.Contains(msg, ".lock': File exists") {
		msg += "\n(a git process that was killed may have left it: `ringflow check --repair` removes stale lock files)"
	}
	return fmt.Sprintf("git %s: %s", strings.Join(e.args, " "), msg)
}

func (e *cmdError) Unwrap() error { return e.err }

// run runs git and returns its stdout. A cancelled or expired ctx ends git
// and is returned (wrapped) in place of git's own failure.
func (r *Repo) run(ctx context.Context, c gitCmd) ([]byte, error) {
	out, _, err := r.runFull(ctx, c)
	return out, err
}

// runFull is run that also returns stderr, for callers that parse it.
func (r *Repo) runFull(ctx context.Context, c gitCmd) (stdout, stderr []byte, err error) {
	if ctx == nil {
		ctx = context.Background()
	}
	cmd := exec.CommandContext(ctx, "git", c.args...)
	cmd.Dir = c.dir
	if cmd.Dir == "" {
		cmd.Dir = r.path
	}
	// These would let an outer git (ringflow run from a hook, say) point
	// ours at another repository, index or object store: the repository is
	// chosen by the working directory alone.
	local := []string{
		"GIT_DIR", "GIT_WORK_TREE", "GIT_INDEX_FILE", "GIT_OBJECT_DIRECTORY",
		"GIT_ALTERNATE_OBJECT_DIRECTORIES", "GIT_COMMON_DIR", "GIT_PREFIX",
		"GIT_IMPLICIT_WORK_TREE", "GIT_SHALLOW_FILE", "GIT_GRAFT_FILE",
		"GIT_NAMESPACE", "GIT_QUARANTINE_PATH", "GIT_REFLOG_ACTION",
	}
	env := slices.DeleteFunc(os.Environ(), func(kv string) bool {
		k, _, _ := strings.Cut(kv, "=")
		return slices.Contains(local, k)
	})
	// Never wait for a password on a terminal nobody watches; keep git's
	// messages in English so they can be matched.
	env = append(env, "GIT_TERMINAL_PROMPT=0", "LC_ALL=C", "LANGUAGE=C")
	cmd.Env = append(env, c.env...)
	if slices.Contains(remoteCmds, c.args[0]) {
		cmd.Env = append(cmd.Env, r.sshEnv(ctx, c.dir, cmd.Env)...)
	}
	if c.stdin != nil {
		cmd.Stdin = bytes.NewReader(c.stdin)
	}
	var so, se bytes.Buffer
	cmd.Stdout = &so
	cmd.Stderr = &se
	// ssh or a credential helper may outlive a killed git and hold its pipes.
	cmd.WaitDelay = 5 * time.Second
	if c.killTree {
		cmd.Cancel = func() error { return killTree(cmd.Process.Pid) }
	}
	err = cmd.Run()
	if err != nil {
		if cerr := ctx.Err(); cerr != nil {
			return so.Bytes(), se.Bytes(), fmt.Errorf("git %s: %w", c.args[0], cerr)
		}
		ce := &cmdError{args: c.args, code: -1, stderr: redactText(se.String()), err: err}
		var ee *exec.ExitError
		if errors.As(err, &ee) {
			ce.code = ee.ExitCode()
		}
		return so.Bytes(), se.Bytes(), ce
	}
	return so.Bytes(), se.Bytes(), nil
}

// remoteCmds are the git commands that may talk to a remote over ssh.
var remoteCmds = []string{"fetch", "push", "ls-remote"}

// batchSSH is the ssh command git uses unless the operator chose one.
const batchSSH = "ssh -o BatchMode=yes"

// sshEnv makes ssh fail instead of asking (to trust an unknown host key,
// for a key's passphrase or a password): ringflow runs unattended, and a
// question on the terminal would stall it until --remote-timeout. An ssh
// command the operator chose (GIT_SSH_COMMAND, core.sshCommand, GIT_SSH,
// or a variant: GIT_SSH_VARIANT, ssh.variant) is left as it is.
func (r *Repo) sshEnv(ctx context.Context, dir string, env []string) []string {
	for _, kv := range env {
		switch k, _, _ := strings.Cut(kv, "="); k {
		case "GIT_SSH_COMMAND", "GIT_SSH", "GIT_SSH_VARIANT":
			return nil // git takes even an empty one as set
		}
	}
	out, err := r.run(ctx, gitCmd{dir: dir, args: []string{"config", "--get-regexp", `^(core\.sshcommand|ssh\.variant)$`}})
	var ce *cmdError
	if err != nil && !(errors.As(err, &ce) && ce.code == 1) || len(bytes.TrimSpace(out)) > 0 {
		return nil // configured, or unreadable config: leave it to git
	}
	return []string{"GIT_SSH_COMMAND=" + batchSSH}
}

// RedactURL drops the password from a remote URL, for printing: see
// redactURL.
func RedactURL(raw string) string { return redactURL(raw) }

// redactURL drops the password from a URL (https://user:pass@host →
// https://user@host); other forms (scp-like ssh, paths) pass unchanged.
func redactURL(raw string) string {
	u, err := url.Parse(raw)
	if err != nil {
		// Git takes passwords Go's parser refuses (with ^, |, a bad %
		// escape, …): cut user:pass@ from the authority by hand.
		scheme, rest, ok := strings.Cut(raw, "://")
		authority, _, _ := strings.Cut(rest, "/")
		at := strings.LastIndex(authority, "@")
		if !ok || at < 0 {
			return raw
		}
		user, _, hasPass := strings.Cut(authority[:at], ":")
		if !hasPass {
			return raw
		}
		return scheme + "://" + user + rest[at:]
	}
	if u.User == nil {
		return raw
	}
	if _, has := u.User.Password(); !has {
		return raw
	}
	u.User = url.User(u.User.Username())
	return u.String()
}

// redactText drops passwords from every URL in free text such as git's
// stderr. Recent git versions already do this; older ones don't.
func redactText(s string) string {
	re := regexp.MustCompile(`([A-Za-z][A-Za-z0-9+.-]*://[^/\s:@]*):[^@/\s]*@`)
	return re.ReplaceAllString(s, "$1@")
}
