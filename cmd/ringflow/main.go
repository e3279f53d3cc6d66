// Command ringflow moves a NixOS fleet's flake through deployment rings.
package main

import (
	"os"

	"github.com/ringflow/ringflow/pkg/cli"
)

func main() { os.Exit(cli.Main(os.Args[1:])) }
