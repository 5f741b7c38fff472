package giteatest

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
)

// CreateRepo creates the public repository name owned by [Server.User]
// through the REST API and returns its HTTP clone URL
// ("http://127.0.0.1:PORT/<user>/<name>.git"). With autoInit it starts with
// one commit (a README) on "main"; it then needs Gitea's static root (see
// [WithStaticRoot]). Without autoInit it is empty, and the first push makes
// its branches.
//
// It returns an [*APIError] when Gitea refuses (409 when the name exists,
// 422 for an invalid name) and a wrapped network error otherwise.
func (s *Server) CreateRepo(ctx context.Context, name string, autoInit bool) (cloneURL string, err error) {
	req := map[string]any{
		"name":           name,
		"auto_init":      autoInit,
		"default_branch": "main",
		"private":        false,
	}
	if autoInit {
		req["readme"] = "Default"
	}
	var repo struct {
		CloneURL string `json:"clone_url"`
	}
	if err := s.API(ctx, http.MethodPost, "/api/v1/user/repos", req, &repo); err != nil {
		return "", err
	}
	if repo.CloneURL == "" {
		return "", fmt.Errorf("giteatest: create repo %q: no clone_url in the answer", name)
	}
	return repo.CloneURL, nil
}

// API calls Gitea's REST API with the admin token: it sends in as JSON (nil:
// no body) to path (e.g. "/api/v1/repos/railyard/gitops/branches") and
// decodes a 2xx answer into out (nil: ignored). Other statuses give an
// [*APIError]; network failures and undecodable answers a wrapped error.
func (s *Server) API(ctx context.Context, method, path string, in, out any) error {
	var body io.Reader
	if in != nil {
		b, err := json.Marshal(in)
		if err != nil {
			return fmt.Errorf("giteatest: %s %s: encode request: %w", method, path, err)
		}
		body = bytes.NewReader(b)
	}
	req, err := http.NewRequestWithContext(ctx, method, strings.TrimSuffix(s.URL, "/")+path, body)
	if err != nil {
		return fmt.Errorf("giteatest: %s %s: %w", method, path, err)
	}
	req.Header.Set("Authorization", "token "+s.Token)
	req.Header.Set("Accept", "application/json")
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return fmt.Errorf("giteatest: %s %s: %w", method, path, err)
	}
	defer resp.Body.Close()
	if resp.StatusCode < 200 || resp.StatusCode > 299 {
		msg, _ := io.ReadAll(io.LimitReader(resp.Body, 1024))
		return &APIError{Method: method, Path: path, StatusCode: resp.StatusCode, Body: strings.TrimSpace(string(msg))}
	}
	if out == nil {
		_, _ = io.Copy(io.Discard, resp.Body)
		return nil
	}
	if err := json.NewDecoder(resp.Body).Decode(out); err != nil {
		return fmt.Errorf("giteatest: %s %s: decode answer: %w", method, path, err)
	}
	return nil
}

// AuthURL returns cloneURL with the admin user and token as its userinfo,
// for `git clone`/`git push` in tests. A cloneURL that does not parse is
// returned unchanged. The result holds a credential: do not log it.
func (s *Server) AuthURL(cloneURL string) string {
	u, err := url.Parse(cloneURL)
	if err != nil {
		return cloneURL
	}
	u.User = url.UserPassword(s.User, s.Token)
	return u.String()
}
