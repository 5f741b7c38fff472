package gitops_test

import (
	"bytes"
	"strings"
	"testing"

	"github.com/ProtonMail/go-crypto/openpgp"
	"github.com/ProtonMail/go-crypto/openpgp/armor"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/railyard-gitops/railyard/gitops"
)

// armoredKey returns a fresh OpenPGP key pair, the private key armored and
// encrypted with passphrase.
func armoredKey(t *testing.T, passphrase string) (*openpgp.Entity, []byte) {
	t.Helper()
	e, err := openpgp.NewEntity("railyard", "test", "railyard@localhost", nil)
	require.NoError(t, err)
	if passphrase != "" {
		require.NoError(t, e.EncryptPrivateKeys([]byte(passphrase), nil))
	}
	var b bytes.Buffer
	w, err := armor.Encode(&b, openpgp.PrivateKeyType, nil)
	require.NoError(t, err)
	require.NoError(t, e.SerializePrivateWithoutSigning(w, nil))
	require.NoError(t, w.Close())
	return e, b.Bytes()
}

// splitSignature separates a raw commit into its payload without the
// gpgsig header and the armored signature, as git verify-commit does.
func splitSignature(raw string) (payload, sig string) {
	var p, s strings.Builder
	lines := strings.SplitAfter(raw, "\n")
	for i := 0; i < len(lines); i++ {
		if strings.HasPrefix(lines[i], "gpgsig ") {
			s.WriteString(strings.TrimPrefix(lines[i], "gpgsig "))
			for i+1 < len(lines) && strings.HasPrefix(lines[i+1], " ") {
				i++
				s.WriteString(strings.TrimPrefix(lines[i], " "))
			}
			continue
		}
		p.WriteString(lines[i])
	}
	return p.String(), s.String()
}

func TestCommitSignedWithOpenPGP(t *testing.T) {
	t.Parallel()
	entity, key := armoredKey(t, "correct horse")
	_, err := gitops.NewPGPSigner(key, []byte("wrong"))
	require.Error(t, err)
	assert.NotContains(t, err.Error(), "correct horse")
	_, err = gitops.NewPGPSigner([]byte("garbage"), nil)
	require.Error(t, err)

	signer, err := gitops.NewPGPSigner(key, []byte("correct horse"))
	require.NoError(t, err)
	rem := newRemote(t)
	res, err := newRepo(t, rem.url, gitops.WithSigner(signer)).Commit(testContext(t),
		gitops.Change{Branch: "stage/test", Dir: deployDir, Files: render(1)})
	require.NoError(t, err)

	payload, sig := splitSignature(rem.git(t, "cat-file", "commit", res.Commit) + "\n")
	require.Contains(t, sig, "BEGIN PGP SIGNATURE")
	keyring := openpgp.EntityList{entity}
	_, err = openpgp.CheckArmoredDetachedSignature(keyring, strings.NewReader(payload), strings.NewReader(sig), nil)
	assert.NoError(t, err, "the signature covers the commit as git encodes it")
}
