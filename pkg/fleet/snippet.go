package fleet

import (
	"context"
	"fmt"
	"path/filepath"
	"strings"

	"github.com/ringflow/ringflow/pkg/membership"
	"github.com/ringflow/ringflow/pkg/nix"
)

// DeploySnippet is the NixOS configuration that makes one host follow its
// group's branch, two ways.
type DeploySnippet struct {
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

// Snippet renders the deploy configuration of host as placed at dev's head.
func (f *Fleet) Snippet(ctx context.Context, host string) (*DeploySnippet, error) {
	if err := f.Sync(ctx); err != nil {
		return nil, err
	}
	dev, err := f.DevCommit()
	if err != nil {
		return nil, err
	}
	ps, err := f.Hosts(ctx, dev)
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
	s := &DeploySnippet{Host: host, Group: p.Group, Ring: p.Ring, Branch: p.Branch, URI: f.DeployURI(p.Branch, host)}
	s.AutoUpgrade = fmt.Sprintf(`# %s is in group %s (ring %s): it follows branch %s.
system.autoUpgrade = {
  enable = true;
  flake = %s;
  dates = "04:40";
  randomizedDelaySec = "45min";
  allowReboot = false;
};
`, commentSafe(host), p.Group, p.Ring, p.Branch, nix.Quote(s.URI))
	var sub string
	if d := filepath.ToSlash(filepath.Clean(f.Config.FlakeDir)); f.Config.FlakeDir != "" && d != "." {
		sub = "  flakeSubdirectory = " + nix.Quote(d) + ";\n"
	}
	s.Comin = fmt.Sprintf(`# Or pulled by comin (github.com/nlewo/comin), which refuses a rewound
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
`, p.Branch, nix.Quote(host), sub, nix.Quote(f.gitURL()), nix.Quote(p.Branch))
	return s, nil
}

// gitURL is the URL hosts clone from: the remote's, without a password.
func (f *Fleet) gitURL() string {
	if f.Config.Remote != "" {
		if u, err := f.Repo.RemoteURL(f.Config.Remote); err == nil {
			return strings.TrimPrefix(strings.TrimPrefix(FlakeURL(u, f.Repo.Path()), "git+"), "file://")
		}
	}
	return f.Repo.Path()
}

// commentSafe keeps a host name on its comment line: a newline in it
// would end the comment and put the rest of the name into the Nix code.
func commentSafe(host string) string {
	if strings.ContainsAny(host, "\n\r") {
		return nix.Quote(host)
	}
	return host
}
