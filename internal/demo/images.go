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
	"net/http"
	"net/http/httptest"
	"runtime"
	"sync"
	"time"

	"github.com/railyard-gitops/railyard/internal/registrytest"
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

// image is the multi-arch image of one commit, as pushed.
type image struct {
	index     []byte
	manifests map[string][]byte // by arch
}

// registryWriter writes into a registrytest.Registry in process, through
// its HTTP handler but without a network round trip.
type registryWriter struct {
	reg  *registrytest.Registry
	repo string
}

func (rw registryWriter) do(ctx context.Context, method, path, contentType string, body []byte, want int) error {
	req := httptest.NewRequestWithContext(ctx, method, "/v2/"+rw.repo+path, bytes.NewReader(body))
	req.Header.Set("Content-Type", contentType)
	rec := httptest.NewRecorder()
	rw.reg.ServeHTTP(rec, req)
	if rec.Code != want {
		return fmt.Errorf("demo: %s /v2/%s%s: status %d: %s", method, rw.repo, path, rec.Code, bytes.TrimSpace(rec.Body.Bytes()))
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

// build pushes the per-arch images of commit (built at built) by digest
// and returns them with their index, which is not pushed yet.
func (rw registryWriter) build(ctx context.Context, commit string, arches []string, built time.Time) (image, error) {
	img := image{manifests: map[string][]byte{}}
	idx := ociIndex{SchemaVersion: 2, MediaType: mediaIndex, Annotations: map[string]string{
		RevisionKey: commit, CreatedKey: built.Format(time.RFC3339),
	}}
	for _, arch := range arches {
		tarball, diffID, err := layer(commit, arch)
		if err != nil {
			return img, err
		}
		var cfg ociConfig
		cfg.Created, cfg.Architecture, cfg.OS = built.Format(time.RFC3339), arch, "linux"
		cfg.Config.Labels = map[string]string{RevisionKey: commit}
		cfg.RootFS.Type, cfg.RootFS.DiffIDs = "layers", []string{diffID}
		cfgJSON, err := json.Marshal(cfg)
		if err != nil {
			return img, err
		}
		cfgDesc, err := rw.blob(ctx, mediaConfig, cfgJSON)
		if err != nil {
			return img, err
		}
		layerDesc, err := rw.blob(ctx, mediaLayer, tarball)
		if err != nil {
			return img, err
		}
		m, err := json.Marshal(ociManifest{SchemaVersion: 2, MediaType: mediaManifest, Config: cfgDesc, Layers: []descriptor{layerDesc}})
		if err != nil {
			return img, err
		}
		if err := rw.manifest(ctx, digestOf(m), mediaManifest, m); err != nil {
			return img, err
		}
		img.manifests[arch] = m
		idx.Manifests = append(idx.Manifests, descriptor{MediaType: mediaManifest, Digest: digestOf(m),
			Size: int64(len(m)), Platform: &platform{Architecture: arch, OS: "linux"}})
	}
	var err error
	img.index, err = json.Marshal(idx)
	return img, err
}

// layer returns a gzipped tarball holding the commit id and architecture
// of an image, and its diff id.
func layer(commit, arch string) ([]byte, string, error) {
	var tb bytes.Buffer
	tw := tar.NewWriter(&tb)
	epochZero := time.Unix(0, 0)
	for _, f := range []struct{ name, body string }{
		{"home/cdo/code-dot-org/REVISION", commit + "\n"},
		{"home/cdo/code-dot-org/ARCH", arch + "\n"},
	} {
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
	rw := registryWriter{reg: reg, repo: w.ImageRepo}
	images := map[string]image{} // by commit
	var mu sync.Mutex
	g, gctx := errgroup.WithContext(ctx)
	g.SetLimit(runtime.GOMAXPROCS(0))
	for _, t := range w.Tags {
		if t.Decoy != "" && t.Decoy != DecoyOffBranch {
			continue
		}
		g.Go(func() error {
			img, err := rw.build(gctx, t.Commit, t.Arches, t.Built)
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
	g.SetLimit(runtime.GOMAXPROCS(0))
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
