package main

import (
	"context"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func env(m map[string]string) func(string) string { return func(k string) string { return m[k] } }

// The program serves the step and a health check on loopback, refuses
// requests without its token, and stops with its context.
func TestServe(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	ready := make(chan string, 1)
	done := make(chan error, 1)
	srvCtx, stop := context.WithCancel(ctx)
	go func() {
		done <- run(srvCtx, []string{"-listen", "127.0.0.1:0"}, env(map[string]string{
			"RAILYARD_STEP_TOKEN":     "tok",
			"RAILYARD_GIT_URL_PREFIX": "https://github.com/org/",
			"RAILYARD_GIT_USERNAME":   "bot",
			"RAILYARD_GIT_PASSWORD":   "pw",
		}), io.Discard, ready)
	}()
	var addr string
	select {
	case addr = <-ready:
	case err := <-done:
		t.Fatal(err)
	}
	resp, err := http.Get("http://" + addr + "/healthz")
	require.NoError(t, err)
	resp.Body.Close()
	assert.Equal(t, http.StatusOK, resp.StatusCode)
	resp, err = http.Post("http://"+addr+"/v1/render-branch", "application/json", strings.NewReader("{}"))
	require.NoError(t, err)
	resp.Body.Close()
	assert.Equal(t, http.StatusUnauthorized, resp.StatusCode)
	stop()
	assert.NoError(t, <-done)
}

func TestConfigurationErrors(t *testing.T) {
	for name, tc := range map[string]struct {
		args []string
		env  map[string]string
		want string
	}{
		"no token":          {nil, nil, "token is required"},
		"creds, no prefix":  {[]string{"-no-auth"}, map[string]string{"RAILYARD_GIT_PASSWORD": "pw"}, "RAILYARD_GIT_URL_PREFIX"},
		"http prefix":       {[]string{"-no-auth"}, map[string]string{"RAILYARD_GIT_URL_PREFIX": "http://github.com/org/"}, "https://"},
		"prefix without /":  {[]string{"-no-auth"}, map[string]string{"RAILYARD_GIT_URL_PREFIX": "https://github.com/org"}, `ending in "/"`},
		"argument":          {[]string{"extra"}, nil, "unexpected arguments"},
		"token and no-auth": {[]string{"-no-auth"}, map[string]string{"RAILYARD_STEP_TOKEN": "t"}, "exclude each other"},
	} {
		t.Run(name, func(t *testing.T) {
			err := run(context.Background(), tc.args, env(tc.env), io.Discard, nil)
			assert.ErrorContains(t, err, tc.want)
		})
	}
}
