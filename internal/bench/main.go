// Command bench runs railyard's comparison benchmarks: each one measures
// railyard against the git CLI, the kustomize CLI or a Kargo-style command
// pipeline in the same run and prints the ratios recorded in BENCHMARKS.md.
//
//	go run ./internal/bench <name> [flags]
//
// Run it without arguments to list the benchmarks.
package main

import (
	"context"
	"fmt"
	"io"
	"os"
	"os/signal"
	"slices"
	"strings"
)

// benches maps a benchmark name to its entry point; each benchmark's file
// registers itself from init.
var benches = map[string]func(ctx context.Context, args []string) error{}

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	defer stop()
	if err := run(ctx, os.Stdout, os.Args[1:]); err != nil {
		fmt.Fprintln(os.Stderr, "bench:", err)
		os.Exit(1)
	}
}

func run(ctx context.Context, w io.Writer, args []string) error {
	names := make([]string, 0, len(benches))
	for n := range benches {
		names = append(names, n)
	}
	slices.Sort(names)
	if len(args) == 0 {
		_, err := fmt.Fprintf(w, "usage: go run ./internal/bench <name> [flags]\nbenchmarks: %s\n", strings.Join(names, ", "))
		return err
	}
	fn, ok := benches[args[0]]
	if !ok {
		return fmt.Errorf("unknown benchmark %q (have: %s)", args[0], strings.Join(names, ", "))
	}
	return fn(ctx, args[1:])
}
