package observe

import (
	"context"
	"net/http/httptest"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/ringflow/ringflow/pkg/config"
)

// took returns the queries asked since the last call, and forgets them.
func (p *promAPI) took() []string {
	p.mu.Lock()
	defer p.mu.Unlock()
	asked := p.asked
	p.asked = nil
	return asked
}

func newPromHealthSource(t *testing.T, api *promAPI, label string, health config.PrometheusHealth) HealthSource {
	t.Helper()
	srv := httptest.NewServer(api)
	t.Cleanup(srv.Close)
	now := time.Date(2026, 12, 7, 19, 0, 0, 0, time.UTC)
	src, err := NewHealth(&config.Observe{Prometheus: &config.PrometheusSource{URL: srv.URL, HostLabel: label, Timeout: 5 * time.Second, Health: health}},
		Options{Now: func() time.Time { return now }})
	if err != nil {
		t.Fatal(err)
	}
	return src
}

func TestPrometheusHealth(t *testing.T) {
	api := &promAPI{results: map[string]string{
		"up": list(
			sample("1", "__name__", "up", "instance", "web-1:9100", "job", "node"),
			sample("1", "__name__", "up", "instance", "web-1:4243", "job", "comin"),
			sample("1", "__name__", "up", "instance", "[fd00::7]:9100", "job", "node"),
			sample("0", "__name__", "up", "instance", "down-1:9100", "job", "node"),
			sample("1", "__name__", "up", "instance", "units-1:9100", "job", "node"),
			sample("1", "__name__", "up", "instance", "comin-1:4243", "job", "comin"),
			sample("0", "__name__", "up", "instance", "all-3:9100", "job", "node"),
			sample("0", "__name__", "up", "instance", "all-3:4243", "job", "comin"),
			sample("1", "__name__", "up", "instance", "nameless:9100", "job", "node"),
			sample("1", "__name__", "up", "job", "node"), // no host label: ignored
		),
		// A filter keeps the left side's value: up == 0 gives 0. The
		// series are what counts.
		config.DefaultDownQuery: list(
			sample("0", "__name__", "up", "instance", "down-1:9100", "job", "node"),
			sample("0", "__name__", "up", "instance", "all-3:9100", "job", "node"),
			sample("0", "__name__", "up", "instance", "all-3:4243", "job", "comin"),
		),
		config.DefaultFailedUnitsQuery: list(
			sample("1", "__name__", "node_systemd_unit_state", "instance", "units-1:9100", "name", "nginx.service", "state", "failed", "type", "simple"),
			sample("1", "__name__", "node_systemd_unit_state", "instance", "units-1:9100", "name", "backup.service", "state", "failed"),
			// Scraped twice: the unit once.
			sample("1", "__name__", "node_systemd_unit_state", "instance", "units-1:9200", "name", "nginx.service", "state", "failed"),
			sample("1", "__name__", "node_systemd_unit_state", "instance", "all-3:9100", "name", "sshd.service", "state", "failed"),
			sample("1", "__name__", "node_systemd_unit_state", "instance", "nameless:9100", "state", "failed"),
			// Unknown to up (its node job is not scraped by this server),
			// yet the query tells.
			sample("1", "__name__", "node_systemd_unit_state", "instance", "elsewhere:9100", "name", "a.mount", "state", "failed"),
		),
		config.DefaultDeploymentFailedQuery: list(
			sample("1", "__name__", "comin_last_deployment_failed", "instance", "comin-1:4243", "job", "comin"),
			sample("1", "__name__", "comin_last_deployment_failed", "instance", "all-3:4243", "job", "comin"),
		),
	}}
	src := newPromHealthSource(t, api, "instance", config.DefaultPrometheusHealth())
	hosts := []string{"web-1", "fd00::7", "down-1", "units-1", "comin-1", "all-3", "nameless", "elsewhere", "gone"}
	got, err := src.Health(context.Background(), hosts)
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]Health{
		"web-1":   {Host: "web-1", Known: true, Healthy: true},
		"fd00::7": {Host: "fd00::7", Known: true, Healthy: true},
		"down-1":  {Host: "down-1", Known: true, Reasons: []string{"down (up == 0, job node)"}},
		"units-1": {Host: "units-1", Known: true, Reasons: []string{"failed units: backup.service, nginx.service"}, FailedUnits: []string{"backup.service", "nginx.service"}},
		"comin-1": {Host: "comin-1", Known: true, Reasons: []string{"comin's last deployment failed"}},
		"all-3": {Host: "all-3", Known: true, Reasons: []string{"down (up == 0, job comin, node)", "failed units: sshd.service", "comin's last deployment failed"},
			FailedUnits: []string{"sshd.service"}},
		"nameless":  {Host: "nameless", Known: true, Reasons: []string{`failed units (node_systemd_unit_state{state="failed"} == 1 gave series without a name label)`}},
		"elsewhere": {Host: "elsewhere", Known: true, Reasons: []string{"failed units: a.mount"}, FailedUnits: []string{"a.mount"}},
	}
	for h, w := range want {
		if !reflect.DeepEqual(got[h], w) {
			t.Errorf("%s:\n got %+v\nwant %+v", h, got[h], w)
		}
	}
	if g := got["gone"]; g.Known || g.Healthy || len(g.Reasons) != 1 ||
		!strings.Contains(g.Reasons[0], `has no up series with instance="gone:<port>" (is the host scraped?)`) {
		t.Errorf("gone = %+v, want not Known, with why", g)
	}
	if len(got) != len(hosts) {
		t.Errorf("got %d, want one per host asked: %v", len(got), got)
	}
	asked := api.took()
	wantAsked := []string{"up", config.DefaultDownQuery, config.DefaultFailedUnitsQuery, config.DefaultDeploymentFailedQuery}
	if len(asked) != len(wantAsked) {
		t.Fatalf("asked %q", asked)
	}
	for i, q := range wantAsked {
		if asked[i] != q+" time=1796670000" {
			t.Errorf("query %d = %q, want %q at the source's clock", i, asked[i], q)
		}
	}
}

// Queries of the operator's, one turned off, and another host label.
func TestPrometheusHealthConfigured(t *testing.T) {
	const (
		down   = `up{job="node"} == 0`
		failed = `comin_deployment_info{status="failed"} == 1`
	)
	api := &promAPI{results: map[string]string{
		"up": list(
			sample("1", "instance", "10.0.0.1:9100", "host", "web-1", "job", "node"),
			sample("0", "instance", "10.0.0.2:9100", "host", "web-2", "job", "node"),
			sample("1", "instance", "10.0.0.3:4243", "host", "web-3", "job", "comin"),
		),
		down:   list(sample("0", "instance", "10.0.0.2:9100", "host", "web-2", "job", "node")),
		failed: list(sample("1", "instance", "10.0.0.3:4243", "host", "web-3", "commit_id", commit, "status", "failed")),
		// Off: never asked, so never counts.
		config.DefaultFailedUnitsQuery: list(sample("1", "host", "web-1", "name", "x.service")),
	}}
	src := newPromHealthSource(t, api, "host", config.PrometheusHealth{Down: down, DeploymentFailed: failed})
	got, err := src.Health(context.Background(), []string{"web-1", "web-2", "web-3"})
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]Health{
		"web-1": {Host: "web-1", Known: true, Healthy: true},
		"web-2": {Host: "web-2", Known: true, Reasons: []string{`down (up{job="node"} == 0, job node)`}},
		"web-3": {Host: "web-3", Known: true, Reasons: []string{`last deployment failed (comin_deployment_info{status="failed"} == 1)`}},
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("got  %+v\nwant %+v", got, want)
	}
	if asked := api.took(); len(asked) != 3 {
		t.Errorf("asked %q, want up and the two queries on", asked)
	}

	// All off: up alone, and every host it knows is healthy, down or not.
	got, err = newPromHealthSource(t, api, "host", config.PrometheusHealth{}).Health(context.Background(), []string{"web-2"})
	if asked := api.took(); err != nil || !got["web-2"].Healthy || len(asked) != 1 {
		t.Errorf("all off: %+v, %v, asked %q", got, err, asked)
	}
}

func TestPrometheusHealthFailures(t *testing.T) {
	health := config.DefaultPrometheusHealth()
	for _, tt := range []struct {
		name string
		api  *promAPI
		msg  string
	}{
		{"server", &promAPI{status: 503}, "query up: server_error: server error: 503 (check observe.prometheus.url)"},
		{"bad query", &promAPI{bad: map[string]string{config.DefaultFailedUnitsQuery: `1:23: parse error: unexpected "=="`}},
			`query node_systemd_unit_state{state="failed"} == 1 (observe.prometheus.health.failed-units): bad_data: 1:23: parse error: unexpected "==" (check observe.prometheus.health.failed-units)`},
		{"scalar", &promAPI{data: map[string]string{config.DefaultDeploymentFailedQuery: `{"resultType":"scalar","result":[1796600000,"1"]}`}},
			"answered the query comin_last_deployment_failed == 1 (observe.prometheus.health.deployment-failed) with a scalar, not an instant vector"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			_, err := newPromHealthSource(t, tt.api, "instance", health).Health(context.Background(), []string{"web-1"})
			if err == nil || !strings.HasPrefix(err.Error(), "observe: Prometheus at http://127.0.0.1:") || !strings.Contains(err.Error(), tt.msg) {
				t.Errorf("err = %v, want …%s…", err, tt.msg)
			}
		})
	}
}
