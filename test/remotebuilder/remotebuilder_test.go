//go:build linux

// Package remotebuilder_test drives `ringflow build` with build.builders
// pointing at a real remote Nix builder: sshd in another Debian root with
// its own Nix and its own store (scripts/nix-builder.sh), on 127.0.0.1,
// reached as ssh-ng://. With build.jobs 0 nothing may build here: every
// host must be built there, its output copied back, and the evidence must
// name where.
//
// The builder root is $RINGFLOW_BUILDER_ROOT, or the trixie root of
// scripts/nix-chroot.sh (Nix 2.26) when that is made. `make test` makes it
// first; the Nix matrix runs this package again in each root with the
// other root as the builder.
package remotebuilder_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/ringflow/ringflow/test/testenv"

	"github.com/ringflow/ringflow/pkg/fleetgen"
)

const nixConfig = "experimental-features = nix-command flakes\nsubstituters =\nsandbox = false"

// alias is the builder's name in the ssh config the tests write, and so in
// build.builders and in the evidence.
const alias = "ringflow-builder"

// repoRoot is this repository: the test runs in test/remotebuilder.
func repoRoot(t *testing.T) string {
	t.Helper()
	dir, err := filepath.Abs(filepath.Join("..", ".."))
	if err != nil {
		t.Fatal(err)
	}
	return dir
}

// builderRoot finds the Debian root to run the builder in; it skips the
// test (fails it under CI) when there is none or it cannot be entered.
func builderRoot(t *testing.T) string {
	t.Helper()
	if testing.Short() {
		t.Skip("remote builder tests skipped in -short mode")
	}
	miss := func(format string, args ...any) {
		t.Helper()
		if os.Getenv("CI") != "" {
			t.Fatalf(format+" but CI is set", args...)
		}
		t.Skipf(format, args...)
	}
	if os.Geteuid() != 0 {
		miss("the builder root needs root to enter (unshare, pivot_root)")
	}
	for _, tool := range []string{"nix", "git", "ssh", "ssh-keygen", "unshare"} {
		if _, err := exec.LookPath(tool); err != nil {
			miss("needs %s", tool)
		}
	}
	root := os.Getenv("RINGFLOW_BUILDER_ROOT")
	if root == "" {
		out, err := exec.Command(filepath.Join(repoRoot(t), "scripts", "nix-chroot.sh"), "path", "trixie").Output()
		if err != nil {
			t.Fatalf("scripts/nix-chroot.sh path trixie: %v", err)
		}
		root = strings.TrimSpace(string(out))
		if _, err := os.Stat(filepath.Join(root, ".ringflow-ready")); err != nil {
			miss("no builder root: make it with scripts/nix-chroot.sh setup trixie, or set RINGFLOW_BUILDER_ROOT")
		}
	}
	for _, f := range []string{"usr/sbin/sshd", "usr/bin/nix-daemon"} {
		if _, err := os.Stat(filepath.Join(root, f)); err != nil {
			miss("builder root %s has no /%s", root, f)
		}
	}
	return root
}

// builder is a running remote builder and the ssh config that reaches it.
type builder struct {
	Root      string // its Debian root: its store is Root/nix/store
	SSHConfig string // an ssh config with Host ringflow-builder
	Port      int
}

// startBuilder runs scripts/nix-builder.sh in root on a free port until the
// test ends, with features added to its system-features, and writes the
// client's ssh config, key and known_hosts.
func startBuilder(t *testing.T, root string, features ...string) *builder {
	t.Helper()
	dir := t.TempDir()
	for _, k := range []string{"host_key", "client_key"} {
		if out, err := exec.Command("ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-C", k, "-f", filepath.Join(dir, k)).CombinedOutput(); err != nil {
			t.Fatalf("ssh-keygen: %v\n%s", err, out)
		}
	}
	bdir := filepath.Join(dir, "builder")
	if err := os.Mkdir(bdir, 0o700); err != nil {
		t.Fatal(err)
	}
	copyFile(t, filepath.Join(dir, "host_key"), filepath.Join(bdir, "host_key"), 0o600)
	copyFile(t, filepath.Join(dir, "client_key.pub"), filepath.Join(bdir, "authorized_keys"), 0o600)
	hostPub, err := os.ReadFile(filepath.Join(dir, "host_key.pub"))
	if err != nil {
		t.Fatal(err)
	}
	b := &builder{Root: root, SSHConfig: filepath.Join(dir, "ssh_config")}
	for try := 0; ; try++ {
		b.Port = testenv.FreePort(t)
		log := &testenv.Buffer{}
		cmd := exec.Command(filepath.Join(repoRoot(t), "scripts", "nix-builder.sh"), append([]string{root, bdir, strconv.Itoa(b.Port)}, features...)...)
		cmd.Stdout, cmd.Stderr = log, log
		cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		exited := make(chan error, 1)
		go func() { exited <- cmd.Wait() }()
		if err := waitListening(log, exited); err != nil {
			if try < 3 && strings.Contains(log.String(), "Address already in use") {
				continue
			}
			t.Fatalf("the builder did not start: %v\n%s", err, log.String())
		}
		t.Cleanup(func() {
			syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL)
			<-exited
			if t.Failed() {
				t.Logf("builder log:\n%s", log.String())
			}
		})
		break
	}
	known := filepath.Join(dir, "known_hosts")
	if err := os.WriteFile(known, fmt.Appendf(nil, "[127.0.0.1]:%d %s", b.Port, hostPub), 0o600); err != nil {
		t.Fatal(err)
	}
	cfg := fmt.Sprintf("Host %s\n  HostName 127.0.0.1\n  Port %d\n  User root\n  IdentityFile %s\n  IdentitiesOnly yes\n"+
		"  UserKnownHostsFile %s\n  GlobalKnownHostsFile /dev/null\n  StrictHostKeyChecking yes\n  BatchMode yes\n",
		alias, b.Port, filepath.Join(dir, "client_key"), known)
	if err := os.WriteFile(b.SSHConfig, []byte(cfg), 0o600); err != nil {
		t.Fatal(err)
	}
	return b
}

func copyFile(t *testing.T, from, to string, mode os.FileMode) {
	t.Helper()
	b, err := os.ReadFile(from)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(to, b, mode); err != nil {
		t.Fatal(err)
	}
}

// waitListening waits for sshd to say it listens. Probing the port instead
// would be a connection that ends before it logs in, which OpenSSH 9.8+
// holds against the source address.
func waitListening(log *testenv.Buffer, exited <-chan error) error {
	deadline := time.Now().Add(30 * time.Second)
	for time.Now().Before(deadline) {
		select {
		case err := <-exited:
			return fmt.Errorf("exited: %v", err)
		default:
		}
		if strings.Contains(log.String(), "Server listening on 127.0.0.1") {
			return nil
		}
		time.Sleep(50 * time.Millisecond)
	}
	return errors.New("not listening after 30 s")
}

// fleet is a generated fleet whose ringflow builds through the builder.
type fleet struct {
	t   *testing.T
	Dir string
	env []string
	bin string
}

// newFleet generates lab-1, web-1, web-2 and extra, and sets build.jobs 0
// and build.builders.
func newFleet(t *testing.T, b *builder, builders string, extra ...fleetgen.Host) *fleet {
	t.Helper()
	root := t.TempDir()
	home := filepath.Join(root, "home")
	if err := os.MkdirAll(home, 0o755); err != nil {
		t.Fatal(err)
	}
	gitconfig := "[user]\n\tname = ringflow test\n\temail = test@ringflow.invalid\n[init]\n\tdefaultBranch = main\n"
	if err := os.WriteFile(filepath.Join(home, ".gitconfig"), []byte(gitconfig), 0o644); err != nil {
		t.Fatal(err)
	}
	var env []string
	for _, kv := range os.Environ() {
		k, _, _ := strings.Cut(kv, "=")
		switch k {
		case "HOME", "XDG_CONFIG_HOME", "XDG_CACHE_HOME", "NIX_SSHOPTS", "GIT_DIR", "GIT_WORK_TREE", "GIT_CONFIG_GLOBAL":
			continue
		}
		env = append(env, kv)
	}
	env = append(env, "HOME="+home, "XDG_CACHE_HOME="+filepath.Join(root, "cache"), "GIT_CONFIG_NOSYSTEM=1", "NO_COLOR=1",
		// How an operator points nix's ssh at a builder's settings
		// without touching root's ~/.ssh/config.
		"NIX_SSHOPTS=-F "+b.SSHConfig)
	if os.Getenv("NIX_CONFIG") == "" {
		env = append(env, "NIX_CONFIG="+nixConfig)
	}
	// Fresh derivations on both stores: nothing is valid before the build.
	fg, err := fleetgen.Generate(context.Background(), fleetgen.Options{
		Dir:   filepath.Join(root, "f"),
		Hosts: append([]fleetgen.Host{{Name: "lab-1"}, {Name: "web-1"}, {Name: "web-2"}}, extra...),
		Env:   env,
		Salt:  fmt.Sprintf("remote-%s-%d", root, time.Now().UnixNano()),
	})
	if err != nil {
		t.Fatal(err)
	}
	cfg := fmt.Sprintf("rings:\n  - name: canary\n    hosts: [lab-1]\n  - name: stable\n    hosts: [\"*\"]\nbuild:\n  jobs: 0\n  builders: %q\n", builders)
	if err := os.WriteFile(filepath.Join(fg.Repo, "ringflow.yaml"), []byte(cfg), 0o644); err != nil {
		t.Fatal(err)
	}
	bin := filepath.Join(root, "ringflow")
	if out, err := exec.Command("go", "build", "-o", bin, "github.com/ringflow/ringflow/cmd/ringflow").CombinedOutput(); err != nil {
		t.Fatalf("building ringflow: %v\n%s", err, out)
	}
	return &fleet{t: t, Dir: fg.Repo, env: env, bin: bin}
}

// run runs a command in the fleet's clone and returns its stdout, stderr
// and exit code.
func (f *fleet) run(name string, args ...string) (stdout, stderr string, code int) {
	f.t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, name, args...)
	cmd.Dir, cmd.Env = f.Dir, f.env
	var so, se bytes.Buffer
	cmd.Stdout, cmd.Stderr = &so, &se
	err := cmd.Run()
	var ee *exec.ExitError
	switch {
	case errors.As(err, &ee):
		code = ee.ExitCode()
	case err != nil:
		f.t.Fatalf("%s %s: %v", name, strings.Join(args, " "), err)
	}
	f.t.Logf("%s %s: exit %d\nstdout:\n%s\nstderr:\n%s", filepath.Base(name), strings.Join(args, " "), code, so.String(), se.String())
	return so.String(), se.String(), code
}

// buildReport is what `ringflow build -o json` says.
type buildReport struct {
	Commit string        `json:"commit"`
	Hosts  []hostOutcome `json:"hosts"`
}

// build runs `ringflow build -o json`, fails the test unless it exits
// want, and returns its report and stderr.
func (f *fleet) build(want int) (buildReport, string) {
	f.t.Helper()
	stdout, stderr, code := f.run(f.bin, "build", "-o", "json")
	if code != want {
		f.t.Fatalf("ringflow build exited %d, want %d", code, want)
	}
	var rep buildReport
	if err := json.Unmarshal([]byte(stdout), &rep); err != nil {
		f.t.Fatalf("build's JSON: %v", err)
	}
	return rep, stderr
}

type hostOutcome struct {
	Host         string  `json:"host"`
	Status       string  `json:"status"`
	Out          string  `json:"out"`
	BuildSeconds float64 `json:"build_seconds"`
	Builder      string  `json:"builder"`
	Reused       bool    `json:"reused"`
	Error        string  `json:"error"`
}

func currentSystem(t *testing.T) string {
	t.Helper()
	out, err := exec.Command("nix", "--extra-experimental-features", "nix-command", "eval", "--impure", "--raw", "--expr", "builtins.currentSystem").Output()
	if err != nil {
		t.Fatalf("nix eval builtins.currentSystem: %v", err)
	}
	return string(out)
}

// TestBuildOnRemoteBuilder: with build.jobs 0 and build.builders naming the
// builder, every host is built there (its output lands in the builder's own
// store), copied back here, green, and the report and the evidence name the
// builder. A second build reuses what the evidence says.
func TestBuildOnRemoteBuilder(t *testing.T) {
	root := builderRoot(t)
	b := startBuilder(t, root)
	f := newFleet(t, b, fmt.Sprintf("ssh-ng://%s %s - 2 1", alias, currentSystem(t)))

	rep, _ := f.build(0)
	if len(rep.Hosts) != 3 {
		t.Fatalf("report has %d hosts, want 3", len(rep.Hosts))
	}
	want := "ssh-ng://" + alias
	for _, h := range rep.Hosts {
		if h.Status != "green" || h.Reused || h.Builder != want || h.BuildSeconds <= 0 {
			t.Errorf("%s: status %s, built on %q, reused %v, build %.2fs; want green, built on %s", h.Host, h.Status, h.Builder, h.Reused, h.BuildSeconds, want)
		}
		// Built into the builder's own store ...
		if _, err := os.Stat(filepath.Join(b.Root, h.Out)); err != nil {
			t.Errorf("%s: output not in the builder's store: %v", h.Host, err)
		}
		// ... and copied back, valid here.
		if out, err := exec.Command("nix-store", "--check-validity", h.Out).CombinedOutput(); err != nil {
			t.Errorf("%s: output %s not valid here: %v %s", h.Host, h.Out, err, out)
		}
	}

	// The evidence names the builder of each host.
	ev := f.evidenceHosts(rep.Commit)
	for _, h := range []string{"lab-1", "web-1", "web-2"} {
		if e := ev[h]; e.Status != "green" || e.Builder != want {
			t.Errorf("evidence of %s: %+v, want green built on %s", h, e, want)
		}
	}

	// Said in the table too; a second build reuses the evidence.
	stdout, _, code := f.run(f.bin, "build")
	if code != 0 || !strings.Contains(stdout, "reused") {
		t.Errorf("second build: exit %d, table without reuse:\n%s", code, stdout)
	}
}

// TestBuildOnUnreachableBuilder: when the only builder cannot be reached and
// nothing may build here, the build fails (exit 1: the hosts are not red,
// the builder is out of reach), names the builder, nix's reason and the
// next command, and records no evidence.
func TestBuildOnUnreachableBuilder(t *testing.T) {
	root := builderRoot(t)
	b := startBuilder(t, root)
	// A builder name the ssh config does not know: ssh cannot resolve it.
	f := newFleet(t, b, fmt.Sprintf("ssh-ng://no-such-builder.invalid %s - 2 1", currentSystem(t)))

	_, stderr, code := f.run(f.bin, "build")
	if code != 1 {
		t.Fatalf("ringflow build exited %d, want 1", code)
	}
	for _, want := range []string{
		"no remote builder took the build of 3 host(s): lab-1, web-1, web-2 (not recorded: neither red nor green) (ssh-ng://no-such-builder.invalid), and build.jobs is 0",
		"no-such-builder.invalid", // nix's own reason, from ssh
		"nix store ping --store ssh-ng://no-such-builder.invalid",
	} {
		if !strings.Contains(stderr, want) {
			t.Errorf("stderr lacks %q", want)
		}
	}
	if strings.Count(stderr, "no-such-builder.invalid") < 3 {
		t.Errorf("stderr does not carry nix's reason naming the builder:\n%s", stderr)
	}
	if out, _, _ := f.run("git", "notes", "--ref=refs/notes/ringflow/evidence", "list"); strings.TrimSpace(out) != "" {
		t.Errorf("evidence recorded after a build nobody ran: %s", out)
	}
}

// evidenceHosts is the evidence note at commit, by host; none when there is
// no note.
func (f *fleet) evidenceHosts(commit string) map[string]struct{ Status, Builder string } {
	f.t.Helper()
	note, _, code := f.run("git", "notes", "--ref=refs/notes/ringflow/evidence", "show", commit)
	if code != 0 {
		return nil
	}
	var ev struct {
		Hosts map[string]struct{ Status, Builder string } `json:"hosts"`
	}
	if err := json.Unmarshal([]byte(note), &ev); err != nil {
		f.t.Fatalf("evidence note: %v\n%s", err, note)
	}
	return ev.Hosts
}

// TestHostNoBuilderTakes: a host whose toplevel needs a feature the only
// builder lacks, while nothing may build here. The other hosts are built
// there and recorded green; that host is reported not-built and left
// unrecorded (neither red nor green), and the build exits 1 naming the
// host, the builder, nix's words and the command that builds it again.
// Once the builders line offers the feature (the builder has it), that
// command builds it there.
func TestHostNoBuilderTakes(t *testing.T) {
	root := builderRoot(t)
	const feature = "ringflow-big"
	b := startBuilder(t, root, feature)
	machine := fmt.Sprintf("ssh-ng://%s %s - 2 1", alias, currentSystem(t))
	f := newFleet(t, b, machine, fleetgen.Host{Name: "big-1", Features: []string{feature}})

	rep, stderr := f.build(1)
	want := "ssh-ng://" + alias
	for _, h := range rep.Hosts {
		switch {
		case h.Host == "big-1" && (h.Status != "not-built" || h.Builder != ""):
			t.Errorf("big-1: status %s, built on %q; want not-built, nowhere", h.Status, h.Builder)
		case h.Host != "big-1" && (h.Status != "green" || h.Builder != want):
			t.Errorf("%s: status %s, built on %q; want green on %s", h.Host, h.Status, h.Builder, want)
		}
	}
	for _, w := range []string{"no remote builder took the build of 1 host(s): big-1", "(" + want + ")", "system features", "ringflow build --host big-1"} {
		if !strings.Contains(stderr, w) {
			t.Errorf("stderr lacks %q", w)
		}
	}
	ev := f.evidenceHosts(rep.Commit)
	if _, ok := ev["big-1"]; ok || len(ev) != 3 {
		t.Errorf("evidence %v, want lab-1, web-1 and web-2 only", ev)
	}

	// The builder offers the feature now: the command the error named
	// builds big-1 there, and the evidence is complete.
	cfg := fmt.Sprintf("rings:\n  - name: canary\n    hosts: [lab-1]\n  - name: stable\n    hosts: [\"*\"]\nbuild:\n  jobs: 0\n  builders: %q\n", machine+" "+feature)
	if err := os.WriteFile(filepath.Join(f.Dir, "ringflow.yaml"), []byte(cfg), 0o644); err != nil {
		t.Fatal(err)
	}
	if _, _, code := f.run(f.bin, "build", "--host", "big-1"); code != 0 {
		t.Fatalf("ringflow build --host big-1 exited %d", code)
	}
	if e := f.evidenceHosts(rep.Commit)["big-1"]; e.Status != "green" || e.Builder != want {
		t.Errorf("evidence of big-1 after the builder took it: %+v, want green on %s", e, want)
	}
}

// TestBuilderRootIDsOwn: the builder root's build users and sshd have user
// ids nobody here has. The roots share this machine's kernel; Nix kills every
// process of a build user's id before and after each build, and so killed
// the sessions of a builder whose sshd had the id of a build user here
// (scripts/nix-chroot.sh gives each root ids of its own).
func TestBuilderRootIDsOwn(t *testing.T) {
	root := builderRoot(t)
	here := map[string]string{} // uid → user, on this machine (or root)
	for _, u := range passwd(t, "/etc/passwd") {
		here[u[1]] = u[0]
	}
	for _, u := range passwd(t, filepath.Join(root, "etc", "passwd")) {
		if name, uid := u[0], u[1]; name == "sshd" || strings.HasPrefix(name, "nixbld") {
			if other, ok := here[uid]; ok {
				t.Errorf("%s of the builder root has uid %s, as %s here: make the roots again (scripts/nix-chroot.sh setup)", name, uid, other)
			}
		}
	}
}

// passwd is each entry's name and uid.
func passwd(t *testing.T, file string) [][2]string {
	t.Helper()
	b, err := os.ReadFile(file)
	if err != nil {
		t.Fatal(err)
	}
	var users [][2]string
	for _, l := range strings.Split(string(b), "\n") {
		if f := strings.Split(l, ":"); len(f) > 2 {
			users = append(users, [2]string{f[0], f[2]})
		}
	}
	return users
}
