package observe

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"reflect"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/ringflow/ringflow/pkg/config"
)

const (
	topA   = "/nix/store/aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa-nixos-system-web-1-25.11"
	topB   = "/nix/store/bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb-nixos-system-web-2-25.11"
	commit = "3f2a9c1e0d4b5a6978877665544332211aabbccd"
)

// promAPI answers /api/v1/query as Prometheus does, from a canned result
// per query, and records what it was asked.
type promAPI struct {
	mu      sync.Mutex
	results map[string]string // query -> JSON of data.result
	asked   []string
	status  int               // non-zero: answer every query with this HTTP status
	bad     map[string]string // query -> the error Prometheus refuses it with (bad_data)
	data    map[string]string // query -> JSON of the whole data, for other result types
}

func (p *promAPI) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if r.URL.Path != "/api/v1/query" {
		http.NotFound(w, r)
		return
	}
	q := r.FormValue("query")
	p.mu.Lock()
	p.asked = append(p.asked, q+" time="+r.FormValue("time"))
	res, ok := p.results[q]
	status := p.status
	bad, isBad := p.bad[q]
	data, isData := p.data[q]
	p.mu.Unlock()
	w.Header().Set("Content-Type", "application/json")
	switch {
	case isBad:
		w.WriteHeader(http.StatusBadRequest)
		fmt.Fprintf(w, `{"status":"error","errorType":"bad_data","error":%q}`, bad)
		return
	case isData:
		fmt.Fprintf(w, `{"status":"success","data":%s}`, data)
		return
	}
	if status != 0 {
		w.WriteHeader(status)
		fmt.Fprintf(w, `{"status":"error","errorType":"internal","error":"storage is on fire"}`)
		return
	}
	if !ok {
		res = "[]"
	}
	fmt.Fprintf(w, `{"status":"success","data":{"resultType":"vector","result":%s}}`, res)
}

// sample renders one vector sample with labels and a value.
func sample(value string, labels ...string) string {
	var kv []string
	for i := 0; i < len(labels); i += 2 {
		kv = append(kv, fmt.Sprintf("%q:%q", labels[i], labels[i+1]))
	}
	return fmt.Sprintf(`{"metric":{%s},"value":[1796600000.123,%q]}`, strings.Join(kv, ","), value)
}

func list(samples ...string) string { return "[" + strings.Join(samples, ",") + "]" }

func newPromSource(t *testing.T, api *promAPI, label string) Source {
	t.Helper()
	srv := httptest.NewServer(api)
	t.Cleanup(srv.Close)
	now := time.Date(2026, 12, 7, 19, 0, 0, 0, time.UTC)
	src, err := New(&config.Observe{Prometheus: &config.PrometheusSource{URL: srv.URL, HostLabel: label, Timeout: 5 * time.Second}},
		Options{Now: func() time.Time { return now }})
	if err != nil {
		t.Fatal(err)
	}
	return src
}

func TestPrometheusSource(t *testing.T) {
	api := &promAPI{results: map[string]string{
		ToplevelMetric: list(
			sample("1", "__name__", ToplevelMetric, "instance", "web-1:9100", "job", "node", "toplevel", topA),
			// ringflow's metric wins over comin's for a host with both.
			sample("1", "__name__", ToplevelMetric, "instance", "web-2:9100", "job", "node", "toplevel", topB),
			// Scraped twice, with two toplevels: not guessed.
			sample("1", "__name__", ToplevelMetric, "instance", "twice:9100", "toplevel", topA),
			sample("1", "__name__", ToplevelMetric, "instance", "twice:9200", "toplevel", topB),
			// IPv6 target.
			sample("1", "__name__", ToplevelMetric, "instance", "[fd00::7]:9100", "toplevel", topA),
		),
		SwitchedMetric: list(
			sample("1796590000", "__name__", SwitchedMetric, "instance", "web-1:9100"),
			sample("1796590000.5", "__name__", SwitchedMetric, "instance", "web-2:9100"),
		),
		CominMetric: list(
			sample("1", "__name__", CominMetric, "instance", "web-2:4243", "commit_id", commit, "status", "done"),
			sample("1", "__name__", CominMetric, "instance", "lab-1:4243", "commit_id", commit, "status", "done"),
			sample("1", "__name__", CominMetric, "instance", "lab-2:4243", "commit_id", commit, "status", "failed"),
			sample("1", "__name__", CominMetric, "instance", "lab-3:4243", "commit_id", commit, "status", "running"),
		),
	}}
	src := newPromSource(t, api, "instance")
	got, err := src.Running(context.Background(), []string{"web-1", "web-2", "lab-1", "lab-2", "lab-3", "twice", "fd00::7", "gone"})
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]Run{
		"web-1":   {Host: "web-1", Toplevel: topA, Since: time.Unix(1796590000, 0).UTC()},
		"web-2":   {Host: "web-2", Toplevel: topB, Since: time.Unix(1796590000, 5e8).UTC()},
		"lab-1":   {Host: "lab-1", Commit: commit},
		"fd00::7": {Host: "fd00::7", Toplevel: topA},
	}
	for h, w := range want {
		if !reflect.DeepEqual(got[h], w) {
			t.Errorf("%s: got %+v, want %+v", h, got[h], w)
		}
	}
	for h, msg := range map[string]string{
		"lab-2": `comin's last deployment, of ` + commit + `, is "failed", not "done": what the host runs is unknown`,
		"lab-3": `is "running"`,
		"twice": ToplevelMetric + " says the host runs 2 toplevels: " + topA + ", " + topB + " (is it scraped twice?)",
		"gone":  `has no ringflow_host_toplevel_info nor comin_deployment_info with instance="gone:<port>"`,
	} {
		if r := got[h]; !strings.Contains(r.Err, msg) || r.Toplevel != "" || r.Commit != "" {
			t.Errorf("%s: got %+v, want Err …%s…", h, r, msg)
		}
	}
	if len(got) != 8 {
		t.Errorf("got %d runs, want one per host asked: %v", len(got), got)
	}
	// Instant queries at the source's clock.
	api.mu.Lock()
	defer api.mu.Unlock()
	if len(api.asked) != 3 || !strings.HasPrefix(api.asked[0], ToplevelMetric+" time=1796670000") {
		t.Errorf("asked %q", api.asked)
	}
}

// Another label names the host as it is, port-like suffix and all.
func TestPrometheusHostLabel(t *testing.T) {
	api := &promAPI{results: map[string]string{
		ToplevelMetric: list(
			sample("1", "instance", "10.0.0.1:9100", "host", "web-1", "toplevel", topA),
			sample("1", "instance", "10.0.0.2:9100", "toplevel", topB), // no host label: ignored
		),
	}}
	got, err := newPromSource(t, api, "host").Running(context.Background(), []string{"web-1"})
	if err != nil {
		t.Fatal(err)
	}
	if r := got["web-1"]; r.Toplevel != topA || r.Err != "" {
		t.Errorf("web-1 = %+v", r)
	}
	for in, want := range map[[2]string]string{
		{"instance", "web-1:9100"}:        "web-1",
		{"instance", "web-1"}:             "web-1",
		{"instance", "web-1.lan:9100"}:    "web-1.lan",
		{"instance", "[fd00::1]:9100"}:    "fd00::1",
		{"hostname", "web-1:9100"}:        "web-1:9100",
		{"nodename", "web-1.example.org"}: "web-1.example.org",
	} {
		if got := HostFromLabel(in[0], in[1]); got != want {
			t.Errorf("HostFromLabel(%q, %q) = %q, want %q", in[0], in[1], got, want)
		}
	}
}

func TestPrometheusFailures(t *testing.T) {
	for status, msg := range map[int]string{
		http.StatusUnprocessableEntity: "storage is on fire (check observe.prometheus.url)",
		http.StatusServiceUnavailable:  "server error: 503",
	} {
		api := &promAPI{status: status}
		_, err := newPromSource(t, api, "instance").Running(context.Background(), []string{"web-1"})
		if err == nil || !strings.Contains(err.Error(), "observe: Prometheus at http://127.0.0.1:") || !strings.Contains(err.Error(), msg) {
			t.Errorf("HTTP %d: err = %v, want …%s…", status, err, msg)
		}
	}

	// A server that does not answer within the timeout.
	block := make(chan struct{})
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { <-block }))
	defer srv.Close()
	defer close(block)
	src, err := New(&config.Observe{Prometheus: &config.PrometheusSource{URL: srv.URL, HostLabel: "instance", Timeout: 100 * time.Millisecond}}, Options{})
	if err != nil {
		t.Fatal(err)
	}
	start := time.Now()
	_, err = src.Running(context.Background(), []string{"web-1"})
	if err == nil || !strings.Contains(err.Error(), "did not answer the query ringflow_host_toplevel_info within 100ms (observe.prometheus.timeout)") {
		t.Errorf("err = %v", err)
	}
	if time.Since(start) > 5*time.Second {
		t.Errorf("timed out after %s", time.Since(start))
	}

	// Interrupted: the cancellation reaches the caller.
	ctx, cancel := context.WithCancel(context.Background())
	go func() { time.Sleep(50 * time.Millisecond); cancel() }()
	src, err = New(&config.Observe{Prometheus: &config.PrometheusSource{URL: srv.URL, HostLabel: "instance", Timeout: time.Minute}}, Options{})
	if err != nil {
		t.Fatal(err)
	}
	if _, err = src.Running(ctx, []string{"web-1"}); !errors.Is(err, context.Canceled) {
		t.Errorf("interrupted: err = %v, want context.Canceled", err)
	}
}
