// Package promserver runs a real Prometheus (Debian's prometheus package)
// on loopback for ringflow's tests: a generated prometheus.yml scraping the
// given targets every second, its storage in a temporary directory, stopped
// when the test ends. Queries go through Prometheus' HTTP API, as
// ringflow's own observe source reads it.
//
// A missing prometheus skips the test, and fails it when CI is set, so a
// skip cannot hide a regression there.
package promserver

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/ringflow/ringflow/test/testenv"
)

// DebianBinary is where Debian's prometheus package installs the server.
const DebianBinary = "/usr/bin/prometheus"

// ScrapeInterval is how often every target is scraped.
const ScrapeInterval = time.Second

// Target is one endpoint Prometheus scrapes.
type Target struct {
	Addr   string            // host:port serving /metrics
	Labels map[string]string // set on every series scraped from it, e.g. host
}

// Server is a running Prometheus.
type Server struct {
	URL     string // http://127.0.0.1:PORT
	Version string // what `prometheus --version` says on its first line
	t       testing.TB
	targets []Target
	log     *testenv.Buffer
}

// Binary returns the prometheus to run: $RINGFLOW_PROMETHEUS, Debian's, or
// the first on PATH. It skips the test when there is none (fails it under
// CI), and in -short mode.
func Binary(t testing.TB) string {
	t.Helper()
	if testing.Short() {
		t.Skip("needs a real prometheus: skipped in -short mode")
	}
	for _, p := range []string{os.Getenv("RINGFLOW_PROMETHEUS"), DebianBinary} {
		if p == "" {
			continue
		}
		if fi, err := os.Stat(p); err == nil && !fi.IsDir() {
			return p
		}
	}
	if p, err := exec.LookPath("prometheus"); err == nil {
		return p
	}
	if os.Getenv("CI") != "" {
		t.Fatalf("prometheus is not installed but CI is set (scripts/install-deps.sh installs Debian's prometheus)")
	}
	t.Skip("needs prometheus (Debian's prometheus package)")
	return ""
}

// Start runs Prometheus scraping targets until the test ends, and waits
// until it is ready (not until the targets are up: see WaitTargetsUp).
func Start(t testing.TB, targets ...Target) *Server {
	t.Helper()
	bin := Binary(t)
	dir := t.TempDir()
	s := &Server{t: t, targets: targets}
	if out, err := exec.Command(bin, "--version").CombinedOutput(); err == nil {
		s.Version, _, _ = strings.Cut(string(out), "\n")
	}
	cfg := filepath.Join(dir, "prometheus.yml")
	b, err := config(targets)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(cfg, b, 0o644); err != nil {
		t.Fatal(err)
	}
	// A few tries: the free port may be taken before prometheus binds it.
	for try := 0; ; try++ {
		port := testenv.FreePort(t)
		s.URL = fmt.Sprintf("http://127.0.0.1:%d", port)
		s.log = &testenv.Buffer{}
		cmd := exec.Command(bin,
			"--config.file="+cfg,
			"--storage.tsdb.path="+filepath.Join(dir, fmt.Sprintf("data-%d", try)),
			"--web.listen-address="+fmt.Sprintf("127.0.0.1:%d", port),
			"--log.level=warn",
		)
		cmd.Dir = dir
		cmd.Stdout, cmd.Stderr = s.log, s.log
		cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
		if err := cmd.Start(); err != nil {
			t.Fatalf("starting %s: %v", bin, err)
		}
		exited := make(chan error, 1)
		go func() { exited <- cmd.Wait() }()
		err := s.waitReady(exited, 60*time.Second)
		if err != nil {
			syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL)
			<-exited
			if try < 3 && strings.Contains(s.log.String(), "address already in use") {
				continue
			}
			t.Fatalf("prometheus did not start: %v\n%s", err, s.log.String())
		}
		t.Cleanup(func() {
			// SIGTERM: it shuts down cleanly in well under a second.
			syscall.Kill(-cmd.Process.Pid, syscall.SIGTERM)
			select {
			case <-exited:
			case <-time.After(10 * time.Second):
				syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL)
				<-exited
			}
			if t.Failed() {
				t.Logf("prometheus log:\n%s", s.log.String())
			}
		})
		return s
	}
}

// config is prometheus.yml (JSON is YAML): every target in one job,
// scraped every ScrapeInterval, each with its labels.
func config(targets []Target) ([]byte, error) {
	type static struct {
		Targets []string          `json:"targets"`
		Labels  map[string]string `json:"labels,omitempty"`
	}
	var statics []static
	for _, tg := range targets {
		if _, _, err := net.SplitHostPort(tg.Addr); err != nil {
			return nil, fmt.Errorf("promserver: target %q: %w", tg.Addr, err)
		}
		statics = append(statics, static{Targets: []string{tg.Addr}, Labels: tg.Labels})
	}
	iv := ScrapeInterval.String()
	cfg := map[string]any{
		"global": map[string]any{"scrape_interval": iv, "scrape_timeout": iv, "evaluation_interval": iv},
		"scrape_configs": []any{map[string]any{
			"job_name":       "hosts",
			"static_configs": statics,
		}},
	}
	return json.MarshalIndent(cfg, "", "  ")
}

// waitReady polls /-/ready until it answers 200.
func (s *Server) waitReady(exited <-chan error, timeout time.Duration) error {
	deadline := time.Now().Add(timeout)
	for time.Now().Before(deadline) {
		select {
		case err := <-exited:
			return fmt.Errorf("exited: %v", err)
		default:
		}
		resp, err := http.Get(s.URL + "/-/ready")
		if err == nil {
			io.Copy(io.Discard, resp.Body)
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return nil
			}
		}
		time.Sleep(100 * time.Millisecond)
	}
	return fmt.Errorf("not ready after %s", timeout)
}

// TargetHealth is one active target as /api/v1/targets reports it.
type TargetHealth struct {
	ScrapeURL string            `json:"scrapeUrl"`
	Health    string            `json:"health"` // "up", "down", "unknown"
	LastError string            `json:"lastError"`
	Labels    map[string]string `json:"labels"`
}

// Targets asks /api/v1/targets for the active targets.
func (s *Server) Targets(ctx context.Context) ([]TargetHealth, error) {
	var data struct {
		ActiveTargets []TargetHealth `json:"activeTargets"`
	}
	if err := s.api(ctx, "/api/v1/targets", url.Values{"state": {"active"}}, &data); err != nil {
		return nil, err
	}
	return data.ActiveTargets, nil
}

// WaitTargetsUp waits until every target Start was given has been scraped
// successfully, and fails the test when that takes longer than timeout.
func (s *Server) WaitTargetsUp(timeout time.Duration) {
	s.t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	var last []TargetHealth
	for {
		ts, err := s.Targets(ctx)
		if err == nil {
			last = ts
			up := 0
			for _, tg := range ts {
				if tg.Health == "up" {
					up++
				}
			}
			if up == len(s.targets) && len(ts) == len(s.targets) {
				return
			}
		}
		select {
		case <-ctx.Done():
			s.t.Fatalf("prometheus: not every target up after %s: %+v (last error: %v)", timeout, last, err)
		case <-time.After(200 * time.Millisecond):
		}
	}
}

// Sample is one series of an instant vector.
type Sample struct {
	Metric map[string]string
	Value  float64
	Time   time.Time
}

// Query evaluates expr at the current time (/api/v1/query), sorted by the
// series' labels.
func (s *Server) Query(ctx context.Context, expr string) ([]Sample, error) {
	var data struct {
		ResultType string `json:"resultType"`
		Result     []struct {
			Metric map[string]string `json:"metric"`
			Value  [2]any            `json:"value"` // [ unix seconds, "value" ]
		} `json:"result"`
	}
	if err := s.api(ctx, "/api/v1/query", url.Values{"query": {expr}}, &data); err != nil {
		return nil, err
	}
	if data.ResultType != "vector" {
		return nil, fmt.Errorf("promserver: query %q: result type %q, want vector", expr, data.ResultType)
	}
	var out []Sample
	for _, r := range data.Result {
		ts, ok := r.Value[0].(float64)
		str, ok2 := r.Value[1].(string)
		if !ok || !ok2 {
			return nil, fmt.Errorf("promserver: query %q: sample %v is not [time, \"value\"]", expr, r.Value)
		}
		v, err := strconv.ParseFloat(str, 64)
		if err != nil {
			return nil, fmt.Errorf("promserver: query %q: value %q: %w", expr, str, err)
		}
		sec := int64(ts)
		out = append(out, Sample{Metric: r.Metric, Value: v, Time: time.Unix(sec, int64((ts-float64(sec))*1e9))})
	}
	sort.Slice(out, func(i, j int) bool { return labelKey(out[i].Metric) < labelKey(out[j].Metric) })
	return out, nil
}

func labelKey(m map[string]string) string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	var b strings.Builder
	for _, k := range keys {
		b.WriteString(k + "=" + m[k] + "\x00")
	}
	return b.String()
}

// api GETs path and decodes the data of a success envelope into v.
func (s *Server) api(ctx context.Context, path string, q url.Values, v any) error {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, s.URL+path+"?"+q.Encode(), nil)
	if err != nil {
		return err
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return fmt.Errorf("promserver: %s: %w", path, err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		return fmt.Errorf("promserver: %s: %w", path, err)
	}
	var env struct {
		Status string          `json:"status"`
		Data   json.RawMessage `json:"data"`
		Error  string          `json:"error"`
	}
	if err := json.Unmarshal(body, &env); err != nil {
		return fmt.Errorf("promserver: %s: HTTP %d: %w: %s", path, resp.StatusCode, err, bytes.TrimSpace(body))
	}
	if env.Status != "success" {
		return fmt.Errorf("promserver: %s: %s: %s", path, env.Status, env.Error)
	}
	if err := json.Unmarshal(env.Data, v); err != nil {
		return fmt.Errorf("promserver: %s: %w", path, err)
	}
	return nil
}

// Log is what prometheus printed so far.
func (s *Server) Log() string { return s.log.String() }
