package sparse

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strings"

	"github.com/go-git/go-git/v5/plumbing"

	"github.com/railyard-gitops/railyard/internal/gitwire"
	"github.com/railyard-gitops/railyard/internal/httpx"
	"github.com/railyard-gitops/railyard/internal/redact"
)

// remote is one fetch's conversation with a repository, through
// internal/gitwire: the advertisement, then any number of upload-pack
// requests, all counted against one set of limits.
type remote struct {
	url     string // redacted, for logs and errors
	wire    *gitwire.Remote
	adv     *gitwire.Advertisement
	secrets *redact.Set
	log     *slog.Logger
}

func dial(v *validated, o *options) (*remote, error) {
	secrets := &redact.Set{}
	secrets.Add(o.secrets...)
	secrets.Add(v.password)
	creds := o.creds
	if v.user != "" || v.password != "" {
		// Credentials in the URL win over options, as git does.
		creds = httpx.Static(httpx.Credentials{Username: v.user, Password: v.password})
	}
	cfg := gitwire.Config{
		URL: v.url, HTTPClient: o.httpClient, Credentials: creds,
		SSHUser: o.sshUser, SSHKey: o.sshKey, SSHPassphrase: o.sshPass, SSHKnownHosts: o.knownHosts,
		Secrets: secrets,
		Retry:   o.retry,
		Limits: gitwire.Limits{
			MaxTransfer: o.maxTransfer, MaxObjects: o.maxObjects, MaxObjectSize: o.maxObjectSize,
			MaxInflated: o.maxInflated, MaxDeltaDepth: gitwire.DefaultMaxDeltaDepth,
		},
		Logger: o.logger, Prefix: "sparse",
	}
	if o.progress != nil {
		cfg.Progress = func(s gitwire.Stats) {
			o.progress(Progress{BytesReceived: s.BytesReceived, Objects: s.Objects, RoundTrips: s.RoundTrips})
		}
	}
	w, err := gitwire.New(cfg)
	if err != nil {
		return nil, fmt.Errorf("%w: URL %s: %v", ErrInvalidRequest, redactURL(v.url), secrets.String(err.Error()))
	}
	r := &remote{url: redactURL(v.url), wire: w, secrets: secrets}
	r.log = redact.Logger(o.logger, secrets).With("url", r.url)
	return r, nil
}

// advertise fetches the reference advertisement, keeping refs and
// watching whether commit is advertised.
func (r *remote) advertise(ctx context.Context, refs []string, watch ...plumbing.Hash) error {
	adv, err := r.wire.Advertise(ctx, gitwire.UploadPack, gitwire.AdvertiseRequest{Refs: refs, Watch: watch})
	if err != nil {
		return err
	}
	r.adv = adv
	return nil
}

// supports reports whether the server advertised capability c.
func (r *remote) supports(c string) bool { return r.adv.Caps.Supports(c) }

// advertises reports whether h (given to advertise) is the tip of an
// advertised reference.
func (r *remote) advertises(h plumbing.Hash) bool { return r.adv.Advertises(h) }

// fetch sends one upload-pack request for wants and stores the pack it
// returns in st. It returns the shallow boundary the server reported.
func (r *remote) fetch(ctx context.Context, st *store, wants []plumbing.Hash, depth int, filter string) ([]plumbing.Hash, error) {
	res, err := r.wire.Fetch(ctx, r.adv.Caps, gitwire.FetchRequest{Wants: wants, Depth: depth, Filter: filter}, st.Store)
	if err != nil {
		return nil, err
	}
	return res.Shallows, nil
}

func (r *remote) stats() (int64, int, int) {
	s := r.wire.Stats()
	return s.BytesReceived, s.Objects, s.RoundTrips
}

// refused reports whether err is the server refusing a request a
// fallback strategy may avoid: an ERR answer, an object it will not
// serve, a filter it does not allow.
func refused(err error) bool {
	switch gitwire.KindOf(err) {
	case gitwire.KindRefused, gitwire.KindNotOurRef, gitwire.KindFilterRefused:
		return true
	}
	return false
}

// notOurRef reports whether the server refused to serve a wanted object.
func notOurRef(err error) bool { return gitwire.KindOf(err) == gitwire.KindNotOurRef }

// public maps what the git client reported to this package's sentinels;
// errors already carrying one pass through.
func public(err error) error {
	var e *gitwire.Error
	if err == nil || !errors.As(err, &e) {
		return err
	}
	if errors.Is(err, ErrInvalid) || errors.Is(err, ErrNotFound) || errors.Is(err, ErrUnauthorized) ||
		errors.Is(err, ErrUnsafeContent) || errors.Is(err, ErrLimitExceeded) || errors.Is(err, ErrUnavailable) {
		return err
	}
	var sentinel error
	switch e.Kind {
	case gitwire.KindInvalid:
		sentinel = ErrInvalidRequest
	case gitwire.KindAuth:
		sentinel = ErrUnauthorized
	case gitwire.KindNotFound:
		sentinel = ErrNotFound
	case gitwire.KindNotOurRef:
		sentinel = ErrCommitNotFound
	case gitwire.KindRefused, gitwire.KindFilterRefused:
		sentinel = ErrUnsupportedServer
	case gitwire.KindCorrupt:
		sentinel = ErrCorrupt
	case gitwire.KindUnsafe:
		sentinel = ErrUnsafeContent
	case gitwire.KindLimit:
		var le *gitwire.LimitError
		if errors.As(err, &le) {
			return &LimitError{Limit: le.Limit, Max: le.Max}
		}
		sentinel = ErrLimitExceeded
	default:
		sentinel = ErrUnavailable
	}
	detail := e.Op
	if e.Msg != "" {
		detail += ": " + e.Msg
	}
	return fmt.Errorf("%w: %s", sentinel, strings.TrimSpace(detail))
}
