package promserver

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"
)

func TestConfig(t *testing.T) {
	b, err := config([]Target{{Addr: "127.0.0.1:9100", Labels: map[string]string{"host": "lab-1"}}, {Addr: "127.0.0.1:9101"}})
	if err != nil {
		t.Fatal(err)
	}
	var cfg struct {
		Global struct {
			ScrapeInterval string `json:"scrape_interval"`
			ScrapeTimeout  string `json:"scrape_timeout"`
		} `json:"global"`
		ScrapeConfigs []struct {
			JobName       string `json:"job_name"`
			StaticConfigs []struct {
				Targets []string          `json:"targets"`
				Labels  map[string]string `json:"labels"`
			} `json:"static_configs"`
		} `json:"scrape_configs"`
	}
	if err := json.Unmarshal(b, &cfg); err != nil {
		t.Fatalf("%v\n%s", err, b)
	}
	if cfg.Global.ScrapeInterval != "1s" || cfg.Global.ScrapeTimeout != "1s" {
		t.Errorf("global %+v, want 1s and a timeout no longer (prometheus refuses a longer one)", cfg.Global)
	}
	sc := cfg.ScrapeConfigs
	if len(sc) != 1 || len(sc[0].StaticConfigs) != 2 || sc[0].StaticConfigs[0].Labels["host"] != "lab-1" ||
		sc[0].StaticConfigs[1].Targets[0] != "127.0.0.1:9101" || sc[0].StaticConfigs[1].Labels != nil {
		t.Errorf("scrape configs %+v", sc)
	}
	if _, err := config([]Target{{Addr: "no-port"}}); err == nil {
		t.Error("a target without a port was accepted")
	}
}

// TestStartScrapes runs the real prometheus against a target whose metric
// changes, and reads both values back through the HTTP API.
func TestStartScrapes(t *testing.T) {
	var val atomic.Value
	val.Store("a")
	ts := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		fmt.Fprintf(w, "# TYPE probe_info gauge\nprobe_info{v=%q} 1\n", val.Load())
	}))
	defer ts.Close()
	addr := strings.TrimPrefix(ts.URL, "http://")

	s := Start(t, Target{Addr: addr, Labels: map[string]string{"host": "probe"}})
	t.Logf("%s at %s", s.Version, s.URL)
	s.WaitTargetsUp(30 * time.Second)
	for _, want := range []string{"a", "b"} {
		val.Store(want)
		deadline := time.Now().Add(20 * time.Second)
		for {
			got, err := s.Query(context.Background(), "probe_info")
			if err == nil && len(got) == 1 && got[0].Metric["v"] == want && got[0].Metric["host"] == "probe" && got[0].Value == 1 {
				break
			}
			if time.Now().After(deadline) {
				t.Fatalf("probe_info = %+v, %v; want one series v=%q host=probe", got, err, want)
			}
			time.Sleep(200 * time.Millisecond)
		}
	}
}
