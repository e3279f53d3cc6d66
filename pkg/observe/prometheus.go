package observe

import (
	"context"
	"errors"
	"fmt"
	"math"
	"net"
	"sort"
	"strings"
	"time"

	"github.com/prometheus/client_golang/api"
	v1 "github.com/prometheus/client_golang/api/prometheus/v1"
	"github.com/prometheus/common/model"

	"github.com/ringflow/ringflow/pkg/config"
)

// The metrics the Prometheus source reads.
const (
	// ToplevelMetric is exported by ringflow's NixOS module through
	// node_exporter's textfile collector after every activation:
	// ringflow_host_toplevel_info{toplevel="/nix/store/…"} 1.
	ToplevelMetric = "ringflow_host_toplevel_info"
	// SwitchedMetric, from the same file, is the unix time of that
	// activation.
	SwitchedMetric = "ringflow_host_switched_timestamp_seconds"
	// CominMetric is comin's own, read as nlewo/comin writes it:
	// internal/prometheus/prometheus.go declares the gauge
	// comin_deployment_info with the labels commit_id and status, and
	// SetDeploymentInfo Resets it before setting one series to 1, so a
	// host has one series, its last deployment's. internal/manager/
	// manager.go sets it when a deployment ends, from the generation's
	// SelectedCommitId (the full commit id) and the deployment's status,
	// one of "init", "running", "done" or "failed" (StatusToString in
	// internal/store/deployment.go; internal/deployer/deployer.go in older
	// comin). Only "done" says the host runs commit_id. The metric has no
	// time, and comin sets it only when a deployment ends, so a comin just
	// restarted exports none until its next deployment.
	CominMetric = "comin_deployment_info"
	cominDone   = "done"
)

// querier is the part of Prometheus' v1.API the source uses.
type querier interface {
	Query(ctx context.Context, query string, ts time.Time, opts ...v1.Option) (model.Value, v1.Warnings, error)
}

// v1Querier drops the Infos v1.API returns next to the warnings.
type v1Querier struct{ api v1.API }

func (q v1Querier) Query(ctx context.Context, query string, ts time.Time, opts ...v1.Option) (model.Value, v1.Warnings, error) {
	v, w, _, err := q.api.Query(ctx, query, ts, opts...)
	return v, w, err
}

type prometheusSource struct {
	q       querier
	url     string
	label   string
	timeout time.Duration
	now     func() time.Time
	health  config.PrometheusHealth
}

func newPrometheus(cfg *config.PrometheusSource, opts Options) (*prometheusSource, error) {
	c, err := api.NewClient(api.Config{Address: cfg.URL, RoundTripper: opts.HTTP})
	if err != nil {
		return nil, fmt.Errorf("observe: prometheus %s: %w", cfg.URL, err)
	}
	return &prometheusSource{q: v1Querier{v1.NewAPI(c)}, url: cfg.URL, label: cfg.HostLabel, timeout: cfg.Timeout, now: opts.Now, health: cfg.Health}, nil
}

// Running asks for the three metrics by instant queries. A host with
// ringflow's metric is read from it, else from comin's; a host with
// neither has Err.
func (p *prometheusSource) Running(ctx context.Context, hosts []string) (map[string]Run, error) {
	ctx, cancel := context.WithTimeout(ctx, p.timeout)
	defer cancel()
	at := p.now()
	toplevels, err := p.query(ctx, ToplevelMetric, "", at)
	if err != nil {
		return nil, err
	}
	switched, err := p.query(ctx, SwitchedMetric, "", at)
	if err != nil {
		return nil, err
	}
	comin, err := p.query(ctx, CominMetric, "", at)
	if err != nil {
		return nil, err
	}
	ours := p.byHost(toplevels)
	since := p.byHost(switched)
	theirs := p.byHost(comin)

	runs := make(map[string]Run, len(hosts))
	for _, h := range hosts {
		switch {
		case len(ours[h]) > 0:
			runs[h] = fromToplevel(h, ours[h], since[h])
		case len(theirs[h]) > 0:
			runs[h] = fromComin(h, theirs[h])
		default:
			runs[h] = Run{Host: h, Err: fmt.Sprintf("Prometheus at %s has no %s nor %s with %s=%q (is the host scraped, and its metric exported?)",
				p.url, ToplevelMetric, CominMetric, p.label, p.labelValue(h))}
		}
	}
	return runs, nil
}

// query runs one instant query for a metric's series, or for a health
// query's: key is then the config key that holds it, "" for a query of
// ringflow's own.
func (p *prometheusSource) query(ctx context.Context, expr, key string, at time.Time) (model.Vector, error) {
	what := expr
	if key != "" {
		what = fmt.Sprintf("%s (%s)", expr, key)
	}
	v, _, err := p.q.Query(ctx, expr, at, v1.WithTimeout(p.timeout))
	if err != nil {
		if errors.Is(ctx.Err(), context.Canceled) {
			// Interrupted: the caller must see the cancellation (exit 130),
			// which the client's own error does not carry.
			return nil, fmt.Errorf("observe: Prometheus at %s: %w", p.url, ctx.Err())
		}
		if ctx.Err() == context.DeadlineExceeded {
			return nil, fmt.Errorf("observe: Prometheus at %s did not answer the query %s within %s (observe.prometheus.timeout)", p.url, what, p.timeout)
		}
		var apiErr *v1.Error
		if key != "" && errors.As(err, &apiErr) && apiErr.Type == v1.ErrBadData {
			// Prometheus refused the expression: the config's to fix.
			return nil, fmt.Errorf("observe: Prometheus at %s: query %s: %w (check %s)", p.url, what, err, key)
		}
		return nil, fmt.Errorf("observe: Prometheus at %s: query %s: %w (check observe.prometheus.url)", p.url, what, err)
	}
	vec, ok := v.(model.Vector)
	if !ok {
		return nil, fmt.Errorf("observe: Prometheus at %s answered the query %s with a %s, not an instant vector", p.url, what, v.Type())
	}
	return vec, nil
}

// byHost groups samples by the host the label names.
func (p *prometheusSource) byHost(vec model.Vector) map[string][]*model.Sample {
	m := map[string][]*model.Sample{}
	for _, s := range vec {
		v := string(s.Metric[model.LabelName(p.label)])
		if v == "" {
			continue
		}
		h := HostFromLabel(p.label, v)
		m[h] = append(m[h], s)
	}
	return m
}

// labelValue is what the label would hold for host h, for messages.
func (p *prometheusSource) labelValue(h string) string {
	if p.label == config.DefaultHostLabel {
		return h + ":<port>"
	}
	return h
}

// HostFromLabel returns the host a label's value names. Prometheus sets
// instance to the address it scraped, host:port, so for that label the
// port is dropped; any other label (one set by relabelling, say) is the
// host's name as it is.
func HostFromLabel(label, value string) string {
	if label != config.DefaultHostLabel {
		return value
	}
	if h, _, err := net.SplitHostPort(value); err == nil {
		return h
	}
	return value
}

// fromToplevel reads ringflow's own metric. Two series with different
// toplevels for one host (scraped twice, one stale) leave it unread
// rather than guessed.
func fromToplevel(host string, samples, switched []*model.Sample) Run {
	tops := map[string]bool{}
	for _, s := range samples {
		if t := string(s.Metric["toplevel"]); t != "" {
			tops[t] = true
		}
	}
	if len(tops) != 1 {
		if len(tops) == 0 {
			return Run{Host: host, Err: fmt.Sprintf("%s has no toplevel label", ToplevelMetric)}
		}
		return Run{Host: host, Err: fmt.Sprintf("%s says the host runs %d toplevels: %s (is it scraped twice?)", ToplevelMetric, len(tops), strings.Join(sortedKeys(tops), ", "))}
	}
	r := Run{Host: host, Toplevel: sortedKeys(tops)[0]}
	// The newest activation wins should the host be scraped twice.
	for _, s := range switched {
		f := float64(s.Value)
		if math.IsNaN(f) || math.IsInf(f, 0) || f <= 0 {
			continue
		}
		sec, frac := math.Modf(f)
		if t := time.Unix(int64(sec), int64(frac*1e9)).UTC(); t.After(r.Since) {
			r.Since = t
		}
	}
	return r
}

// fromComin reads comin's metric: only a finished deployment says what
// the host runs.
func fromComin(host string, samples []*model.Sample) Run {
	type dep struct{ commit, status string }
	seen := map[dep]bool{}
	var deps []dep
	for _, s := range samples {
		d := dep{string(s.Metric["commit_id"]), string(s.Metric["status"])}
		if !seen[d] {
			seen[d] = true
			deps = append(deps, d)
		}
	}
	if len(deps) > 1 {
		var all []string
		for _, d := range deps {
			all = append(all, d.commit+" ("+d.status+")")
		}
		sort.Strings(all)
		return Run{Host: host, Err: fmt.Sprintf("%s has %d series for the host: %s (is it scraped twice?)", CominMetric, len(deps), strings.Join(all, ", "))}
	}
	d := deps[0]
	switch {
	case d.commit == "":
		return Run{Host: host, Err: fmt.Sprintf("%s has no commit_id label", CominMetric)}
	case d.status != cominDone:
		return Run{Host: host, Err: fmt.Sprintf("comin's last deployment, of %s, is %q, not %q: what the host runs is unknown", d.commit, d.status, cominDone)}
	}
	return Run{Host: host, Commit: d.commit}
}

func sortedKeys(m map[string]bool) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}
