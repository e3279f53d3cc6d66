package nix

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

func TestParseVersion(t *testing.T) {
	tests := []struct {
		in     string
		want   string
		modern bool
	}{
		{"nix (Nix) 2.8.0\n", "nix 2.8.0", false},
		{"nix (Nix) 2.18.9", "nix 2.18.9", false},
		{"nix (Nix) 2.19.0", "nix 2.19.0", true},
		{"nix (Nix) 2.24.10\nSystem type: x86_64-linux", "nix 2.24.10", true},
		{"nix (Lix, like Nix) 2.91.1", "lix 2.91.1", true},
		{"nix (Nix) 3.0", "nix 3.0.0", true},
		{"nix (Nix) 2.24.10pre2024", "nix 2.24.10", true},
		{"nix (Determinate Nix 3.6.2) 2.29.0", "nix 2.29.0", true},
	}
	for _, tt := range tests {
		v, err := ParseVersion(tt.in)
		if err != nil {
			t.Fatalf("ParseVersion(%q): %v", tt.in, err)
		}
		if v.String() != tt.want || v.Modern() != tt.modern {
			t.Errorf("ParseVersion(%q) = %s modern=%v, want %s modern=%v", tt.in, v, v.Modern(), tt.want, tt.modern)
		}
	}
	if _, err := ParseVersion("command not found"); err == nil {
		t.Error("ParseVersion of garbage: want an error")
	}
}

func TestFlakeRefString(t *testing.T) {
	rev := strings.Repeat("a", 40)
	tests := []struct {
		ref  FlakeRef
		want string
	}{
		{FlakeRef{Repo: "/srv/fleet", Rev: rev}, "git+file:///srv/fleet?rev=" + rev},
		{FlakeRef{Repo: "/srv/fleet", Rev: rev, Dir: "."}, "git+file:///srv/fleet?rev=" + rev},
		{FlakeRef{Repo: "/srv/fleet", Rev: rev, Dir: "nix/"}, "git+file:///srv/fleet?dir=nix&rev=" + rev},
		{FlakeRef{Repo: "/srv/fleet.git", Rev: rev, Ref: "refs/heads/dev"}, "git+file:///srv/fleet.git?ref=refs%2Fheads%2Fdev&rev=" + rev},
		{FlakeRef{Repo: "/srv/my fleet", Rev: rev}, "git+file:///srv/my%20fleet?rev=" + rev},
	}
	for _, tt := range tests {
		if got := tt.ref.String(); got != tt.want {
			t.Errorf("%+v.String() = %q, want %q", tt.ref, got, tt.want)
		}
	}
}

func TestFlakeArgsFixedFlagsFirst(t *testing.T) {
	n := New(Options{ExtraArgs: []string{"--option", "cores", "1"}})
	got := n.flakeArgs("eval", "--json", "x#y")
	want := []string{"eval", "--extra-experimental-features", "nix-command flakes", "--no-update-lock-file", "--json", "x#y", "--option", "cores", "1"}
	if !slices.Equal(got, want) {
		t.Errorf("flakeArgs = %q, want %q", got, want)
	}
}

// requireNix skips without nix, but fails under CI so a missing install
// cannot pass as a skip.
func requireNix(t *testing.T) []string {
	t.Helper()
	if _, err := exec.LookPath("nix"); err != nil {
		if os.Getenv("CI") != "" {
			t.Fatal("nix is not installed but CI is set")
		}
		t.Skip("nix not installed")
	}
	env := os.Environ()
	if os.Getenv("NIX_CONFIG") == "" {
		env = append(env, "NIX_CONFIG=experimental-features = nix-command flakes\nsubstituters =\nsandbox = false")
	}
	return env
}

func git(t *testing.T, dir string, args ...string) string {
	t.Helper()
	cmd := exec.Command("git", append([]string{"-C", dir, "-c", "user.name=t", "-c", "user.email=t@t", "-c", "init.defaultBranch=main"}, args...)...)
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("git %q: %v\n%s", args, err, out)
	}
	return strings.TrimSpace(string(out))
}

func TestHostNamesRealNix(t *testing.T) {
	env := requireNix(t)
	dir := t.TempDir()
	git(t, dir, "init", "-q")
	flake := `{ outputs = { self }: { nixosConfigurations = { "web.example" = {}; "Lab-1" = {}; "a\"b" = {}; }; }; }`
	if err := os.MkdirAll(filepath.Join(dir, "sub"), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "sub", "flake.nix"), []byte(flake), 0o644); err != nil {
		t.Fatal(err)
	}
	git(t, dir, "add", ".")
	git(t, dir, "commit", "-qm", "fleet")
	rev := git(t, dir, "rev-parse", "HEAD")
	// A dirty work tree must not matter: the flake is read from git.
	if err := os.WriteFile(filepath.Join(dir, "sub", "flake.nix"), []byte("broken {"), 0o644); err != nil {
		t.Fatal(err)
	}
	n := New(Options{Env: env})
	got, err := n.HostNames(context.Background(), FlakeRef{Repo: dir, Rev: rev, Dir: "sub"})
	if err != nil {
		t.Fatal(err)
	}
	want := []string{"Lab-1", `a"b`, "web.example"}
	if !slices.Equal(got, want) {
		t.Errorf("HostNames = %q, want %q", got, want)
	}
	if _, err := n.HostNames(context.Background(), FlakeRef{Repo: dir, Rev: rev}); err == nil || !strings.Contains(err.Error(), "list hosts") {
		t.Errorf("HostNames without the flake dir: err = %v, want a list hosts error", err)
	}
	// No nixosConfigurations at all, and one that is not a set: ringflow's
	// own words, whatever the Nix version.
	for _, tt := range []struct{ flake, want string }{
		{`{ outputs = { self }: { packages = {}; }; }`, "has no nixosConfigurations"},
		{`{ outputs = { self }: { nixosConfigurations = [ 1 ]; }; }`, "nixosConfigurations is a list, not an attribute set of hosts"},
		{`{ outputs = { self }: { nixosConfigurations = throw "no hosts today"; }; }`, "no hosts today"},
	} {
		if err := os.WriteFile(filepath.Join(dir, "sub", "flake.nix"), []byte(tt.flake), 0o644); err != nil {
			t.Fatal(err)
		}
		git(t, dir, "commit", "-qam", "fleet")
		_, err := n.HostNames(context.Background(), FlakeRef{Repo: dir, Rev: git(t, dir, "rev-parse", "HEAD"), Dir: "sub"})
		if err == nil || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("HostNames of %s: err = %v, want %q", tt.flake, err, tt.want)
		}
	}
	v, err := n.Version(context.Background())
	if err != nil || v.Major < 2 {
		t.Errorf("Version = %v, %v", v, err)
	}
}

func TestNoBuilderError(t *testing.T) {
	e := &NoBuilderError{
		Builders: "ssh-ng://a x86_64-linux - 2 1; ssh://b aarch64-linux\n# a comment\n\nssh-ng://c",
		Nix: "ssh: connect to host a port 22: Connection refused\n" +
			"Failed to find a machine for remote build!\n(systems, maxjobs, supportedFeatures, mandatoryFeatures)\n(x86_64-linux, 2, , )\n" +
			"error: unable to start any build",
	}
	if got, want := e.Machines(), []string{"ssh-ng://a", "ssh://b", "ssh-ng://c"}; !slices.Equal(got, want) {
		t.Errorf("Machines = %q, want %q", got, want)
	}
	if got, want := e.Reason(), "ssh: connect to host a port 22: Connection refused\nerror: unable to start any build"; got != want {
		t.Errorf("Reason = %q, want %q", got, want)
	}
	// Nothing that reads as an error: the last lines, as they are.
	e = &NoBuilderError{Nix: "one\ntwo"}
	if got := e.Reason(); got != "one\ntwo" || len(e.Machines()) != 0 {
		t.Errorf("Reason = %q, Machines = %q", got, e.Machines())
	}
}
