// Package deploy says how a host deploys from its group's branch: the
// flake URI it builds from, and the NixOS configuration (system.autoUpgrade
// or comin) that makes it follow that branch. It moves nothing and
// evaluates nothing itself.
package deploy

import (
	"context"
	"fmt"
	"net/url"
	"path/filepath"
	"strings"

	"github.com/ringflow/ringflow/pkg/fleet"
	"github.com/ringflow/ringflow/pkg/gitrepo"
	"github.com/ringflow/ringflow/pkg/membership"
	"github.com/ringflow/ringflow/pkg/nix"
)

// Repository is where hosts fetch from: the remote's URL, and the
// repository's own path when there is no remote (gitrepo.Repo).
type Repository interface {
	RemoteURL(remote string) (string, error)
	Path() string
}

// DevReader reads dev's head as the remote has it (fleet.Fleet).
type DevReader interface {
	Sync(ctx context.Context) error
	DevCommit() (string, error)
}

// HostLister places the hosts of the flake at a commit in their groups
// (fleet.Fleet.Hosts).
type HostLister interface {
	Hosts(ctx context.Context, commit string) ([]membership.Placement, error)
}

// Settings are the config values a deploy source needs.
type Settings struct {
	Remote   string // the remote's name; "" when hosts read this repository
	FlakeDir string // the top flake's directory in the repository, as configured ("" or "." = its root)
}

// Source is where a fleet's hosts deploy from.
type Source struct {
	Repo  Repository
	Dev   DevReader
	Hosts HostLister
	Settings
}

// New is the fleet's deploy source.
func New(fl *fleet.Fleet) *Source {
	return &Source{Repo: fl.Repo, Dev: fl, Hosts: fl, Settings: Settings{Remote: fl.Config.Remote, FlakeDir: fl.Config.FlakeDir}}
}

// Snippet is the NixOS configuration that makes one host follow its
// group's branch, two ways.
type Snippet struct {
	Host        string `json:"host"`
	Group       string `json:"group"`
	Ring        string `json:"ring"`
	Branch      string `json:"branch"`
	URI         string `json:"uri"`
	AutoUpgrade string `json:"auto_upgrade"` // system.autoUpgrade stanza
	Comin       string `json:"comin"`        // services.comin stanza
}

// UnknownHostError names a host the flake does not have.
type UnknownHostError struct{ Host string }

func (e *UnknownHostError) Error() string {
	return fmt.Sprintf("%q is not a host of the flake's nixosConfigurations", e.Host)
}

// URI is the flake URI a host deploys from: its group's branch on the
// remote (or in this repository when there is none).
func (s *Source) URI(branch, host string) string {
	base := "git+file://" + s.Repo.Path()
	if u, ok := s.remoteURL(); ok {
		base = FlakeURL(u, s.Repo.Path())
	}
	if d := s.subdir(); d != "" {
		return fmt.Sprintf("%s?ref=%s&dir=%s#%s", base, queryEscape(branch), queryEscape(d), fragmentEscape(host))
	}
	return fmt.Sprintf("%s?ref=%s#%s", base, queryEscape(branch), fragmentEscape(host))
}

// Snippet renders the deploy configuration of host as placed at dev's head.
func (s *Source) Snippet(ctx context.Context, host string) (*Snippet, error) {
	p, err := s.placement(ctx, host)
	if err != nil {
		return nil, err
	}
	sn := &Snippet{Host: host, Group: p.Group, Ring: p.Ring, Branch: p.Branch, URI: s.URI(p.Branch, host)}
	sn.AutoUpgrade = fmt.Sprintf(`# %s is in group %s (ring %s): it follows branch %s.
system.autoUpgrade = {
  enable = true;
  flake = %s;
  dates = "04:40";
  randomizedDelaySec = "45min";
  allowReboot = false;
};
`, commentSafe(host), p.Group, p.Ring, p.Branch, nix.Quote(sn.URI))
	var sub string
	if d := s.subdir(); d != "" {
		sub = "  flakeSubdirectory = " + nix.Quote(d) + ";\n"
	}
	sn.Comin = fmt.Sprintf(`# Or pulled by comin (github.com/nlewo/comin), which refuses a rewound
# branch; ringflow only ever moves %s forward.
services.comin = {
  enable = true;
  hostname = %s;
%s  remotes = [{
    name = "origin";
    url = %s;
    branches.main.name = %s;
  }];
};
`, p.Branch, nix.Quote(host), sub, nix.Quote(s.gitURL()), nix.Quote(p.Branch))
	return sn, nil
}

// placement finds host among the hosts placed at dev's head.
func (s *Source) placement(ctx context.Context, host string) (*membership.Placement, error) {
	if err := s.Dev.Sync(ctx); err != nil {
		return nil, err
	}
	dev, err := s.Dev.DevCommit()
	if err != nil {
		return nil, err
	}
	ps, err := s.Hosts.Hosts(ctx, dev)
	if err != nil {
		return nil, err
	}
	var p *membership.Placement
	for i := range ps {
		if ps[i].Host == host {
			p = &ps[i]
		}
	}
	if p == nil {
		return nil, &UnknownHostError{Host: host}
	}
	return p, nil
}

// remoteURL is the remote's URL, when there is a remote git can name.
func (s *Source) remoteURL() (string, bool) {
	if s.Remote == "" {
		return "", false
	}
	u, err := s.Repo.RemoteURL(s.Remote)
	return u, err == nil
}

// gitURL is the URL hosts clone from: the remote's, without a password.
func (s *Source) gitURL() string {
	if u, ok := s.remoteURL(); ok {
		return strings.TrimPrefix(strings.TrimPrefix(FlakeURL(u, s.Repo.Path()), "git+"), "file://")
	}
	return s.Repo.Path()
}

// subdir is the flake's directory in the repository, slash-separated; ""
// when the flake is at its root.
func (s *Source) subdir() string {
	if s.FlakeDir == "" {
		return ""
	}
	d := filepath.ToSlash(filepath.Clean(s.FlakeDir))
	if d == "." {
		return ""
	}
	return d
}

// FlakeURL turns a git remote URL into a flake URL base: git+https://…,
// git+ssh://… (scp-like user@host:path too), git+file:///… for paths
// (relative ones against repoDir). A password is never shown.
func FlakeURL(remote, repoDir string) string {
	switch {
	case strings.Contains(remote, "://"):
		if u, err := url.Parse(remote); err == nil {
			if u.User != nil {
				u.User = url.User(u.User.Username())
			}
			remote = u.String()
		} else {
			// A password Go's parser refuses (git takes it).
			remote = gitrepo.RedactURL(remote)
		}
		if strings.HasPrefix(remote, "git+") {
			return remote
		}
		return "git+" + remote
	case gitrepo.IsSCPLike(remote):
		userHost, path, _ := strings.Cut(remote, ":")
		return "git+ssh://" + userHost + "/" + strings.TrimPrefix(path, "/")
	default:
		if !filepath.IsAbs(remote) {
			remote = filepath.Join(repoDir, remote)
		}
		return "git+file://" + filepath.Clean(remote)
	}
}

// commentSafe keeps a host name on its comment line: a newline in it
// would end the comment and put the rest of the name into the Nix code.
func commentSafe(host string) string {
	if strings.ContainsAny(host, "\n\r") {
		return nix.Quote(host)
	}
	return host
}

func queryEscape(s string) string {
	return strings.ReplaceAll(url.QueryEscape(s), "%2F", "/")
}

func fragmentEscape(s string) string {
	return (&url.URL{Fragment: s}).EscapedFragment()
}
