package observe

import (
	"context"
	"fmt"
	"strings"

	"github.com/prometheus/common/model"

	"github.com/ringflow/ringflow/pkg/config"
)

// UpMetric is Prometheus' own series of every target it scrapes: a host
// with one is known to the server, so no health series means healthy.
const UpMetric = "up"

// unitLabel holds the unit in a failed-units series, as node_exporter's
// node_systemd_unit_state has it.
const unitLabel = "name"

// Health asks up, to know which hosts the server scrapes, then each
// health query not turned off, all at one instant. A series of a health
// query makes its host unhealthy, whatever its value (`up == 0` gives
// 0). A host with no such series is healthy when some series of up
// names it, and not Known otherwise.
func (p *prometheusSource) Health(ctx context.Context, hosts []string) (map[string]Health, error) {
	ctx, cancel := context.WithTimeout(ctx, p.timeout)
	defer cancel()
	at := p.now()
	up, err := p.query(ctx, UpMetric, "", at)
	if err != nil {
		return nil, err
	}
	known := p.byHost(up)
	checks := []struct {
		expr, key string
		judge     func(samples []*model.Sample) (reason string, units []string)
	}{
		{p.health.Down, "observe.prometheus.health.down", p.down},
		{p.health.FailedUnits, "observe.prometheus.health.failed-units", p.failedUnits},
		{p.health.DeploymentFailed, "observe.prometheus.health.deployment-failed", p.deploymentFailed},
	}
	type finding struct {
		reasons []string
		units   []string
	}
	found := map[string]*finding{}
	for _, c := range checks {
		if c.expr == "" {
			continue
		}
		vec, err := p.query(ctx, c.expr, c.key, at)
		if err != nil {
			return nil, err
		}
		for h, samples := range p.byHost(vec) {
			f := found[h]
			if f == nil {
				f = &finding{}
				found[h] = f
			}
			reason, units := c.judge(samples)
			f.reasons = append(f.reasons, reason)
			f.units = append(f.units, units...)
		}
	}

	out := make(map[string]Health, len(hosts))
	for _, h := range hosts {
		switch f := found[h]; {
		case f != nil:
			out[h] = unhealthy(h, f.units, f.reasons...)
		case len(known[h]) > 0:
			out[h] = healthy(h)
		default:
			out[h] = unknown(h, fmt.Sprintf("Prometheus at %s has no %s series with %s=%q (is the host scraped?)", p.url, UpMetric, p.label, p.labelValue(h)))
		}
	}
	return out, nil
}

// down words the down query's series, naming the jobs whose targets are
// down.
func (p *prometheusSource) down(samples []*model.Sample) (string, []string) {
	jobs := labelValues(samples, "job")
	if len(jobs) == 0 {
		return fmt.Sprintf("down (%s)", p.health.Down), nil
	}
	return fmt.Sprintf("down (%s, job %s)", p.health.Down, strings.Join(jobs, ", ")), nil
}

// failedUnits words the failed-units query's series, a unit each.
func (p *prometheusSource) failedUnits(samples []*model.Sample) (string, []string) {
	units := labelValues(samples, unitLabel)
	if len(units) == 0 {
		return fmt.Sprintf("failed units (%s gave series without a %s label)", p.health.FailedUnits, unitLabel), nil
	}
	return "failed units: " + strings.Join(units, ", "), units
}

// deploymentFailed words the deployment-failed query's series.
func (p *prometheusSource) deploymentFailed([]*model.Sample) (string, []string) {
	if p.health.DeploymentFailed == config.DefaultDeploymentFailedQuery {
		return "comin's last deployment failed", nil
	}
	return fmt.Sprintf("last deployment failed (%s)", p.health.DeploymentFailed), nil
}

// labelValues returns the values samples have for label, sorted, unique
// and without "".
func labelValues(samples []*model.Sample, label model.LabelName) []string {
	var vs []string
	for _, s := range samples {
		if v := string(s.Metric[label]); v != "" {
			vs = append(vs, v)
		}
	}
	return uniqueSorted(vs)
}
