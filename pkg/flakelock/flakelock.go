// Package flakelock reads Nix flake.lock files (versions 5, 6 and 7), lists
// their inputs the way Nix does, and compares two of them.
//
// Its diff is Nix's own: Diff reports the same inputs, with the same kinds
// and the same flake references and dates, that `nix flake update` writes
// into its "Flake lock file updates:" message (checked against real
// updates in the tests). ringflow builds its commit messages and its
// `status` and `diff` output from the lock files alone, so that they do not
// depend on the wording of whichever Nix version ran the update.
package flakelock

import (
	"bytes"
	"encoding/json"
	"fmt"
	"slices"
	"strconv"
	"strings"
)

// Supported lock file versions. Version 5 keeps lastModified and narHash
// in a separate "info" object; 6 and 7 have them in "locked". Version 4
// and older used a different layout (a tree of inputs, no node table).
const (
	MinVersion = 5
	MaxVersion = 7
)

// Lock is a parsed flake.lock.
type Lock struct {
	Version int
	Root    string           // the key of the root node in Nodes, normally "root"
	Nodes   map[string]*Node // every node of the file, by key
}

// Node is one entry of the lock file's "nodes" object.
type Node struct {
	// Inputs maps each input name to the node that locks it or to the
	// input it follows.
	Inputs map[string]InputRef
	// Locked and Original hold the fetcher attributes as they are in the
	// file (strings, json.Number and bools). For version 5 files, "info"
	// (lastModified, narHash) is merged into Locked, as Nix does, so that
	// every version looks the same to callers. Both are nil for the root.
	Locked, Original map[string]any
	// Flake is nil when the file does not say, which means true; only
	// non-flake inputs (`flake = false`) carry "flake": false.
	Flake *bool
	// Parent is the input path of the flake that declared this relative
	// path input ("parent" in files written by Nix 2.26 and later), or nil.
	Parent []string
}

// InputRef is one value of a node's "inputs": a node key, or a follows
// path (a list of input names, resolved from the root).
type InputRef struct {
	Node    string
	Follows []string // non-nil means follows; empty (non-nil) follows the root flake itself
}

// IsFollows reports whether the input follows another input instead of
// naming a node.
func (r InputRef) IsFollows() bool { return r.Follows != nil }

// IsFlake reports whether the node is a flake (the default) rather than an
// input declared with `flake = false`.
func (n *Node) IsFlake() bool { return n.Flake == nil || *n.Flake }

// LockedRef is the node's locked reference. Parse has checked the
// attributes, so it does not fail for nodes of a parsed Lock.
func (n *Node) LockedRef() Ref {
	r, _ := refFromAttrs(n.Locked)
	return r
}

// OriginalRef is the reference the flake asked for, e.g. github:NixOS/nixpkgs/nixos-unstable.
func (n *Node) OriginalRef() Ref {
	r, _ := refFromAttrs(n.Original)
	return r
}

// Parse reads a flake.lock. Its errors name the node and field at fault.
func Parse(data []byte) (*Lock, error) {
	var top map[string]json.RawMessage
	if err := unmarshal(data, &top); err != nil {
		return nil, fmt.Errorf("lock file is not a JSON object: %w", err)
	}

	rawVersion, ok := top["version"]
	if !ok {
		return nil, fmt.Errorf("lock file has no \"version\"")
	}
	var vnum json.Number
	if err := unmarshal(rawVersion, &vnum); err != nil || isNull(rawVersion) {
		return nil, fmt.Errorf("lock file \"version\" is not a number")
	}
	version, err := strconv.Atoi(vnum.String())
	if err != nil {
		return nil, fmt.Errorf("lock file \"version\" %s is not an integer", vnum)
	}
	if version < MinVersion || version > MaxVersion {
		return nil, fmt.Errorf("unsupported lock file version %d (supported: %d to %d)", version, MinVersion, MaxVersion)
	}

	rawRoot, ok := top["root"]
	if !ok {
		return nil, fmt.Errorf("lock file has no \"root\"")
	}
	var root string
	if err := unmarshal(rawRoot, &root); err != nil || isNull(rawRoot) {
		return nil, fmt.Errorf("lock file \"root\" is not a string")
	}

	rawNodes, ok := top["nodes"]
	if !ok {
		return nil, fmt.Errorf("lock file has no \"nodes\"")
	}
	var nodes map[string]json.RawMessage
	if err := unmarshal(rawNodes, &nodes); err != nil || nodes == nil {
		return nil, fmt.Errorf("lock file \"nodes\" is not an object")
	}
	if _, ok := nodes[root]; !ok {
		return nil, fmt.Errorf("root node %q is missing from \"nodes\"", root)
	}

	l := &Lock{Version: version, Root: root, Nodes: make(map[string]*Node, len(nodes))}
	// Sorted, so that of several broken nodes the same one is reported every time.
	for _, key := range sortedKeys(nodes) {
		n, err := parseNode(nodes[key], key == root)
		if err != nil {
			return nil, fmt.Errorf("node %q: %w", key, err)
		}
		l.Nodes[key] = n
	}
	for _, key := range sortedKeys(l.Nodes) {
		n := l.Nodes[key]
		for _, name := range sortedKeys(n.Inputs) {
			in := n.Inputs[name]
			if in.IsFollows() {
				continue
			}
			if _, ok := l.Nodes[in.Node]; !ok {
				return nil, fmt.Errorf("node %q: input %q refers to missing node %q", key, name, in.Node)
			}
			// Nix refuses this too: the root is not a locked node, and a
			// reference to it would make the input tree cyclic. Inputs that
			// mean the root flake use an empty follows path instead.
			if in.Node == root {
				return nil, fmt.Errorf("node %q: input %q refers to the root node %q", key, name, root)
			}
		}
	}
	return l, nil
}

func parseNode(data json.RawMessage, isRoot bool) (*Node, error) {
	var raw map[string]json.RawMessage
	if err := unmarshal(data, &raw); err != nil || raw == nil {
		return nil, fmt.Errorf("not a JSON object")
	}
	n := &Node{}

	if ri, ok := raw["inputs"]; ok {
		var inputs map[string]json.RawMessage
		if err := unmarshal(ri, &inputs); err != nil || inputs == nil {
			return nil, fmt.Errorf("\"inputs\" is not an object")
		}
		n.Inputs = make(map[string]InputRef, len(inputs))
		for _, name := range sortedKeys(inputs) {
			if err := checkInputName(name); err != nil {
				return nil, fmt.Errorf("input %q: %w", name, err)
			}
			v := bytes.TrimSpace(inputs[name])
			switch {
			case len(v) > 0 && v[0] == '"':
				var key string
				if err := unmarshal(v, &key); err != nil {
					return nil, fmt.Errorf("input %q: %w", name, err)
				}
				n.Inputs[name] = InputRef{Node: key}
			case len(v) > 0 && v[0] == '[':
				var path []string
				if err := unmarshal(v, &path); err != nil {
					return nil, fmt.Errorf("input %q: follows path is not a list of input names", name)
				}
				for _, elem := range path {
					if err := checkInputName(elem); err != nil {
						return nil, fmt.Errorf("input %q: follows path element %q: %w", name, elem, err)
					}
				}
				if path == nil { // cannot happen for "[...]", but Follows must stay non-nil
					path = []string{}
				}
				n.Inputs[name] = InputRef{Follows: path}
			default:
				return nil, fmt.Errorf("input %q is neither a node name nor a follows path", name)
			}
		}
	}

	var err error
	if n.Locked, err = parseAttrs(raw, "locked"); err != nil {
		return nil, err
	}
	if n.Original, err = parseAttrs(raw, "original"); err != nil {
		return nil, err
	}
	info, err := parseAttrs(raw, "info")
	if err != nil {
		return nil, err
	}
	if !isRoot {
		// Nix needs both to rebuild the flake reference; a node without
		// them cannot be fetched or compared.
		if n.Locked == nil {
			return nil, fmt.Errorf("\"locked\" is missing")
		}
		if n.Original == nil {
			return nil, fmt.Errorf("\"original\" is missing")
		}
	}
	if info != nil && n.Locked != nil {
		for k, v := range info {
			n.Locked[k] = v
		}
	}
	if n.Locked != nil {
		if _, err := refFromAttrs(n.Locked); err != nil {
			return nil, fmt.Errorf("locked: %w", err)
		}
	}
	if n.Original != nil {
		if _, err := refFromAttrs(n.Original); err != nil {
			return nil, fmt.Errorf("original: %w", err)
		}
	}

	if rf, ok := raw["flake"]; ok {
		var b bool
		if err := unmarshal(rf, &b); err != nil || isNull(rf) {
			return nil, fmt.Errorf("\"flake\" is not a boolean")
		}
		n.Flake = &b
	}
	if rp, ok := raw["parent"]; ok {
		if err := unmarshal(rp, &n.Parent); err != nil || isNull(rp) {
			return nil, fmt.Errorf("\"parent\" is not a list of input names")
		}
		if n.Parent == nil {
			n.Parent = []string{}
		}
	}
	return n, nil
}

// parseAttrs reads one fetcher attribute set. Nix allows only strings,
// unsigned integers and Booleans there; anything else would make the
// rendered reference ambiguous, so it is an error here too.
func parseAttrs(raw map[string]json.RawMessage, field string) (map[string]any, error) {
	data, ok := raw[field]
	if !ok {
		return nil, nil
	}
	var m map[string]any
	if err := unmarshal(data, &m); err != nil || m == nil {
		return nil, fmt.Errorf("%q is not an object", field)
	}
	for _, k := range sortedKeys(m) {
		switch v := m[k].(type) {
		case string, bool:
		case json.Number:
			if _, err := strconv.ParseUint(v.String(), 10, 64); err != nil {
				return nil, fmt.Errorf("%s.%s: %s is not a non-negative integer", field, k, v)
			}
		default:
			return nil, fmt.Errorf("%s.%s: unsupported value type %T (want string, integer or boolean)", field, k, v)
		}
	}
	return m, nil
}

// checkInputName rejects names that would make input paths ambiguous: Nix
// joins path elements with "/" and only accepts flake identifiers there.
func checkInputName(name string) error {
	if name == "" {
		return fmt.Errorf("empty input name")
	}
	if strings.Contains(name, "/") {
		return fmt.Errorf("input name contains \"/\"")
	}
	return nil
}

// unmarshal decodes numbers as json.Number so that lastModified and
// revCount keep every digit and compare exactly.
func unmarshal(data []byte, v any) error {
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.UseNumber()
	if err := dec.Decode(v); err != nil {
		return err
	}
	// Only whitespace may follow the value.
	if len(bytes.TrimSpace(data[dec.InputOffset():])) != 0 {
		return fmt.Errorf("trailing data after JSON value")
	}
	return nil
}

// isNull tells JSON null apart: decoding it into a Go value is a silent
// no-op, which would turn "flake": null into false.
func isNull(data []byte) bool { return string(bytes.TrimSpace(data)) == "null" }

func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	return keys
}
