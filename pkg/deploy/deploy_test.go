package deploy

import (
	"context"
	"errors"
	"strings"
	"testing"

	"github.com/ringflow/ringflow/pkg/membership"
)

func TestFlakeURL(t *testing.T) {
	for _, tt := range []struct{ remote, want string }{
		{"https://git.example.com/fleet.git", "git+https://git.example.com/fleet.git"},
		{"https://deploy:s3cret@git.example.com/fleet.git", "git+https://deploy@git.example.com/fleet.git"},
		// A password Go's URL parser refuses (a bad escape) is still dropped.
		{"https://deploy:s3%zzet@git.example.com/fleet.git", "git+https://deploy@git.example.com/fleet.git"},
		{"ssh://git@git.example.com/srv/fleet.git", "git+ssh://git@git.example.com/srv/fleet.git"},
		{"git+https://git.example.com/fleet.git", "git+https://git.example.com/fleet.git"},
		{"git+ssh://u:pw@host/fleet.git", "git+ssh://u@host/fleet.git"},
		{"git@github.com:acme/fleet.git", "git+ssh://git@github.com/acme/fleet.git"},
		{"host:/srv/fleet.git", "git+ssh://host/srv/fleet.git"},
		{"/srv/git/fleet.git", "git+file:///srv/git/fleet.git"},
		{"../origin.git", "git+file:///work/origin.git"},
		// A colon after a slash is a local path, not scp-like.
		{"./odd:name.git", "git+file:///work/fleet/odd:name.git"},
	} {
		if got := FlakeURL(tt.remote, "/work/fleet"); got != tt.want {
			t.Errorf("FlakeURL(%q) = %q, want %q", tt.remote, got, tt.want)
		}
	}
}

type fakeRepo struct {
	remotes map[string]string
	path    string
}

func (f fakeRepo) RemoteURL(remote string) (string, error) {
	if u, ok := f.remotes[remote]; ok {
		return u, nil
	}
	return "", errors.New("gitrepo: remote is not configured")
}

func (f fakeRepo) Path() string { return f.path }

type fakeDev struct {
	head    string
	syncErr error
}

func (f fakeDev) Sync(context.Context) error { return f.syncErr }
func (f fakeDev) DevCommit() (string, error) { return f.head, nil }

// fakeHosts places hosts only at commit "d1".
type fakeHosts []membership.Placement

func (f fakeHosts) Hosts(_ context.Context, commit string) ([]membership.Placement, error) {
	if commit != "d1" {
		return nil, errors.New("hosts asked at " + commit + ", not dev's head")
	}
	return f, nil
}

func source(remote, flakeDir string) *Source {
	return &Source{
		Repo: fakeRepo{remotes: map[string]string{"origin": "https://bot:tok@git.example.com/fleet.git"}, path: "/work/fleet"},
		Dev:  fakeDev{head: "d1"},
		Hosts: fakeHosts{
			{Host: "lab-1", Group: "canary", Ring: "canary", Branch: "canary"},
			{Host: "web 1", Group: "web", Ring: "stable", Branch: "rings/stable"},
			{Host: "evil\nnetworking.firewall.enable = false; #", Group: "web", Ring: "stable", Branch: "rings/stable"},
		},
		Settings: Settings{Remote: remote, FlakeDir: flakeDir},
	}
}

func TestURI(t *testing.T) {
	for _, tt := range []struct {
		name             string
		remote, flakeDir string
		branch, host     string
		want             string
	}{
		{"remote", "origin", "", "canary", "lab-1", "git+https://bot@git.example.com/fleet.git?ref=canary#lab-1"},
		{"no remote", "", ".", "canary", "lab-1", "git+file:///work/fleet?ref=canary#lab-1"},
		{"remote git cannot name", "gone", "", "canary", "lab-1", "git+file:///work/fleet?ref=canary#lab-1"},
		{"flake dir, escapes", "origin", "./nix/", "rings/stable", "web 1",
			"git+https://bot@git.example.com/fleet.git?ref=rings/stable&dir=nix#web%201"},
	} {
		if got := source(tt.remote, tt.flakeDir).URI(tt.branch, tt.host); got != tt.want {
			t.Errorf("%s: URI = %q, want %q", tt.name, got, tt.want)
		}
	}
}

func TestSnippet(t *testing.T) {
	s, err := source("origin", "nix").Snippet(context.Background(), "web 1")
	if err != nil {
		t.Fatal(err)
	}
	if s.Group != "web" || s.Ring != "stable" || s.Branch != "rings/stable" || s.URI != source("origin", "nix").URI("rings/stable", "web 1") {
		t.Errorf("snippet = %+v", s)
	}
	for _, want := range []string{
		"# web 1 is in group web (ring stable): it follows branch rings/stable.\n",
		`  flake = "git+https://bot@git.example.com/fleet.git?ref=rings/stable&dir=nix#web%201";` + "\n",
	} {
		if !strings.Contains(s.AutoUpgrade, want) {
			t.Errorf("autoUpgrade lacks %q:\n%s", want, s.AutoUpgrade)
		}
	}
	for _, want := range []string{
		`  hostname = "web 1";` + "\n",
		`  flakeSubdirectory = "nix";` + "\n",
		// comin clones plain git: no git+ prefix, no password.
		`    url = "https://bot@git.example.com/fleet.git";` + "\n",
		`    branches.main.name = "rings/stable";` + "\n",
	} {
		if !strings.Contains(s.Comin, want) {
			t.Errorf("comin lacks %q:\n%s", want, s.Comin)
		}
	}
}

func TestSnippetWithoutRemote(t *testing.T) {
	s, err := source("", "").Snippet(context.Background(), "lab-1")
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(s.Comin, `    url = "/work/fleet";`) || strings.Contains(s.Comin, "flakeSubdirectory") {
		t.Errorf("comin without a remote or flake dir:\n%s", s.Comin)
	}
}

func TestSnippetHostWithNewline(t *testing.T) {
	host := "evil\nnetworking.firewall.enable = false; #"
	s, err := source("origin", "").Snippet(context.Background(), host)
	if err != nil {
		t.Fatal(err)
	}
	first, rest, _ := strings.Cut(s.AutoUpgrade, "\n")
	if !strings.HasPrefix(first, "# ") || !strings.Contains(first, `"evil\nnetworking.firewall.enable = false; #"`) {
		t.Errorf("the host name left its comment line: %q", first)
	}
	if !strings.HasPrefix(rest, "system.autoUpgrade = {\n") {
		t.Errorf("the line after the comment is not the stanza:\n%s", s.AutoUpgrade)
	}
}

func TestSnippetUnknownHost(t *testing.T) {
	_, err := source("origin", "").Snippet(context.Background(), "nope")
	var unknown *UnknownHostError
	if !errors.As(err, &unknown) || unknown.Host != "nope" {
		t.Fatalf("err = %v; want an *UnknownHostError for nope", err)
	}
	if want := `"nope" is not a host of the flake's nixosConfigurations`; err.Error() != want {
		t.Errorf("message = %q, want %q", err, want)
	}
}

func TestSnippetSyncFails(t *testing.T) {
	s := source("origin", "")
	unreachable := errors.New("fetch origin: unreachable")
	s.Dev = fakeDev{head: "d1", syncErr: unreachable}
	if _, err := s.Snippet(context.Background(), "lab-1"); !errors.Is(err, unreachable) {
		t.Errorf("err = %v; want the fetch error", err)
	}
}
