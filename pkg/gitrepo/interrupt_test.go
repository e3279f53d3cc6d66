package gitrepo

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// A push interrupted while the remote's hook runs: before the remote
// updated its refs (pre-receive) it did not land, and nothing of it goes
// on afterwards — git's receive-pack and the hook end with it, so the
// refs cannot move after the message said they did not; after the remote
// updated them (post-receive) it landed. Either way the error says so,
// and is a cancellation (exit 130).
func TestPushInterrupted(t *testing.T) {
	for _, tc := range []struct {
		hook   string
		landed bool
		want   string
	}{
		{"pre-receive", false, ": the push did not land: nothing moved on origin"},
		{"post-receive", true, ": the push landed: main is at %s on origin"},
	} {
		t.Run(tc.hook, func(t *testing.T) {
			f := newFx(t)
			origin, ours := f.remoteSetup()
			old := f.run(ours, "rev-parse", "HEAD")
			next := f.commit(ours, "f", "next")
			started := filepath.Join(t.TempDir(), "started")
			// The hook says it started, then takes its time: long enough that,
			// were it left running, the refs would move during the test.
			hook := "#!/bin/sh\ntouch '" + started + "'\nsleep 2\n"
			if err := os.WriteFile(filepath.Join(origin, "hooks", tc.hook), []byte(hook), 0o755); err != nil {
				t.Fatal(err)
			}
			r := mustOpen(t, ours)
			ctx, cancel := context.WithCancel(t.Context())
			go func() {
				for {
					if _, err := os.Stat(started); err == nil {
						cancel()
						return
					}
					time.Sleep(10 * time.Millisecond)
				}
			}()
			err := r.Push(ctx, "origin", []RefUpdate{{Ref: "refs/heads/main", Old: old, New: next}})
			var ip *InterruptedPushError
			if !errors.As(err, &ip) || !errors.Is(err, context.Canceled) {
				t.Fatalf("err = %v, want an *InterruptedPushError wrapping context.Canceled", err)
			}
			want := tc.want
			if tc.landed {
				want = strings.Replace(want, "%s", next[:12], 1)
			}
			if !strings.HasPrefix(err.Error(), "interrupted during the push to remote origin ("+origin+")") || !strings.HasSuffix(err.Error(), want) {
				t.Errorf("err = %q, want it to end in %q", err, want)
			}
			if ip.Landed() != tc.landed || ip.NotLanded() == tc.landed {
				t.Errorf("Landed %v, NotLanded %v; want landed %v", ip.Landed(), ip.NotLanded(), tc.landed)
			}
			// What was said stays true once the hook would have finished.
			time.Sleep(3 * time.Second)
			wantRef := old
			if tc.landed {
				wantRef = next
			}
			if got := f.run(origin, "rev-parse", "main"); got != wantRef {
				t.Errorf("main on the remote is at %.12s after the message, want %.12s", got, wantRef)
			}
		})
	}
}

// The message when the remote could not be asked, and when what it
// holds is neither the push's nor what was there before.
func TestInterruptedPushErrorMessages(t *testing.T) {
	ups := []RefUpdate{{Ref: "refs/heads/canary", Old: strings.Repeat("a", 40), New: strings.Repeat("b", 40)},
		{Ref: "refs/ringflow/ledger", Old: strings.Repeat("c", 40), New: strings.Repeat("d", 40)}}
	e := &InterruptedPushError{Remote: "origin", URL: "ssh://git@example.org/fleet", Updates: ups, Err: context.Canceled,
		CheckErr: errors.New("git ls-remote: no answer within 10s")}
	if want := "interrupted during the push to remote origin (ssh://git@example.org/fleet): whether it landed is unknown (git ls-remote: no answer within 10s): `git ls-remote origin` or the next ringflow run tells"; e.Error() != want {
		t.Errorf("unknown:\n%s\nwant\n%s", e, want)
	}
	e.CheckErr, e.Now = nil, map[string]string{"refs/heads/canary": strings.Repeat("b", 40), "refs/ringflow/ledger": strings.Repeat("e", 40)}
	if want := "interrupted during the push to remote origin (ssh://git@example.org/fleet): the push did not land whole: on origin, canary at bbbbbbbbbbbb (this push's), refs/ringflow/ledger at eeeeeeeeeeee (someone else's): run `ringflow check`"; e.Error() != want {
		t.Errorf("mixed:\n%s\nwant\n%s", e, want)
	}
	e.Now["refs/ringflow/ledger"] = strings.Repeat("d", 40)
	if want := "interrupted during the push to remote origin (ssh://git@example.org/fleet): the push landed: canary is at bbbbbbbbbbbb, refs/ringflow/ledger at dddddddddddd on origin"; e.Error() != want {
		t.Errorf("landed:\n%s\nwant\n%s", e, want)
	}
}
