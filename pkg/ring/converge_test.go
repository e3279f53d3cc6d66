package ring

import (
	"testing"
	"time"
)

// The converge gate opens once enough of the source ring's hosts run the
// candidate, names each host that does not and what it runs, and refuses
// when nothing could be observed; without observation it passes.
func TestConverge(t *testing.T) {
	since := time.Date(2026, 12, 7, 4, 40, 0, 0, time.UTC)
	hosts := []HostRun{
		{Host: "lab-1", Runs: true, Commit: "D"},
		{Host: "lab-2", Commit: "C", Since: since},
		{Host: "lab-3", Toplevel: "/nix/store/x-nixos-system-lab-3"},
		{Host: "lab-4", Err: "connection refused"},
	}
	for _, tt := range []struct {
		name string
		c    *ConvergeCheck
		want string
	}{
		{"not observed", nil, ""},
		{"enough", &ConvergeCheck{Ring: "canary", Needed: 1, Rule: "25%", Hosts: hosts}, ""},
		{"too few", &ConvergeCheck{Ring: "canary", Needed: 4, Rule: "100%", Hosts: hosts},
			"1 of 4 host(s) of canary run D, 4 needed (converge: 100%): lab-2 runs C since 2026-12-07T04:40:00Z; " +
				"lab-3 runs /nix/store/x-nixos-system-lab-3 (built at no commit ringflow knows); lab-4 could not be observed (connection refused)"},
		{"observation failed", &ConvergeCheck{Ring: "canary", Needed: 1, Err: "prometheus at http://p:9090: connection refused"},
			"what the hosts of canary run could not be observed (prometheus at http://p:9090: connection refused), so nothing shows they took D"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			got, err := Converge{}.Check(&Request{Ring: "early", Source: "canary", Candidate: "D", Converge: tt.c}, history)
			if err != nil || got != tt.want {
				t.Errorf("got %q, %v\nwant %q", got, err, tt.want)
			}
		})
	}
}
