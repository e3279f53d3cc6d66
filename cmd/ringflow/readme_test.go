package main

import (
	"os"
	"reflect"
	"strings"
	"testing"
)

// TestReadmeQuickstartWalked: the commands of README's "Quickstart for a
// real fleet" are, in order, the "# $ COMMAND" lines of the script that
// walks them (testdata/script/readme_quickstart.txtar), so a change to
// either shows here.
func TestReadmeQuickstartWalked(t *testing.T) {
	readme, err := os.ReadFile("../../README.md")
	if err != nil {
		t.Fatal(err)
	}
	_, section, ok := strings.Cut(string(readme), "\n## Quickstart for a real fleet\n")
	_, block, ok2 := strings.Cut(section, "```console\n")
	block, _, ok3 := strings.Cut(block, "```")
	if !ok || !ok2 || !ok3 {
		t.Fatal("README.md: no console block under \"## Quickstart for a real fleet\"")
	}
	var want []string
	for _, line := range strings.Split(block, "\n") {
		cmd, ok := strings.CutPrefix(line, "$ ")
		if !ok {
			continue
		}
		// A comment starts at " #"; no command of the block has a '#' of its own.
		cmd, _, _ = strings.Cut(cmd, " #")
		want = append(want, strings.TrimSpace(cmd))
	}
	script, err := os.ReadFile("testdata/script/readme_quickstart.txtar")
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, line := range strings.Split(string(script), "\n") {
		if cmd, ok := strings.CutPrefix(line, "# $ "); ok {
			got = append(got, cmd)
		}
	}
	if len(want) == 0 || !reflect.DeepEqual(got, want) {
		t.Errorf("README's quickstart and readme_quickstart.txtar differ:\nREADME: %q\nscript: %q", want, got)
	}
}
