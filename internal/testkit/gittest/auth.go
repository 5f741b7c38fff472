package gittest

import (
	"net/http"
	"slices"
	"sync"
)

// AuthRecorder is an [http.RoundTripper] that records the Authorization
// header of every request (empty when there is none) and forwards the
// request to [http.DefaultTransport]. Use it as a client's transport to
// check which credentials a client sends to a Server. It is safe for
// concurrent use; the zero value is ready to use.
type AuthRecorder struct {
	mu   sync.Mutex
	seen []string
}

// RoundTrip records req's Authorization header and forwards req.
func (r *AuthRecorder) RoundTrip(req *http.Request) (*http.Response, error) {
	r.mu.Lock()
	r.seen = append(r.seen, req.Header.Get("Authorization"))
	r.mu.Unlock()
	return http.DefaultTransport.RoundTrip(req)
}

// Seen returns the recorded headers, in the order of the requests.
func (r *AuthRecorder) Seen() []string {
	r.mu.Lock()
	defer r.mu.Unlock()
	return slices.Clone(r.seen)
}
