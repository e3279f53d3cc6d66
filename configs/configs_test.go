// Package configs_test checks the packaging files, which nothing else
// builds here (nixpkgs cannot be fetched without network): flake.nix and
// nix/module.nix are parsed and evaluated against stubs of the few nixpkgs
// functions they use (testdata/stubs.nix); the vendorHash is recomputed; the
// systemd units go through systemd-analyze; the CI workflows are decoded.
//
// A missing nix-instantiate, systemd-analyze, go or bash skips its test,
// except under CI, where it fails, so a skip cannot hide a regression.
package configs_test

import (
	"bytes"
	"encoding/json"
	"errors"
	"go/ast"
	"go/parser"
	"go/token"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"regexp"
	"slices"
	"strings"
	"testing"

	"go.yaml.in/yaml/v3"
)

// root is the project root, seen from this package's directory.
const root = ".."

// need returns the path of a tool, skipping the test when it is missing
// (failing under CI).
func need(t *testing.T, tool string) string {
	t.Helper()
	path, err := exec.LookPath(tool)
	if err != nil {
		if os.Getenv("CI") != "" {
			t.Fatalf("%s is missing (CI is set, so this is not skipped): %v", tool, err)
		}
		t.Skipf("%s is missing: %v", tool, err)
	}
	return path
}

// run runs a command and returns its stdout; a failure fails the test with
// both outputs.
func run(t *testing.T, dir, name string, args ...string) []byte {
	t.Helper()
	out, errOut, err := runErr(dir, name, args...)
	if err != nil {
		t.Fatalf("%s %s: %v\nstdout:\n%s\nstderr:\n%s", name, strings.Join(args, " "), err, out, errOut)
	}
	return out
}

func runErr(dir, name string, args ...string) (stdout, stderr []byte, err error) {
	var o, e bytes.Buffer
	cmd := exec.Command(name, args...)
	cmd.Dir = dir
	cmd.Stdout, cmd.Stderr = &o, &e
	err = cmd.Run()
	return o.Bytes(), e.Bytes(), err
}

// evalJSON evaluates a Nix file strictly and decodes the JSON into v.
func evalJSON(t *testing.T, file string, v any) {
	t.Helper()
	nix := need(t, "nix-instantiate")
	out := run(t, ".", nix, "--eval", "--strict", "--json", file)
	if err := json.Unmarshal(out, v); err != nil {
		t.Fatalf("%s: decoding the evaluation: %v\n%s", file, err, out)
	}
}

// bashSyntax checks a shell script with bash -n.
func bashSyntax(t *testing.T, what, script string) {
	t.Helper()
	bash := need(t, "bash")
	cmd := exec.Command(bash, "-n")
	cmd.Stdin = strings.NewReader(script)
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Errorf("%s is not valid bash: %v\n%s\n--- script:\n%s", what, err, out, script)
	}
}

func TestNixFilesParse(t *testing.T) {
	nix := need(t, "nix-instantiate")
	files := []string{
		filepath.Join(root, "flake.nix"),
		filepath.Join(root, "nix", "module.nix"),
		filepath.Join(root, "nix", "export-running.nix"),
		filepath.Join("testdata", "stubs.nix"),
		filepath.Join("testdata", "eval-flake.nix"),
		filepath.Join("testdata", "eval-module.nix"),
		filepath.Join("testdata", "eval-export-running.nix"),
	}
	for _, f := range files {
		if _, errOut, err := runErr(".", nix, "--parse", f); err != nil {
			t.Errorf("nix-instantiate --parse %s: %v\n%s", f, err, errOut)
		}
	}
}

// flakeEval is what testdata/eval-flake.nix returns.
type flakeEval struct {
	Description string              `json:"description"`
	NixpkgsURL  string              `json:"nixpkgsUrl"`
	Outputs     []string            `json:"outputs"`
	Packages    map[string][]string `json:"packages"`
	Apps        map[string][]string `json:"apps"`
	DevShells   map[string][]string `json:"devShells"`
	Checks      map[string][]string `json:"checks"`
	NixOSMods   []string            `json:"nixosModules"`
	Overlays    []string            `json:"overlays"`
	Package     struct {
		Pname          string   `json:"pname"`
		Version        string   `json:"version"`
		VendorHash     string   `json:"vendorHash"`
		SubPackages    []string `json:"subPackages"`
		Ldflags        []string `json:"ldflags"`
		DoCheck        bool     `json:"doCheck"`
		PostInstall    string   `json:"postInstall"`
		Go             string   `json:"go"`
		NativeBuild    []string `json:"nativeBuildInputs"`
		SrcFiles       []string `json:"srcFiles"`
		SrcFilterKeeps []string `json:"srcFilterKeeps"`
		Meta           struct {
			License     string `json:"license"`
			MainProgram string `json:"mainProgram"`
			Description string `json:"description"`
		} `json:"meta"`
	} `json:"package"`
	App struct {
		Type    string `json:"type"`
		Program string `json:"program"`
	} `json:"app"`
	DevShellPackages []string `json:"devShellPackages"`
	OverlayPname     string   `json:"overlayPname"`
	NixOSModule      struct {
		Imports      []string `json:"imports"`
		PackagePname string   `json:"packagePname"`
	} `json:"nixosModule"`
}

var systems = []string{"aarch64-darwin", "aarch64-linux", "x86_64-darwin", "x86_64-linux"}

func TestFlakeEvaluates(t *testing.T) {
	var f flakeEval
	evalJSON(t, filepath.Join("testdata", "eval-flake.nix"), &f)

	if f.NixpkgsURL != "github:NixOS/nixpkgs/nixos-unstable" {
		t.Errorf("inputs.nixpkgs.url = %q", f.NixpkgsURL)
	}
	if f.Description == "" {
		t.Error("flake has no description")
	}
	for _, o := range []string{"packages", "apps", "overlays", "nixosModules", "devShells"} {
		if !slices.Contains(f.Outputs, o) {
			t.Errorf("flake outputs %v lack %s", f.Outputs, o)
		}
	}
	perSystem := map[string]map[string][]string{"packages": f.Packages, "apps": f.Apps, "devShells": f.DevShells}
	for name, m := range perSystem {
		got := make([]string, 0, len(m))
		for s, attrs := range m {
			got = append(got, s)
			if !slices.Contains(attrs, "default") {
				t.Errorf("%s.%s has no default: %v", name, s, attrs)
			}
		}
		slices.Sort(got)
		if !slices.Equal(got, systems) {
			t.Errorf("%s systems = %v, want %v", name, got, systems)
		}
	}
	for _, m := range []string{"default", "ringflow"} {
		if !slices.Contains(f.NixOSMods, m) {
			t.Errorf("nixosModules %v lack %s", f.NixOSMods, m)
		}
	}
	if !slices.Contains(f.Overlays, "default") {
		t.Errorf("overlays %v lack default", f.Overlays)
	}

	p := f.Package
	if p.Pname != "ringflow" || p.Version != "0123abc" {
		t.Errorf("pname, version = %q, %q; want ringflow and the flake's shortRev", p.Pname, p.Version)
	}
	if !regexp.MustCompile(`^sha256-[A-Za-z0-9+/]{43}=$`).MatchString(p.VendorHash) {
		t.Errorf("vendorHash %q is not an SRI sha256 (run scripts/update-vendor-hash.sh)", p.VendorHash)
	}
	if !slices.Equal(p.SubPackages, []string{"cmd/ringflow"}) {
		t.Errorf("subPackages = %v", p.SubPackages)
	}
	wantLd := []string{"-s", "-w", "-X github.com/ringflow/ringflow/pkg/cli.version=0123abc"}
	if !slices.Equal(p.Ldflags, wantLd) {
		t.Errorf("ldflags = %q, want %q", p.Ldflags, wantLd)
	}
	if p.DoCheck {
		t.Error("doCheck is true; the tests need a nix daemon the build sandbox lacks")
	}
	if p.Go != "go_latest" {
		t.Errorf("built with %s; want buildGoLatestModule when nixpkgs has it (go.mod asks for a recent Go)", p.Go)
	}
	if p.Meta.License != "asl20" || p.Meta.MainProgram != "ringflow" || p.Meta.Description == "" {
		t.Errorf("meta = %+v", p.Meta)
	}
	for _, in := range []string{"installShellFiles", "makeWrapper"} {
		if !slices.ContainsFunc(p.NativeBuild, func(s string) bool { return strings.HasSuffix(s, "-"+in) }) {
			t.Errorf("nativeBuildInputs %v lack %s", p.NativeBuild, in)
		}
	}
	bashSyntax(t, "postInstall", p.PostInstall)
	for _, want := range []string{
		"$out/bin/ringflow completion bash", "$out/bin/ringflow completion zsh", "$out/bin/ringflow completion fish",
		"installManPage", "wrapProgram $out/bin/ringflow", "--prefix PATH : /nix/store/stub-git/bin", "stub-nix/bin",
	} {
		if !strings.Contains(p.PostInstall, want) {
			t.Errorf("postInstall lacks %q:\n%s", want, p.PostInstall)
		}
	}
	if !slices.Equal(p.SrcFiles, []string{"go.mod", "go.sum", "<filter>"}) {
		t.Errorf("src fileset = %v, want go.mod, go.sum and a filter", p.SrcFiles)
	}
	if !slices.Equal(p.SrcFilterKeeps, []string{"main.go", "main_test.go"}) {
		t.Errorf("the src filter keeps %v of main.go main_test.go README.md go.mod flake.nix; want the .go files", p.SrcFilterKeeps)
	}

	if f.App.Type != "app" || f.App.Program != "/nix/store/stub-ringflow-0123abc/bin/ringflow" {
		t.Errorf("apps.default = %+v", f.App)
	}
	for _, want := range []string{"go_latest", "gopls", "git", "nix"} {
		if !slices.Contains(f.DevShellPackages, "/nix/store/stub-"+want) {
			t.Errorf("devShell packages %v lack %s", f.DevShellPackages, want)
		}
	}
	if f.OverlayPname != "ringflow" {
		t.Errorf("overlays.default gives pkgs.ringflow = %q", f.OverlayPname)
	}
	if len(f.NixOSModule.Imports) != 1 || !strings.HasSuffix(f.NixOSModule.Imports[0], "/nix/module.nix") ||
		f.NixOSModule.PackagePname != "ringflow" {
		t.Errorf("nixosModules.default = %+v; want it to import nix/module.nix and default the package", f.NixOSModule)
	}
}

// TestLdflagsVariable checks that the variable the flake's -X sets exists:
// a package-level string var named version in pkg/cli.
func TestLdflagsVariable(t *testing.T) {
	fset := token.NewFileSet()
	dir := filepath.Join(root, "pkg", "cli")
	entries, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range entries {
		name := e.Name()
		if !strings.HasSuffix(name, ".go") || strings.HasSuffix(name, "_test.go") {
			continue
		}
		f, err := parser.ParseFile(fset, filepath.Join(dir, name), nil, parser.SkipObjectResolution)
		if err != nil {
			t.Fatal(err)
		}
		if f.Name.Name != "cli" {
			continue
		}
		for _, d := range f.Decls {
			g, ok := d.(*ast.GenDecl)
			if !ok || g.Tok != token.VAR {
				continue
			}
			for _, s := range g.Specs {
				for _, n := range s.(*ast.ValueSpec).Names {
					if n.Name == "version" {
						return
					}
				}
			}
		}
	}
	t.Errorf("pkg/cli has no package-level var version for -X github.com/ringflow/ringflow/pkg/cli.version")
}

var goEmbed = regexp.MustCompile(`(?m)^\s*//go:embed\s`)

// TestSourceFilterAssumptions checks what lets the flake's src (and the
// copy update-vendor-hash.sh vendors) keep only go.mod, go.sum and .go
// files: no embedded files, no nested modules, no vendor directory.
func TestSourceFilterAssumptions(t *testing.T) {
	err := filepath.WalkDir(root, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() {
			if n := d.Name(); path != root && (n == ".git" || n == "testdata" || strings.HasPrefix(n, ".") || strings.HasPrefix(n, "_")) {
				return filepath.SkipDir // the go tool ignores these too
			}
			return nil
		}
		switch {
		case d.Name() == "go.mod" && filepath.Dir(path) != root:
			t.Errorf("%s: a nested module; the flake's fileset drops its go.mod", path)
		case d.Name() == "vendor" && filepath.Dir(path) == root:
			t.Errorf("%s: buildGoModule refuses a vendor directory in src when vendorHash is set", path)
		case strings.HasSuffix(path, ".go"):
			b, err := os.ReadFile(path)
			if err != nil {
				return err
			}
			if goEmbed.Match(b) {
				t.Errorf("%s embeds files, which the flake's fileset (go.mod, go.sum, *.go) drops", path)
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}

// moduleEval is what testdata/eval-module.nix returns.
type moduleEval struct {
	Options         []string          `json:"options"`
	Descriptions    map[string]string `json:"descriptions"`
	OptionTypes     map[string]string `json:"optionTypes"`
	SettingsOptions []string          `json:"settingsOptions"`
	TestedOptions   []string          `json:"testedOptions"`
	EnabledIf       bool              `json:"enabledIf"`
	Config          map[string]any    `json:"config"`

	WatchOptions       []string          `json:"watchOptions"`
	WatchDescriptions  map[string]string `json:"watchDescriptions"`
	TestedWatchOptions []string          `json:"testedWatchOptions"`
	// The assertions outside the enable guard, with every option set and
	// with only the watch enabled.
	UnguardedAssertionsPass  bool           `json:"unguardedAssertionsPass"`
	WatchAloneAssertionsPass bool           `json:"watchAloneAssertionsPass"`
	WatchAloneMessages       []string       `json:"watchAloneMessages"`
	TimerModeConfig          map[string]any `json:"timerModeConfig"`
}

// get walks nested maps; a missing key fails the test.
func get(t *testing.T, v any, path ...string) any {
	t.Helper()
	for i, k := range path {
		m, ok := v.(map[string]any)
		if !ok {
			t.Fatalf("%s is %T, not an attribute set", strings.Join(path[:i], "."), v)
		}
		if v, ok = m[k]; !ok {
			t.Fatalf("%s is missing", strings.Join(path[:i+1], "."))
		}
	}
	return v
}

// content unwraps a stub mkIf (expecting its condition true) or mkDefault.
func content(t *testing.T, v any) any {
	t.Helper()
	m, ok := v.(map[string]any)
	if !ok {
		return v
	}
	switch m["_type"] {
	case "if":
		if m["condition"] != true {
			t.Errorf("mkIf condition is %v, want true with every option set", m["condition"])
		}
		return m["content"]
	case "override":
		return m["content"]
	}
	return v
}

func TestModuleEvaluates(t *testing.T) {
	var m moduleEval
	evalJSON(t, filepath.Join("testdata", "eval-module.nix"), &m)

	want := []string{
		"enable", "package", "settings", "configFile", "repository", "stateDir", "user", "group",
		"sshKeyFile", "knownHosts", "schedule", "randomizedDelaySec", "metricsFile", "extraArgs", "environment", "watch",
	}
	for _, o := range want {
		if !slices.Contains(m.Options, o) {
			t.Errorf("services.ringflow.%s is not declared", o)
		}
	}
	for _, o := range m.Options {
		if m.OptionTypes[o] != "option" {
			t.Errorf("services.ringflow.%s is not an mkOption", o)
		}
		if strings.TrimSpace(m.Descriptions[o]) == "" {
			t.Errorf("services.ringflow.%s has no description", o)
		}
	}
	if !slices.Equal(m.TestedOptions, m.Options) {
		t.Errorf("testdata/eval-module.nix sets %v but the module declares %v: set every option there", m.TestedOptions, m.Options)
	}
	// The settings the module knows by name are keys the README documents.
	readmeKeys := readmeConfigKeys(t)
	for _, k := range m.SettingsOptions {
		if !slices.Contains(readmeKeys, k) {
			t.Errorf("settings.%s is not a ringflow.yaml key the README documents (%v)", k, readmeKeys)
		}
	}
	if !m.EnabledIf {
		t.Error("the config is not guarded by enable")
	}

	svcPath := []string{"systemd", "services", "ringflow-cycle"}
	svc := get(t, m.Config, svcPath...)
	sc := get(t, svc, "serviceConfig").(map[string]any)

	exec := strings.Fields(sc["ExecStart"].(string))
	wantExec := []string{"/nix/store/stub-ringflow/bin/ringflow", "cycle", "--config", "/etc/ringflow/ringflow.yaml",
		"--metrics-file", "/var/lib/node-exporter/ringflow.prom", "--strict"}
	if !slices.Equal(exec, wantExec) {
		t.Errorf("ExecStart = %q, want %q", exec, wantExec)
	}
	pre := sc["ExecStartPre"].(string)
	script, ok := strings.CutPrefix(pre, "#!stub ringflow-clone\n")
	if !ok {
		t.Fatalf("ExecStartPre is not the clone script: %q", pre)
	}
	bashSyntax(t, "the clone script", script)
	if !strings.Contains(script, "git clone --origin 'upstream' -- 'git@git.example.org:ops/fleet.git'") {
		t.Errorf("the clone script does not clone the repository with the settings' remote name:\n%s", script)
	}

	hardening := map[string]any{
		"Type": "oneshot", "User": "ringflow", "Group": "ringflow", "WorkingDirectory": "-/srv/ringflow/fleet",
		"ProtectSystem": "strict", "PrivateTmp": true, "NoNewPrivileges": true, "ProtectHome": true,
		"ProtectKernelTunables": true, "ProtectKernelModules": true, "ProtectKernelLogs": true,
		"RestrictSUIDSGID": true, "LockPersonality": true, "SystemCallArchitectures": "native",
		"CapabilityBoundingSet":   "",
		"RestrictAddressFamilies": []any{"AF_UNIX", "AF_INET", "AF_INET6"},
		"ReadWritePaths":          []any{"/srv/ringflow", "/var/lib/node-exporter"},
	}
	for k, v := range hardening {
		if got := content(t, sc[k]); !reflect.DeepEqual(got, v) {
			t.Errorf("serviceConfig.%s = %#v, want %#v", k, got, v)
		}
	}
	if d, ok := sc["DynamicUser"]; ok && d != false {
		t.Errorf("DynamicUser = %v: the clone must persist", d)
	}
	if got := content(t, sc["LoadCredential"]); got != "ssh-key:/run/keys/ringflow" {
		t.Errorf("LoadCredential = %v", got)
	}

	env := get(t, svc, "environment").(map[string]any)
	if !strings.Contains(env["NIX_CONFIG"].(string), "experimental-features = nix-command flakes") {
		t.Errorf("NIX_CONFIG = %q", env["NIX_CONFIG"])
	}
	wantSSH := "ssh -i %d/ssh-key -o IdentitiesOnly=yes -o StrictHostKeyChecking=yes -o UserKnownHostsFile=/nix/store/stub-ringflow-known_hosts"
	if env["GIT_SSH_COMMAND"] != wantSSH {
		t.Errorf("GIT_SSH_COMMAND = %q, want %q", env["GIT_SSH_COMMAND"], wantSSH)
	}
	if env["RINGFLOW_BUILD_JOBS"] != "4" {
		t.Errorf("services.ringflow.environment is not passed: %v", env)
	}
	path := get(t, svc, "path")
	for _, p := range []string{"nix", "git", "openssh"} {
		if !slices.Contains(path.([]any), any("/nix/store/stub-"+p)) {
			t.Errorf("path %v lacks %s", path, p)
		}
	}
	if get(t, svc, "restartIfChanged") != false {
		t.Error("restartIfChanged is not false: a rebuild would run or kill a cycle")
	}

	timer := get(t, m.Config, "systemd", "timers", "ringflow-cycle")
	tc := get(t, timer, "timerConfig").(map[string]any)
	wantTimer := map[string]any{"OnCalendar": "*-*-* 03:15:00", "RandomizedDelaySec": "30min", "Persistent": true}
	for k, v := range wantTimer {
		if tc[k] != v {
			t.Errorf("timerConfig.%s = %v, want %v", k, tc[k], v)
		}
	}
	if wb := get(t, timer, "wantedBy"); !reflect.DeepEqual(wb, []any{"timers.target"}) {
		t.Errorf("timer wantedBy = %v", wb)
	}

	user := get(t, content(t, get(t, m.Config, "users", "users")), "ringflow").(map[string]any)
	if user["isSystemUser"] != true || user["home"] != "/srv/ringflow" {
		t.Errorf("users.users.ringflow = %v", user)
	}
	etc := content(t, get(t, m.Config, "environment", "etc", "ringflow/ringflow.yaml"))
	if get(t, etc, "source") != "/nix/store/stub-ringflow.yaml" {
		t.Errorf("/etc/ringflow/ringflow.yaml = %v, want the rendered settings", etc)
	}

	checkModuleWatch(t, &m, svc)
}

// checkModuleWatch checks services.ringflow.watch: testdata/eval-module.nix
// sets mode "service" and interval 2m, and evaluates mode "timer" too.
func checkModuleWatch(t *testing.T, m *moduleEval, cycle any) {
	t.Helper()
	if want := []string{"enable", "interval", "mode"}; !slices.Equal(m.WatchOptions, want) {
		t.Errorf("services.ringflow.watch declares %v, want %v", m.WatchOptions, want)
	}
	if !slices.Equal(m.TestedWatchOptions, m.WatchOptions) {
		t.Errorf("testdata/eval-module.nix sets watch %v but the module declares %v", m.TestedWatchOptions, m.WatchOptions)
	}
	for _, o := range m.WatchOptions {
		if strings.TrimSpace(m.WatchDescriptions[o]) == "" {
			t.Errorf("services.ringflow.watch.%s has no description", o)
		}
	}
	if !m.UnguardedAssertionsPass {
		t.Error("an assertion outside the enable guard fails with every option set")
	}
	if m.WatchAloneAssertionsPass || !slices.ContainsFunc(m.WatchAloneMessages, func(s string) bool {
		return strings.Contains(s, "services.ringflow.watch.enable needs services.ringflow.enable")
	}) {
		t.Errorf("watch.enable without enable is not refused by an assertion outside the guard: %q", m.WatchAloneMessages)
	}

	// Shared with the cycle, whatever the mode.
	cycleSC := get(t, cycle, "serviceConfig").(map[string]any)
	same := func(t *testing.T, svc any) {
		t.Helper()
		for _, k := range []string{"path", "environment", "after", "wants"} {
			if got, want := get(t, svc, k), get(t, cycle, k); !reflect.DeepEqual(got, want) {
				t.Errorf("watch %s = %v, want the cycle's %v", k, got, want)
			}
		}
		sc := get(t, svc, "serviceConfig").(map[string]any)
		for k, v := range cycleSC {
			switch k {
			case "Type", "ExecStart", "ExecStartPre", "TimeoutStartSec":
				continue
			case "ReadWritePaths":
				v = []any{"/srv/ringflow"} // no metrics directory
			}
			if !reflect.DeepEqual(sc[k], v) {
				t.Errorf("watch serviceConfig.%s = %#v, want the cycle's %#v", k, sc[k], v)
			}
		}
		pre, ok := strings.CutPrefix(sc["ExecStartPre"].(string), "#!stub ringflow-need-clone\n")
		if !ok {
			t.Errorf("watch ExecStartPre is not the clone check: %q", sc["ExecStartPre"])
		}
		bashSyntax(t, "the clone check", pre)
		if !strings.Contains(pre, "'/srv/ringflow/fleet/.git'") || !strings.Contains(pre, "ringflow-cycle.service") {
			t.Errorf("the clone check does not test the cycle's clone and name the cycle:\n%s", pre)
		}
	}

	t.Run("service", func(t *testing.T) {
		svc := content(t, get(t, m.Config, "systemd", "services", "ringflow-watch"))
		same(t, svc)
		sc := get(t, svc, "serviceConfig").(map[string]any)
		wantExec := []string{"/nix/store/stub-ringflow/bin/ringflow", "watch", "--config", "/etc/ringflow/ringflow.yaml", "--interval", "2m"}
		if exec := strings.Fields(sc["ExecStart"].(string)); !slices.Equal(exec, wantExec) {
			t.Errorf("ExecStart = %q, want %q", exec, wantExec)
		}
		for k, v := range map[string]any{"Type": "simple", "Restart": "on-failure", "RestartSec": "30s", "RestartPreventExitStatus": "2"} {
			if sc[k] != v {
				t.Errorf("serviceConfig.%s = %v, want %v", k, sc[k], v)
			}
		}
		if wb := get(t, svc, "wantedBy"); !reflect.DeepEqual(wb, []any{"multi-user.target"}) {
			t.Errorf("wantedBy = %v", wb)
		}
		if get(t, svc, "restartIfChanged") != true {
			t.Error("restartIfChanged is not true: a rebuild would leave the old watch running")
		}
		timer := get(t, m.Config, "systemd", "timers", "ringflow-watch").(map[string]any)
		if timer["_type"] != "if" || timer["condition"] != false {
			t.Errorf("in service mode, the watch timer is not switched off: %v", timer)
		}
	})

	t.Run("timer", func(t *testing.T) {
		svc := content(t, get(t, m.TimerModeConfig, "systemd", "services", "ringflow-watch"))
		same(t, svc)
		sc := get(t, svc, "serviceConfig").(map[string]any)
		wantExec := []string{"/nix/store/stub-ringflow/bin/ringflow", "watch", "--once", "--config", "/etc/ringflow/ringflow.yaml"}
		if exec := strings.Fields(sc["ExecStart"].(string)); !slices.Equal(exec, wantExec) {
			t.Errorf("ExecStart = %q, want %q", exec, wantExec)
		}
		if sc["Type"] != "oneshot" || sc["Restart"] != nil {
			t.Errorf("Type, Restart = %v, %v; want a oneshot the timer restarts", sc["Type"], sc["Restart"])
		}
		if got := content(t, sc["TimeoutStartSec"]); got != "10min" {
			t.Errorf("TimeoutStartSec = %v", got)
		}
		if wb, ok := svc.(map[string]any)["wantedBy"]; ok {
			t.Errorf("wantedBy = %v: only the timer starts it", wb)
		}
		if get(t, svc, "restartIfChanged") != false {
			t.Error("restartIfChanged is not false: a rebuild would start a look")
		}
		timer := content(t, get(t, m.TimerModeConfig, "systemd", "timers", "ringflow-watch"))
		tc := get(t, timer, "timerConfig").(map[string]any)
		for k, v := range map[string]any{"OnActiveSec": "1min", "OnUnitInactiveSec": "2m", "AccuracySec": "15s"} {
			if tc[k] != v {
				t.Errorf("timerConfig.%s = %v, want %v", k, tc[k], v)
			}
		}
		if wb := get(t, timer, "wantedBy"); !reflect.DeepEqual(wb, []any{"timers.target"}) {
			t.Errorf("timer wantedBy = %v", wb)
		}
	})
}

// readmeConfigKeys returns the top-level keys of the README's ringflow.yaml
// example (the first yaml block after "### ringflow.yaml").
func readmeConfigKeys(t *testing.T) []string {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(root, "README.md"))
	if err != nil {
		t.Fatal(err)
	}
	_, after, ok := strings.Cut(string(b), "### ringflow.yaml")
	if !ok {
		t.Fatal(`README.md has no "### ringflow.yaml" section`)
	}
	_, block, ok := strings.Cut(after, "```yaml\n")
	if !ok {
		t.Fatal("README.md: no yaml block in the ringflow.yaml section")
	}
	block, _, _ = strings.Cut(block, "```")
	var doc map[string]any
	if err := yaml.Unmarshal([]byte(block), &doc); err != nil {
		t.Fatalf("README.md's ringflow.yaml example: %v", err)
	}
	keys := make([]string, 0, len(doc))
	for k := range doc {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	return keys
}

func TestVendorHashCurrent(t *testing.T) {
	if testing.Short() {
		t.Skip("runs go mod vendor")
	}
	need(t, "go")
	need(t, "nix")
	bash := need(t, "bash")
	out, errOut, err := runErr(root, bash, "scripts/update-vendor-hash.sh", "--check")
	if err != nil {
		t.Errorf("scripts/update-vendor-hash.sh --check: %v\n%s%s", err, out, errOut)
	}
}

// unit is a systemd unit file: section -> key -> values in file order.
type unit map[string]map[string][]string

func parseUnit(t *testing.T, path string) unit {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	u := unit{}
	section := ""
	for i, line := range strings.Split(string(b), "\n") {
		line = strings.TrimSpace(line)
		switch {
		case line == "" || strings.HasPrefix(line, "#") || strings.HasPrefix(line, ";"):
		case strings.HasPrefix(line, "[") && strings.HasSuffix(line, "]"):
			section = line[1 : len(line)-1]
			u[section] = map[string][]string{}
		default:
			k, v, ok := strings.Cut(line, "=")
			if !ok || section == "" {
				t.Fatalf("%s:%d: not a key=value line in a section: %q", path, i+1, line)
			}
			u[section][k] = append(u[section][k], v)
		}
	}
	return u
}

// one returns the single value of a key.
func (u unit) one(t *testing.T, section, key string) string {
	t.Helper()
	vs := u[section][key]
	if len(vs) != 1 {
		t.Errorf("[%s] %s: want one value, got %q", section, key, vs)
		return ""
	}
	return vs[0]
}

func TestSystemdUnitsContent(t *testing.T) {
	svc := parseUnit(t, "ringflow-cycle.service")
	want := map[string]string{
		"Type":                    "oneshot",
		"User":                    "ringflow",
		"StateDirectory":          "ringflow",
		"WorkingDirectory":        "-/var/lib/ringflow/fleet",
		"ExecStart":               "/usr/local/bin/ringflow cycle --config /etc/ringflow/ringflow.yaml --metrics-file /var/lib/prometheus/node-exporter/ringflow.prom",
		"ProtectSystem":           "strict",
		"PrivateTmp":              "yes",
		"NoNewPrivileges":         "yes",
		"ProtectHome":             "yes",
		"ProtectKernelTunables":   "yes",
		"ProtectKernelModules":    "yes",
		"ProtectKernelLogs":       "yes",
		"RestrictSUIDSGID":        "yes",
		"LockPersonality":         "yes",
		"SystemCallArchitectures": "native",
		"CapabilityBoundingSet":   "",
		"RestrictAddressFamilies": "AF_UNIX AF_INET AF_INET6",
		"ReadWritePaths":          "-/var/lib/prometheus/node-exporter",
	}
	for k, v := range want {
		if got := svc.one(t, "Service", k); got != v {
			t.Errorf("[Service] %s = %q, want %q", k, got, v)
		}
	}
	var nixConfig bool
	for _, e := range svc["Service"]["Environment"] {
		if strings.Contains(e, "NIX_CONFIG=") && strings.Contains(e, "experimental-features = nix-command flakes") {
			nixConfig = true
		}
	}
	if !nixConfig {
		t.Errorf("no Environment= sets NIX_CONFIG with the flakes feature: %q", svc["Service"]["Environment"])
	}
	if _, ok := svc["Service"]["DynamicUser"]; ok {
		t.Error("DynamicUser is set: the clone must persist")
	}
	// The clone step is sh in one line, with systemd's $$ for a literal $.
	pre := svc.one(t, "Service", "ExecStartPre")
	script, ok1 := strings.CutPrefix(pre, "/bin/sh -ec '")
	script, ok2 := strings.CutSuffix(script, "'")
	if !ok1 || !ok2 {
		t.Fatalf("ExecStartPre is not /bin/sh -ec '…': %q", pre)
	}
	if strings.Contains(strings.ReplaceAll(script, "$$", ""), "$") {
		t.Errorf("ExecStartPre has a bare $, which systemd expands itself: %q", script)
	}
	bashSyntax(t, "ExecStartPre", strings.ReplaceAll(script, "$$", "$"))

	timer := parseUnit(t, "ringflow-cycle.timer")
	for k, v := range map[string]string{
		"OnCalendar": "*-*-* 03:15:00", "RandomizedDelaySec": "30min", "Persistent": "true", "AccuracySec": "1min",
	} {
		if got := timer.one(t, "Timer", k); got != v {
			t.Errorf("[Timer] %s = %q, want %q", k, got, v)
		}
	}
	if got := timer.one(t, "Install", "WantedBy"); got != "timers.target" {
		t.Errorf("[Install] WantedBy = %q", got)
	}
}

// TestSystemdAnalyzeVerify runs systemd-analyze verify on copies of the
// units whose ExecStart points at a stub executable: verify rejects a unit
// whose binary is missing, and /usr/local/bin/ringflow is not installed
// here. Nothing else is changed. Any output (an unknown key, a bad value)
// fails the test, not only a non-zero exit.
func TestSystemdAnalyzeVerify(t *testing.T) {
	sa := need(t, "systemd-analyze")
	dir := t.TempDir()
	stub := filepath.Join(dir, "ringflow")
	if err := os.WriteFile(stub, []byte("#!/bin/sh\nexit 0\n"), 0o755); err != nil {
		t.Fatal(err)
	}
	units := []string{
		"ringflow-cycle.service", "ringflow-cycle.timer",
		"ringflow-watch.service", "ringflow-watch-once.service", "ringflow-watch-once.timer",
	}
	var paths []string
	for _, name := range units {
		b, err := os.ReadFile(name)
		if err != nil {
			t.Fatal(err)
		}
		b = bytes.ReplaceAll(b, []byte("ExecStart=/usr/local/bin/ringflow "), []byte("ExecStart="+stub+" "))
		if err := os.WriteFile(filepath.Join(dir, name), b, 0o644); err != nil {
			t.Fatal(err)
		}
		paths = append(paths, filepath.Join(dir, name))
	}
	out, errOut, err := runErr(dir, sa, append([]string{"verify", "--man=no"}, paths...)...)
	if err != nil || len(out)+len(errOut) > 0 {
		t.Errorf("systemd-analyze verify: %v\n%s%s", err, out, errOut)
	}

	// The hardening stays in the "OK" band (exposure at most 5.0 of 10).
	for _, name := range units {
		if !strings.HasSuffix(name, ".service") {
			continue
		}
		out, errOut, err = runErr(dir, sa, "security", "--offline=yes", "--threshold=50", filepath.Join(dir, name))
		var ee *exec.ExitError
		switch {
		case err == nil:
		case bytes.Contains(errOut, []byte("unrecognized option")):
			t.Logf("systemd-analyze security --offline is not supported here (systemd before 250); not rated")
			return
		case errors.As(err, &ee):
			t.Errorf("systemd-analyze security rates %s above 5.0: %v\n%s%s", name, err, out, errOut)
		default:
			t.Fatal(err)
		}
	}
}

// hardeningKeys are the [Service] values every ringflow unit shares.
var hardeningKeys = map[string]string{
	"User":                    "ringflow",
	"Group":                   "ringflow",
	"SupplementaryGroups":     "nix-users",
	"StateDirectory":          "ringflow",
	"WorkingDirectory":        "-/var/lib/ringflow/fleet",
	"LoadCredential":          "ssh-key:/etc/ringflow/ssh-key",
	"EnvironmentFile":         "-/etc/ringflow/environment",
	"ProtectSystem":           "strict",
	"PrivateTmp":              "yes",
	"PrivateDevices":          "yes",
	"NoNewPrivileges":         "yes",
	"ProtectHome":             "yes",
	"ProtectKernelTunables":   "yes",
	"ProtectKernelModules":    "yes",
	"ProtectKernelLogs":       "yes",
	"RestrictSUIDSGID":        "yes",
	"LockPersonality":         "yes",
	"SystemCallArchitectures": "native",
	"CapabilityBoundingSet":   "",
	"AmbientCapabilities":     "",
	"RestrictAddressFamilies": "AF_UNIX AF_INET AF_INET6",
	"UMask":                   "0027",
}

func TestSystemdWatchUnitsContent(t *testing.T) {
	cycle := parseUnit(t, "ringflow-cycle.service")
	for _, tc := range []struct {
		file string
		want map[string]string
	}{
		{"ringflow-watch.service", map[string]string{
			"Type":                     "simple",
			"ExecStart":                "/usr/local/bin/ringflow watch --config /etc/ringflow/ringflow.yaml --interval 5m",
			"Restart":                  "on-failure",
			"RestartSec":               "30s",
			"RestartPreventExitStatus": "2",
		}},
		{"ringflow-watch-once.service", map[string]string{
			"Type":            "oneshot",
			"ExecStart":       "/usr/local/bin/ringflow watch --once --config /etc/ringflow/ringflow.yaml",
			"TimeoutStartSec": "10min",
		}},
	} {
		t.Run(tc.file, func(t *testing.T) {
			svc := parseUnit(t, tc.file)
			for k, v := range hardeningKeys {
				if got := svc.one(t, "Service", k); got != v {
					t.Errorf("[Service] %s = %q, want %q", k, got, v)
				}
			}
			for k, v := range tc.want {
				if got := svc.one(t, "Service", k); got != v {
					t.Errorf("[Service] %s = %q, want %q", k, got, v)
				}
			}
			// The same environment as the cycle: flakes, the pinned ssh.
			if got, want := svc["Service"]["Environment"], cycle["Service"]["Environment"]; !slices.Equal(got, want) {
				t.Errorf("Environment = %q, want the cycle's %q", got, want)
			}
			if _, ok := svc["Service"]["DynamicUser"]; ok {
				t.Error("DynamicUser is set: the clone must persist")
			}
			if _, ok := svc["Service"]["ReadWritePaths"]; ok {
				t.Error("ReadWritePaths is set: the watch writes only its state directory")
			}
			// The clone check: sh in one line, failing with a message that
			// names the cycle unit, with no $ for systemd to expand.
			pre := svc.one(t, "Service", "ExecStartPre")
			script, ok1 := strings.CutPrefix(pre, "/bin/sh -ec '")
			script, ok2 := strings.CutSuffix(script, "'")
			if !ok1 || !ok2 {
				t.Fatalf("ExecStartPre is not /bin/sh -ec '…': %q", pre)
			}
			if strings.Contains(script, "$") {
				t.Errorf("ExecStartPre has a $, which systemd expands itself: %q", script)
			}
			if !strings.Contains(script, "/var/lib/ringflow/fleet/.git") || !strings.Contains(script, "ringflow-cycle.service") {
				t.Errorf("ExecStartPre does not check for the cycle's clone and say how to make it: %q", script)
			}
			bashSyntax(t, "ExecStartPre", script)
			// A missing clone fails, an existing one passes.
			sh := need(t, "sh")
			fake := strings.ReplaceAll(script, "/var/lib/ringflow/fleet", filepath.Join(t.TempDir(), "fleet"))
			if _, errOut, err := runErr(".", sh, "-ec", fake); err == nil || !bytes.Contains(errOut, []byte("not a clone yet")) {
				t.Errorf("the clone check passes without a clone: %v %s", err, errOut)
			}
			dir := t.TempDir()
			if err := os.MkdirAll(filepath.Join(dir, "fleet", ".git"), 0o755); err != nil {
				t.Fatal(err)
			}
			fake = strings.ReplaceAll(script, "/var/lib/ringflow/fleet", filepath.Join(dir, "fleet"))
			if _, errOut, err := runErr(".", sh, "-ec", fake); err != nil {
				t.Errorf("the clone check fails with a clone: %v %s", err, errOut)
			}
			// Each header says which of the two to use.
			b, err := os.ReadFile(tc.file)
			if err != nil {
				t.Fatal(err)
			}
			if !strings.Contains(string(b), "not both") {
				t.Errorf("%s's header does not say to use the service or the timer, not both", tc.file)
			}
		})
	}

	svc := parseUnit(t, "ringflow-watch.service")
	if got := svc.one(t, "Install", "WantedBy"); got != "multi-user.target" {
		t.Errorf("ringflow-watch.service [Install] WantedBy = %q", got)
	}
	if got := svc.one(t, "Unit", "StartLimitIntervalSec"); got != "0" {
		t.Errorf("ringflow-watch.service [Unit] StartLimitIntervalSec = %q, want 0 (never stop retrying)", got)
	}
	if _, ok := parseUnit(t, "ringflow-watch-once.service")["Install"]; ok {
		t.Error("ringflow-watch-once.service has an [Install] section: the timer starts it")
	}
	timer := parseUnit(t, "ringflow-watch-once.timer")
	for k, v := range map[string]string{"OnActiveSec": "1min", "OnUnitInactiveSec": "5min", "AccuracySec": "15s"} {
		if got := timer.one(t, "Timer", k); got != v {
			t.Errorf("ringflow-watch-once.timer [Timer] %s = %q, want %q", k, got, v)
		}
	}
	if got := timer.one(t, "Install", "WantedBy"); got != "timers.target" {
		t.Errorf("ringflow-watch-once.timer [Install] WantedBy = %q", got)
	}
}

func TestWorkflows(t *testing.T) {
	for _, tc := range []struct {
		file     string
		checkout string
	}{
		{"github-actions-nightly.yml", "actions/checkout@"},
		{"forgejo-actions-nightly.yml", "https://code.forgejo.org/actions/checkout@"},
	} {
		t.Run(tc.file, func(t *testing.T) {
			b, err := os.ReadFile(tc.file)
			if err != nil {
				t.Fatal(err)
			}
			var wf struct {
				Name string `yaml:"name"`
				// A map, so a key without a value (workflow_dispatch:) still shows.
				On          map[string]yaml.Node `yaml:"on"`
				Concurrency struct {
					Group            string `yaml:"group"`
					CancelInProgress bool   `yaml:"cancel-in-progress"`
				} `yaml:"concurrency"`
				Jobs map[string]struct {
					RunsOn string `yaml:"runs-on"`
					Steps  []struct {
						Uses string         `yaml:"uses"`
						Run  string         `yaml:"run"`
						With map[string]any `yaml:"with"`
					} `yaml:"steps"`
				} `yaml:"jobs"`
			}
			if err := decodeLoose(b, &wf); err != nil {
				t.Fatalf("%s is not valid YAML: %v", tc.file, err)
			}
			var schedule []struct {
				Cron string `yaml:"cron"`
			}
			if n, ok := wf.On["schedule"]; !ok {
				t.Error("no on.schedule")
			} else if err := n.Decode(&schedule); err != nil || len(schedule) == 0 || len(strings.Fields(schedule[0].Cron)) != 5 {
				t.Errorf("on.schedule = %+v (%v), want a cron schedule", schedule, err)
			}
			if _, ok := wf.On["workflow_dispatch"]; !ok {
				t.Error("no on.workflow_dispatch")
			}
			if wf.Concurrency.Group == "" || wf.Concurrency.CancelInProgress {
				t.Errorf("concurrency = %+v, want a group that does not cancel a running cycle", wf.Concurrency)
			}
			if len(wf.Jobs) != 1 {
				t.Fatalf("want one job, got %d", len(wf.Jobs))
			}
			var checkedOut, cycled bool
			for name, job := range wf.Jobs {
				if job.RunsOn == "" {
					t.Errorf("job %s has no runs-on", name)
				}
				for _, s := range job.Steps {
					if strings.HasPrefix(s.Uses, tc.checkout) {
						checkedOut = true
						if s.With["fetch-depth"] != 0 {
							t.Errorf("checkout fetch-depth = %v, want 0 (full history)", s.With["fetch-depth"])
						}
					}
					for _, line := range strings.Split(s.Run, "\n") {
						if strings.HasPrefix(strings.TrimSpace(line), "ringflow cycle --metrics-file ") {
							cycled = true
						}
					}
				}
			}
			if !checkedOut {
				t.Errorf("no step uses %s", tc.checkout)
			}
			if !cycled {
				t.Error("no step runs `ringflow cycle --metrics-file …`")
			}
		})
	}
}

// decodeLoose decodes YAML into v, after checking the document parses on
// its own (so a syntax error is reported as such, not as a type mismatch).
func decodeLoose(b []byte, v any) error {
	var n yaml.Node
	if err := yaml.Unmarshal(b, &n); err != nil {
		return err
	}
	return n.Decode(v)
}
