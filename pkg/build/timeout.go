package build

import (
	"fmt"
	"strings"
	"time"

	"github.com/ringflow/ringflow/pkg/nix"
)

// timedOutText is the first line of a host's error when nix stopped its
// build, or a dependency's, at a time bound: which build, which bound, and
// the config key that sets it.
func (r *run) timedOutText(br nix.BuildResult) string {
	what := "the build of " + br.TimedOutDrv
	if br.TimedOutDrv != br.Drv {
		what += ", which " + br.Drv + " needs,"
	}
	key, env, flag, bound, how := "build.timeout", "RINGFLOW_BUILD_TIMEOUT", "--timeout", r.Settings.Timeout, "had run for"
	if br.TimedOut == nix.LimitMaxSilent {
		key, env, flag, bound, how = "build.max-silent", "RINGFLOW_BUILD_MAX_SILENT", "--max-silent", r.Settings.MaxSilent, "had printed nothing for"
	}
	if bound == 0 {
		// Not ringflow's bound: nix.conf's timeout or max-silent-time.
		return fmt.Sprintf("timed out: nix stopped %s at a time bound of nix.conf (timeout or max-silent-time); "+
			"ringflow's own are build.timeout and build.max-silent, which override nix.conf's when set", what)
	}
	return fmt.Sprintf("timed out: nix stopped %s when it %s %s (%s); if it needs longer, raise %s in ringflow.yaml (or %s, or ringflow build/cycle %s)",
		what, how, ShowBound(bound), key, key, env, flag)
}

// ShowBound writes a bound as it would be configured: 2h, 90m, 1h30m, 45s.
func ShowBound(d time.Duration) string {
	if d == 0 {
		return "none"
	}
	s := d.String()
	if strings.HasSuffix(s, "m0s") {
		s = strings.TrimSuffix(s, "0s")
	}
	if strings.HasSuffix(s, "h0m") {
		s = strings.TrimSuffix(s, "0m")
	}
	return s
}
