package demo

import (
	"archive/tar"
	"bytes"
	"compress/gzip"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"runtime"
	"sync"
	"time"

	"github.com/railyard-gitops/railyard/internal/testkit/registrytest"
	"golang.org/x/sync/errgroup"
)

// OCI media types and annotation keys of the pushed images.
const (
	mediaIndex    = "application/vnd.oci.image.index.v1+json"
	mediaManifest = "application/vnd.oci.image.manifest.v1+json"
	mediaConfig   = "application/vnd.oci.image.config.v1+json"
	mediaLayer    = "application/vnd.oci.image.layer.v1.tar+gzip"

	// RevisionKey is the annotation (on indexes) and config label (on
	// images) naming the commit an image was built from.
	RevisionKey = "org.opencontainers.image.revision"
	// CreatedKey is the annotation on indexes holding the build time.
	CreatedKey = "org.opencontainers.image.created"
)

type descriptor struct {
	MediaType string    `json:"mediaType"`
	Digest    string    `json:"digest"`
	Size      int64     `json:"size"`
	Platform  *platform `json:"platform,omitempty"`
}

type platform struct {
	Architecture string `json:"architecture"`
	OS           string `json:"os"`
}

type ociIndex struct {
	SchemaVersion int               `json:"schemaVersion"`
	MediaType     string            `json:"mediaType"`
	Manifests     []descriptor      `json:"manifests"`
	Annotations   map[string]string `json:"annotations,omitempty"`
}

type ociManifest struct {
	SchemaVersion int          `json:"schemaVersion"`
	MediaType     string       `json:"mediaType"`
	Config        descriptor   `json:"config"`
	Layers        []descriptor `json:"layers"`
}

type ociConfig struct {
	Created      string `json:"created"`
	Architecture string `json:"architecture"`
	OS           string `json:"os"`
	Config       struct {
		Labels map[string]string `json:"Labels"`
	} `json:"config"`
	RootFS struct {
		Type    string   `json:"type"`
		DiffIDs []string `json:"diff_ids"`
	} `json:"rootfs"`
}

// image is the multi-arch image of one commit.
type image struct {
	index     []byte
	manifests map[string][]byte // by arch
}

// registryWriter writes into a registry with plain OCI distribution
// requests (the demo registry asks for no credentials).
type registryWriter struct {
	client *http.Client
	base   string // "http://host:port/v2/<repo>"
}

func newRegistryWriter(reg *registrytest.Registry, repo string, conns int) registryWriter {
	tr := http.DefaultTransport.(*http.Transport).Clone()
	tr.MaxIdleConnsPerHost = conns
	return registryWriter{client: &http.Client{Transport: tr}, base: reg.URL + "/v2/" + repo}
}

func (rw registryWriter) close() { rw.client.CloseIdleConnections() }

func (rw registryWriter) do(ctx context.Context, method, path, contentType string, body []byte, want int) error {
	req, err := http.NewRequestWithContext(ctx, method, rw.base+path, bytes.NewReader(body))
	if err != nil {
		return fmt.Errorf("demo: %w", err)
	}
	req.Header.Set("Content-Type", contentType)
	resp, err := rw.client.Do(req)
	if err != nil {
		return fmt.Errorf("demo: %w", err)
	}
	defer resp.Body.Close()
	msg, _ := io.ReadAll(io.LimitReader(resp.Body, 1<<10))
	if resp.StatusCode != want {
		return fmt.Errorf("demo: %s %s: status %d: %s", method, req.URL.Path, resp.StatusCode, bytes.TrimSpace(msg))
	}
	return nil
}

// blob uploads b in one request and describes it.
func (rw registryWriter) blob(ctx context.Context, mediaType string, b []byte) (descriptor, error) {
	d := descriptor{MediaType: mediaType, Digest: digestOf(b), Size: int64(len(b))}
	return d, rw.do(ctx, http.MethodPost, "/blobs/uploads/?digest="+d.Digest, "application/octet-stream", b, http.StatusCreated)
}

// manifest stores b under ref, a tag or its digest.
func (rw registryWriter) manifest(ctx context.Context, ref, mediaType string, b []byte) error {
	return rw.do(ctx, http.MethodPut, "/manifests/"+ref, mediaType, b, http.StatusCreated)
}

func digestOf(b []byte) string {
	sum := sha256.Sum256(b)
	return "sha256:" + hex.EncodeToString(sum[:])
}

// fullImages is how many of the newest commits of the watched branch get
// per-arch images of their own; older commits share unlabelled ones, so
// that each of their tags costs one request.
const fullImages = 100

// images pushes, by digest, one image per arch built from commit at built
// and returns their manifests by arch. An empty commit makes the shared,
// unlabelled images.
func (rw registryWriter) images(ctx context.Context, commit string, arches []string, built time.Time) (map[string][]byte, error) {
	out := map[string][]byte{}
	for _, arch := range arches {
		tarball, diffID, err := layer(commit, arch)
		if err != nil {
			return nil, err
		}
		var cfg ociConfig
		cfg.Created, cfg.Architecture, cfg.OS = built.Format(time.RFC3339), arch, "linux"
		if commit != "" {
			cfg.Config.Labels = map[string]string{RevisionKey: commit}
		}
		cfg.RootFS.Type, cfg.RootFS.DiffIDs = "layers", []string{diffID}
		cfgJSON, err := json.Marshal(cfg)
		if err != nil {
			return nil, err
		}
		cfgDesc, err := rw.blob(ctx, mediaConfig, cfgJSON)
		if err != nil {
			return nil, err
		}
		layerDesc, err := rw.blob(ctx, mediaLayer, tarball)
		if err != nil {
			return nil, err
		}
		m, err := json.Marshal(ociManifest{SchemaVersion: 2, MediaType: mediaManifest, Config: cfgDesc, Layers: []descriptor{layerDesc}})
		if err != nil {
			return nil, err
		}
		if err := rw.manifest(ctx, digestOf(m), mediaManifest, m); err != nil {
			return nil, err
		}
		out[arch] = m
	}
	return out, nil
}

// indexOf returns the index over manifests (in arches order), annotated
// with commit and built.
func indexOf(commit string, built time.Time, arches []string, manifests map[string][]byte) ([]byte, error) {
	idx := ociIndex{SchemaVersion: 2, MediaType: mediaIndex, Annotations: map[string]string{
		RevisionKey: commit, CreatedKey: built.Format(time.RFC3339),
	}}
	for _, arch := range arches {
		m := manifests[arch]
		idx.Manifests = append(idx.Manifests, descriptor{MediaType: mediaManifest, Digest: digestOf(m),
			Size: int64(len(m)), Platform: &platform{Architecture: arch, OS: "linux"}})
	}
	return json.Marshal(idx)
}

// layer returns a gzipped tarball holding the architecture and commit id
// (if any) of an image, and its diff id.
func layer(commit, arch string) ([]byte, string, error) {
	var tb bytes.Buffer
	tw := tar.NewWriter(&tb)
	epochZero := time.Unix(0, 0)
	files := []struct{ name, body string }{{"home/cdo/code-dot-org/ARCH", arch + "\n"}}
	if commit != "" {
		files = append(files, struct{ name, body string }{"home/cdo/code-dot-org/REVISION", commit + "\n"})
	}
	for _, f := range files {
		if err := tw.WriteHeader(&tar.Header{Name: f.name, Mode: 0o644, Size: int64(len(f.body)), ModTime: epochZero}); err != nil {
			return nil, "", err
		}
		if _, err := tw.Write([]byte(f.body)); err != nil {
			return nil, "", err
		}
	}
	if err := tw.Close(); err != nil {
		return nil, "", err
	}
	var gz bytes.Buffer
	zw := gzip.NewWriter(&gz)
	if _, err := zw.Write(tb.Bytes()); err != nil {
		return nil, "", err
	}
	if err := zw.Close(); err != nil {
		return nil, "", err
	}
	return gz.Bytes(), digestOf(tb.Bytes()), nil
}

// push writes every tag of w into the registry and records its digest.
func push(ctx context.Context, reg *registrytest.Registry, w *World, digests map[string]string) error {
	conns := 4 * runtime.GOMAXPROCS(0)
	rw := newRegistryWriter(reg, w.ImageRepo, conns)
	defer rw.close()
	shared, err := rw.images(ctx, "", Arches, w.Commits[len(w.Commits)-1].Time)
	if err != nil {
		return err
	}
	own := map[string]bool{}
	for _, c := range w.Commits[:min(len(w.Commits), fullImages)] {
		own[c.ID] = true
	}
	images := map[string]image{} // by commit
	var mu sync.Mutex
	g, gctx := errgroup.WithContext(ctx)
	g.SetLimit(conns)
	for _, t := range w.Tags {
		if t.Decoy != "" && t.Decoy != DecoyOffBranch {
			continue
		}
		g.Go(func() error {
			img := image{manifests: shared}
			if own[t.Commit] || t.Decoy == DecoyOffBranch {
				var err error
				if img.manifests, err = rw.images(gctx, t.Commit, t.Arches, t.Built); err != nil {
					return err
				}
			}
			index, err := indexOf(t.Commit, t.Built, t.Arches, img.manifests)
			img.index = index
			mu.Lock()
			images[t.Commit] = img
			mu.Unlock()
			return err
		})
	}
	if err := g.Wait(); err != nil {
		return err
	}
	g, gctx = errgroup.WithContext(ctx)
	g.SetLimit(conns)
	for _, t := range w.Tags {
		img, ok := images[t.Commit]
		body, mediaType := img.index, mediaIndex
		if t.Decoy == DecoyArch {
			body, mediaType = img.manifests[t.Arches[0]], mediaManifest
		}
		if !ok || body == nil {
			return fmt.Errorf("demo: tag %s points at an image never built", t.Name)
		}
		digests[t.Name] = digestOf(body)
		g.Go(func() error { return rw.manifest(gctx, t.Name, mediaType, body) })
	}
	return g.Wait()
}
