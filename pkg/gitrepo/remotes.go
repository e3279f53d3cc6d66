package gitrepo

import (
	"context"
	"fmt"
	"strings"
)

// Remotes returns the names of the repository's configured remotes, as
// `git remote` lists them (sorted); none is an empty list, not an error.
func (r *Repo) Remotes() ([]string, error) {
	out, err := r.run(context.Background(), gitCmd{args: []string{"remote"}})
	if err != nil {
		return nil, fmt.Errorf("gitrepo: list remotes: %w", err)
	}
	return strings.Fields(string(out)), nil
}
