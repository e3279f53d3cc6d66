package flakelock

import (
	"encoding/json"
	"fmt"
	"reflect"
	"strings"
	"testing"
	"time"
)

const (
	revA = "506ac128b11642ac576dcdc528b7a5455cc27927"
	revB = "265b7e2dbbdbe2e59609fa31ed8be38cdb517d13"
	revC = "dbc756c9d7287de19b3e0e38c928c47510d42c3e"
	hash = "sha256-q4kR7g+pCcz6NASvoVPYu+CWWUurX03wogtBqGmR4h0="
)

// lockJSON wraps nodes (the inside of "nodes": {…}) into a lock file.
func lockJSON(version int, nodes string) string {
	return fmt.Sprintf(`{"nodes": {%s}, "root": "root", "version": %d}`, nodes, version)
}

func mustParse(t *testing.T, s string) *Lock {
	t.Helper()
	l, err := Parse([]byte(s))
	if err != nil {
		t.Fatalf("Parse: %v\n%s", err, s)
	}
	return l
}

func ghNode(repo, rev string, lastModified int64, inputs string) string {
	in := ""
	if inputs != "" {
		in = `"inputs": {` + inputs + `},`
	}
	return fmt.Sprintf(`%s "locked": {"lastModified": %d, "narHash": %q, "owner": "o", "repo": %q, "rev": %q, "type": "github"},
		"original": {"owner": "o", "repo": %q, "type": "github"}`, in, lastModified, hash, repo, rev, repo)
}

// A lock shaped like a real fleet repository's: nixpkgs over git, srvos
// whose nixpkgs follows the root's, a non-flake input, a sub-flake.
var fleetLock = lockJSON(7, `
	"nixpkgs": {
		"locked": {"lastModified": 1754500000, "narHash": "`+hash+`", "ref": "nixos-unstable-small",
			"rev": "`+revA+`", "shallow": true, "type": "git", "url": "https://github.com/NixOS/nixpkgs"},
		"original": {"ref": "nixos-unstable-small", "shallow": true, "type": "git", "url": "https://github.com/NixOS/nixpkgs"}
	},
	"srvos": {`+ghNode("srvos", revB, 1754800000, `"nixpkgs": ["nixpkgs"]`)+`},
	"blobs": {
		"flake": false,
		"locked": {"lastModified": 1604995301, "narHash": "`+hash+`", "owner": "simple-nixos-mailserver", "repo": "blobs", "rev": "`+revC+`", "type": "gitlab"},
		"original": {"owner": "simple-nixos-mailserver", "repo": "blobs", "type": "gitlab"}
	},
	"plex-flake": {
		"inputs": {"nixpkgs": "nixpkgs_2", "common": ["nixpkgs"]},
		"locked": {"path": "./hosts/plex", "type": "path"},
		"original": {"path": "./hosts/plex", "type": "path"},
		"parent": []
	},
	"nixpkgs_2": {
		"locked": {"lastModified": 1754000000, "narHash": "`+hash+`", "owner": "NixOS", "repo": "nixpkgs", "rev": "`+revC+`", "type": "github"},
		"original": {"owner": "NixOS", "ref": "nixos-25.05", "repo": "nixpkgs", "type": "github"}
	},
	"root": {"inputs": {"nixpkgs": "nixpkgs", "srvos": "srvos", "blobs": "blobs", "plex-flake": "plex-flake", "pkgs": ["nixpkgs"]}}`)

func TestParseVersions(t *testing.T) {
	nodes := `"nixpkgs": {` + ghNode("nixpkgs", revA, 1754500000, "") + `}, "root": {"inputs": {"nixpkgs": "nixpkgs"}}`
	for _, v := range []int{5, 6, 7} {
		l := mustParse(t, lockJSON(v, nodes))
		if l.Version != v || l.Root != "root" || len(l.Nodes) != 2 {
			t.Errorf("version %d: got %+v", v, l)
		}
	}
	for _, v := range []int{0, 1, 4, 8, 42} {
		_, err := Parse([]byte(lockJSON(v, nodes)))
		if err == nil || !strings.Contains(err.Error(), fmt.Sprintf("version %d", v)) {
			t.Errorf("version %d: err = %v, want one naming the version", v, err)
		}
	}
}

func TestParseVersion5Info(t *testing.T) {
	// Version 5 kept lastModified and narHash apart, in "info".
	l := mustParse(t, lockJSON(5, `
		"nixpkgs": {
			"info": {"lastModified": 1605000000, "narHash": "`+hash+`"},
			"locked": {"owner": "NixOS", "repo": "nixpkgs", "rev": "`+revA+`", "type": "github"},
			"original": {"id": "nixpkgs", "type": "indirect"}
		},
		"root": {"inputs": {"nixpkgs": "nixpkgs"}}`))
	r := l.Nodes["nixpkgs"].LockedRef()
	if r.NarHash != hash || r.LastModified != time.Unix(1605000000, 0).UTC() {
		t.Errorf("info not merged: %+v", r)
	}
	if got := l.Nodes["nixpkgs"].OriginalRef().String(); got != "flake:nixpkgs" {
		t.Errorf("original = %q", got)
	}
}

func TestParseErrors(t *testing.T) {
	okNix := `"nixpkgs": {` + ghNode("nixpkgs", revA, 1, "") + `}`
	for _, tc := range []struct{ name, data, want string }{
		{"not json", `{`, "not a JSON object"},
		{"trailing", lockJSON(7, `"root": {}`) + `]`, "not a JSON object"},
		{"no version", `{"nodes": {"root": {}}, "root": "root"}`, `no "version"`},
		{"float version", `{"nodes": {"root": {}}, "root": "root", "version": 7.5}`, "not an integer"},
		{"no root", `{"nodes": {"root": {}}, "version": 7}`, `no "root"`},
		{"root missing", `{"nodes": {}, "root": "root", "version": 7}`, `root node "root" is missing`},
		{"missing node", lockJSON(7, `"root": {"inputs": {"nixpkgs": "nixpkgs"}}`), `node "root": input "nixpkgs" refers to missing node "nixpkgs"`},
		{"root ref", lockJSON(7, okNix+`, "root": {"inputs": {"self": "root", "nixpkgs": "nixpkgs"}}`), `refers to the root node`},
		{"no locked", lockJSON(7, `"nixpkgs": {"original": {"type": "indirect", "id": "nixpkgs"}}, "root": {"inputs": {"nixpkgs": "nixpkgs"}}`), `node "nixpkgs": "locked" is missing`},
		{"no owner", lockJSON(7, `"nixpkgs": {"locked": {"type": "github", "repo": "nixpkgs", "rev": "`+revA+`"}, "original": {"type": "github", "owner": "NixOS", "repo": "nixpkgs"}}, "root": {}`), `node "nixpkgs": locked: github input lacks "owner"`},
		{"no type", lockJSON(7, `"nixpkgs": {"locked": {"owner": "o"}, "original": {"type": "github", "owner": "NixOS", "repo": "nixpkgs"}}, "root": {}`), `node "nixpkgs": locked: "type" is missing`},
		{"bad lastModified", lockJSON(7, `"x": {"locked": {"type": "path", "path": "/x", "lastModified": "yesterday"}, "original": {"type": "path", "path": "/x"}}, "root": {}`), `node "x": locked: "lastModified" is not a number`},
		{"negative number", lockJSON(7, `"x": {"locked": {"type": "path", "path": "/x", "lastModified": -1}, "original": {"type": "path", "path": "/x"}}, "root": {}`), `node "x": locked.lastModified: -1 is not a non-negative integer`},
		{"nested attr", lockJSON(7, `"x": {"locked": {"type": "path", "path": "/x", "extra": {}}, "original": {"type": "path", "path": "/x"}}, "root": {}`), `node "x": locked.extra: unsupported value type`},
		{"rev not string", lockJSON(7, `"x": {"locked": {"type": "path", "path": "/x", "rev": 5}, "original": {"type": "path", "path": "/x"}}, "root": {}`), `node "x": locked: "rev" is not a string`},
		{"bad input", lockJSON(7, `"root": {"inputs": {"nixpkgs": 5}}`), `node "root": input "nixpkgs" is neither a node name nor a follows path`},
		{"bad follows", lockJSON(7, `"root": {"inputs": {"nixpkgs": ["a", 1]}}`), `node "root": input "nixpkgs": follows path is not a list`},
		{"slash name", lockJSON(7, `"root": {"inputs": {"a/b": ["c"]}}`), `input "a/b": input name contains "/"`},
		{"bad flake", lockJSON(7, `"x": {"flake": "no", "locked": {"type": "path", "path": "/x"}, "original": {"type": "path", "path": "/x"}}, "root": {}`), `node "x": "flake" is not a boolean`},
		{"null flake", lockJSON(7, `"x": {"flake": null, "locked": {"type": "path", "path": "/x"}, "original": {"type": "path", "path": "/x"}}, "root": {}`), `node "x": "flake" is not a boolean`},
	} {
		_, err := Parse([]byte(tc.data))
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: err = %v, want it to contain %q", tc.name, err, tc.want)
		}
	}
}

func TestParseFleet(t *testing.T) {
	l := mustParse(t, fleetLock)
	if l.Nodes["blobs"].IsFlake() || !l.Nodes["srvos"].IsFlake() {
		t.Errorf("flake = false not honoured")
	}
	if got := l.Nodes["srvos"].Inputs["nixpkgs"]; !got.IsFollows() || !reflect.DeepEqual(got.Follows, []string{"nixpkgs"}) {
		t.Errorf("srvos/nixpkgs = %+v", got)
	}
	if p := l.Nodes["plex-flake"].Parent; p == nil || len(p) != 0 {
		t.Errorf("parent = %#v, want empty non-nil", p)
	}
	ins, err := l.Inputs()
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]string{ // path -> node
		"nixpkgs": "nixpkgs", "srvos": "srvos", "srvos/nixpkgs": "nixpkgs", "blobs": "blobs", "pkgs": "nixpkgs",
		"plex-flake": "plex-flake", "plex-flake/nixpkgs": "nixpkgs_2", "plex-flake/common": "nixpkgs",
	}
	if len(ins) != len(want) {
		t.Errorf("Inputs = %v", ins)
	}
	for p, node := range want {
		if ins[p].Node != node || ins[p].Path != p {
			t.Errorf("Inputs[%q] = %+v, want node %q", p, ins[p], node)
		}
	}
	if in := ins["srvos/nixpkgs"]; !in.Locked.IsZero() || !in.IsFollows() {
		t.Errorf("follows input has a locked ref: %+v", in)
	}
	if in := ins["plex-flake"]; !in.Locked.LastModified.IsZero() || in.Locked.String() != "path:./hosts/plex" {
		t.Errorf("path input = %+v (%s)", in.Locked, in.Locked)
	}
}

func TestFollows(t *testing.T) {
	base := `"nixpkgs": {` + ghNode("nixpkgs", revA, 1, "") + `},
		"a": {` + ghNode("a", revB, 1, `"b": "b", "x": ["c", "y"]`) + `},
		"b": {` + ghNode("b", revB, 1, `"nixpkgs": ["nixpkgs"]`) + `},
		"c": {` + ghNode("c", revC, 1, `"y": ["a", "b", "nixpkgs"]`) + `}`

	// Multi-step: a/x -> c/y -> a/b/nixpkgs -> nixpkgs.
	l := mustParse(t, lockJSON(7, base+`, "root": {"inputs": {"a": "a", "c": "c", "nixpkgs": "nixpkgs", "self": []}}`))
	ins, err := l.Inputs()
	if err != nil {
		t.Fatal(err)
	}
	for p, node := range map[string]string{"a/x": "nixpkgs", "c/y": "nixpkgs", "a/b/nixpkgs": "nixpkgs", "self": "root"} {
		if ins[p].Node != node {
			t.Errorf("%s resolves to %q, want %q", p, ins[p].Node, node)
		}
	}
	if f := ins["self"].Follows; f == nil || len(f) != 0 {
		t.Errorf("follows of the root = %#v", f)
	}

	// A cycle: p follows q, q follows p.
	l = mustParse(t, lockJSON(7, `"root": {"inputs": {"p": ["q"], "q": ["p"]}}`))
	if _, err := l.Inputs(); err == nil || !strings.Contains(err.Error(), "follows cycle") {
		t.Errorf("cycle: err = %v", err)
	}
	if _, err := Diff(l, l); err == nil {
		t.Errorf("Diff of a cyclic lock did not fail")
	}
	// A longer cycle through a node's input.
	l = mustParse(t, lockJSON(7, `"a": {`+ghNode("a", revA, 1, `"n": ["z"]`)+`}, "root": {"inputs": {"a": "a", "z": ["a", "n"]}}`))
	if _, err := l.Inputs(); err == nil || !strings.Contains(err.Error(), "follows cycle: 'a/n' -> 'z' -> 'a/n'") &&
		!strings.Contains(err.Error(), "follows cycle: 'z' -> 'a/n' -> 'z'") {
		t.Errorf("cycle via node: err = %v", err)
	}
	// Following something that does not exist.
	l = mustParse(t, lockJSON(7, `"a": {`+ghNode("a", revA, 1, `"nixpkgs": ["nixpkgs"]`)+`}, "root": {"inputs": {"a": "a"}}`))
	if _, err := l.Inputs(); err == nil || !strings.Contains(err.Error(), `input "a/nixpkgs": follows 'nixpkgs', which does not exist (the root flake has no input "nixpkgs")`) {
		t.Errorf("dangling: err = %v", err)
	}
}

func TestInputsSharedNode(t *testing.T) {
	// Two inputs name the same node (lock versions before 7 did this); Nix
	// lists the node's own inputs only under the path that sorts first.
	l := mustParse(t, lockJSON(6, `
		"utils": {`+ghNode("utils", revA, 1, `"systems": "systems"`)+`},
		"systems": {`+ghNode("systems", revB, 1, "")+`},
		"x": {`+ghNode("x", revC, 1, `"utils": "utils"`)+`},
		"root": {"inputs": {"utils": "utils", "x": "x"}}`))
	ins, err := l.Inputs()
	if err != nil {
		t.Fatal(err)
	}
	if _, ok := ins["utils/systems"]; !ok {
		t.Errorf("utils/systems missing: %v", ins)
	}
	if _, ok := ins["x/utils"]; !ok {
		t.Errorf("x/utils missing")
	}
	if _, ok := ins["x/utils/systems"]; ok {
		t.Errorf("x/utils/systems listed twice over")
	}
}

func TestRefString(t *testing.T) {
	for _, tc := range []struct {
		name   string
		attrs  string
		want   string
		legacy string // "" = same as want
		short  string
	}{
		{"github", `{"lastModified": 1754500000, "narHash": "` + hash + `", "owner": "nix-community", "repo": "srvos", "rev": "` + revA + `", "type": "github"}`,
			"github:nix-community/srvos/" + revA + "?narHash=sha256-q4kR7g%2BpCcz6NASvoVPYu%2BCWWUurX03wogtBqGmR4h0%3D",
			"github:nix-community/srvos/" + revA, "github:nix-community/srvos/506ac12"},
		{"github dir", `{"dir": "lib", "lastModified": 1665349835, "narHash": "sha256-UK4urM3iN80UXQ7EaOappDzcisYIuEURFRoGQ/yPkug=", "owner": "NixOS", "repo": "nixpkgs", "rev": "` + revA + `", "type": "github"}`,
			"github:NixOS/nixpkgs/" + revA + "?dir=lib&narHash=sha256-UK4urM3iN80UXQ7EaOappDzcisYIuEURFRoGQ/yPkug%3D",
			"github:NixOS/nixpkgs/" + revA + "?dir=lib", "github:NixOS/nixpkgs/506ac12?dir=lib"},
		{"github original", `{"owner": "NixOS", "ref": "nixos-unstable", "repo": "nixpkgs", "type": "github"}`,
			"github:NixOS/nixpkgs/nixos-unstable", "", "github:NixOS/nixpkgs/nixos-unstable"},
		{"gitlab host", `{"host": "gitlab.gnome.org", "narHash": "` + hash + `", "owner": "GNOME", "repo": "mutter", "rev": "` + revB + `", "type": "gitlab"}`,
			"gitlab:GNOME/mutter/" + revB + "?host=gitlab.gnome.org&narHash=sha256-q4kR7g%2BpCcz6NASvoVPYu%2BCWWUurX03wogtBqGmR4h0%3D",
			"gitlab:GNOME/mutter/" + revB + "?host=gitlab.gnome.org", "gitlab:GNOME/mutter/265b7e2?host=gitlab.gnome.org"},
		{"sourcehut", `{"narHash": "` + hash + `", "owner": "~sircmpwn", "repo": "hare", "rev": "` + revC + `", "type": "sourcehut"}`,
			"sourcehut:~sircmpwn/hare/" + revC + "?narHash=sha256-q4kR7g%2BpCcz6NASvoVPYu%2BCWWUurX03wogtBqGmR4h0%3D",
			"sourcehut:~sircmpwn/hare/" + revC, "sourcehut:~sircmpwn/hare/dbc756c"},
		{"git shallow", `{"lastModified": 1754500000, "narHash": "` + hash + `", "ref": "nixos-unstable-small", "rev": "` + revA + `", "shallow": true, "type": "git", "url": "https://github.com/NixOS/nixpkgs"}`,
			"git+https://github.com/NixOS/nixpkgs?ref=nixos-unstable-small&rev=" + revA + "&shallow=1", "",
			"git+https://github.com/NixOS/nixpkgs?ref=nixos-unstable-small&rev=506ac12&shallow=1"},
		{"git revCount", `{"lastModified": 1741969094, "narHash": "` + hash + `", "ref": "freebsd-build", "rev": "` + revB + `", "revCount": 17650, "type": "git", "url": "https://git.lix.systems/artemist/lix.git"}`,
			"git+https://git.lix.systems/artemist/lix.git?ref=freebsd-build&rev=" + revB, "",
			"git+https://git.lix.systems/artemist/lix.git?ref=freebsd-build&rev=265b7e2"},
		{"git ssh submodules", `{"ref": "main", "rev": "` + revC + `", "submodules": true, "shallow": false, "type": "git", "url": "ssh://git@example.org/fleet/secrets"}`,
			"git+ssh://git@example.org/fleet/secrets?ref=main&rev=" + revC + "&submodules=1", "",
			"git+ssh://git@example.org/fleet/secrets?ref=main&rev=dbc756c&submodules=1"},
		{"git file", `{"lastModified": 1, "rev": "` + revC + `", "type": "git", "url": "file:///srv/my repo"}`,
			"git+file:///srv/my%20repo?rev=" + revC, "", "git+file:///srv/my%20repo?rev=dbc756c"},
		{"path relative", `{"path": "./hosts/plex", "type": "path"}`, "path:./hosts/plex", "", "path:./hosts/plex"},
		{"path store", `{"lastModified": 1700000000, "narHash": "` + hash + `", "path": "/nix/store/abc-source", "rev": "` + revA + `", "type": "path"}`,
			"path:/nix/store/abc-source?lastModified=1700000000&narHash=sha256-q4kR7g%2BpCcz6NASvoVPYu%2BCWWUurX03wogtBqGmR4h0%3D&rev=" + revA,
			"", "path:/nix/store/abc-source?lastModified=1700000000&rev=506ac12"},
		{"tarball", `{"narHash": "` + hash + `", "type": "tarball", "url": "https://nixos.org/channels/nixos-25.05/nixexprs.tar.xz"}`,
			"https://nixos.org/channels/nixos-25.05/nixexprs.tar.xz?narHash=sha256-q4kR7g%2BpCcz6NASvoVPYu%2BCWWUurX03wogtBqGmR4h0%3D", "",
			"https://nixos.org/channels/nixos-25.05/nixexprs.tar.xz?narHash=sha256-q4kR7g%2BpCcz6NASvoVPYu%2BCWWUurX03wogtBqGmR4h0%3D"},
		{"tarball flakehub", `{"lastModified": 1754500000, "narHash": "` + hash + `", "rev": "` + revA + `", "revCount": 812, "type": "tarball", "url": "https://api.flakehub.com/f/pinned/NixOS/nixpkgs/0.2505.1/0198-abc/source.tar.gz?x=a+b"}`,
			"https://api.flakehub.com/f/pinned/NixOS/nixpkgs/0.2505.1/0198-abc/source.tar.gz?narHash=sha256-q4kR7g%2BpCcz6NASvoVPYu%2BCWWUurX03wogtBqGmR4h0%3D&x=a%2Bb", "",
			"https://api.flakehub.com/f/pinned/NixOS/nixpkgs/0.2505.1/0198-abc/source.tar.gz?x=a%2Bb"},
		{"file", `{"narHash": "` + hash + `", "type": "file", "url": "https://example.org/keys.txt"}`,
			"https://example.org/keys.txt?narHash=sha256-q4kR7g%2BpCcz6NASvoVPYu%2BCWWUurX03wogtBqGmR4h0%3D", "",
			"https://example.org/keys.txt?narHash=sha256-q4kR7g%2BpCcz6NASvoVPYu%2BCWWUurX03wogtBqGmR4h0%3D"},
		{"indirect", `{"id": "nixpkgs", "ref": "nixos-21.05-small", "type": "indirect"}`, "flake:nixpkgs/nixos-21.05-small", "", "flake:nixpkgs/nixos-21.05-small"},
		{"indirect rev", `{"id": "nixpkgs", "rev": "` + revA + `", "type": "indirect"}`, "flake:nixpkgs/" + revA, "", "flake:nixpkgs/506ac12"},
		{"mercurial", `{"ref": "default", "rev": "` + revB + `", "type": "mercurial", "url": "https://hg.example.org/repo"}`,
			"hg+https://hg.example.org/repo?ref=default&rev=" + revB, "", "hg+https://hg.example.org/repo?ref=default&rev=265b7e2"},
		{"unknown", `{"narHash": "` + hash + `", "rev": "` + revC + `", "type": "pijul", "url": "https://nest.pijul.com/x/y", "channel": "main"}`,
			"pijul:https://nest.pijul.com/x/y?channel=main&narHash=sha256-q4kR7g%2BpCcz6NASvoVPYu%2BCWWUurX03wogtBqGmR4h0%3D&rev=" + revC, "",
			"pijul:https://nest.pijul.com/x/y?channel=main&rev=dbc756c"},
	} {
		var attrs map[string]any
		if err := unmarshal([]byte(tc.attrs), &attrs); err != nil {
			t.Fatal(err)
		}
		r, err := refFromAttrs(attrs)
		if err != nil {
			t.Errorf("%s: %v", tc.name, err)
			continue
		}
		if got := r.String(); got != tc.want {
			t.Errorf("%s: String() =\n %s\nwant\n %s", tc.name, got, tc.want)
		}
		legacy := tc.legacy
		if legacy == "" {
			legacy = tc.want
		}
		if got := r.LegacyString(); got != legacy {
			t.Errorf("%s: LegacyString() =\n %s\nwant\n %s", tc.name, got, legacy)
		}
		if got := r.Short(); got != tc.short {
			t.Errorf("%s: Short() =\n %s\nwant\n %s", tc.name, got, tc.short)
		}
		if r.Attrs["type"] != r.Type || len(r.Attrs) != len(attrs) {
			t.Errorf("%s: Attrs not kept: %v", tc.name, r.Attrs)
		}
	}
	if s := (Ref{}).String(); s != "" {
		t.Errorf("zero Ref prints %q", s)
	}
}

func TestRefVersion(t *testing.T) {
	// Tarballs have no commit: the NAR hash is their identity.
	tb := Ref{Type: "tarball", NarHash: hash}
	if tb.Version() != hash || tb.ShortRev() != "q4kR7g+" {
		t.Errorf("tarball: Version %q ShortRev %q", tb.Version(), tb.ShortRev())
	}
	gh := Ref{Type: "github", Rev: revA, NarHash: hash}
	if gh.Version() != revA || gh.ShortRev() != "506ac12" {
		t.Errorf("github: Version %q ShortRev %q", gh.Version(), gh.ShortRev())
	}
	if (Ref{}).ShortRev() != "" {
		t.Errorf("zero ShortRev not empty")
	}
}

func TestCompareURL(t *testing.T) {
	gh := func(owner, repo, rev string) Ref { return Ref{Type: "github", Owner: owner, Repo: repo, Rev: rev} }
	git := func(url, rev string) Ref { return Ref{Type: "git", URL: url, Rev: rev} }
	for _, tc := range []struct {
		name     string
		from, to Ref
		want     string
	}{
		{"github", gh("NixOS", "nixpkgs", revA), gh("NixOS", "nixpkgs", revB),
			"https://github.com/NixOS/nixpkgs/compare/" + revA + "..." + revB},
		{"github via git+https", git("https://github.com/NixOS/nixpkgs", revA), git("https://github.com/NixOS/nixpkgs.git", revB),
			"https://github.com/NixOS/nixpkgs/compare/" + revA + "..." + revB},
		{"github switched to git", gh("NixOS", "nixpkgs", revA), git("https://github.com/nixos/nixpkgs", revB),
			"https://github.com/NixOS/nixpkgs/compare/" + revA + "..." + revB},
		{"github enterprise", Ref{Type: "github", Host: "ghe.corp", Owner: "ops", Repo: "fleet", Rev: revA}, Ref{Type: "github", Host: "ghe.corp", Owner: "ops", Repo: "fleet", Rev: revB},
			"https://ghe.corp/ops/fleet/compare/" + revA + "..." + revB},
		{"gitlab", Ref{Type: "gitlab", Owner: "simple-nixos-mailserver", Repo: "nixos-mailserver", Rev: revA}, Ref{Type: "gitlab", Owner: "simple-nixos-mailserver", Repo: "nixos-mailserver", Rev: revB},
			"https://gitlab.com/simple-nixos-mailserver/nixos-mailserver/-/compare/" + revA + "..." + revB},
		{"gitlab host", Ref{Type: "gitlab", Host: "gitlab.gnome.org", Owner: "GNOME", Repo: "mutter", Rev: revA}, Ref{Type: "gitlab", Host: "gitlab.gnome.org", Owner: "GNOME", Repo: "mutter", Rev: revB},
			"https://gitlab.gnome.org/GNOME/mutter/-/compare/" + revA + "..." + revB},
		{"gitlab subgroup", Ref{Type: "gitlab", Owner: "veloren%2Fdev", Repo: "veloren", Rev: revA}, Ref{Type: "gitlab", Owner: "veloren%2Fdev", Repo: "veloren", Rev: revB},
			"https://gitlab.com/veloren/dev/veloren/-/compare/" + revA + "..." + revB},
		{"gitlab via git", git("https://gitlab.com/a/b/c.git", revA), git("https://gitlab.com/a/b/c.git", revB),
			"https://gitlab.com/a/b/c/-/compare/" + revA + "..." + revB},
		{"other repo", gh("NixOS", "nixpkgs", revA), gh("nix-community", "nixpkgs", revB), ""},
		{"other host", git("https://git.lix.systems/lix-project/lix", revA), git("https://git.lix.systems/lix-project/lix", revB), ""},
		{"same rev", gh("NixOS", "nixpkgs", revA), gh("NixOS", "nixpkgs", revA), ""},
		{"no rev", Ref{Type: "tarball", URL: "https://github.com/a/b/archive/main.tar.gz", NarHash: hash}, Ref{Type: "tarball", URL: "https://github.com/a/b/archive/main.tar.gz"}, ""},
		{"sourcehut", Ref{Type: "sourcehut", Owner: "~a", Repo: "b", Rev: revA}, Ref{Type: "sourcehut", Owner: "~a", Repo: "b", Rev: revB}, ""},
		{"zero", Ref{}, gh("NixOS", "nixpkgs", revB), ""},
	} {
		if got := tc.from.CompareURL(tc.to); got != tc.want {
			t.Errorf("%s: CompareURL = %q, want %q", tc.name, got, tc.want)
		}
	}
}

func TestKeyInputs(t *testing.T) {
	l := mustParse(t, fleetLock)
	ins, err := l.KeyInputs()
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, in := range ins {
		got = append(got, in.Path+"="+in.Locked.ShortRev())
	}
	// Not pkgs and srvos/nixpkgs (follows), nor plex-flake/common (follows).
	want := []string{"blobs=dbc756c", "nixpkgs=506ac12", "plex-flake=", "plex-flake/nixpkgs=dbc756c", "srvos=265b7e2"}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("KeyInputs = %v\nwant %v", got, want)
	}
	if d := ins[1].Locked.LastModified.Format(time.DateOnly); d != "2025-08-06" {
		t.Errorf("nixpkgs date = %s", d)
	}
}

func TestDiff(t *testing.T) {
	oldL := mustParse(t, fleetLock)
	newJSON := strings.NewReplacer(
		revA, revB, // nixpkgs moves
		`"srvos": "srvos",`, "", // srvos goes away
		`"pkgs": ["nixpkgs"]`, `"pkgs": ["plex-flake", "nixpkgs"], "extra": "nixpkgs_2"`, // follows changes, input added
	).Replace(fleetLock)
	newJSON = strings.Replace(newJSON, `"lastModified": 1754500000`, `"lastModified": 1754900000`, 1)
	newL := mustParse(t, newJSON)

	changes, err := Diff(oldL, newL)
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, c := range changes {
		got = append(got, c.Kind+" "+c.Path)
	}
	want := []string{"added extra", "updated nixpkgs", "updated pkgs", "removed srvos", "removed srvos/nixpkgs"}
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("Diff = %q\nwant %q", got, want)
	}
	byPath := map[string]Change{}
	for _, c := range changes {
		byPath[c.Path] = c
	}
	if c := byPath["nixpkgs"]; c.From.Rev != revA || c.To.Rev != revB || c.FromFollows != nil {
		t.Errorf("nixpkgs change = %+v", c)
	}
	if c := byPath["pkgs"]; !reflect.DeepEqual(c.FromFollows, []string{"nixpkgs"}) || !reflect.DeepEqual(c.ToFollows, []string{"plex-flake", "nixpkgs"}) || !c.From.IsZero() {
		t.Errorf("pkgs change = %+v", c)
	}
	if c := byPath["srvos/nixpkgs"]; !reflect.DeepEqual(c.FromFollows, []string{"nixpkgs"}) || c.ToFollows != nil {
		t.Errorf("srvos/nixpkgs change = %+v", c)
	}

	js, _ := json.Marshal([]InputJSON{byPath["nixpkgs"].JSON(), byPath["pkgs"].JSON(), byPath["extra"].JSON(), byPath["srvos"].JSON()})
	wantJSON := `[{"name":"nixpkgs","change":"updated","from":"` + revA + `","to":"` + revB + `","from_date":"2025-08-06T17:06:40Z","to_date":"2025-08-11T08:13:20Z"},` +
		`{"name":"pkgs","change":"updated","from":"nixpkgs","to":"plex-flake/nixpkgs","from_date":"","to_date":""},` +
		`{"name":"extra","change":"added","from":"","to":"` + revC + `","from_date":"","to_date":"2025-07-31T22:13:20Z"},` +
		`{"name":"srvos","change":"removed","from":"` + revB + `","to":"","from_date":"2025-08-10T04:26:40Z","to_date":""}]`
	if string(js) != wantJSON {
		t.Errorf("JSON =\n%s\nwant\n%s", js, wantJSON)
	}

	// A lock compared with itself has no changes, whatever its keys.
	if c, err := Diff(newL, newL); err != nil || len(c) != 0 {
		t.Errorf("Diff(l, l) = %v, %v", c, err)
	}
	// Node keys do not matter, only what they lock.
	renamed := mustParse(t, strings.ReplaceAll(fleetLock, `"nixpkgs_2"`, `"nixpkgs_3"`))
	if c, err := Diff(oldL, renamed); err != nil || len(c) != 0 {
		t.Errorf("renamed node keys: %v, %v", c, err)
	}
}

func TestDiffOrder(t *testing.T) {
	// Nix sorts input paths element by element: "a/b" before "a-c",
	// although '-' sorts before '/' in a plain string comparison.
	oldL := mustParse(t, lockJSON(7, `"root": {}`))
	newL := mustParse(t, lockJSON(7, `"a": {`+ghNode("a", revA, 1, `"b": ["a-c"]`)+`}, "a-c": {`+ghNode("a-c", revB, 1, "")+`},
		"root": {"inputs": {"a": "a", "a-c": "a-c"}}`))
	changes, err := Diff(oldL, newL)
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, c := range changes {
		got = append(got, c.Path)
	}
	if want := []string{"a", "a/b", "a-c"}; !reflect.DeepEqual(got, want) {
		t.Errorf("order = %v, want %v", got, want)
	}
}
