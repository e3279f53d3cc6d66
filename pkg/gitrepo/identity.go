package gitrepo

import (
	"context"
	"os"
	"strings"
)

// UserIdentity is the person git would name as the author of a commit made
// in this repository now: user.name and user.email as `git config` reads
// them (the repository's own config, then the global and system ones, and
// GIT_CONFIG_* from the environment), or "" for a key that is not set.
// GIT_AUTHOR_NAME and GIT_AUTHOR_EMAIL, which git puts before the config,
// come first here too.
func (r *Repo) UserIdentity(ctx context.Context) (name, email string) {
	get := func(env, key string) string {
		if v := strings.TrimSpace(os.Getenv(env)); v != "" {
			return v
		}
		out, err := r.run(ctx, gitCmd{args: []string{"config", "--get", key}})
		if err != nil { // exit 1: not set; anything else: no identity to give either
			return ""
		}
		return strings.TrimSpace(string(out))
	}
	return get("GIT_AUTHOR_NAME", "user.name"), get("GIT_AUTHOR_EMAIL", "user.email")
}
