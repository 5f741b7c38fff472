package railyard_test

import (
	"testing"
	"time"

	"github.com/stretchr/testify/assert"

	"github.com/railyard-gitops/railyard/freight"
	"github.com/railyard-gitops/railyard/gitops"
	"github.com/railyard-gitops/railyard/gitops/gitea"
	"github.com/railyard-gitops/railyard/gitops/github"
	"github.com/railyard-gitops/railyard/sparse"
)

// Every package with WithRetries exports its defaults, and they agree
// except where gitops documents why (its retries also absorb lost push
// races). Before v0.1.0 they differed in every package for no reason.
func TestRetryDefaultsAgree(t *testing.T) {
	t.Parallel()
	type defaults struct {
		retries  int
		min, max time.Duration
	}
	want := defaults{3, 200 * time.Millisecond, 5 * time.Second}
	for name, got := range map[string]defaults{
		"freight":       {freight.DefaultRetries, freight.DefaultMinWait, freight.DefaultMaxWait},
		"sparse":        {sparse.DefaultRetries, sparse.DefaultMinWait, sparse.DefaultMaxWait},
		"gitops/github": {github.DefaultRetries, github.DefaultMinWait, github.DefaultMaxWait},
		"gitops/gitea":  {gitea.DefaultRetries, gitea.DefaultMinWait, gitea.DefaultMaxWait},
	} {
		assert.Equal(t, want, got, name)
	}
	assert.Equal(t, defaults{7, want.min, want.max},
		defaults{gitops.DefaultRetries, gitops.DefaultMinWait, gitops.DefaultMaxWait}, "gitops")
}
