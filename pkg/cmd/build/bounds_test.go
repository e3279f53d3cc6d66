package build

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/ringflow/ringflow/pkg/cmdutil"
	"github.com/ringflow/ringflow/pkg/iostreams"
)

// --timeout and --max-silent reach the options; a bad value is bad usage
// and runs nothing.
func TestNewCmdBuildBounds(t *testing.T) {
	run := func(argv string) (*BuildOptions, error) {
		ios, _, _, _ := iostreams.Test()
		f := &cmdutil.Factory{IOStreams: ios, Globals: &cmdutil.Globals{Output: "text"}}
		var got *BuildOptions
		cmd := NewCmdBuild(f, func(_ context.Context, o *BuildOptions) error { got = o; return nil })
		cmd.SetArgs(strings.Fields(argv))
		cmd.SetOut(ios.Out)
		cmd.SetErr(ios.ErrOut)
		return got, cmd.Execute()
	}
	o, err := run("dev --timeout 4h --max-silent none")
	if err != nil {
		t.Fatal(err)
	}
	if b := o.Bounds; !b.SetTimeout || b.Timeout != 4*time.Hour || !b.SetMaxSilent || b.MaxSilent != 0 || o.Rev != "dev" {
		t.Errorf("bounds %+v, rev %q", b, o.Rev)
	}
	o, err = run("--timeout 4")
	var ue *cmdutil.UsageError
	if o != nil || !errors.As(err, &ue) || !strings.Contains(err.Error(), "--timeout: write a duration with a unit") {
		t.Errorf("--timeout 4: ran %v, err = %v; want a usage error and no run", o != nil, err)
	}
}
