package freight

import (
	"errors"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
)

func TestErrorTypes(t *testing.T) {
	t.Parallel()
	idErr := &CommitIDError{ID: "abc", format: formatSHA256}
	assert.ErrorIs(t, idErr, ErrInvalidCommitID)
	assert.Equal(t, `freight: invalid commit id "abc": want 64 lowercase hex digits (sha256)`, idErr.Error())

	moved := &MovedTagError{
		Image:    Image{RepoURL: "ghcr.io/org/app", Tag: "git-" + sha1ID, Digest: "sha256:" + strings.Repeat("b", 64)},
		Previous: "sha256:" + strings.Repeat("a", 64),
		Freight:  "60814b127a48372407b88fa1c2dce855e4282496",
	}
	assert.ErrorIs(t, moved, ErrMovedTag)
	assert.Contains(t, moved.Error(), "ghcr.io/org/app:git-"+sha1ID+" moved from sha256:aaaa")
	assert.Contains(t, moved.Error(), "60814b127a48372407b88fa1c2dce855e4282496")

	cause := errors.New("boom")
	re := &RemoteError{Op: "list tags", URL: "ghcr.io/org/app", Err: errors.Join(ErrUnavailable, cause)}
	assert.ErrorIs(t, re, ErrUnavailable)
	assert.ErrorIs(t, re, cause)
	assert.True(t, strings.HasPrefix(re.Error(), "freight: list tags ghcr.io/org/app: "))
	var target *RemoteError
	assert.ErrorAs(t, error(re), &target)
}

func TestDiscoveryErr(t *testing.T) {
	t.Parallel()
	assert.NoError(t, (&Discovery{}).Err())
	assert.NoError(t, (&Discovery{Unpaired: []Unpaired{{Reason: ReasonDecoy}}}).Err())
	moved := &MovedTagError{Image: Image{Tag: "git-" + sha1ID}}
	d := &Discovery{Unpaired: []Unpaired{{Reason: ReasonDecoy}, {Reason: ReasonMovedTag, Err: moved}}}
	assert.ErrorIs(t, d.Err(), ErrMovedTag)
}
