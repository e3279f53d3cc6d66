package gitrepo

import (
	"context"
	"testing"
)

// The repository's own user.name beats the global one; GIT_AUTHOR_NAME
// beats both, as for a commit.
func TestUserIdentity(t *testing.T) {
	f := newFx(t)
	dir := f.repo()
	r, err := Open(dir)
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	ctx := context.Background()
	if name, email := r.UserIdentity(ctx); name != "Test User" || email != "test@example.com" {
		t.Errorf("global identity = %q <%s>; want Test User <test@example.com>", name, email)
	}
	f.run(dir, "config", "user.name", "Alice Ops")
	if name, _ := r.UserIdentity(ctx); name != "Alice Ops" {
		t.Errorf("with the repository's user.name, name = %q; want Alice Ops", name)
	}
	t.Setenv("GIT_AUTHOR_NAME", "Bob")
	if name, _ := r.UserIdentity(ctx); name != "Bob" {
		t.Errorf("with GIT_AUTHOR_NAME, name = %q; want Bob", name)
	}
}
