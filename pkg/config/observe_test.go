package config

import (
	"reflect"
	"strings"
	"testing"
	"time"
)

func TestLoadObserve(t *testing.T) {
	const rings = "rings: [{name: canary, hosts: [lab-1]}, {name: stable, hosts: ['*'], converge: 80%}]\n"
	for _, tt := range []struct {
		name, yaml string
		want       Observe
	}{
		{"prometheus defaults", "observe: {prometheus: {url: 'http://prom:9090'}}\n",
			Observe{Prometheus: &PrometheusSource{URL: "http://prom:9090", HostLabel: "instance", Timeout: 10 * time.Second,
				Health: PrometheusHealth{Down: "up == 0", FailedUnits: `node_systemd_unit_state{state="failed"} == 1`, DeploymentFailed: "comin_last_deployment_failed == 1"}}}},
		{"prometheus all keys", "observe:\n  prometheus:\n    url: https://prom.example.org/prefix\n    host-label: hostname\n    timeout: 30s\n" +
			"    health:\n      down: 'up{job=\"node\"} == 0'\n      failed-units: ''\n      deployment-failed: ' comin_deployment_info{status=\"failed\"} == 1 '\n",
			Observe{Prometheus: &PrometheusSource{URL: "https://prom.example.org/prefix", HostLabel: "hostname", Timeout: 30 * time.Second,
				Health: PrometheusHealth{Down: `up{job="node"} == 0`, FailedUnits: "", DeploymentFailed: `comin_deployment_info{status="failed"} == 1`}}}},
		{"prometheus health keeps the defaults not set", "observe: {prometheus: {url: 'http://prom:9090', health: {deployment-failed: ''}}}\n",
			Observe{Prometheus: &PrometheusSource{URL: "http://prom:9090", HostLabel: "instance", Timeout: 10 * time.Second,
				Health: PrometheusHealth{Down: DefaultDownQuery, FailedUnits: DefaultFailedUnitsQuery}}}},
		{"prometheus health empty mapping", "observe: {prometheus: {url: 'http://prom:9090', health: {}}}\n",
			Observe{Prometheus: &PrometheusSource{URL: "http://prom:9090", HostLabel: "instance", Timeout: 10 * time.Second, Health: DefaultPrometheusHealth()}}},
		{"ssh defaults", "observe: {ssh: {target: 'root@{host}.example.org'}}\n",
			Observe{SSH: &SSHSource{Target: "root@{host}.example.org", Command: "readlink -f /run/current-system",
				HealthCommand: "systemctl is-system-running; systemctl --failed --plain --no-legend --no-pager; true", Timeout: 10 * time.Second, Parallel: 8}}},
		{"ssh all keys", "observe: {ssh: {target: '{host}', command: 'cat /etc/running', health-command: 'cat /etc/health', timeout: 1m, parallel: 2}}\n",
			Observe{SSH: &SSHSource{Target: "{host}", Command: "cat /etc/running", HealthCommand: "cat /etc/health", Timeout: time.Minute, Parallel: 2}}},
		{"command", "observe: {command: [/usr/local/bin/fleet-running, --json]}\n",
			Observe{Command: []string{"/usr/local/bin/fleet-running", "--json"}}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			c := mustLoad(t, rings+tt.yaml)
			if c.Observe == nil || !reflect.DeepEqual(*c.Observe, tt.want) {
				t.Fatalf("Observe = %+v, want %+v", c.Observe, tt.want)
			}
			// A ring without converge asks for all its hosts.
			if got := []Converge{c.Rings[0].Converge, c.Rings[1].Converge}; !reflect.DeepEqual(got, []Converge{{Share: 100}, {Share: 80}}) {
				t.Errorf("converge = %+v", got)
			}
		})
	}
}

func TestLoadWithoutObserveHasNoConverge(t *testing.T) {
	c := mustLoad(t, "rings: [{name: a, hosts: ['*']}]\n")
	if c.Observe != nil || c.Rings[0].Converge.IsSet() {
		t.Errorf("observe %+v, converge %+v: want neither", c.Observe, c.Rings[0].Converge)
	}
}

func TestLoadConvergeForms(t *testing.T) {
	for in, want := range map[string]Converge{
		"100%":    {Share: 100},
		"80%":     {Share: 80},
		"'12.5%'": {Share: 12.5},
		"'80 %'":  {Share: 80},
		"2":       {Count: 2},
		"'3'":     {Count: 3},
		"1":       {Count: 1},
	} {
		c := mustLoad(t, "observe: {command: [x]}\nrings: [{name: a, hosts: ['*'], converge: "+in+"}]\n")
		if got := c.Rings[0].Converge; got != want {
			t.Errorf("converge: %s = %+v, want %+v", in, got, want)
		}
	}
}

func TestLoadUnhealthyForms(t *testing.T) {
	for in, want := range map[string]Tolerance{
		"0":      {},
		"'0%'":   {},
		"1":      {Count: 1},
		"'2'":    {Count: 2},
		"25%":    {Share: 25},
		"'100%'": {Share: 100},
	} {
		c := mustLoad(t, "observe: {command: [x]}\nrings: [{name: a, hosts: ['*'], max-unhealthy: "+in+"}]\n")
		if got := c.Rings[0].MaxUnhealthy; got != want || c.Rings[0].OnUnhealthy != OnUnhealthyHold {
			t.Errorf("max-unhealthy: %s = %+v, on-unhealthy %q; want %+v, hold", in, got, c.Rings[0].OnUnhealthy, want)
		}
	}
	c := mustLoad(t, "observe: {command: [x]}\nrings: [{name: a, hosts: ['*'], on-unhealthy: rollback}]\n")
	if r := c.Rings[0]; r.OnUnhealthy != OnUnhealthyRollback || r.MaxUnhealthy != (Tolerance{}) {
		t.Errorf("on-unhealthy rollback: %+v", r)
	}
	c = mustLoad(t, "rings: [{name: a, hosts: ['*']}]\n")
	if r := c.Rings[0]; r.OnUnhealthy != "" {
		t.Errorf("without observe: on-unhealthy %q, want none", r.OnUnhealthy)
	}
}

func TestToleranceAllowed(t *testing.T) {
	for _, tt := range []struct {
		t    Tolerance
		n    int
		want int
	}{
		{Tolerance{}, 5, 0},
		{Tolerance{Count: 1}, 5, 1},
		{Tolerance{Count: 9}, 5, 9},
		{Tolerance{Share: 25}, 4, 1},
		{Tolerance{Share: 20}, 4, 0}, // rounds down: never more than it says
		{Tolerance{Share: 100}, 3, 3},
		{Tolerance{Share: 10}, 30, 3},
	} {
		if got := tt.t.Allowed(tt.n); got != tt.want {
			t.Errorf("%s of %d: %d, want %d", tt.t, tt.n, got, tt.want)
		}
	}
}

func TestConvergeNeed(t *testing.T) {
	for _, tt := range []struct {
		c    Converge
		n    int
		want int
	}{
		{Converge{Share: 100}, 3, 3},
		{Converge{Share: 100}, 0, 0},
		{Converge{Share: 80}, 3, 3}, // 2.4 rounds up
		{Converge{Share: 80}, 5, 4},
		{Converge{Share: 50}, 4, 2},
		{Converge{Share: 33.3}, 3, 1},
		{Converge{Share: 0.1}, 12, 1},
		{Converge{Count: 2}, 5, 2},
		{Converge{Count: 7}, 5, 5}, // a ring that lost hosts is not shut for good
		{Converge{}, 5, 0},
	} {
		if got := tt.c.Need(tt.n); got != tt.want {
			t.Errorf("%+v.Need(%d) = %d, want %d", tt.c, tt.n, got, tt.want)
		}
	}
	if s := (Converge{Share: 80}).String() + " " + (Converge{Count: 2}).String(); s != "80% 2" {
		t.Errorf("String = %q", s)
	}
}

func TestLoadObserveErrors(t *testing.T) {
	const ok = "rings: [{name: all, hosts: ['*']}]\n"
	const obs = "observe: {command: [x]}\n"
	tests := []struct {
		name, yaml string
		key, msg   string // the first problem
		more       bool   // other problems may follow
	}{
		{"observe not a mapping", ok + "observe: prometheus\n", "observe", `want a mapping of prometheus, ssh, command, got "prometheus"`, false},
		{"observe unknown key", ok + "observe: {prometeus: {url: 'http://p:9090'}}\n", "observe.prometeus", "unknown key (did you mean prometheus?)", true},
		{"observe no source", ok + "observe: {other: 1}\n", "observe.other", "unknown key", true},
		{"observe two sources", ok + "observe: {command: [x], ssh: {target: '{host}'}}\n", "observe", "want one source, got ssh and command: keep one of them", false},
		{"prometheus not a mapping", ok + "observe: {prometheus: 'http://p:9090'}\n", "observe.prometheus", `want a mapping of url, host-label, timeout, health, got "http://p:9090"`, false},
		{"prometheus no url", ok + "observe: {prometheus: {timeout: 5s}}\n", "observe.prometheus.url", "required: the Prometheus server", false},
		{"prometheus url scheme", ok + "observe: {prometheus: {url: 'prom:9090'}}\n", "observe.prometheus.url", `want an http or https URL such as http://prometheus.example.org:9090, got "prom:9090"`, false},
		{"prometheus url hides password", ok + "observe: {prometheus: {url: 'ftp://u:secret@p/'}}\n", "observe.prometheus.url", `got "ftp://u@p/"`, false},
		{"prometheus url number", ok + "observe: {prometheus: {url: 9090}}\n", "observe.prometheus.url", "want a string, got 9090", false},
		{"prometheus label", ok + "observe: {prometheus: {url: 'http://p', host-label: 'host-name'}}\n", "observe.prometheus.host-label", `want a Prometheus label name such as instance or hostname, got "host-name"`, false},
		{"prometheus timeout zero", ok + "observe: {prometheus: {url: 'http://p', timeout: 0s}}\n", "observe.prometheus.timeout", `must be more than 0, got "0s"`, false},
		{"prometheus timeout unitless", ok + "observe: {prometheus: {url: 'http://p', timeout: 10}}\n", "observe.prometheus.timeout", "write a duration with a unit", false},
		{"prometheus typo", ok + "observe: {prometheus: {url: 'http://p', hostlabel: x}}\n", "observe.prometheus.hostlabel", "unknown key (did you mean host-label?)", false},
		{"health not a mapping", ok + "observe: {prometheus: {url: 'http://p', health: 'up == 0'}}\n", "observe.prometheus.health", `want a mapping of down, failed-units, deployment-failed, got "up == 0"`, false},
		{"health typo", ok + "observe: {prometheus: {url: 'http://p', health: {failed-unit: x}}}\n", "observe.prometheus.health.failed-unit", "unknown key (did you mean failed-units?)", false},
		{"health number", ok + "observe: {prometheus: {url: 'http://p', health: {down: 0}}}\n", "observe.prometheus.health.down", "want a string, got 0", false},
		{"health blank", ok + "observe: {prometheus: {url: 'http://p', health: {deployment-failed: '  '}}}\n", "observe.prometheus.health.deployment-failed", `want a PromQL expression, or "" to turn the check off, got "  "`, false},
		{"health boolean", ok + "observe: {prometheus: {url: 'http://p', health: {failed-units: false}}}\n", "observe.prometheus.health.failed-units", "want a string, got false", false},
		{"ssh health-command empty", ok + "observe: {ssh: {target: '{host}', health-command: ''}}\n", "observe.ssh.health-command", `must not be empty (leave it out for "systemctl is-system-running; systemctl --failed --plain --no-legend --no-pager; true")`, false},
		{"ssh health-command list", ok + "observe: {ssh: {target: '{host}', health-command: [systemctl]}}\n", "observe.ssh.health-command", "want a string, got a list", false},
		{"ssh no target", ok + "observe: {ssh: {parallel: 2}}\n", "observe.ssh.target", "required: where ssh connects, with {host} for the host's name", false},
		{"ssh target without host", ok + "observe: {ssh: {target: 'root@fleet'}}\n", "observe.ssh.target", `want {host} where the host's name goes, e.g. root@{host}.example.org, got "root@fleet"`, false},
		{"ssh target option", ok + "observe: {ssh: {target: '-oProxyCommand={host}'}}\n", "observe.ssh.target", `must not start with "-"`, false},
		{"ssh target space", ok + "observe: {ssh: {target: 'root@{host} x'}}\n", "observe.ssh.target", "without spaces", false},
		{"ssh command empty", ok + "observe: {ssh: {target: '{host}', command: ' '}}\n", "observe.ssh.command", `must not be empty (leave it out for "readlink -f /run/current-system")`, false},
		{"ssh parallel zero", ok + "observe: {ssh: {target: '{host}', parallel: 0}}\n", "observe.ssh.parallel", "want a positive number of hosts asked at once, got 0", false},
		{"ssh parallel words", ok + "observe: {ssh: {target: '{host}', parallel: many}}\n", "observe.ssh.parallel", `got "many"`, false},
		{"ssh timeout negative", ok + "observe: {ssh: {target: '{host}', timeout: -1s}}\n", "observe.ssh.timeout", "must be more than 0", false},
		{"ssh not a mapping", ok + "observe: {ssh: [x]}\n", "observe.ssh", "want a mapping of target, command, health-command, timeout, parallel, got a list", false},
		{"command scalar", ok + "observe: {command: /usr/local/bin/fleet-running}\n", "observe.command", `want a list: the command and its arguments, run without a shell, e.g. ["/usr/local/bin/fleet-running", "--json"]`, false},
		{"command empty", ok + "observe: {command: []}\n", "observe.command", "empty: give the command and its arguments, or choose another source", false},
		{"command blank", ok + "observe: {command: ['']}\n", "observe.command[0]", "empty command", false},
		{"converge without observe", "rings: [{name: a, hosts: [x], converge: 80%}, {name: b, hosts: ['*']}]\n", "rings[0].converge", "needs observe: (where ringflow learns what the hosts run): add an observe section, or remove converge", false},
		{"converge zero share", obs + "rings: [{name: a, hosts: ['*'], converge: 0%}]\n", "rings[0].converge", `want a percentage above 0 and at most 100, got "0%"`, false},
		{"converge over 100", obs + "rings: [{name: a, hosts: ['*'], converge: 120%}]\n", "rings[0].converge", `at most 100, got "120%"`, false},
		{"converge negative share", obs + "rings: [{name: a, hosts: ['*'], converge: -5%}]\n", "rings[0].converge", "above 0", false},
		{"converge zero count", obs + "rings: [{name: a, hosts: ['*'], converge: 0}]\n", "rings[0].converge", "want a number of hosts such as 2 or a share such as 80% (at least 1 host), got 0", false},
		{"converge negative count", obs + "rings: [{name: a, hosts: ['*'], converge: -2}]\n", "rings[0].converge", "(at least 1 host), got -2", false},
		{"converge float count", obs + "rings: [{name: a, hosts: ['*'], converge: 2.5}]\n", "rings[0].converge", "want a number of hosts such as 2 or a share such as 80%, got 2.5", false},
		{"converge words", obs + "rings: [{name: a, hosts: ['*'], converge: all}]\n", "rings[0].converge", `got "all"`, false},
		{"max-unhealthy without observe", "rings: [{name: a, hosts: [x], max-unhealthy: 1}, {name: b, hosts: ['*']}]\n", "rings[0].max-unhealthy", "needs observe: (where ringflow learns how the hosts are): add an observe section, or remove max-unhealthy", false},
		{"on-unhealthy without observe", "rings: [{name: a, hosts: [x], on-unhealthy: rollback}, {name: b, hosts: ['*']}]\n", "rings[0].on-unhealthy", "remove on-unhealthy", false},
		{"max-unhealthy negative", obs + "rings: [{name: a, hosts: ['*'], max-unhealthy: -1}]\n", "rings[0].max-unhealthy", "want a number of hosts such as 0 or 1, or a share such as 25%, got -1", false},
		{"max-unhealthy over 100%", obs + "rings: [{name: a, hosts: ['*'], max-unhealthy: 120%}]\n", "rings[0].max-unhealthy", `at most 100, got "120%"`, false},
		{"max-unhealthy words", obs + "rings: [{name: a, hosts: ['*'], max-unhealthy: some}]\n", "rings[0].max-unhealthy", `got "some"`, false},
		{"on-unhealthy other", obs + "rings: [{name: a, hosts: ['*'], on-unhealthy: halt}]\n", "rings[0].on-unhealthy", `want hold or rollback, got "halt"`, false},
		{"converge in a group", obs + "rings: [{name: a, groups: [{name: g, hosts: ['*'], converge: 2}]}]\n", "rings[0].groups[0].converge", "unknown key", false},
		// A broken observe is reported once, not again at every converge.
		{"converge with broken observe", "observe: {ssh: {target: nohost}}\nrings: [{name: a, hosts: [x], converge: 2}, {name: b, hosts: ['*']}]\n", "observe.ssh.target", "want {host}", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := loadYAML(t, tt.yaml)
			ps := problemsOf(t, err)
			if ps[0].Key != tt.key || !strings.Contains(ps[0].Message, tt.msg) {
				t.Errorf("first problem = %q: %q, want %q: …%q…", ps[0].Key, ps[0].Message, tt.key, tt.msg)
			}
			if len(ps) > 1 && !tt.more {
				t.Errorf("want one problem, got %d: %v", len(ps), ps)
			}
		})
	}
}
