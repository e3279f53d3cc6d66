package flakelock

import (
	"testing"
	"time"
)

func TestRefDateAndWhere(t *testing.T) {
	for _, tt := range []struct {
		name  string
		ref   Ref
		date  time.Time
		where string
	}{
		{"github at a commit", Ref{Type: "github", Owner: "NixOS", Repo: "nixpkgs", Rev: "7b345aeed93978e89e43a7e38ac8dc98dd96476e",
			LastModified: time.Unix(1704067200, 0).UTC()}, time.Unix(1704067200, 0).UTC(), ""},
		// Nix locks a sub-flake (path:./hosts/plex) with lastModified 1: the store's mtime.
		{"sub-flake path", Ref{Type: "path", Path: "./hosts/plex", NarHash: "sha256-xF9IEMnfV1JYpxnTeamuBll7vUiyZEF4Wor5CMRFOus=",
			LastModified: time.Unix(1, 0).UTC()}, time.Time{}, "path ./hosts/plex"},
		{"path at the epoch", Ref{Type: "path", Path: "/srv/flake", LastModified: time.Unix(0, 0).UTC()}, time.Time{}, "path /srv/flake"},
		{"tarball", Ref{Type: "tarball", URL: "https://example.org/nixexprs.tar.xz", LastModified: time.Unix(1704067200, 0).UTC()},
			time.Unix(1704067200, 0).UTC(), "tarball https://example.org/nixexprs.tar.xz"},
		{"git without a commit", Ref{Type: "git", URL: "file:///srv/x"}, time.Time{}, "git file:///srv/x"},
	} {
		if got := tt.ref.Date(); !got.Equal(tt.date) {
			t.Errorf("%s: Date() = %v, want %v", tt.name, got, tt.date)
		}
		if got := tt.ref.Where(); got != tt.where {
			t.Errorf("%s: Where() = %q, want %q", tt.name, got, tt.where)
		}
	}
}
