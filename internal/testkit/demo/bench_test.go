package demo_test

import (
	"context"
	"testing"

	"github.com/railyard-gitops/railyard/internal/testkit/demo"
)

// BenchmarkBuild builds each preset from scratch (no cache). The medium and
// large presets take seconds to minutes: run them on purpose, e.g.
//
//	go test -run '^$' -bench 'Build/large' -benchtime 1x ./internal/demo
func BenchmarkBuild(b *testing.B) {
	for _, p := range []demo.Preset{demo.Small, demo.Medium, demo.Large} {
		b.Run(string(p), func(b *testing.B) {
			var w *demo.World
			for b.Loop() {
				var err error
				if w, err = demo.Build(b.TempDir(), p, demo.DefaultSeed); err != nil {
					b.Fatal(err)
				}
			}
			reportWorld(b, w)
		})
	}
}

// BenchmarkServe serves each preset's world, built once into the user's
// cache (see [demo.BuildCached]).
func BenchmarkServe(b *testing.B) {
	for _, p := range []demo.Preset{demo.Small, demo.Medium, demo.Large} {
		b.Run(string(p), func(b *testing.B) {
			w, err := demo.BuildCached(p, demo.DefaultSeed)
			if err != nil {
				b.Fatal(err)
			}
			for b.Loop() {
				s, err := demo.Serve(context.Background(), w)
				if err != nil {
					b.Fatal(err)
				}
				s.Close()
			}
			b.ReportMetric(float64(len(w.Tags)), "tags")
		})
	}
}

func reportWorld(b *testing.B, w *demo.World) {
	b.ReportMetric(float64(w.Stats.Files), "files")
	b.ReportMetric(float64(w.Stats.TipBytes)/(1<<20), "tip-MiB")
	b.ReportMetric(float64(w.Stats.BlobBytes)/(1<<20), "blob-MiB")
	b.ReportMetric(float64(w.Stats.Commits), "commits")
	b.ReportMetric(float64(len(w.Tags)), "tags")
}
