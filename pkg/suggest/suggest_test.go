package suggest

import "testing"

func TestNearest(t *testing.T) {
	known := []string{"canary", "early", "stable", "dev", "zeeba", "build"}
	for _, tc := range []struct{ name, want string }{
		{"stabel", "stable"}, // a swap is one edit
		{"zebra", "zeeba"},
		{"Canary", "canary"}, // case ignored
		{"bulid", "build"},
		{"erly", "early"},
		{"xyz", ""},       // nothing near
		{"ab", ""},        // too short to be a typo of anything here
		{"stableeee", ""}, // three edits
	} {
		if got := Nearest(tc.name, known); got != tc.want {
			t.Errorf("Nearest(%q) = %q, want %q", tc.name, got, tc.want)
		}
	}
}
