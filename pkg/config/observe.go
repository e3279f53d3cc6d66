package config

import (
	"math"
	"net/url"
	"regexp"
	"strconv"
	"strings"
	"time"
)

// Observe says where ringflow learns what each host runs. Exactly one of
// Prometheus, SSH and Command is set.
type Observe struct {
	Prometheus *PrometheusSource
	SSH        *SSHSource
	// Command is a program and its arguments, run without a shell, that
	// prints what every host runs as JSON.
	Command []string
}

// Source names the one source set: "prometheus", "ssh" or "command".
func (o *Observe) Source() string {
	switch {
	case o.Prometheus != nil:
		return "prometheus"
	case o.SSH != nil:
		return "ssh"
	}
	return "command"
}

// PrometheusSource reads the hosts' metrics from a Prometheus server.
type PrometheusSource struct {
	URL string // the server's base URL, e.g. http://prometheus:9090
	// HostLabel is the label naming the host. When it is "instance",
	// a ":port" suffix is dropped: Prometheus sets instance to the
	// scraped address, host:9100.
	HostLabel string
	Timeout   time.Duration // bounds one round of queries
	// Health are the queries that tell a host unhealthy.
	Health PrometheusHealth
}

// PrometheusHealth are PromQL expressions whose result series are the
// unhealthy hosts, each named by the source's host label. A query ""
// is off.
type PrometheusHealth struct {
	Down string // the host is down
	// FailedUnits gives a series per failed unit, the unit in the label
	// name (as node_exporter's node_systemd_unit_state has it).
	FailedUnits      string
	DeploymentFailed string // the host's last deployment failed
}

// SSHSource asks each host over ssh.
type SSHSource struct {
	// Target is ssh's destination with "{host}" standing for the host's
	// name, e.g. "root@{host}.example.org".
	Target string
	// Command is run on the host by its login shell; its output, trimmed,
	// is the toplevel the host runs.
	Command string
	// HealthCommand is run on the host by its login shell to tell its
	// health: it prints the state `systemctl is-system-running` gives,
	// then the failed units, a line each, as `systemctl --failed --plain
	// --no-legend` lists them.
	HealthCommand string
	Timeout       time.Duration // bounds each host's ssh, connecting included
	Parallel      int           // hosts asked at once
}

// Defaults of observe's sources.
const (
	DefaultObserveTimeout = 10 * time.Second
	DefaultHostLabel      = "instance"
	DefaultSSHCommand     = "readlink -f /run/current-system"
	DefaultSSHParallel    = 8
	// DefaultSSHHealthCommand ends in true: is-system-running exits
	// non-zero when the system is degraded, which is an answer, not a
	// failure of ssh.
	DefaultSSHHealthCommand = "systemctl is-system-running; systemctl --failed --plain --no-legend --no-pager; true"
	// HostPlaceholder stands for the host's name in ssh.target.
	HostPlaceholder = "{host}"
)

// The default health queries of the Prometheus source.
const (
	// DefaultDownQuery: Prometheus could not scrape the host.
	DefaultDownQuery = "up == 0"
	// DefaultFailedUnitsQuery reads node_exporter's systemd collector.
	DefaultFailedUnitsQuery = `node_systemd_unit_state{state="failed"} == 1`
	// DefaultDeploymentFailedQuery reads comin's gauge of its last
	// deployment.
	DefaultDeploymentFailedQuery = "comin_last_deployment_failed == 1"
)

// DefaultPrometheusHealth are the health queries a prometheus source
// asks unless told otherwise.
func DefaultPrometheusHealth() PrometheusHealth {
	return PrometheusHealth{Down: DefaultDownQuery, FailedUnits: DefaultFailedUnitsQuery, DeploymentFailed: DefaultDeploymentFailedQuery}
}

// Converge is how many of a ring's hosts must run a commit before the
// next ring takes it: a count of hosts or a share of them. The zero
// Converge asks for nothing (no observe, no gate).
type Converge struct {
	Count int     // hosts; 0 when Share is set
	Share float64 // percent in (0, 100]; 0 when Count is set
}

// IsSet says whether c asks for anything.
func (c Converge) IsSet() bool { return c.Count > 0 || c.Share > 0 }

// Need returns how many of a ring's n hosts must run the commit: a share
// rounds up (80% of 3 hosts is 3), and a count above n asks for all n, so
// a ring that lost hosts is not shut for good.
func (c Converge) Need(n int) int {
	if c.Count > 0 {
		return min(c.Count, n)
	}
	// The tolerance keeps 100% of n at n despite float rounding.
	return min(int(math.Ceil(float64(n)*c.Share/100-1e-9)), n)
}

// String is the value as the config writes it: "80%" or "2".
func (c Converge) String() string {
	if c.Count > 0 {
		return strconv.Itoa(c.Count)
	}
	return strconv.FormatFloat(c.Share, 'f', -1, 64) + "%"
}

// Tolerance is how many of a ring's hosts may be unhealthy: a count of
// hosts (0 included) or a share of them. The zero Tolerance allows none.
type Tolerance struct {
	Count int     // hosts, when Share is 0
	Share float64 // percent in (0, 100]
}

// Allowed returns how many of a ring's n hosts may be unhealthy: a share
// rounds down (20% of 4 hosts is 0), so that a share never allows more
// than it says.
func (t Tolerance) Allowed(n int) int {
	if t.Share > 0 {
		return int(math.Floor(float64(n)*t.Share/100 + 1e-9))
	}
	return t.Count
}

// String is the value as the config writes it: "1", "25%".
func (t Tolerance) String() string {
	if t.Share > 0 {
		return strconv.FormatFloat(t.Share, 'f', -1, 64) + "%"
	}
	return strconv.Itoa(t.Count)
}

// What the cycle and watch do with a ring whose hosts turned unhealthy.
const (
	OnUnhealthyHold     = "hold"     // hold the ring, naming the hosts and units
	OnUnhealthyRollback = "rollback" // roll it back, forward, to where it was before, and hold it
)

// The keys of observe and of each of its sources.
var (
	observeKeys    = []string{"prometheus", "ssh", "command"}
	prometheusKeys = []string{"url", "host-label", "timeout", "health"}
	healthKeys     = []string{"down", "failed-units", "deployment-failed"}
	sshKeys        = []string{"target", "command", "health-command", "timeout", "parallel"}
)

// labelRE is Prometheus' label name syntax.
var labelRE = regexp.MustCompile(`^[a-zA-Z_][a-zA-Z0-9_]*$`)

// observe decodes the observe section; nil when it is missing or has a
// problem.
func (d *decoder) observe(settings map[string]any) *Observe {
	m, ok := d.section(settings, "observe", observeKeys)
	if !ok {
		return nil
	}
	var set []string
	for _, k := range observeKeys {
		if _, ok := m[k]; ok {
			set = append(set, k)
		}
	}
	switch len(set) {
	case 0:
		d.addf("observe", "want one source: prometheus, ssh or command")
		return nil
	case 1:
	default:
		d.addf("observe", "want one source, got %s: keep one of them", strings.Join(set, " and "))
		return nil
	}
	n := len(d.probs)
	o := &Observe{}
	switch set[0] {
	case "prometheus":
		o.Prometheus = d.prometheus(m)
	case "ssh":
		o.SSH = d.ssh(m)
	case "command":
		o.Command = d.command("observe.command", m["command"], `["/usr/local/bin/fleet-running", "--json"]`, "choose another source")
	}
	if len(d.probs) > n {
		return nil
	}
	return o
}

func (d *decoder) prometheus(m map[string]any) *PrometheusSource {
	p := &PrometheusSource{HostLabel: DefaultHostLabel, Timeout: DefaultObserveTimeout, Health: DefaultPrometheusHealth()}
	sm, ok := d.sub(m, "prometheus", "observe.prometheus", prometheusKeys)
	if !ok {
		return nil
	}
	if v, ok := sm["url"]; !ok {
		d.addf("observe.prometheus.url", "required: the Prometheus server, e.g. http://prometheus.example.org:9090")
	} else if s, ok := d.str("observe.prometheus.url", v); ok {
		u, err := url.Parse(s)
		if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
			d.addf("observe.prometheus.url", "want an http or https URL such as http://prometheus.example.org:9090, got %q", hidePassword(s))
		}
		p.URL = s
	}
	if v, ok := sm["host-label"]; ok {
		if s, ok := d.str("observe.prometheus.host-label", v); ok {
			if !labelRE.MatchString(s) {
				d.addf("observe.prometheus.host-label", "want a Prometheus label name such as instance or hostname, got %q", s)
			}
			p.HostLabel = s
		}
	}
	if v, ok := sm["timeout"]; ok {
		p.Timeout = d.positive("observe.prometheus.timeout", v)
	}
	if _, ok := sm["health"]; ok {
		d.promHealth(sm, &p.Health)
	}
	return p
}

// promHealth decodes observe.prometheus.health over the defaults in h:
// each key a PromQL expression, or "" to turn that check off.
func (d *decoder) promHealth(m map[string]any, h *PrometheusHealth) {
	hm, ok := d.sub(m, "health", "observe.prometheus.health", healthKeys)
	if !ok {
		return
	}
	for _, k := range healthKeys {
		v, ok := hm[k]
		if !ok {
			continue
		}
		key := "observe.prometheus.health." + k
		q, ok := d.str(key, v)
		if !ok {
			continue
		}
		if q != "" && strings.TrimSpace(q) == "" {
			d.addf(key, `want a PromQL expression, or "" to turn the check off, got %s`, show(v))
			continue
		}
		q = strings.TrimSpace(q)
		switch k {
		case "down":
			h.Down = q
		case "failed-units":
			h.FailedUnits = q
		case "deployment-failed":
			h.DeploymentFailed = q
		}
	}
}

func (d *decoder) ssh(m map[string]any) *SSHSource {
	s := &SSHSource{Command: DefaultSSHCommand, HealthCommand: DefaultSSHHealthCommand, Timeout: DefaultObserveTimeout, Parallel: DefaultSSHParallel}
	sm, ok := d.sub(m, "ssh", "observe.ssh", sshKeys)
	if !ok {
		return nil
	}
	const tkey = "observe.ssh.target"
	if v, ok := sm["target"]; !ok {
		d.addf(tkey, "required: where ssh connects, with %s for the host's name, e.g. root@{host}.example.org", HostPlaceholder)
	} else if t, ok := d.str(tkey, v); ok {
		switch {
		case !strings.Contains(t, HostPlaceholder):
			d.addf(tkey, "want %s where the host's name goes, e.g. root@{host}.example.org, got %q", HostPlaceholder, t)
		case strings.HasPrefix(t, "-"):
			// ssh would read it as an option.
			d.addf(tkey, "must not start with \"-\", got %q", t)
		case strings.ContainsAny(t, " \t\n\r"):
			d.addf(tkey, "want a destination without spaces such as root@{host}.example.org, got %q", t)
		}
		s.Target = t
	}
	if v, ok := sm["command"]; ok {
		if c, ok := d.str("observe.ssh.command", v); ok {
			if strings.TrimSpace(c) == "" {
				d.addf("observe.ssh.command", "must not be empty (leave it out for %q)", DefaultSSHCommand)
			}
			s.Command = c
		}
	}
	if v, ok := sm["health-command"]; ok {
		if c, ok := d.str("observe.ssh.health-command", v); ok {
			if strings.TrimSpace(c) == "" {
				d.addf("observe.ssh.health-command", "must not be empty (leave it out for %q)", DefaultSSHHealthCommand)
			}
			s.HealthCommand = c
		}
	}
	if v, ok := sm["timeout"]; ok {
		s.Timeout = d.positive("observe.ssh.timeout", v)
	}
	if v, ok := sm["parallel"]; ok {
		if n, ok := jobs(v, 1); ok && n != "auto" {
			s.Parallel, _ = strconv.Atoi(n)
		} else {
			d.addf("observe.ssh.parallel", "want a positive number of hosts asked at once, got %s", show(v))
		}
	}
	return s
}

// sub returns the mapping under k of m, whose full key is full,
// reporting its unknown keys.
func (d *decoder) sub(m map[string]any, k, full string, known []string) (map[string]any, bool) {
	v := m[k]
	sm, ok := v.(map[string]any)
	if !ok {
		d.addf(full, "want a mapping of %s, got %s", strings.Join(known, ", "), show(v))
		return nil, false
	}
	d.unknown(full+".", sm, known)
	return sm, true
}

// positive decodes a duration above 0.
func (d *decoder) positive(key string, v any) time.Duration {
	dur, ok := d.duration(key, v)
	if ok && dur <= 0 {
		d.addf(key, "must be more than 0, got %s", show(v))
		return 0
	}
	return dur
}

// converge decodes a ring's converge: a count of hosts (2) or a share
// (80%, read as share is).
func (d *decoder) converge(key string, v any) Converge {
	const want = "want a number of hosts such as 2 or a share such as 80%%"
	switch x := v.(type) {
	case int, int64, uint64:
		f, _ := number(x)
		if f < 1 {
			d.addf(key, want+" (at least 1 host), got %s", show(v))
			return Converge{}
		}
		return Converge{Count: int(min(f, math.MaxInt32))}
	case string:
		s := strings.TrimSpace(x)
		if strings.HasSuffix(s, "%") {
			return Converge{Share: d.share(key, x)}
		}
		n, err := strconv.Atoi(s)
		if err != nil {
			d.addf(key, want+", got %s", show(v))
			return Converge{}
		}
		return d.converge(key, n)
	}
	d.addf(key, want+", got %s", show(v))
	return Converge{}
}

// tolerance decodes a ring's max-unhealthy: a count of hosts (0 allowed)
// or a share (25%).
func (d *decoder) tolerance(key string, v any) Tolerance {
	const want = "want a number of hosts such as 0 or 1, or a share such as 25%%"
	switch x := v.(type) {
	case int, int64, uint64:
		f, _ := number(x)
		if f < 0 {
			d.addf(key, want+", got %s", show(v))
			return Tolerance{}
		}
		return Tolerance{Count: int(min(f, math.MaxInt32))}
	case string:
		s := strings.TrimSpace(x)
		if strings.HasSuffix(s, "%") {
			if f, err := strconv.ParseFloat(strings.TrimSpace(strings.TrimSuffix(s, "%")), 64); err == nil && f == 0 {
				return Tolerance{}
			}
			return Tolerance{Share: d.share(key, x)}
		}
		n, err := strconv.Atoi(s)
		if err != nil {
			d.addf(key, want+", got %s", show(v))
			return Tolerance{}
		}
		return d.tolerance(key, n)
	}
	d.addf(key, want+", got %s", show(v))
	return Tolerance{}
}

// onUnhealthy decodes a ring's on-unhealthy: hold or rollback.
func (d *decoder) onUnhealthy(key string, v any) string {
	if s, ok := v.(string); ok {
		switch s = strings.TrimSpace(s); s {
		case OnUnhealthyHold, OnUnhealthyRollback:
			return s
		}
	}
	d.addf(key, "want %s or %s, got %s", OnUnhealthyHold, OnUnhealthyRollback, show(v))
	return ""
}

// crossObserve ties each ring's converge to observe: converge needs
// observe, and a ring that does not set it asks for all its hosts.
// observeFailed says observe was written but has a problem, which was
// reported already.
func (d *decoder) crossObserve(c *Config, observeFailed bool) {
	for i := range c.Rings {
		r := &c.Rings[i]
		switch {
		case c.Observe != nil && !r.Converge.IsSet() && !d.has(r.Key+".converge"):
			r.Converge = Converge{Share: 100}
		case c.Observe == nil && !observeFailed && d.converges[r.Key]:
			d.addf(r.Key+".converge", "needs observe: (where ringflow learns what the hosts run): add an observe section, or remove converge")
			r.Converge = Converge{}
		case c.Observe == nil:
			r.Converge = Converge{}
		}
		for _, k := range []string{"max-unhealthy", "on-unhealthy"} {
			if c.Observe == nil && !observeFailed && d.unhealthy[r.Key+"."+k] {
				d.addf(r.Key+"."+k, "needs observe: (where ringflow learns how the hosts are): add an observe section, or remove %s", k)
			}
		}
		switch {
		case c.Observe == nil:
			r.MaxUnhealthy, r.OnUnhealthy = Tolerance{}, ""
		case r.OnUnhealthy == "":
			r.OnUnhealthy = OnUnhealthyHold
		}
	}
}
