package configs_test

import (
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/ringflow/ringflow/test/hostsim"
)

// exportRunningEval is what testdata/eval-export-running.nix returns.
type exportRunningEval struct {
	Options       []string          `json:"options"`
	Descriptions  map[string]string `json:"descriptions"`
	OptionTypes   map[string]string `json:"optionTypes"`
	TestedOptions []string          `json:"testedOptions"`
	EnabledIf     bool              `json:"enabledIf"`
	Config        map[string]any    `json:"config"`
}

// exportScript evaluates nix/export-running.nix and returns the script its
// activation snippet runs, and the snippet's arguments to it.
func exportScript(t *testing.T) (script, args string) {
	t.Helper()
	var m exportRunningEval
	evalJSON(t, filepath.Join("testdata", "eval-export-running.nix"), &m)
	for _, o := range []string{"enable", "directory"} {
		if !slices.Contains(m.Options, o) {
			t.Errorf("services.ringflow.exportRunning.%s is not declared", o)
		}
	}
	for _, o := range m.Options {
		if m.OptionTypes[o] != "option" || strings.TrimSpace(m.Descriptions[o]) == "" {
			t.Errorf("services.ringflow.exportRunning.%s is not an mkOption with a description", o)
		}
	}
	if !slices.Equal(m.TestedOptions, m.Options) {
		t.Errorf("testdata/eval-export-running.nix sets %v but the module declares %v: set every option there", m.TestedOptions, m.Options)
	}
	if !m.EnabledIf {
		t.Error("the config is not guarded by enable")
	}
	snippet := get(t, m.Config, "system", "activationScripts", "ringflowExportRunning").(map[string]any)
	text := snippet["text"].(string)
	// The stub writeShellScript is "#!stub NAME\nTEXT", interpolated where
	// the real one's store path would be.
	body, ok := strings.CutPrefix(text, "#!stub ringflow-export-running\n")
	if !ok {
		t.Fatalf("the activation snippet does not run the export script:\n%s", text)
	}
	script, args, ok = strings.Cut(body, "\n \"$systemConfig\" ")
	if !ok {
		t.Fatalf("the activation snippet does not hand the script $systemConfig:\n%s", text)
	}
	if !strings.HasPrefix(args, "'/var/lib/node-exporter' ") {
		t.Errorf("the activation snippet does not hand the script the directory: %q", args)
	}
	bashSyntax(t, "the export script", script)
	bashSyntax(t, "the activation snippet", text[strings.Index(text, "\n \"$systemConfig\"")+2:])
	return script, args
}

// TestExportRunningWritesHostMetric runs the module's script as activation
// would, against a stand-in system, and compares the file with what a
// simulated host writes (test/hostsim): the same bytes. The same system
// again keeps the switch time; another one takes the time of its switch.
func TestExportRunningWritesHostMetric(t *testing.T) {
	script, _ := exportScript(t)
	bash := need(t, "bash")
	dir := t.TempDir()
	path := filepath.Join(dir, "script.sh")
	if err := os.WriteFile(path, []byte(script), 0o755); err != nil {
		t.Fatal(err)
	}
	// A system reached through a link, as $systemConfig may be.
	sysA := filepath.Join(dir, "store", "aaaa-nixos-system-lab-1")
	sysB := filepath.Join(dir, "store", "bbbb-nixos-system-lab-1")
	for _, s := range []*string{&sysA, &sysB} {
		if err := os.MkdirAll(*s, 0o755); err != nil {
			t.Fatal(err)
		}
		real, err := filepath.EvalSymlinks(*s) // as readlink -f says it
		if err != nil {
			t.Fatal(err)
		}
		*s = real
	}
	link := filepath.Join(dir, "system")
	textDir := filepath.Join(dir, "textfiles") // created by the script
	file := filepath.Join(textDir, hostsim.TextfileName)

	activate := func(system string) (string, time.Time, time.Time) {
		t.Helper()
		os.Remove(link)
		if err := os.Symlink(system, link); err != nil {
			t.Fatal(err)
		}
		before := time.Now().Truncate(time.Second)
		if out, err := exec.Command(bash, path, link, textDir).CombinedOutput(); err != nil {
			t.Fatalf("the export script: %v\n%s", err, out)
		}
		after := time.Now()
		b, err := os.ReadFile(file)
		if err != nil {
			t.Fatal(err)
		}
		return string(b), before, after
	}
	since := func(content string) time.Time {
		t.Helper()
		for _, l := range strings.Split(content, "\n") {
			if v, ok := strings.CutPrefix(l, hostsim.SwitchedMetric+" "); ok {
				n, err := strconv.ParseInt(v, 10, 64)
				if err != nil {
					t.Fatalf("%s: %v", l, err)
				}
				return time.Unix(n, 0)
			}
		}
		t.Fatalf("no %s in:\n%s", hostsim.SwitchedMetric, content)
		return time.Time{}
	}

	got, before, after := activate(sysA)
	at := since(got)
	if at.Before(before) || at.After(after) {
		t.Errorf("switched at %v, want between %v and %v", at, before, after)
	}
	if want := string(hostsim.Exposition(sysA, at)); got != want {
		t.Errorf("the module's textfile:\n%s\nhostsim's:\n%s", got, want)
	}
	if fi, err := os.Stat(file); err != nil || fi.Mode().Perm() != 0o644 {
		t.Errorf("textfile mode %v (%v), want 0644: node_exporter runs as its own user", fi.Mode(), err)
	}

	// The same system again (a reboot, a commit that changes nothing of
	// this host) keeps the time it was switched to.
	old := time.Unix(1700000000, 0)
	if err := os.WriteFile(file, hostsim.Exposition(sysA, old), 0o644); err != nil {
		t.Fatal(err)
	}
	if got, _, _ := activate(sysA); got != string(hostsim.Exposition(sysA, old)) {
		t.Errorf("the same system again changed the file:\n%s", got)
	}
	// Another system takes the time of its switch.
	got, before, _ = activate(sysB)
	if at := since(got); at.Before(before) || got != string(hostsim.Exposition(sysB, at)) {
		t.Errorf("after a switch to another system:\n%s", got)
	}
	entries, _ := os.ReadDir(textDir)
	if len(entries) != 1 {
		t.Errorf("the script left files behind: %v", entries)
	}
}
