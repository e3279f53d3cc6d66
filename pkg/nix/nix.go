// Package nix is the only code that runs the nix binary. It detects which
// Nix it talks to (Nix 2.8 up to modern Nix and Lix differ in flags and
// output), builds flake references that read straight from git, and parses
// nix's JSON output.
package nix

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"net/url"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"
)

// Options configures how nix is run.
type Options struct {
	Binary    string    // default "nix"
	Env       []string  // the whole environment of every nix process; nil = inherit
	ExtraArgs []string  // build.nix-args, appended to every call
	Debug     io.Writer // when set, every argv and its duration is written here
}

// Nix runs nix commands.
type Nix struct {
	opts Options

	once    sync.Once
	version Version
	verErr  error
}

// New returns a runner; nothing is executed until first use.
func New(opts Options) *Nix {
	if opts.Binary == "" {
		opts.Binary = "nix"
	}
	return &Nix{opts: opts}
}

// Version is what `nix --version` reported.
type Version struct {
	Lix                 bool
	Major, Minor, Patch int
	Raw                 string
}

// Modern says whether this Nix takes `nix flake update <input>` and
// `--print-out-paths`: Nix 2.19 and later, and every Lix.
func (v Version) Modern() bool {
	return v.Lix || v.Major > 2 || (v.Major == 2 && v.Minor >= 19)
}

func (v Version) String() string {
	name := "nix"
	if v.Lix {
		name = "lix"
	}
	return fmt.Sprintf("%s %d.%d.%d", name, v.Major, v.Minor, v.Patch)
}

var versionRE = regexp.MustCompile(`(\d+)\.(\d+)(?:\.(\d+))?`)

// ParseVersion reads the first line of `nix --version`: "nix (Nix) 2.8.0",
// "nix (Lix, like Nix) 2.91.1", "nix (Determinate Nix 3.6.2) 2.29.0". The
// Nix version is the last one on the line; a vendor's own comes before it.
func ParseVersion(out string) (Version, error) {
	line := strings.TrimSpace(strings.SplitN(out, "\n", 2)[0])
	all := versionRE.FindAllStringSubmatch(line, -1)
	if all == nil {
		return Version{}, fmt.Errorf("nix: cannot read a version from %q", line)
	}
	m := all[len(all)-1]
	v := Version{Raw: line, Lix: strings.Contains(line, "Lix")}
	v.Major, _ = strconv.Atoi(m[1])
	v.Minor, _ = strconv.Atoi(m[2])
	if m[3] != "" {
		v.Patch, _ = strconv.Atoi(m[3])
	}
	return v, nil
}

// Version detects the Nix version once per runner.
func (n *Nix) Version(ctx context.Context) (Version, error) {
	n.once.Do(func() {
		out, err := n.output(ctx, []string{"--version"})
		if err != nil {
			n.verErr = err
			return
		}
		n.version, n.verErr = ParseVersion(string(out))
	})
	return n.version, n.verErr
}

// FlakeRef points at a flake inside a git repository at one commit, read
// from git's object database and never from a work tree.
type FlakeRef struct {
	Repo string // absolute path of the repository (work tree top or bare)
	Rev  string // 40-hex commit
	Dir  string // flake directory inside the repository; "" or "." = top
	// Ref is a full ref name that reaches Rev. Only a bare repository needs
	// one: Nix 2.8 fetches a bare repository like a remote one, by ref
	// (default master), and then requires Rev to be reachable from it.
	Ref string
}

// String renders git+file:///repo?rev=…&dir=…[&ref=…].
func (r FlakeRef) String() string {
	q := url.Values{}
	q.Set("rev", r.Rev)
	if d := filepath.ToSlash(filepath.Clean(r.Dir)); r.Dir != "" && d != "." {
		q.Set("dir", d)
	}
	if r.Ref != "" {
		q.Set("ref", r.Ref)
	}
	u := url.URL{Scheme: "git+file", Path: r.Repo, RawQuery: q.Encode()}
	return u.String()
}

// Error is a failed nix call, with what nix said on stderr.
type Error struct {
	Args   []string
	Stderr string
	Err    error
	// Message, when set, is shown instead of the end of Stderr: what
	// evalErrorMessage made of an evaluation's error.
	Message string
}

func (e *Error) Error() string {
	if e.Message != "" {
		return fmt.Sprintf("nix %s: %s", firstWords(e.Args), e.Message)
	}
	msg := strings.TrimSpace(lastLines(e.Stderr, 12))
	if msg == "" {
		msg = e.Err.Error()
	}
	return fmt.Sprintf("nix %s: %s", firstWords(e.Args), msg)
}

func (e *Error) Unwrap() error { return e.Err }

// HostNames lists the attribute names of nixosConfigurations at ref.
func (n *Nix) HostNames(ctx context.Context, ref FlakeRef) ([]string, error) {
	// The type is checked in Nix, so that ringflow, not one Nix version's
	// wording, says what is wrong with a value that is not a set.
	apply := "c: if builtins.isAttrs c then builtins.attrNames c else builtins.typeOf c"
	out, err := n.output(ctx, n.flakeArgs("eval", "--json", ref.String()+"#nixosConfigurations", "--apply", apply))
	if err != nil {
		var ne *Error
		if !errors.As(err, &ne) {
			return nil, fmt.Errorf("list hosts at %s: %w", short(ref.Rev), err)
		}
		if n.lacksNixosConfigurations(ctx, ref) {
			return nil, fmt.Errorf("nix: the flake at %s has no nixosConfigurations", short(ref.Rev))
		}
		ne.Message = evalErrorMessage(ne.Stderr, ref.Repo)
		return nil, fmt.Errorf("list hosts at %s: %w", short(ref.Rev), err)
	}
	var names []string
	if err := json.Unmarshal(out, &names); err != nil {
		var typ string
		if json.Unmarshal(out, &typ) == nil {
			return nil, fmt.Errorf("list hosts at %s: nixosConfigurations is %s, not an attribute set of hosts (nixosConfigurations = { host = nixpkgs.lib.nixosSystem { … }; … })",
				short(ref.Rev), typeWords(typ))
		}
		return nil, fmt.Errorf("nix: list hosts at %s: unexpected output %q: %w", short(ref.Rev), out, err)
	}
	return names, nil
}

// lacksNixosConfigurations asks, after listing the hosts failed, whether the
// flake's outputs have no nixosConfigurations at all — in Nix, rather than
// from the words of one version's error. Any failure of the question itself
// (the flake cannot be read) answers no: the listing's own error is then
// the one to show.
func (n *Nix) lacksNixosConfigurations(ctx context.Context, ref FlakeRef) bool {
	expr := "!(builtins.getFlake " + Quote(ref.String()) + " ? nixosConfigurations)"
	out, err := n.output(ctx, n.flakeArgs("eval", "--json", "--expr", expr))
	return err == nil && strings.TrimSpace(string(out)) == "true"
}

// typeWords names a builtins.typeOf result in words.
func typeWords(typ string) string {
	switch typ {
	case "int":
		return "an integer"
	case "lambda":
		return "a function"
	case "null":
		return "null"
	case "bool":
		return "a boolean"
	}
	return "a " + typ
}

// flakeArgs puts the fixed leading flags first, so behaviour does not
// depend on the user's nix.conf: flakes on, and the committed lock file is
// used as it is — ringflow evaluates exactly what hosts would deploy.
func (n *Nix) flakeArgs(sub ...string) []string {
	args := []string{sub[0], "--extra-experimental-features", "nix-command flakes", "--no-update-lock-file"}
	args = append(args, sub[1:]...)
	return append(args, n.opts.ExtraArgs...)
}

// output runs nix and returns stdout; a failure carries stderr.
func (n *Nix) output(ctx context.Context, args []string) ([]byte, error) {
	return n.run(ctx, n.opts.Binary, args, nil)
}

// run runs bin (nix, or one of the legacy nix-* commands) and returns
// stdout. stderr, when set, receives nix's stderr as it comes, and the
// caller then keeps what a failure should report; otherwise a failure
// carries all of stderr.
func (n *Nix) run(ctx context.Context, bin string, args []string, stderr io.Writer) ([]byte, error) {
	return n.runWith(ctx, bin, args, stderr, nil)
}

// runWith is run, telling started the process ID once it runs (so that
// its memory can be watched).
func (n *Nix) runWith(ctx context.Context, bin string, args []string, stderr io.Writer, started func(pid int)) ([]byte, error) {
	cmd := exec.CommandContext(ctx, bin, args...)
	cmd.Env = n.opts.Env
	var stdout, errBuf bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &errBuf
	if stderr != nil {
		cmd.Stderr = stderr
	}
	// Ctrl-C: let nix clean up its temporary roots before it is killed.
	cmd.Cancel = func() error { return cmd.Process.Signal(syscall.SIGINT) }
	cmd.WaitDelay = 5 * time.Second
	start := time.Now()
	err := cmd.Start()
	if err == nil {
		if started != nil {
			started(cmd.Process.Pid)
		}
		err = cmd.Wait()
	}
	if n.opts.Debug != nil {
		fmt.Fprintf(n.opts.Debug, "nix: %s %s (%s)\n", bin, strings.Join(args, " "), time.Since(start).Round(time.Millisecond))
	}
	if err != nil {
		if ctx.Err() != nil {
			return nil, ctx.Err()
		}
		var notFound *exec.Error
		if errors.As(err, &notFound) || errors.Is(err, fs.ErrNotExist) {
			return nil, fmt.Errorf("nix: %s not found: install Nix (Debian: apt-get install nix-bin): %w", bin, err)
		}
		var exit *exec.ExitError
		if !errors.As(err, &exit) {
			return nil, fmt.Errorf("nix: cannot run %s: %w", bin, err)
		}
		return nil, &Error{Args: args, Stderr: errBuf.String(), Err: err}
	}
	return stdout.Bytes(), nil
}

func lastLines(s string, n int) string {
	lines := strings.Split(strings.TrimRight(s, "\n"), "\n")
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return strings.Join(lines, "\n")
}

func firstWords(args []string) string {
	if len(args) == 0 {
		return ""
	}
	return args[0]
}

func short(rev string) string {
	if len(rev) > 12 {
		return rev[:12]
	}
	return rev
}
