package fleetgen

import (
	"strings"
	"testing"
	"time"
)

// A host with features needs a machine that has them: nix refuses to build
// it here (this machine lacks the feature), naming the feature, while a
// host without features builds.
func TestFeatures(t *testing.T) {
	const feature = "ringflow-test-feature"
	f := generate(t, Options{Hosts: []Host{{Name: "plain"}, {Name: "big", Features: []string{feature}}}, Salt: time.Now().String()})
	dev := gitRev(t, f.Repo, "dev")
	mustNix(t, f, "build", "--no-link", toplevel(f, dev, "plain"))
	_, stderr, err := runNix(t, f, "build", "--no-link", toplevel(f, dev, "big"))
	if err == nil || !strings.Contains(stderr, feature) {
		t.Errorf("big built without %s: err %v, stderr:\n%s", feature, err, stderr)
	}
}
