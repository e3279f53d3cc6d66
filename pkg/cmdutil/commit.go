package cmdutil

import "github.com/ringflow/ringflow/pkg/ring"

// ShortCommit is a commit in a table or on the pipeline line: its first 7
// characters, "-" for none.
func ShortCommit(c string) string {
	if c == "" {
		return "-"
	}
	return ring.Short(c)[:min(7, len(c))]
}

// ShortOr is ring.Short of c, or none when there is no commit.
func ShortOr(c, none string) string {
	if c == "" {
		return none
	}
	return ring.Short(c)
}
