package gitrepo

import (
	"reflect"
	"testing"
)

func TestRemotes(t *testing.T) {
	f := newFx(t)
	_, dir := f.remoteSetup()
	r := mustOpen(t, dir)
	if got, err := r.Remotes(); err != nil || !reflect.DeepEqual(got, []string{"origin"}) {
		t.Errorf("Remotes() = %q, %v; want [origin]", got, err)
	}
	f.run(dir, "remote", "add", "backup", "/nowhere")
	if got, err := r.Remotes(); err != nil || !reflect.DeepEqual(got, []string{"backup", "origin"}) {
		t.Errorf("Remotes() = %q, %v; want [backup origin]", got, err)
	}
	f.run(dir, "remote", "remove", "origin")
	f.run(dir, "remote", "remove", "backup")
	if got, err := r.Remotes(); err != nil || len(got) != 0 {
		t.Errorf("Remotes() = %q, %v; want none", got, err)
	}
}
