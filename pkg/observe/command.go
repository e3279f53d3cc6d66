package observe

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"regexp"
	"strings"
	"time"
)

type commandSource struct {
	run     Runner
	argv    []string
	timeout time.Duration
}

func newCommand(argv []string, timeout time.Duration, run Runner) *commandSource {
	return &commandSource{run: run, argv: argv, timeout: timeout}
}

// commandOutput is what the command prints:
//
//	{"hosts": {"web-1": {"toplevel": "/nix/store/…", "since": "2026-12-07T04:40:00Z"},
//	           "web-2": {"commit": "3f2a9c1e…"},
//	           "web-3": {"error": "unreachable"}}}
type commandOutput struct {
	Hosts map[string]json.RawMessage `json:"hosts"`
}

// commandHost is one host's entry: toplevel or commit, an optional since,
// or error when the program could not read it; and, for health, healthy
// and failed_units, both optional.
type commandHost struct {
	Toplevel    string   `json:"toplevel"`
	Commit      string   `json:"commit"`
	Since       string   `json:"since"`
	Error       string   `json:"error"`
	Healthy     *bool    `json:"healthy"`
	FailedUnits []string `json:"failed_units"`
}

// fullCommitRE is a whole commit id, SHA-1 or SHA-256: a short one
// cannot be compared with a candidate.
var fullCommitRE = regexp.MustCompile(`^([0-9a-f]{40}|[0-9a-f]{64})$`)

// Running runs the command once. Output that is not the JSON above fails
// the whole run; a host whose entry is wrong has Err, naming the field.
func (c *commandSource) Running(ctx context.Context, hosts []string) (map[string]Run, error) {
	entries, name, err := c.hosts(ctx)
	if err != nil {
		return nil, err
	}
	runs := make(map[string]Run, len(hosts))
	for _, h := range hosts {
		raw, ok := entries[h]
		if !ok {
			runs[h] = Run{Host: h, Err: fmt.Sprintf("command %s did not name this host", name)}
			continue
		}
		runs[h] = commandRun(h, raw)
	}
	return runs, nil
}

// hosts runs the command once and returns its hosts' entries and the
// command's name for messages.
func (c *commandSource) hosts(ctx context.Context) (map[string]json.RawMessage, string, error) {
	ctx, cancel := context.WithTimeout(ctx, c.timeout)
	defer cancel()
	name := strings.Join(c.argv, " ")
	out, err := c.run.Run(ctx, c.argv)
	if err != nil {
		if ctx.Err() == context.DeadlineExceeded {
			return nil, name, fmt.Errorf("observe: command %s did not finish within %s", name, c.timeout)
		}
		return nil, name, fmt.Errorf("observe: command %s: %w (check observe.command)", name, err)
	}
	entries, err := decodeStrict[commandOutput](out)
	if err != nil {
		return nil, name, fmt.Errorf("observe: command %s printed no hosts document: %v (want {\"hosts\": {\"<host>\": {\"toplevel\": \"/nix/store/…\"}}})", name, err)
	}
	if entries.Hosts == nil {
		return nil, name, fmt.Errorf("observe: command %s printed no \"hosts\" object (want {\"hosts\": {\"<host>\": {\"toplevel\": \"/nix/store/…\"}}})", name)
	}
	return entries.Hosts, name, nil
}

// commandRun reads one host's entry.
func commandRun(host string, raw json.RawMessage) Run {
	bad := func(format string, args ...any) Run {
		return Run{Host: host, Err: fmt.Sprintf("hosts.%s: ", host) + fmt.Sprintf(format, args...)}
	}
	e, err := decodeStrict[commandHost](raw)
	if err != nil {
		return bad("%v", err)
	}
	if e.Error != "" {
		return Run{Host: host, Err: e.Error}
	}
	r := Run{Host: host, Toplevel: e.Toplevel, Commit: e.Commit}
	switch {
	case e.Toplevel != "" && e.Commit != "":
		return bad("toplevel and commit both given: give one")
	case e.Toplevel == "" && e.Commit == "":
		return bad("want toplevel (a /nix/store path) or commit, or error")
	case e.Toplevel != "" && (!strings.HasPrefix(e.Toplevel, "/") || strings.ContainsAny(e.Toplevel, " \t\n")):
		return bad("toplevel: want a store path such as /nix/store/…-nixos-system-…, got %q", e.Toplevel)
	case e.Commit != "" && !fullCommitRE.MatchString(e.Commit):
		return bad("commit: want a full commit id (40 or 64 lowercase hex digits), got %q", e.Commit)
	}
	if e.Since != "" {
		t, err := time.Parse(time.RFC3339, e.Since)
		if err != nil {
			return bad("since: want an RFC 3339 time such as 2026-12-07T04:40:00Z, got %q", e.Since)
		}
		r.Since = t.UTC()
	}
	return r
}

// Health runs the command once, as Running does, and reads healthy and
// failed_units of each host's entry. A host without healthy is not
// Known (with error's words when it has them); healthy true with failed
// units is refused as contradicting itself.
func (c *commandSource) Health(ctx context.Context, hosts []string) (map[string]Health, error) {
	entries, name, err := c.hosts(ctx)
	if err != nil {
		return nil, err
	}
	out := make(map[string]Health, len(hosts))
	for _, h := range hosts {
		raw, ok := entries[h]
		if !ok {
			out[h] = unknown(h, fmt.Sprintf("command %s did not name this host", name))
			continue
		}
		out[h] = commandHealth(h, raw)
	}
	return out, nil
}

// commandHealth reads one host's entry for health.
func commandHealth(host string, raw json.RawMessage) Health {
	bad := func(format string, args ...any) Health {
		return unknown(host, fmt.Sprintf("hosts.%s: ", host)+fmt.Sprintf(format, args...))
	}
	e, err := decodeStrict[commandHost](raw)
	if err != nil {
		return bad("%v", err)
	}
	for i, u := range e.FailedUnits {
		if strings.TrimSpace(u) == "" || strings.ContainsAny(u, " \t\n") {
			return bad("failed_units[%d]: want a unit name such as nginx.service, got %q", i, u)
		}
	}
	switch {
	case e.Healthy == nil && len(e.FailedUnits) > 0:
		return bad("failed_units given without healthy: say healthy: false")
	case e.Healthy == nil && e.Error != "":
		return unknown(host, e.Error)
	case e.Healthy == nil:
		return unknown(host, fmt.Sprintf("hosts.%s has no healthy field: the command does not say", host))
	case *e.Healthy && len(e.FailedUnits) > 0:
		return bad("healthy is true, but failed_units lists %s", strings.Join(e.FailedUnits, ", "))
	case *e.Healthy:
		return healthy(host)
	}
	u := uniqueSorted(e.FailedUnits)
	var reasons []string
	if len(u) > 0 {
		reasons = append(reasons, "failed units: "+strings.Join(u, ", "))
	}
	if e.Error != "" {
		reasons = append(reasons, e.Error)
	}
	if len(reasons) == 0 {
		reasons = append(reasons, "the command says unhealthy")
	}
	return unhealthy(host, u, reasons...)
}

// decodeStrict decodes one JSON value with no unknown fields and nothing
// after it, wording the decoder's faults for a person.
func decodeStrict[T any](data []byte) (T, error) {
	var v T
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&v); err != nil {
		var typ *json.UnmarshalTypeError
		switch {
		case errors.Is(err, io.EOF):
			return v, errors.New("empty output")
		case errors.As(err, &typ) && typ.Field != "":
			return v, fmt.Errorf("%s: want a JSON %s, got a %s", typ.Field, typ.Type, typ.Value)
		case errors.As(err, &typ):
			return v, fmt.Errorf("want a JSON object, got a %s", typ.Value)
		}
		return v, err
	}
	if _, err := dec.Token(); !errors.Is(err, io.EOF) {
		return v, errors.New("more after the JSON document")
	}
	return v, nil
}
