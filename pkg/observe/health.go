package observe

import (
	"context"
	"sort"

	"github.com/ringflow/ringflow/pkg/config"
)

// Health is how one host fares, as far as a source can tell. It is read
// only: what an unhealthy host holds back is the gate's to decide.
type Health struct {
	Host string
	// Known says the source could tell: false when the host could not be
	// read (unreachable over ssh, unknown to Prometheus, left out by the
	// command) or is still starting. Healthy is then false and means
	// nothing.
	Known bool
	// Healthy is true when the source found nothing wrong with the host.
	Healthy bool
	// Reasons say why the host is unhealthy ("down (up == 0, job node)",
	// "failed units: nginx.service", "comin's last deployment failed"),
	// or, when it is not Known, why the source could not tell. Empty for
	// a healthy host.
	Reasons []string
	// FailedUnits are the systemd units that failed on the host, sorted;
	// nil when none did or the source does not say.
	FailedUnits []string
}

// HealthSource tells how each host fares. Every Source New returns is
// one.
type HealthSource interface {
	// Health returns a Health for every host asked for. An error means
	// the source as a whole failed (Prometheus unreachable, the command
	// failed); one host that cannot be read is a Health not Known.
	Health(ctx context.Context, hosts []string) (map[string]Health, error)
}

var (
	_ HealthSource = (*prometheusSource)(nil)
	_ HealthSource = (*sshSource)(nil)
	_ HealthSource = (*commandSource)(nil)
)

// NewHealth returns the source cfg describes, to ask about health.
func NewHealth(cfg *config.Observe, opts Options) (HealthSource, error) {
	src, err := New(cfg, opts)
	if err != nil {
		return nil, err
	}
	return src, nil
}

// healthy is a host the source found nothing wrong with.
func healthy(host string) Health { return Health{Host: host, Known: true, Healthy: true} }

// unknown is a host the source could not tell about, and why.
func unknown(host, why string) Health { return Health{Host: host, Reasons: []string{why}} }

// unhealthy is a host found wrong, with the failed units sorted and
// made unique.
func unhealthy(host string, units []string, reasons ...string) Health {
	return Health{Host: host, Known: true, Reasons: reasons, FailedUnits: uniqueSorted(units)}
}

func uniqueSorted(l []string) []string {
	if len(l) == 0 {
		return nil
	}
	seen := map[string]bool{}
	for _, s := range l {
		seen[s] = true
	}
	out := make([]string, 0, len(seen))
	for s := range seen {
		out = append(out, s)
	}
	sort.Strings(out)
	return out
}
