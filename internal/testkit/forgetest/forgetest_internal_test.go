package forgetest

import (
	"context"
	"errors"
	"reflect"
	"sort"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/railyard-gitops/railyard/gitops"
)

// recording is a PullRequests that records the methods called and fails
// each with its name.
type recording struct{ called []string }

func (r *recording) call(name string) (*gitops.PullRequest, error) {
	r.called = append(r.called, name)
	return nil, errors.New(name)
}

func (r *recording) FindOpen(context.Context, string, string) (*gitops.PullRequest, error) {
	return r.call("FindOpen")
}

func (r *recording) Create(context.Context, gitops.NewPullRequest) (*gitops.PullRequest, error) {
	return r.call("Create")
}

func (r *recording) UpdateBody(context.Context, int, string) (*gitops.PullRequest, error) {
	return r.call("UpdateBody")
}

func (r *recording) Get(context.Context, int) (*gitops.PullRequest, error) { return r.call("Get") }

// The checks that make "every call" make every method of the interface
// once: a method added to gitops.PullRequests fails here until calls
// makes it too.
func TestCallsCoverTheInterface(t *testing.T) {
	t.Parallel()
	r := &recording{}
	errs := calls(context.Background(), r)
	require.Len(t, errs, len(r.called))
	for i, err := range errs {
		assert.EqualError(t, err, r.called[i], "the errors are in the order of the calls")
	}
	iface := reflect.TypeFor[gitops.PullRequests]()
	var methods []string
	for i := range iface.NumMethod() {
		methods = append(methods, iface.Method(i).Name)
	}
	called := append([]string(nil), r.called...)
	sort.Strings(called)
	assert.Equal(t, methods, called, "each method once") // reflect sorts by name
}

func TestContext(t *testing.T) {
	t.Parallel()
	deadline, ok := Context(t).Deadline()
	require.True(t, ok)
	assert.WithinDuration(t, time.Now().Add(time.Minute), deadline, 10*time.Second)
}
