package config

import (
	"bytes"
	"regexp"
	"strconv"
	"strings"

	"go.yaml.in/yaml/v3"
)

// Pos is where something was written: a file and a 1-based line, as an
// editor shows it. Line 0 means the line is not known (the key is not in
// the file); File "" means it did not come from a file.
type Pos struct {
	File string
	Line int
}

// String is "FILE:LINE", "FILE" without a line, "" without a file: the
// form compilers use, so editors can jump to it.
func (p Pos) String() string {
	switch {
	case p.File == "":
		return ""
	case p.Line <= 0:
		return p.File
	}
	return p.File + ":" + strconv.Itoa(p.Line)
}

// lineIndex maps a key as the decoder names it ("rings[2].groups[0].hosts[1]",
// "build.jobs") to the line it is written on. It is built from the file's
// own YAML nodes, not from the map viper makes of them, which has no lines.
type lineIndex map[string]int

// indexLines parses src and records the line of every key and list entry.
// A file that does not parse gives an empty index (the parse error is
// reported on its own).
func indexLines(src []byte) lineIndex {
	idx := lineIndex{}
	var doc yaml.Node
	if err := yaml.Unmarshal(src, &doc); err != nil || len(doc.Content) == 0 {
		return idx
	}
	idx.walk("", doc.Content[0])
	return idx
}

func (idx lineIndex) walk(key string, n *yaml.Node) {
	switch n.Kind {
	case yaml.MappingNode:
		for i := 0; i+1 < len(n.Content); i += 2 {
			k, v := n.Content[i], n.Content[i+1]
			// viper lower-cases keys, and so does every key the decoder names.
			name := strings.ToLower(k.Value)
			if key != "" {
				name = key + "." + name
			}
			// A key's problems point at the key: for a block value (a list
			// on the lines below) that is the line naming it.
			idx[name] = k.Line
			idx.walk(name, v)
		}
	case yaml.SequenceNode:
		for i, e := range n.Content {
			name := key + "[" + strconv.Itoa(i) + "]"
			idx[name] = e.Line
			idx.walk(name, e)
		}
	}
	// An alias is not followed: what lies under it is reported at the
	// alias, where this part of the file says it, and an alias bomb
	// stays unexpanded.
}

// line returns the line of key, or of the nearest enclosing key written
// in the file ("rings[1].name" missing: the ring's line); 0 if none is.
func (idx lineIndex) line(key string) int {
	for key != "" {
		if l, ok := idx[key]; ok {
			return l
		}
		i := strings.LastIndexAny(key, ".[")
		if i < 0 {
			return 0
		}
		key = key[:i]
	}
	return 0
}

// yamlLineRE is how the YAML parser starts a syntax error.
var yamlLineRE = regexp.MustCompile(`^yaml: line \d+: `)

// syntaxLine finds the line of a YAML syntax error parseErr (as the YAML
// library gave it for src), as an editor numbers lines. The parser's own
// "line N" is often where the enclosing block starts, and counted from 0
// (a misindented key on line 25 of a ring starting on line 20 is "line
// 19"); so the file is parsed again, a line longer each time from that
// line on, and the first prefix failing with the same error ends on the
// line at fault. It returns 0 when no prefix does.
func syntaxLine(src []byte, parseErr error) int {
	want := parseErr.Error()
	from := 1
	if m := yamlLineRE.FindString(want); m != "" {
		n, _ := strconv.Atoi(strings.TrimSuffix(strings.TrimPrefix(m, "yaml: line "), ": "))
		from = max(1, n)
	}
	// ends[i] is where line i+1 ends.
	var ends []int
	end := 0
	for _, l := range bytes.SplitAfter(src, []byte("\n")) {
		end += len(l)
		ends = append(ends, end)
	}
	same := func(line int) bool {
		var m map[string]any
		err := yaml.Unmarshal(src[:ends[line-1]], &m)
		return err != nil && err.Error() == want
	}
	if from > len(ends) || !same(len(ends)) {
		return 0
	}
	// Line by line in a file of a usual size; halving in a huge one, so
	// that a hostile file costs a few parses, not one per line.
	if len(ends)-from <= 500 {
		for line := from; line <= len(ends); line++ {
			if same(line) {
				return line
			}
		}
	}
	lo, hi := from, len(ends) // same(hi)
	for lo < hi {
		mid := lo + (hi-lo)/2
		if same(mid) {
			hi = mid
		} else {
			lo = mid + 1
		}
	}
	return hi
}

// unmarshalLineRE starts each line of the YAML decoder's "unmarshal
// errors", whose lines are right: they come from the parsed nodes.
var unmarshalLineRE = regexp.MustCompile(`^line (\d+): `)
