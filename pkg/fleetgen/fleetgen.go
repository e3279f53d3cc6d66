// Package fleetgen generates throwaway NixOS fleets for ringflow's tests, its
// `make demo` and its benchmarks. A generated fleet is real enough for the
// real nix to evaluate and build every host, yet needs no network: nixpkgs is
// replaced by a small local stand-in flake whose lib.nixosSystem produces one
// trivial derivation per host. Hosts can be told to fail evaluation or
// building, to cost extra evaluation work, and to share a package set of a
// chosen size, so every path through ringflow can be exercised.
//
// Layout under Options.Dir (D):
//
//	D/nixpkgs     git repo, branch main: the stand-in nixpkgs flake
//	D/origin.git  bare repo, HEAD = dev: the fleet's remote
//	D/fleet       clone of origin.git with branch dev: flake.nix, hosts.json,
//	              common.nix and a committed flake.lock (in FlakeDir if set)
//
// Every commit is made with a fixed identity and a date derived from the
// number of commits before it, so commit ids are repeatable for a given D.
// A Fleet is not safe for concurrent use.
package fleetgen

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/url"
	"os"
	"os/exec"
	"path"
	"path/filepath"
	"regexp"
	"runtime"
	"slices"
	"strconv"
	"strings"

	"github.com/ringflow/ringflow/pkg/nix"
)

// Host is one host of a generated fleet.
type Host struct {
	Name      string `json:"name"`
	EvalError string `json:"evalError,omitempty"` // evaluating the toplevel throws this message
	BuildFail bool   `json:"buildFail,omitempty"` // building the toplevel exits 1
	// BuildHang makes building the toplevel print a line, then sleep this
	// many seconds before it goes on (a hanging build, for build.timeout
	// and build.max-silent). It sleeps with /bin/sleep or /usr/bin/sleep
	// (nix's sandbox off, as the tests run it) and spins where neither is.
	BuildHang int `json:"buildHang,omitempty"`
	// Features are the toplevel's requiredSystemFeatures: only a machine
	// (or remote builder) with all of them may build it.
	Features []string `json:"features,omitempty"`
	// FailAssertion makes the toplevel's `assert hostAssertionHolds;` fail,
	// as a NixOS assertion would.
	FailAssertion bool `json:"failAssertion,omitempty"`
	// FailedUnits are systemd units that fail on this host once it runs
	// the toplevel: the build stays green, and the toplevel lists them on
	// a line "failed-units a.service b.service", which test/hostsim
	// reports as node_exporter's node_systemd_unit_state does.
	FailedUnits []string `json:"failedUnits,omitempty"`
	Work        int      `json:"work,omitempty"` // extra evaluation work (length of a fold)
	// Memory is how many host-unique strings of ~220 bytes the host's
	// configuration keeps while it is evaluated (600 000 ≈ a NixOS host's
	// 170 MB), for benchmarks of evaluator memory.
	Memory int `json:"memory,omitempty"`
}

// Options describe the fleet Generate makes.
type Options struct {
	Dir      string   // created if missing; must be empty
	Hosts    []Host   // explicit hosts; or
	Count    int      // hosts named host-001 … (when Hosts is empty)
	Nix      string   // nix binary, default "nix"
	Env      []string // extra environment for git and nix (e.g. NIX_CONFIG), added to os.Environ()
	FlakeDir string   // the flake's directory inside the repo; "" or "." = the top
	System   string   // the hosts' system; default the running machine's, e.g. "x86_64-linux"

	PkgsFiles     int // number of package-set files every host imports; 0 = none
	PkgsFileBytes int // approximate size of each package-set file

	Salt string // goes into every derivation, so that benchmark runs get fresh ones

	// SubFlakes names hosts that each get a sub-flake of their own:
	// hosts/<name>/flake.nix with its own flake.lock and its own stand-in
	// input D/nixpkgs-<name>, pulled into the top flake as the input
	// "<name>-flake" (path:./hosts/<name>); that host is built from it.
	// Names are limited to letters, digits and dashes.
	SubFlakes []string
}

// Fleet is a generated fleet.
type Fleet struct {
	Dir       string   // D, absolute
	Nixpkgs   string   // D/nixpkgs: the stand-in nixpkgs repository
	SubFlakes []string // hosts with a sub-flake; host h's input is D/nixpkgs-h
	Remote    string   // D/origin.git: the fleet's bare remote
	Repo      string   // D/fleet: the fleet's work tree, remote "origin", branch dev
	FlakeDir  string   // the flake's directory inside Repo; "." = the top
	Hosts     []Host   // the hosts as of the last Generate or SetHosts
	Nix       string   // the nix binary
	Env       []string // the environment every git and nix command gets
	System    string   // the hosts' system
}

// DevBranch is the only branch a generated fleet has.
const DevBranch = "dev"

// baseTime is the date of the first commit of every repository; each later
// commit is one minute after the one before, so dates stay deterministic
// but still order commits.
const baseTime = 1704067200 // 2024-01-01T00:00:00Z

// Generate creates a fleet under o.Dir.
func Generate(ctx context.Context, o Options) (*Fleet, error) {
	if o.Dir == "" {
		return nil, errors.New("fleetgen: Options.Dir is empty")
	}
	dir, err := filepath.Abs(o.Dir)
	if err != nil {
		return nil, fmt.Errorf("fleetgen: resolving %s: %w", o.Dir, err)
	}
	flakeDir, err := cleanFlakeDir(o.FlakeDir)
	if err != nil {
		return nil, err
	}
	hosts := o.Hosts
	if len(hosts) == 0 {
		for i := 1; i <= o.Count; i++ {
			hosts = append(hosts, Host{Name: fmt.Sprintf("host-%03d", i)})
		}
	}
	if err := checkHosts(hosts); err != nil {
		return nil, err
	}
	for _, s := range o.SubFlakes {
		if !subFlakeNameRE.MatchString(s) || !slices.ContainsFunc(hosts, func(h Host) bool { return h.Name == s }) {
			return nil, fmt.Errorf("fleetgen: sub-flake %q: want a host of the fleet named with letters, digits and dashes", s)
		}
	}
	if o.PkgsFiles < 0 || o.PkgsFileBytes < 0 {
		return nil, errors.New("fleetgen: PkgsFiles and PkgsFileBytes must not be negative")
	}
	// Only now touch the disk, so that bad options leave nothing behind.
	if err := emptyDir(dir); err != nil {
		return nil, err
	}
	f := &Fleet{
		Dir:       dir,
		Nixpkgs:   filepath.Join(dir, "nixpkgs"),
		Remote:    filepath.Join(dir, "origin.git"),
		Repo:      filepath.Join(dir, "fleet"),
		FlakeDir:  flakeDir,
		Hosts:     append([]Host(nil), hosts...),
		Nix:       o.Nix,
		Env:       buildEnv(o.Env),
		System:    o.System,
		SubFlakes: append([]string(nil), o.SubFlakes...),
	}
	if f.Nix == "" {
		f.Nix = "nix"
	}
	if f.System == "" {
		f.System = hostSystem()
	}
	if err := f.makeStandIn(ctx, f.Nixpkgs, o); err != nil {
		return nil, err
	}
	for _, s := range f.SubFlakes {
		if err := f.makeStandIn(ctx, f.SubInput(s), o); err != nil {
			return nil, err
		}
	}
	if err := f.git(ctx, dir, "init", "-q", "--bare", "--initial-branch="+DevBranch, f.Remote); err != nil {
		return nil, fmt.Errorf("fleetgen: creating the remote: %w", err)
	}
	if err := f.makeFleet(ctx); err != nil {
		return nil, err
	}
	return f, nil
}

// SubInput is the stand-in input repository of host's sub-flake.
func (f *Fleet) SubInput(host string) string { return filepath.Join(f.Dir, "nixpkgs-"+host) }

var subFlakeNameRE = regexp.MustCompile(`^[A-Za-z0-9-]+$`)

// makeStandIn creates a stand-in nixpkgs repository in dir with one commit.
func (f *Fleet) makeStandIn(ctx context.Context, dir string, o Options) error {
	files := map[string]string{
		"flake.nix": standInFlake,
		"lib.nix":   standInLib,
		"version":   versionString(1) + "\n",
		"salt":      o.Salt + "\n",
		"pkgs.nix":  pkgsIndex(o.PkgsFiles),
	}
	for i := 1; i <= o.PkgsFiles; i++ {
		files["pkgs/"+pkgFileName(i)] = pkgFile(i, o.PkgsFileBytes)
	}
	if err := writeFiles(dir, files); err != nil {
		return fmt.Errorf("fleetgen: writing the stand-in nixpkgs: %w", err)
	}
	if err := f.git(ctx, dir, "init", "-q", "--initial-branch=main"); err != nil {
		return fmt.Errorf("fleetgen: creating the stand-in nixpkgs: %w", err)
	}
	if err := f.git(ctx, dir, "add", "-A"); err != nil {
		return fmt.Errorf("fleetgen: staging the stand-in nixpkgs: %w", err)
	}
	if _, err := f.commit(ctx, dir, "nixpkgs stand-in "+versionString(1)); err != nil {
		return fmt.Errorf("fleetgen: committing the stand-in nixpkgs: %w", err)
	}
	return nil
}

// makeFleet creates the fleet work tree, locks its flake and pushes dev.
func (f *Fleet) makeFleet(ctx context.Context) error {
	hostsJSON, err := encodeHosts(f.Hosts)
	if err != nil {
		return err
	}
	nixpkgsURL := (&url.URL{Scheme: "git+file", Path: f.Nixpkgs}).String()
	subURLs := map[string]string{}
	for _, s := range f.SubFlakes {
		subURLs[s] = (&url.URL{Scheme: "git+file", Path: f.SubInput(s)}).String()
	}
	files := map[string]string{
		path.Join(f.FlakeDir, "flake.nix"):  fleetFlake(nixpkgsURL, f.System, f.SubFlakes),
		path.Join(f.FlakeDir, "hosts.json"): hostsJSON,
		path.Join(f.FlakeDir, "common.nix"): commonModule,
	}
	for s, u := range subURLs {
		files[path.Join(f.FlakeDir, "hosts", s, "flake.nix")] = subFlake(u)
	}
	if err := writeFiles(f.Repo, files); err != nil {
		return fmt.Errorf("fleetgen: writing the fleet: %w", err)
	}
	if err := f.git(ctx, f.Repo, "init", "-q", "--initial-branch="+DevBranch); err != nil {
		return fmt.Errorf("fleetgen: creating the fleet repository: %w", err)
	}
	if err := f.git(ctx, f.Repo, "remote", "add", "origin", f.Remote); err != nil {
		return fmt.Errorf("fleetgen: adding remote origin: %w", err)
	}
	// Nix only sees files git tracks, and not every nix version copes with a
	// repository that has no commit yet; so commit first, lock, then amend
	// the lock into that same commit, leaving one complete first commit.
	if err := f.git(ctx, f.Repo, "add", "-A"); err != nil {
		return fmt.Errorf("fleetgen: staging the fleet: %w", err)
	}
	msg := fmt.Sprintf("fleet: %d hosts", len(f.Hosts))
	if _, err := f.commit(ctx, f.Repo, msg); err != nil {
		return fmt.Errorf("fleetgen: committing the fleet: %w", err)
	}
	// Sub-flakes are locked first: the top lock takes their inputs from them.
	for _, s := range f.SubFlakes {
		if err := f.nix(ctx, f.Repo, "flake", "lock", filepath.Join(f.flakePath(), "hosts", s)); err != nil {
			return fmt.Errorf("fleetgen: locking the sub-flake of %s: %w", s, err)
		}
	}
	if err := f.nix(ctx, f.Repo, "flake", "lock", f.flakePath()); err != nil {
		return fmt.Errorf("fleetgen: locking the fleet flake: %w", err)
	}
	if err := f.git(ctx, f.Repo, "add", "-A"); err != nil {
		return fmt.Errorf("fleetgen: staging flake.lock: %w", err)
	}
	if _, err := f.commit(ctx, f.Repo, msg, "--amend"); err != nil {
		return fmt.Errorf("fleetgen: committing flake.lock: %w", err)
	}
	if err := f.git(ctx, f.Repo, "push", "-q", "-u", "origin", DevBranch); err != nil {
		return fmt.Errorf("fleetgen: pushing dev to origin: %w", err)
	}
	return nil
}

// BumpNixpkgs makes a new commit in the stand-in nixpkgs that changes its
// version, and so every host's toplevel once the fleet is relocked. It does
// not touch the fleet's lock file.
func (f *Fleet) BumpNixpkgs(ctx context.Context) (rev string, err error) {
	versionFile := filepath.Join(f.Nixpkgs, "version")
	b, err := os.ReadFile(versionFile)
	if err != nil {
		return "", fmt.Errorf("fleetgen: reading the stand-in nixpkgs version: %w", err)
	}
	cur := strings.TrimSpace(string(b))
	n, err := strconv.Atoi(cur[strings.LastIndexByte(cur, '.')+1:])
	if err != nil {
		return "", fmt.Errorf("fleetgen: stand-in nixpkgs version %q: %w", cur, err)
	}
	next := versionString(n + 1)
	if err := os.WriteFile(versionFile, []byte(next+"\n"), 0o644); err != nil {
		return "", fmt.Errorf("fleetgen: writing the stand-in nixpkgs version: %w", err)
	}
	if err := f.git(ctx, f.Nixpkgs, "add", "version"); err != nil {
		return "", fmt.Errorf("fleetgen: staging the nixpkgs bump: %w", err)
	}
	rev, err = f.commit(ctx, f.Nixpkgs, "nixpkgs stand-in "+next)
	if err != nil {
		return "", fmt.Errorf("fleetgen: committing the nixpkgs bump: %w", err)
	}
	return rev, nil
}

// SetHosts rewrites hosts.json, commits it on dev and pushes dev to origin.
func (f *Fleet) SetHosts(ctx context.Context, hosts []Host, msg string) (commit string, err error) {
	if err := checkHosts(hosts); err != nil {
		return "", err
	}
	content, err := encodeHosts(hosts)
	if err != nil {
		return "", err
	}
	commit, err = f.CommitFile(ctx, path.Join(f.FlakeDir, "hosts.json"), content, msg)
	if err != nil {
		return "", err
	}
	f.Hosts = append([]Host(nil), hosts...)
	return commit, nil
}

// CommitFile writes content to path (relative to the top of the fleet
// repository, not to FlakeDir), commits it on dev and pushes dev to origin.
// If the content is unchanged it still makes an (empty) commit, so callers
// always get a new candidate.
func (f *Fleet) CommitFile(ctx context.Context, path, content, msg string) (commit string, err error) {
	rel := filepath.Clean(filepath.FromSlash(path))
	if filepath.IsAbs(rel) || rel == "." || rel == ".." || strings.HasPrefix(rel, ".."+string(filepath.Separator)) {
		return "", fmt.Errorf("fleetgen: CommitFile: %q is not a path inside the repository", path)
	}
	if err := f.syncDev(ctx); err != nil {
		return "", err
	}
	if err := writeFiles(f.Repo, map[string]string{filepath.ToSlash(rel): content}); err != nil {
		return "", fmt.Errorf("fleetgen: writing %s: %w", path, err)
	}
	if err := f.git(ctx, f.Repo, "add", "--", rel); err != nil {
		return "", fmt.Errorf("fleetgen: staging %s: %w", path, err)
	}
	commit, err = f.commit(ctx, f.Repo, msg, "--allow-empty")
	if err != nil {
		return "", fmt.Errorf("fleetgen: committing %s: %w", path, err)
	}
	if err := f.git(ctx, f.Repo, "push", "-q", "origin", DevBranch); err != nil {
		return "", fmt.Errorf("fleetgen: pushing dev to origin: %w", err)
	}
	return commit, nil
}

// Relock updates the nixpkgs input of the fleet's lock file to the stand-in's
// current commit, commits the lock on dev and pushes it. It stands in for
// `ringflow update` in demos. If the lock does not change, no commit is made
// and dev's current head is returned.
func (f *Fleet) Relock(ctx context.Context, msg string) (string, error) {
	if err := f.syncDev(ctx); err != nil {
		return "", err
	}
	if err := f.updateNixpkgsInput(ctx); err != nil {
		return "", err
	}
	lock := path.Join(f.FlakeDir, "flake.lock")
	changed, err := f.gitOut(ctx, f.Repo, "status", "--porcelain", "--", lock)
	if err != nil {
		return "", fmt.Errorf("fleetgen: checking flake.lock: %w", err)
	}
	if changed == "" {
		return f.Rev(ctx, "HEAD")
	}
	if err := f.git(ctx, f.Repo, "add", "--", lock); err != nil {
		return "", fmt.Errorf("fleetgen: staging flake.lock: %w", err)
	}
	commit, err := f.commit(ctx, f.Repo, msg)
	if err != nil {
		return "", fmt.Errorf("fleetgen: committing flake.lock: %w", err)
	}
	if err := f.git(ctx, f.Repo, "push", "-q", "origin", DevBranch); err != nil {
		return "", fmt.Errorf("fleetgen: pushing dev to origin: %w", err)
	}
	return commit, nil
}

// updateNixpkgsInput runs the lock update in the spelling the installed nix
// understands: Nix 2.19 turned `nix flake update` from taking a flake into
// taking input names, and Lix (2.90+, forked from 2.18) keeps the old
// `nix flake lock --update-input`.
func (f *Fleet) updateNixpkgsInput(ctx context.Context) error {
	out, err := f.nixOut(ctx, f.Repo, "--version")
	if err != nil {
		return fmt.Errorf("fleetgen: asking nix for its version: %w", err)
	}
	v, err := nix.ParseVersion(out)
	if err != nil {
		return fmt.Errorf("fleetgen: %w", err)
	}
	flake := f.flakePath()
	oldStyle := []string{"flake", "lock", "--update-input", "nixpkgs", flake}
	newStyle := []string{"flake", "update", "nixpkgs", "--flake", flake}
	if !v.Modern() {
		// Never try the new spelling here: old nix would read "nixpkgs"
		// as a flake reference and go to the registry.
		if err := f.nix(ctx, f.Repo, oldStyle...); err != nil {
			return fmt.Errorf("fleetgen: updating the nixpkgs input: %w", err)
		}
		return nil
	}
	first, second := newStyle, oldStyle
	if v.Lix {
		first, second = oldStyle, newStyle
	}
	err1 := f.nix(ctx, f.Repo, first...)
	if err1 == nil {
		return nil
	}
	if err2 := f.nix(ctx, f.Repo, second...); err2 != nil {
		return fmt.Errorf("fleetgen: updating the nixpkgs input: %w", errors.Join(err1, err2))
	}
	return nil
}

// Rev resolves a revision (e.g. "dev", "HEAD", "origin/dev") in the fleet
// work tree to a commit id.
func (f *Fleet) Rev(ctx context.Context, rev string) (string, error) {
	out, err := f.gitOut(ctx, f.Repo, "rev-parse", "--verify", "--quiet", rev+"^{commit}")
	if err != nil {
		return "", fmt.Errorf("fleetgen: resolving %s: %w", rev, err)
	}
	return out, nil
}

// FlakeURL is the flake reference of the fleet at commit rev, read straight
// from git (never from the work tree), e.g.
// git+file:///D/fleet?rev=…&dir=nix.
func (f *Fleet) FlakeURL(rev string) string {
	q := url.Values{}
	if rev != "" {
		q.Set("rev", rev)
	}
	if f.FlakeDir != "." {
		q.Set("dir", f.FlakeDir)
	}
	u := url.URL{Scheme: "git+file", Path: f.Repo, RawQuery: q.Encode()}
	return u.String()
}

// flakePath is the flake's directory in the work tree, as nix takes it.
func (f *Fleet) flakePath() string { return filepath.Join(f.Repo, filepath.FromSlash(f.FlakeDir)) }

// syncDev puts the work tree on dev, exactly at dev's head, and fast-forwards
// it to origin's dev. ringflow itself may have moved dev on the remote (or
// the local ref under the checked-out tree), and a commit made on top of a
// stale index would silently revert that.
func (f *Fleet) syncDev(ctx context.Context) error {
	if err := f.git(ctx, f.Repo, "checkout", "-q", "-f", DevBranch); err != nil {
		return fmt.Errorf("fleetgen: checking out dev: %w", err)
	}
	if err := f.git(ctx, f.Repo, "reset", "-q", "--hard", "HEAD"); err != nil {
		return fmt.Errorf("fleetgen: resetting the work tree: %w", err)
	}
	if err := f.git(ctx, f.Repo, "fetch", "-q", "origin"); err != nil {
		return fmt.Errorf("fleetgen: fetching origin: %w", err)
	}
	if _, err := f.gitOut(ctx, f.Repo, "rev-parse", "--verify", "--quiet", "refs/remotes/origin/"+DevBranch); err != nil {
		return nil // origin has no dev (yet): nothing to catch up with
	}
	if err := f.git(ctx, f.Repo, "merge", "-q", "--ff-only", "refs/remotes/origin/"+DevBranch); err != nil {
		return fmt.Errorf("fleetgen: fast-forwarding dev to origin/dev: %w", err)
	}
	return nil
}

// commit commits the index of repo with the fixed identity and the next
// deterministic date and returns the new commit id.
func (f *Fleet) commit(ctx context.Context, repo, msg string, extra ...string) (string, error) {
	n := 0
	if out, err := f.gitOut(ctx, repo, "rev-list", "--count", "HEAD"); err == nil {
		n, _ = strconv.Atoi(out)
	}
	if slices.Contains(extra, "--amend") {
		n-- // the amended commit keeps its place, and so its date
	}
	date := fmt.Sprintf("@%d +0000", baseTime+60*n)
	env := []string{
		"GIT_AUTHOR_NAME=fleetgen", "GIT_AUTHOR_EMAIL=fleetgen@localhost", "GIT_AUTHOR_DATE=" + date,
		"GIT_COMMITTER_NAME=fleetgen", "GIT_COMMITTER_EMAIL=fleetgen@localhost", "GIT_COMMITTER_DATE=" + date,
	}
	args := append([]string{"commit", "-q", "--no-verify", "-m", msg}, extra...)
	if _, err := f.run(ctx, repo, env, "git", gitArgs(args)...); err != nil {
		return "", err
	}
	return f.gitOut(ctx, repo, "rev-parse", "HEAD")
}

// gitArgs pins the settings a user's git configuration could otherwise
// change about what fleetgen makes (signing prompts, line endings, hooks).
func gitArgs(args []string) []string {
	return append([]string{
		"-c", "commit.gpgsign=false",
		"-c", "tag.gpgsign=false",
		"-c", "core.autocrlf=false",
		"-c", "core.hooksPath=/dev/null",
		"-c", "init.defaultBranch=main",
	}, args...)
}

func (f *Fleet) git(ctx context.Context, dir string, args ...string) error {
	_, err := f.run(ctx, dir, nil, "git", gitArgs(args)...)
	return err
}

func (f *Fleet) gitOut(ctx context.Context, dir string, args ...string) (string, error) {
	out, err := f.run(ctx, dir, nil, "git", gitArgs(args)...)
	return strings.TrimSpace(out), err
}

// nix runs nix with flakes enabled on the command line, so that fleetgen
// works whatever the machine's nix.conf says.
func (f *Fleet) nix(ctx context.Context, dir string, args ...string) error {
	_, err := f.nixOut(ctx, dir, args...)
	return err
}

func (f *Fleet) nixOut(ctx context.Context, dir string, args ...string) (string, error) {
	full := append([]string{"--extra-experimental-features", "nix-command flakes"}, args...)
	out, err := f.run(ctx, dir, nil, f.Nix, full...)
	return strings.TrimSpace(out), err
}

// run runs a command and returns its stdout; a failure carries the command
// and its stderr, which is where git and nix say what went wrong.
func (f *Fleet) run(ctx context.Context, dir string, env []string, name string, args ...string) (string, error) {
	cmd := exec.CommandContext(ctx, name, args...)
	cmd.Dir = dir
	cmd.Env = append(append([]string(nil), f.Env...), env...)
	var stdout, stderr bytes.Buffer
	cmd.Stdout = &stdout
	cmd.Stderr = &stderr
	if err := cmd.Run(); err != nil {
		return stdout.String(), fmt.Errorf("%s %s (in %s): %w: %s", name, strings.Join(args, " "), dir, err, strings.TrimSpace(stderr.String()))
	}
	return stdout.String(), nil
}

// buildEnv is os.Environ() plus extra, without the variables that would
// point git at some other repository than the one each command runs in.
func buildEnv(extra []string) []string {
	var env []string
	for _, kv := range os.Environ() {
		k, _, _ := strings.Cut(kv, "=")
		switch k {
		case "GIT_DIR", "GIT_WORK_TREE", "GIT_INDEX_FILE", "GIT_OBJECT_DIRECTORY",
			"GIT_ALTERNATE_OBJECT_DIRECTORIES", "GIT_COMMON_DIR", "GIT_NAMESPACE":
			continue
		}
		env = append(env, kv)
	}
	return append(env, extra...)
}

func versionString(n int) string { return fmt.Sprintf("fleetgen.%d", n) }

// hostSystem is the Nix system of the running machine, so that the hosts
// build here.
func hostSystem() string {
	arch := map[string]string{"amd64": "x86_64", "arm64": "aarch64", "386": "i686", "riscv64": "riscv64"}[runtime.GOARCH]
	if arch == "" {
		arch = runtime.GOARCH
	}
	return arch + "-" + runtime.GOOS
}

func checkHosts(hosts []Host) error {
	seen := map[string]bool{}
	for i, h := range hosts {
		if h.Name == "" {
			return fmt.Errorf("fleetgen: host %d has no name", i)
		}
		if seen[h.Name] {
			return fmt.Errorf("fleetgen: host %q is listed twice", h.Name)
		}
		if h.Work < 0 || h.Memory < 0 || h.BuildHang < 0 {
			return fmt.Errorf("fleetgen: host %q: negative work %d, memory %d or build hang %d", h.Name, h.Work, h.Memory, h.BuildHang)
		}
		seen[h.Name] = true
	}
	return nil
}

func encodeHosts(hosts []Host) (string, error) {
	if hosts == nil {
		hosts = []Host{} // "[]", not "null", which fromJSON would not map over
	}
	b, err := json.MarshalIndent(hosts, "", "  ")
	if err != nil {
		return "", fmt.Errorf("fleetgen: encoding hosts.json: %w", err)
	}
	return string(b) + "\n", nil
}

func cleanFlakeDir(d string) (string, error) {
	if d == "" {
		return ".", nil
	}
	c := path.Clean(filepath.ToSlash(d))
	if path.IsAbs(c) || c == ".." || strings.HasPrefix(c, "../") {
		return "", fmt.Errorf("fleetgen: FlakeDir %q is not a directory inside the repository", d)
	}
	return c, nil
}

// emptyDir creates dir if missing and insists that it is empty, because
// Generate must never mix a fleet into someone's files.
func emptyDir(dir string) error {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return fmt.Errorf("fleetgen: creating %s: %w", dir, err)
	}
	entries, err := os.ReadDir(dir)
	if err != nil {
		return fmt.Errorf("fleetgen: reading %s: %w", dir, err)
	}
	if len(entries) > 0 {
		return fmt.Errorf("fleetgen: %s is not empty", dir)
	}
	return nil
}

// writeFiles writes files (slash-separated paths relative to root).
func writeFiles(root string, files map[string]string) error {
	for name, content := range files {
		p := filepath.Join(root, filepath.FromSlash(name))
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			return err
		}
		if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
			return err
		}
	}
	return nil
}
