package initcmd

import "testing"

func TestHostList(t *testing.T) {
	hosts := []string{"lab-1", "lab-2", "lab-3", "lab-4"}
	for _, tc := range []struct {
		width int
		want  string
	}{
		{100, "lab-1, lab-2, lab-3, lab-4"},
		{26, "lab-1, lab-2, lab-3, lab-4"},
		{25, "lab-1, lab-2 … and 2 more"},
		{10, "lab-1 … and 3 more"}, // at least one host, however narrow
	} {
		if got := hostList(hosts, tc.width); got != tc.want {
			t.Errorf("hostList(width %d) = %q, want %q", tc.width, got, tc.want)
		}
	}
}
