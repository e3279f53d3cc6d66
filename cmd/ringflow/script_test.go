package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/rogpeppe/go-internal/testscript"

	"github.com/ringflow/ringflow/pkg/cli"
	"github.com/ringflow/ringflow/pkg/fleetgen"
)

func TestMain(m *testing.M) {
	testscript.Main(m, map[string]func(){
		"ringflow": func() { os.Exit(cli.Main(os.Args[1:])) },
	})
}

// nixConfig is what every test's nix runs with: flakes on, no binary
// caches (there is no network), no sandbox (builders use /bin/sh).
const nixConfig = "experimental-features = nix-command flakes\nsubstituters =\nsandbox = false"

func TestScript(t *testing.T) {
	if testing.Short() {
		t.Skip("end-to-end scripts skipped in -short mode")
	}
	for _, tool := range []string{"nix", "git", "gpg"} {
		if _, err := exec.LookPath(tool); err != nil && os.Getenv("CI") != "" {
			t.Fatalf("%s is not installed but CI is set: a skip must not hide the end-to-end suite", tool)
		}
	}
	testscript.Run(t, testscript.Params{
		Dir:                 "testdata/script",
		RequireExplicitExec: true,
		RequireUniqueNames:  true,
		UpdateScripts:       os.Getenv("RINGFLOW_UPDATE") == "1",
		Setup:               setup,
		Cmds: map[string]func(ts *testscript.TestScript, neg bool, args []string){
			"mkfleet":  cmdMkfleet,
			"exitcode": cmdExitcode,
			"pty":      cmdPty,
			"fits":     cmdFits,
		},
	})
}

// setup gives every script a home with a git identity, and the nix
// settings and daemon variables from the outer environment.
func setup(env *testscript.Env) error {
	home := filepath.Join(env.WorkDir, "home")
	if err := os.MkdirAll(home, 0o755); err != nil {
		return err
	}
	gitconfig := "[user]\n\tname = ringflow test\n\temail = test@ringflow.invalid\n[init]\n\tdefaultBranch = main\n[advice]\n\tdetachedHead = false\n"
	if err := os.WriteFile(filepath.Join(home, ".gitconfig"), []byte(gitconfig), 0o644); err != nil {
		return err
	}
	env.Setenv("HOME", home)
	env.Setenv("XDG_CONFIG_HOME", filepath.Join(home, ".config"))
	env.Setenv("XDG_CACHE_HOME", filepath.Join(env.WorkDir, ".cache"))
	env.Setenv("NO_COLOR", "1")
	for _, kv := range os.Environ() {
		if k, _, _ := strings.Cut(kv, "="); strings.HasPrefix(k, "NIX_") {
			env.Setenv(k, kv[len(k)+1:])
		}
	}
	if os.Getenv("NIX_CONFIG") == "" {
		env.Setenv("NIX_CONFIG", nixConfig)
	}
	return nil
}

// mkfleet DIR [-flake-dir D] [-eval-error HOST] [-eval-assert HOST] [-build-fail HOST] [-build-hang HOST=SECONDS] [-sub-flake HOST] HOST...
// generates a fleet under DIR: DIR/nixpkgs (a stand-in input),
// DIR/origin.git (the bare remote) and DIR/fleet (a clone on branch dev).
// -sub-flake HOST gives HOST a sub-flake hosts/HOST (input HOST-flake)
// with its own input DIR/nixpkgs-HOST. -build-hang HOST=SECONDS makes
// HOST's build print a line, then sleep that long.
func cmdMkfleet(ts *testscript.TestScript, neg bool, args []string) {
	if neg {
		ts.Fatalf("unsupported: ! mkfleet")
	}
	fs := flag.NewFlagSet("mkfleet", flag.ContinueOnError)
	flakeDir := fs.String("flake-dir", "", "the flake's directory in the repository")
	var evalErr, evalAssert, buildFail, subFlakes multiFlag
	fs.Var(&subFlakes, "sub-flake", "host with a sub-flake of its own")
	fs.Var(&evalErr, "eval-error", "host whose evaluation throws")
	fs.Var(&evalAssert, "eval-assert", "host whose evaluation fails an assertion")
	fs.Var(&buildFail, "build-fail", "host whose build fails")
	var buildHang multiFlag
	fs.Var(&buildHang, "build-hang", "HOST=SECONDS: host whose build sleeps")
	if err := fs.Parse(args); err != nil || fs.NArg() < 2 {
		ts.Fatalf("usage: mkfleet DIR [-flake-dir D] [-eval-error HOST] [-eval-assert HOST] [-build-fail HOST] [-build-hang HOST=SECONDS] [-sub-flake HOST] HOST...")
	}
	hang := map[string]int{}
	for _, kv := range buildHang {
		name, secs, _ := strings.Cut(kv, "=")
		n, err := strconv.Atoi(secs)
		if err != nil || n <= 0 {
			ts.Fatalf("mkfleet: -build-hang %q is not HOST=SECONDS", kv)
		}
		hang[name] = n
	}
	var hosts []fleetgen.Host
	for _, name := range fs.Args()[1:] {
		h := fleetgen.Host{Name: name, BuildFail: buildFail.has(name), FailAssertion: evalAssert.has(name), BuildHang: hang[name]}
		if evalErr.has(name) {
			h.EvalError = "host " + name + " is broken on purpose"
		}
		hosts = append(hosts, h)
	}
	var env []string
	for _, k := range []string{"HOME", "XDG_CACHE_HOME", "NIX_CONFIG"} {
		env = append(env, k+"="+ts.Getenv(k))
	}
	// A fresh salt per fleet: otherwise outputs built by an earlier run are
	// valid in the store already and every build would report them reused.
	salt := fmt.Sprintf("%s-%d", ts.MkAbs(fs.Arg(0)), time.Now().UnixNano())
	_, err := fleetgen.Generate(context.Background(), fleetgen.Options{
		Dir: ts.MkAbs(fs.Arg(0)), Hosts: hosts, FlakeDir: *flakeDir, Env: env, Salt: salt, SubFlakes: subFlakes,
	})
	ts.Check(err)
}

type multiFlag []string

func (m *multiFlag) String() string     { return strings.Join(*m, ",") }
func (m *multiFlag) Set(v string) error { *m = append(*m, v); return nil }
func (m multiFlag) has(v string) bool {
	for _, x := range m {
		if x == v {
			return true
		}
	}
	return false
}

// exitcode N PROG ARGS... runs PROG and fails unless it exits N; its
// stdout and stderr stay assertable. testscript itself only tells zero
// from non-zero.
func cmdExitcode(ts *testscript.TestScript, neg bool, args []string) {
	if neg {
		ts.Fatalf("unsupported: ! exitcode")
	}
	if len(args) < 2 {
		ts.Fatalf("usage: exitcode N PROG ARGS...")
	}
	want, err := strconv.Atoi(args[0])
	if err != nil {
		ts.Fatalf("exitcode: %q is not a number", args[0])
	}
	got := 0
	var ee *exec.ExitError
	if err := ts.Exec(args[1], args[2:]...); errors.As(err, &ee) {
		got = ee.ExitCode()
	} else {
		ts.Check(err)
	}
	if got != want {
		ts.Fatalf("%s exited %d, want %d", args[1], got, want)
	}
}
