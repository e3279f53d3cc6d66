package main

import (
	"bytes"
	"errors"
	"flag"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/creack/pty"
	"github.com/rogpeppe/go-internal/testscript"
)

// ptyEnvKeys are the variables a command under pty gets from the script
// (testscript does not list its environment), besides every variable the
// test process itself has.
var ptyEnvKeys = []string{"HOME", "PATH", "PWD", "WORK", "TMPDIR", "XDG_CONFIG_HOME", "XDG_CACHE_HOME",
	"NO_COLOR", "CLICOLOR", "CLICOLOR_FORCE", "NIX_CONFIG", "USER", "LOGNAME", "EDITOR", "TERM", "COLUMNS",
	"GIT_AUTHOR_NAME", "GIT_AUTHOR_EMAIL", "GIT_COMMITTER_NAME", "GIT_COMMITTER_EMAIL"}

// pty [-cols N] [-rows N] [-exit N] PROG ARGS... runs PROG with its
// standard input, output and error on a pseudo-terminal of that size (80
// columns by default), as a person's terminal would: what it draws is the
// script's stdout (carriage returns before newlines removed), and it must
// exit N (0 by default). testscript's own ttyin leaves stdout on a pipe.
func cmdPty(ts *testscript.TestScript, neg bool, args []string) {
	if neg {
		ts.Fatalf("unsupported: ! pty (use -exit N)")
	}
	fs := flag.NewFlagSet("pty", flag.ContinueOnError)
	cols := fs.Int("cols", 80, "terminal columns")
	rows := fs.Int("rows", 40, "terminal rows")
	want := fs.Int("exit", 0, "the exit code PROG must give")
	if err := fs.Parse(args); err != nil || fs.NArg() < 1 {
		ts.Fatalf("usage: pty [-cols N] [-rows N] [-exit N] PROG ARGS...")
	}
	prog := lookPath(ts, fs.Arg(0))
	cmd := exec.Command(prog, fs.Args()[1:]...)
	cmd.Dir = ts.MkAbs(".")
	seen := map[string]bool{}
	for _, kv := range os.Environ() {
		k, _, _ := strings.Cut(kv, "=")
		seen[k] = true
	}
	for _, k := range ptyEnvKeys {
		seen[k] = true
	}
	for k := range seen {
		if v := ts.Getenv(k); v != "" {
			cmd.Env = append(cmd.Env, k+"="+v)
		}
	}
	cmd.Env = append(cmd.Env, "PWD="+cmd.Dir)
	f, err := pty.StartWithSize(cmd, &pty.Winsize{Cols: uint16(*cols), Rows: uint16(*rows)})
	ts.Check(err)
	var out bytes.Buffer
	_, err = io.Copy(&out, f)
	// Linux ends a pty whose other side closed with EIO: that is its EOF.
	if err != nil && !errors.Is(err, syscallEIO) {
		ts.Check(err)
	}
	f.Close()
	got := 0
	var ee *exec.ExitError
	if err := cmd.Wait(); errors.As(err, &ee) {
		got = ee.ExitCode()
	} else {
		ts.Check(err)
	}
	text := strings.ReplaceAll(out.String(), "\r\n", "\n")
	ts.Stdout().Write([]byte(text))
	if got != *want {
		ts.Fatalf("%s exited %d, want %d", fs.Arg(0), got, *want)
	}
}

func lookPath(ts *testscript.TestScript, name string) string {
	if strings.Contains(name, "/") {
		return ts.MkAbs(name)
	}
	for _, dir := range filepath.SplitList(ts.Getenv("PATH")) {
		p := filepath.Join(dir, name)
		if fi, err := os.Stat(p); err == nil && !fi.IsDir() && fi.Mode()&0o111 != 0 {
			return p
		}
	}
	ts.Fatalf("pty: %s is not on the script's PATH", name)
	return ""
}

var ansiEscape = regexp.MustCompile(`\x1b\[[0-9;?]*[A-Za-z]`)

// fits N checks that no line of the last command's stdout, colour codes
// and redraws (up to the last carriage return) left out, is wider than N
// columns: what a terminal of N columns shows without wrapping.
func cmdFits(ts *testscript.TestScript, neg bool, args []string) {
	if len(args) != 1 {
		ts.Fatalf("usage: [!] fits COLUMNS")
	}
	n, err := strconv.Atoi(args[0])
	if err != nil {
		ts.Fatalf("fits: %q is not a number", args[0])
	}
	var wide []string
	for _, line := range strings.Split(ts.ReadFile("stdout"), "\n") {
		if i := strings.LastIndex(line, "\r"); i >= 0 {
			line = line[i+1:]
		}
		line = ansiEscape.ReplaceAllString(line, "")
		if w := utf8.RuneCountInString(line); w > n {
			wide = append(wide, strconv.Itoa(w)+": "+line)
		}
	}
	switch {
	case len(wide) > 0 && !neg:
		ts.Fatalf("%d line(s) wider than %d columns:\n%s", len(wide), n, strings.Join(wide, "\n"))
	case len(wide) == 0 && neg:
		ts.Fatalf("no line is wider than %d columns", n)
	}
}
