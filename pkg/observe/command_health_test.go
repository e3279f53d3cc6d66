package observe

import (
	"context"
	"reflect"
	"strings"
	"testing"
)

func TestCommandHealth(t *testing.T) {
	p := script(t, `cat <<'EOF'
{"hosts": {
  "web-1": {"toplevel": "`+topA+`", "healthy": true},
  "web-2": {"commit": "`+commit+`", "healthy": false, "failed_units": ["nginx.service", "backup.service", "nginx.service"]},
  "web-3": {"toplevel": "`+topA+`", "healthy": false},
  "web-4": {"error": "unreachable since Tuesday", "healthy": false},
  "web-5": {"toplevel": "`+topA+`", "healthy": true, "failed_units": []},
  "lab-1": {"toplevel": "`+topA+`"},
  "lab-2": {"error": "unreachable since Tuesday"},
  "lab-3": {"toplevel": "`+topA+`", "healthy": true, "failed_units": ["x.service"]},
  "lab-4": {"toplevel": "`+topA+`", "healthy": "yes"},
  "lab-5": {"toplevel": "`+topA+`", "failed_units": ["x.service"]},
  "lab-6": {"toplevel": "`+topA+`", "healthy": false, "failed_units": ["bad unit"]},
  "lab-7": {"toplevel": "`+topA+`", "healthy": false, "failed_unit": ["x.service"]},
  "lab-8": {"toplevel": "`+topA+`", "healthy": false, "failed_units": "x.service"}
}}
EOF
`)
	src := commandSourceFor(t, p)
	hosts := []string{"web-1", "web-2", "web-3", "web-4", "web-5", "lab-1", "lab-2", "lab-3", "lab-4", "lab-5", "lab-6", "lab-7", "lab-8", "missing"}
	got, err := src.(HealthSource).Health(context.Background(), hosts)
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]Health{
		"web-1": {Host: "web-1", Known: true, Healthy: true},
		"web-2": {Host: "web-2", Known: true, Reasons: []string{"failed units: backup.service, nginx.service"}, FailedUnits: []string{"backup.service", "nginx.service"}},
		"web-3": {Host: "web-3", Known: true, Reasons: []string{"the command says unhealthy"}},
		"web-4": {Host: "web-4", Known: true, Reasons: []string{"unreachable since Tuesday"}},
		"web-5": {Host: "web-5", Known: true, Healthy: true},
		"lab-1": {Host: "lab-1", Reasons: []string{"hosts.lab-1 has no healthy field: the command does not say"}},
		"lab-2": {Host: "lab-2", Reasons: []string{"unreachable since Tuesday"}},
	}
	for h, w := range want {
		if !reflect.DeepEqual(got[h], w) {
			t.Errorf("%s:\n got %+v\nwant %+v", h, got[h], w)
		}
	}
	for h, msg := range map[string]string{
		"lab-3":   "hosts.lab-3: healthy is true, but failed_units lists x.service",
		"lab-4":   "hosts.lab-4: healthy: want a JSON bool, got a string",
		"lab-5":   "hosts.lab-5: failed_units given without healthy: say healthy: false",
		"lab-6":   `hosts.lab-6: failed_units[0]: want a unit name such as nginx.service, got "bad unit"`,
		"lab-7":   `hosts.lab-7: json: unknown field "failed_unit"`,
		"lab-8":   "hosts.lab-8: failed_units: want a JSON []string, got a string",
		"missing": "did not name this host",
	} {
		if g := got[h]; g.Known || g.Healthy || len(g.Reasons) != 1 || !strings.Contains(g.Reasons[0], msg) {
			t.Errorf("%s = %+v, want not Known: …%s…", h, g, msg)
		}
	}
	if len(got) != len(hosts) {
		t.Errorf("got %d, want one per host asked", len(got))
	}

	// The health fields leave what the hosts run as it was.
	runs, err := src.Running(context.Background(), []string{"web-1", "web-2", "web-4"})
	if err != nil {
		t.Fatal(err)
	}
	wantRuns := map[string]Run{
		"web-1": {Host: "web-1", Toplevel: topA},
		"web-2": {Host: "web-2", Commit: commit},
		"web-4": {Host: "web-4", Err: "unreachable since Tuesday"},
	}
	if !reflect.DeepEqual(runs, wantRuns) {
		t.Errorf("Running = %+v, want %+v", runs, wantRuns)
	}
}

// A command that fails fails the health round as it does Running's.
func TestCommandHealthFailures(t *testing.T) {
	for body, msg := range map[string]string{
		"echo 'no inventory' >&2; exit 2\n": "exited 2: no inventory (check observe.command)",
		"echo '{}'\n":                       `printed no "hosts" object`,
	} {
		_, err := commandSourceFor(t, script(t, body)).(HealthSource).Health(context.Background(), []string{"web-1"})
		if err == nil || !strings.HasPrefix(err.Error(), "observe: command ") || !strings.Contains(err.Error(), msg) {
			t.Errorf("err = %v, want …%s…", err, msg)
		}
	}
}
