package ring

import "testing"

func TestHealthy(t *testing.T) {
	hosts := []HostHealth{
		{Host: "lab-1", Known: true, Healthy: true},
		{Host: "lab-2", Known: true, Reasons: []string{"failed units: nginx.service"}, FailedUnits: []string{"nginx.service"}},
		{Host: "lab-3", Reasons: []string{"no up series"}},
		{Host: "lab-4", Known: true, FailedUnits: []string{"a.service", "b.service"}},
	}
	for _, tt := range []struct {
		name string
		c    *HealthCheck
		want string
	}{
		{"not observed", nil, ""},
		{"all healthy", &HealthCheck{Ring: "canary", Rule: "0", Hosts: hosts[:1]}, ""},
		{"within the allowance", &HealthCheck{Ring: "canary", Allowed: 3, Rule: "75%", Hosts: hosts}, ""},
		{"too many", &HealthCheck{Ring: "canary", Allowed: 1, Rule: "1", Hosts: hosts},
			"3 of 4 host(s) of canary are unhealthy, 1 allowed (max-unhealthy: 1): lab-2: failed units: nginx.service; " +
				"lab-3: health not known (no up series); lab-4: failed units: a.service, b.service"},
		{"one, none allowed", &HealthCheck{Ring: "canary", Rule: "0", Hosts: hosts[:2]},
			"1 of 2 host(s) of canary are unhealthy, 0 allowed (max-unhealthy: 0): lab-2: failed units: nginx.service"},
		{"not readable", &HealthCheck{Ring: "canary", Err: "prometheus at http://p:9090: connection refused"},
			"the health of canary's hosts could not be observed (prometheus at http://p:9090: connection refused), so nothing shows they are healthy"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			got, err := Healthy{}.Check(&Request{Ring: "early", Source: "canary", Candidate: "D", Health: tt.c}, history)
			if err != nil || got != tt.want {
				t.Errorf("got %q, %v\nwant %q", got, err, tt.want)
			}
		})
	}
}
