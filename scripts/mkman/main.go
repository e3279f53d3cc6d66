// Command mkman writes ringflow's man pages (section 1) into a directory,
// from the same command tree the binary runs: `make man`.
package main

import (
	"fmt"
	"os"

	"github.com/spf13/cobra/doc"

	"github.com/ringflow/ringflow/pkg/cmd/factory"
	"github.com/ringflow/ringflow/pkg/cmd/root"
	"github.com/ringflow/ringflow/pkg/iostreams"
)

func main() {
	if len(os.Args) != 2 {
		fmt.Fprintln(os.Stderr, "usage: mkman DIR")
		os.Exit(2)
	}
	dir := os.Args[1]
	if err := os.MkdirAll(dir, 0o755); err != nil {
		fmt.Fprintln(os.Stderr, "mkman:", err)
		os.Exit(1)
	}
	ios, _, _, _ := iostreams.Test()
	cmd := root.NewCmdRoot(factory.New(ios, nil, "dev"))
	cmd.DisableAutoGenTag = true // keeps the pages the same from run to run
	header := &doc.GenManHeader{Title: "RINGFLOW", Section: "1", Source: "ringflow"}
	if err := doc.GenManTree(cmd, header, dir); err != nil {
		fmt.Fprintln(os.Stderr, "mkman:", err)
		os.Exit(1)
	}
	fmt.Println("man pages written to", dir)
}
