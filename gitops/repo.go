package gitops

import (
	"context"
	"fmt"
	"sync"
	"sync/atomic"

	"github.com/go-git/go-git/v5/plumbing/transport"
	gitssh "github.com/go-git/go-git/v5/plumbing/transport/ssh"

	"github.com/railyard-gitops/railyard/internal/gitwire"
	"github.com/railyard-gitops/railyard/internal/httpx"
	"github.com/railyard-gitops/railyard/internal/redact"
)

// Repo is a remote GitOps repository that rendered changes are committed
// to. It keeps no local clone: each call fetches what it needs.
//
// A Repo is safe for concurrent use. Calls writing the same branch through
// one Repo are serialized; writers in other Repos or processes are kept
// apart by the push lease (see [Repo.Commit]).
type Repo struct {
	url     string // without credentials, for messages
	wire    gitwire.Config
	secrets *redact.Set
	opts    *options

	snapshots snapshots
	pushCaps  atomic.Pointer[gitwire.Caps] // from the last receive-pack advertisement

	mu       sync.Mutex
	branches map[string]*branchLock // held or awaited; dropped when unused
}

type branchLock struct {
	sem  chan struct{} // one slot
	refs int           // holders and waiters, guarded by Repo.mu
}

// NewRepo returns a Repo for the git repository at url (https://, http://
// or ssh://, or scp-like user@host:path). Credentials in an HTTP(S) URL are
// moved out of it and used as basic auth unless an auth option is given;
// they go only to the URL's origin and never appear in errors or logs.
// NewRepo does no I/O. It fails with an error matching [ErrInvalid] on a
// malformed URL, an unsupported scheme, conflicting options or an SSH key
// that does not parse.
func NewRepo(url string, opts ...Option) (*Repo, error) {
	o, err := newOptions(opts)
	if err != nil {
		return nil, err
	}
	ep, err := transport.NewEndpoint(url)
	if err != nil {
		// Not err: it quotes the URL, password included.
		return nil, fmt.Errorf("gitops: %w: repository URL %q does not parse", ErrInvalid, redact.URLs(url))
	}
	secrets := &redact.Set{}
	r := &Repo{opts: o, secrets: secrets, branches: map[string]*branchLock{}}
	isHTTP := ep.Protocol == "http" || ep.Protocol == "https"
	cfg := gitwire.Config{
		HTTPClient: o.httpClient, Secrets: secrets,
		SSHKnownHosts: o.knownHosts,
		Limits: gitwire.Limits{
			MaxTransfer: o.maxTransfer, MaxObjects: o.maxObjects, MaxObjectSize: o.maxObjectSize,
			MaxInflated: o.maxInflated, MaxDeltaDepth: gitwire.DefaultMaxDeltaDepth,
		},
		// Commit's own loop retries, with the lease: gitwire sends once.
		Logger: o.logger, Prefix: "gitops",
	}
	if isHTTP && (ep.User != "" || ep.Password != "") {
		secrets.Add(ep.Password)
		if ep.Password == "" {
			secrets.Add(ep.User) // a token given as the user name
		}
		if o.auth == nil {
			cfg.Credentials = httpx.Static(httpx.Credentials{Username: ep.User, Password: ep.Password})
		}
		ep.User, ep.Password = "", ""
	}
	r.url = ep.String()
	switch {
	case isHTTP:
	case ep.Protocol == "ssh":
		if ep.Password != "" {
			secrets.Add(ep.Password)
			return nil, fmt.Errorf("gitops: %w: repository URL %q: an ssh URL must not carry a password", ErrInvalid, redact.URLs(url))
		}
	default:
		return nil, fmt.Errorf("gitops: %w: repository URL %q: unsupported scheme %q", ErrInvalid, r.url, ep.Protocol)
	}
	cfg.URL = r.url
	if a := o.auth; a != nil {
		switch {
		case a.kind == "basic" && isHTTP:
			secrets.Add(a.secret)
			cfg.Credentials = httpx.Static(httpx.Credentials{Username: a.user, Password: a.secret})
		case a.kind == "bearer" && isHTTP:
			secrets.Add(a.secret)
			cfg.Credentials = httpx.Static(httpx.Credentials{Token: a.secret})
		case a.kind == "func" && isHTTP:
			fn := o.creds
			cfg.Credentials = func(ctx context.Context, host string) (httpx.Credentials, error) {
				c, err := fn(ctx, host)
				return httpx.Credentials(c), err
			}
		case a.kind == "ssh" && !isHTTP:
			secrets.Add(a.secret)
			if _, err := gitssh.NewPublicKeys(a.user, a.privateKey, a.secret); err != nil {
				return nil, fmt.Errorf("gitops: %w: SSH key: %s", ErrInvalid, secrets.String(err.Error()))
			}
			cfg.SSHUser, cfg.SSHKey, cfg.SSHPassphrase = a.user, a.privateKey, a.secret
		default:
			return nil, fmt.Errorf("gitops: %w: %s auth does not apply to %s URLs", ErrInvalid, a.kind, ep.Protocol)
		}
	}
	if _, err := gitwire.New(cfg); err != nil {
		return nil, fmt.Errorf("gitops: %w: %s", ErrInvalid, secrets.String(err.Error()))
	}
	r.wire = cfg
	return r, nil
}

// URL returns the repository URL without credentials.
func (r *Repo) URL() string { return r.url }

// op is one call (a Commit or a Propose's comparison): its conversation
// with the remote, whose limits all its attempts share.
type op struct {
	*Repo
	wire *gitwire.Remote
}

// newOp starts a call.
func (r *Repo) newOp() (*op, error) {
	w, err := gitwire.New(r.wire)
	if err != nil {
		return nil, fmt.Errorf("gitops: %w: %s", ErrInvalid, r.redact(err.Error()))
	}
	return &op{Repo: r, wire: w}, nil
}

// lock serializes writers of one branch within r; it waits until the branch
// is free or ctx is done.
func (r *Repo) lock(ctx context.Context, branch string) (unlock func(), err error) {
	r.mu.Lock()
	l, ok := r.branches[branch]
	if !ok {
		l = &branchLock{sem: make(chan struct{}, 1)}
		r.branches[branch] = l
	}
	l.refs++
	r.mu.Unlock()
	release := func() {
		r.mu.Lock()
		if l.refs--; l.refs == 0 {
			delete(r.branches, branch)
		}
		r.mu.Unlock()
	}
	select {
	case l.sem <- struct{}{}:
		return func() { <-l.sem; release() }, nil
	case <-ctx.Done():
		release()
		return nil, ctx.Err()
	}
}

// errText is err's message with secrets redacted, for logs; "" for nil.
func (r *Repo) errText(err error) string {
	if err == nil {
		return ""
	}
	return r.redact(err.Error())
}

// redact removes every secret r knows (and URL passwords) from s.
func (r *Repo) redact(s string) string { return r.secrets.String(s) }

// truncate shortens text from the server before it is quoted.
func truncate(s string) string {
	const max = 200
	if len(s) <= max {
		return s
	}
	return s[:max] + "…"
}
