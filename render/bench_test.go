package render

import (
	"context"
	"io/fs"
	"os"
	"path/filepath"
	"testing"

	"sigs.k8s.io/kustomize/api/krusty"
	"sigs.k8s.io/kustomize/api/types"
	"sigs.k8s.io/kustomize/kyaml/filesys"
)

// BenchmarkBuildVsKrusty builds each corpus tree and one deployment of
// the test world with Build (from an os.DirFS mount) and with krusty.Run
// on the same tree on the disk, with the options of Kargo's
// kustomize-build step and its output as YAML. `go run ./internal/bench
// render` reports the ratio.
func BenchmarkBuildVsKrusty(b *testing.B) {
	type job struct {
		name    string
		mounts  []Mount
		wrapper Wrapper
		disk    string // the directory krusty builds
	}
	var jobs []job
	entries, err := os.ReadDir("testdata/corpus")
	if err != nil {
		b.Fatal(err)
	}
	for _, e := range entries {
		if !e.IsDir() {
			continue
		}
		dir, _ := filepath.Abs(filepath.Join("testdata/corpus", e.Name()))
		jobs = append(jobs, job{e.Name(), []Mount{{At: "t", FS: os.DirFS(dir)}}, Wrapper{Dir: "w", Resources: []string{"../t"}}, dir})
	}
	mounts, w := fixedShape(b, "production", worldFS(b, "monorepo"))
	r, err := Build(context.Background(), mounts, w)
	if err != nil {
		b.Fatal(err)
	}
	disk := b.TempDir()
	for _, m := range mounts {
		if err := os.CopyFS(filepath.Join(disk, m.At), m.FS); err != nil {
			b.Fatal(err)
		}
	}
	if err := os.MkdirAll(filepath.Join(disk, w.Dir), 0o755); err != nil {
		b.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(disk, w.Dir, "kustomization.yaml"), r.Wrapper(), 0o644); err != nil {
		b.Fatal(err)
	}
	jobs = append(jobs, job{"world-production", mounts, w, filepath.Join(disk, w.Dir)})
	_ = fs.ValidPath
	for _, j := range jobs {
		b.Run("render/"+j.name, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				if _, err := Build(context.Background(), j.mounts, j.wrapper); err != nil {
					b.Fatal(err)
				}
			}
		})
		b.Run("krusty/"+j.name, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				pc := types.DisabledPluginConfig()
				pc.HelmConfig.Enabled = true
				pc.HelmConfig.Command = "helm"
				rm, err := krusty.MakeKustomizer(&krusty.Options{LoadRestrictions: types.LoadRestrictionsNone, PluginConfig: pc}).Run(filesys.MakeFsOnDisk(), j.disk)
				if err != nil {
					b.Fatal(err)
				}
				if _, err := rm.AsYaml(); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
