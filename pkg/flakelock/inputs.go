package flakelock

import (
	"fmt"
	"slices"
	"strings"
)

// Input is one entry of the flattened input tree.
type Input struct {
	// Path names the input from the root: "nixpkgs", "srvos/nixpkgs".
	Path string
	// Node is the key of the node that locks the input; for a follows, the
	// node the follows path resolves to (the root's key for a follows of
	// the root flake itself).
	Node string
	// Follows is the path the input follows, as written in the lock file;
	// nil for a locked input.
	Follows []string
	// Locked is the input's locked reference; zero for a follows.
	Locked Ref
}

// IsFollows reports whether the input follows another one.
func (in Input) IsFollows() bool { return in.Follows != nil }

// Inputs flattens the input tree the way Nix does for its lock file diff:
// every input path reachable from the root, each either a locked node or a
// follows. Like Nix, it descends into each node once only: when two inputs
// name the same node, the node's own inputs are listed under the path that
// sorts first. Every follows path is resolved (through further follows if
// need be); a follows of a missing input or a cycle of follows is an error.
func (l *Lock) Inputs() (map[string]Input, error) {
	list, err := l.InputList()
	if err != nil {
		return nil, err
	}
	m := make(map[string]Input, len(list))
	for _, in := range list {
		m[in.Path] = in
	}
	return m, nil
}

// InputList is Inputs as a list in Nix's order: by path, element by
// element (so "a/b" comes before "a-c", unlike a plain string sort).
func (l *Lock) InputList() ([]Input, error) {
	if l == nil || l.Nodes[l.Root] == nil {
		return nil, fmt.Errorf("lock has no root node")
	}
	var list []Input
	done := map[string]bool{}
	var walk func(prefix []string, key string) error
	walk = func(prefix []string, key string) error {
		if done[key] {
			return nil
		}
		done[key] = true
		n := l.Nodes[key]
		if n == nil {
			return fmt.Errorf("input %q refers to missing node %q", strings.Join(prefix, "/"), key)
		}
		for _, name := range sortedKeys(n.Inputs) {
			ref := n.Inputs[name]
			path := append(slices.Clip(prefix), name)
			in := Input{Path: strings.Join(path, "/"), Node: ref.Node, Follows: ref.Follows}
			if !ref.IsFollows() {
				child := l.Nodes[ref.Node]
				if child == nil {
					return fmt.Errorf("input %q refers to missing node %q", in.Path, ref.Node)
				}
				in.Locked = child.LockedRef()
			}
			list = append(list, in)
			if !ref.IsFollows() {
				if err := walk(path, ref.Node); err != nil {
					return err
				}
			}
		}
		return nil
	}
	if err := walk(nil, l.Root); err != nil {
		return nil, err
	}

	r := resolver{l: l, memo: map[string]string{}}
	for i := range list {
		if !list[i].IsFollows() {
			continue
		}
		key, err := r.resolve(list[i].Follows, nil)
		if err != nil {
			return nil, fmt.Errorf("input %q: %w", list[i].Path, err)
		}
		list[i].Node = key
	}
	slices.SortFunc(list, func(a, b Input) int { return comparePaths(a.Path, b.Path) })
	return list, nil
}

// comparePaths orders input paths as Nix's std::map over vectors of
// names does: element by element.
func comparePaths(a, b string) int {
	return slices.Compare(strings.Split(a, "/"), strings.Split(b, "/"))
}

// resolver finds the node a follows path leads to, walking from the root
// like Nix's LockFile::findInput.
type resolver struct {
	l    *Lock
	memo map[string]string // joined follows path -> node key
}

func (r *resolver) resolve(path []string, stack []string) (string, error) {
	joined := strings.Join(path, "/")
	if key, ok := r.memo[joined]; ok {
		return key, nil
	}
	// A follows path that is already being resolved further up means the
	// follows go round in a circle; Nix reports the same.
	if slices.Contains(stack, joined) {
		cycle := append(slices.Clone(stack[slices.Index(stack, joined):]), joined)
		for i := range cycle {
			cycle[i] = "'" + cycle[i] + "'"
		}
		return "", fmt.Errorf("follows cycle: %s", strings.Join(cycle, " -> "))
	}
	stack = append(stack, joined)

	pos := r.l.Root
	for i, elem := range path {
		n := r.l.Nodes[pos]
		ref, ok := n.Inputs[elem]
		if !ok {
			return "", fmt.Errorf("follows '%s', which does not exist (%s has no input %q)",
				joined, displayPath(path[:i]), elem)
		}
		if ref.IsFollows() {
			key, err := r.resolve(ref.Follows, stack)
			if err != nil {
				return "", err
			}
			pos = key
		} else {
			pos = ref.Node
		}
		if r.l.Nodes[pos] == nil {
			return "", fmt.Errorf("follows '%s', whose node %q is missing", joined, pos)
		}
	}
	r.memo[joined] = pos
	return pos, nil
}

func displayPath(p []string) string {
	if len(p) == 0 {
		return "the root flake"
	}
	return "'" + strings.Join(p, "/") + "'"
}

// KeyInputs returns the inputs worth showing per ring: the root's direct
// inputs that are locked nodes (follows are left out, their target is
// listed already), plus, for each direct input of type path whose path is
// relative — a sub-flake of the same repository, e.g. path:./hosts/plex
// pulled in as "plex-flake" — that sub-flake's own direct locked inputs as
// "plex-flake/nixpkgs". Sorted by path.
func (l *Lock) KeyInputs() ([]Input, error) {
	if l == nil || l.Nodes[l.Root] == nil {
		return nil, fmt.Errorf("lock has no root node")
	}
	var out []Input
	locked := func(n *Node, prefix string) []Input {
		var ins []Input
		for _, name := range sortedKeys(n.Inputs) {
			ref := n.Inputs[name]
			if ref.IsFollows() {
				continue
			}
			child := l.Nodes[ref.Node]
			if child == nil {
				continue // Parse rules this out; stay safe for hand-built locks
			}
			ins = append(ins, Input{Path: prefix + name, Node: ref.Node, Locked: child.LockedRef()})
		}
		return ins
	}
	for _, in := range locked(l.Nodes[l.Root], "") {
		out = append(out, in)
		sub := l.Nodes[in.Node]
		if isSubflake(sub) && in.Node != l.Root {
			out = append(out, locked(sub, in.Path+"/")...)
		}
	}
	slices.SortFunc(out, func(a, b Input) int { return comparePaths(a.Path, b.Path) })
	return out, nil
}

// isSubflake reports a path input with a relative path. Nix 2.26 and later
// lock such inputs with the relative path itself; some earlier versions
// locked a store path and kept the relative one only in "original".
func isSubflake(n *Node) bool {
	for _, attrs := range []map[string]any{n.Locked, n.Original} {
		if t, _ := attrs["type"].(string); t != "path" {
			continue
		}
		if p, _ := attrs["path"].(string); p != "" && !strings.HasPrefix(p, "/") {
			return true
		}
	}
	return false
}
