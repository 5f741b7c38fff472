package gitops

import (
	"context"
	"encoding/base64"
	"fmt"
	"strings"
	"sync"
	"sync/atomic"

	"github.com/go-git/go-git/v5/plumbing/protocol/packp/capability"
	"github.com/go-git/go-git/v5/plumbing/transport"
	"github.com/go-git/go-git/v5/plumbing/transport/client"
	githttp "github.com/go-git/go-git/v5/plumbing/transport/http"
	gitssh "github.com/go-git/go-git/v5/plumbing/transport/ssh"

	"github.com/railyard-gitops/railyard/internal/redact"
)

// Repo is a remote GitOps repository that rendered changes are committed
// to. It keeps no local clone: each call fetches what it needs.
//
// A Repo is safe for concurrent use. Calls writing the same branch through
// one Repo are serialized; writers in other Repos or processes are kept
// apart by the push lease (see [Repo.Commit]).
type Repo struct {
	url     string // redacted, for messages
	ep      *transport.Endpoint
	tr      transport.Transport
	auth    transport.AuthMethod
	secrets []string
	opts    *options

	snapshots snapshots
	pushCaps  atomic.Pointer[capability.List] // from the last receive-pack advertisement

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
// they never appear in errors or logs. NewRepo does no I/O. It fails on a
// malformed URL, an unsupported scheme, conflicting options or an SSH key
// that does not parse.
func NewRepo(url string, opts ...Option) (*Repo, error) {
	o, err := newOptions(opts)
	if err != nil {
		return nil, err
	}
	ep, err := transport.NewEndpoint(url)
	if err != nil {
		return nil, fmt.Errorf("gitops: parse repository URL %q: %w", redactURL(url), redact.Error(err)) // url.Parse quotes the URL
	}
	r := &Repo{ep: ep, opts: o, branches: map[string]*branchLock{}}
	isHTTP := ep.Protocol == "http" || ep.Protocol == "https"
	if isHTTP && (ep.User != "" || ep.Password != "") {
		r.addSecret(ep.User, ep.Password)
		if ep.Password == "" { // a token given as the user name
			r.secrets = append(r.secrets, ep.User, base64.StdEncoding.EncodeToString([]byte(ep.User+":")))
		}
		if o.auth == nil {
			r.auth = &githttp.BasicAuth{Username: ep.User, Password: ep.Password}
		}
		ep.User, ep.Password = "", ""
	}
	r.url = ep.String()
	switch {
	case isHTTP:
		r.tr = githttp.NewClient(o.httpClient)
	case ep.Protocol == "ssh":
		if r.tr, err = client.NewClient(ep); err != nil {
			return nil, fmt.Errorf("gitops: %s: %w", r.url, err)
		}
	default:
		return nil, fmt.Errorf("gitops: repository URL %q: unsupported scheme %q", r.url, ep.Protocol)
	}
	if a := o.auth; a != nil {
		r.addSecret(a.user, a.secret)
		switch {
		case a.kind == "basic" && isHTTP:
			r.auth = &githttp.BasicAuth{Username: a.user, Password: a.secret}
		case a.kind == "ssh" && !isHTTP:
			keys, err := gitssh.NewPublicKeys(a.user, a.privateKey, a.secret)
			if err != nil {
				return nil, fmt.Errorf("gitops: SSH key: %s", r.redact(err.Error()))
			}
			if o.knownHosts != nil {
				if keys.HostKeyCallback, err = gitssh.NewKnownHostsCallback(o.knownHosts...); err != nil {
					return nil, fmt.Errorf("gitops: SSH known_hosts: %w", err)
				}
			}
			r.auth = keys
		default:
			return nil, fmt.Errorf("gitops: %s auth does not apply to %s URLs", a.kind, ep.Protocol)
		}
	}
	return r, nil
}

// URL returns the repository URL without credentials.
func (r *Repo) URL() string { return r.url }

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

// addSecret records a credential for redaction, with its basic-auth form
// (base64 of "user:secret"), which a server echoing headers would show.
func (r *Repo) addSecret(user, secret string) {
	if secret == "" {
		return
	}
	r.secrets = append(r.secrets, secret, base64.StdEncoding.EncodeToString([]byte(user+":"+secret)))
}

// errText is err's message with secrets redacted, for logs; "" for nil.
func (r *Repo) errText(err error) string {
	if err == nil {
		return ""
	}
	return r.redact(err.Error())
}

// redact removes every secret r knows from s.
func (r *Repo) redact(s string) string {
	for _, secret := range r.secrets {
		if secret != "" {
			s = strings.ReplaceAll(s, secret, "REDACTED")
		}
	}
	return s
}

// redactURL drops the user information of a URL-shaped string.
func redactURL(s string) string {
	scheme, rest, ok := strings.Cut(s, "://")
	if !ok {
		return s
	}
	if at := strings.LastIndex(rest, "@"); at >= 0 && !strings.Contains(rest[:at], "/") {
		rest = "REDACTED@" + rest[at+1:]
	}
	return scheme + "://" + rest
}
