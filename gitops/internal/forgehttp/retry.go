package forgehttp

import (
	"errors"
	"io"
	"math/rand/v2"
	"net/http"
	"strconv"
	"time"
)

// Policy bounds the retries of [Retrying].
type Policy struct {
	Attempts int           // total tries per request, at least 1
	MinWait  time.Duration // first wait, doubled per retry
	MaxWait  time.Duration // cap of a wait, also of a Retry-After
}

// DefaultPolicy is 4 attempts, waiting 500ms, 1s, 2s (each drawn from its
// upper half), at most 10s.
var DefaultPolicy = Policy{Attempts: 4, MinWait: 500 * time.Millisecond, MaxWait: 10 * time.Second}

// Retrying returns a RoundTripper that sends GET, HEAD and PATCH requests
// (the providers only PATCH bodies to a fixed value, which is idempotent)
// again after a network error or a 429, 502, 503 or 504 answer, honouring
// Retry-After, within p and the request's context. Other requests, such as
// the POST that opens a pull request, are sent once. base nil means
// [http.DefaultTransport].
func Retrying(base http.RoundTripper, p Policy) http.RoundTripper {
	if base == nil {
		base = http.DefaultTransport
	}
	return &retrying{base: base, p: p}
}

type retrying struct {
	base http.RoundTripper
	p    Policy
}

func retryable(status int) bool {
	switch status {
	case http.StatusTooManyRequests, http.StatusBadGateway, http.StatusServiceUnavailable, http.StatusGatewayTimeout:
		return true
	}
	return false
}

func (t *retrying) RoundTrip(req *http.Request) (*http.Response, error) {
	safe := req.Method == http.MethodGet || req.Method == http.MethodHead ||
		(req.Method == http.MethodPatch && (req.Body == nil || req.GetBody != nil))
	wait := t.p.MinWait
	for n := 1; ; n++ {
		resp, err := t.base.RoundTrip(req)
		if !safe || n >= t.p.Attempts || req.Context().Err() != nil {
			return resp, err
		}
		if err == nil && !retryable(resp.StatusCode) {
			return resp, nil
		}
		d := wait/2 + rand.N(wait/2+1)
		if err == nil {
			if s, perr := strconv.Atoi(resp.Header.Get("Retry-After")); perr == nil && s >= 0 {
				d = time.Duration(s) * time.Second
			}
			_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 64<<10))
			resp.Body.Close()
		}
		d = min(d, t.p.MaxWait)
		wait = min(2*wait, t.p.MaxWait)
		timer := time.NewTimer(d)
		select {
		case <-timer.C:
		case <-req.Context().Done():
			timer.Stop()
			return nil, req.Context().Err()
		}
		if req.GetBody != nil {
			body, gerr := req.GetBody()
			if gerr != nil {
				return nil, errors.Join(errors.New("forgehttp: rewind request body"), gerr)
			}
			req = req.Clone(req.Context())
			req.Body = body
		}
	}
}
