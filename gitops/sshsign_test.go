package gitops_test

import (
	"crypto/ed25519"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha512"
	"crypto/x509"
	"encoding/base64"
	"encoding/pem"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"golang.org/x/crypto/ssh"

	"github.com/railyard-gitops/railyard/gitops"
)

// verifySSHSig checks an armored SSH signature of payload in namespace
// "git" by pub, following OpenSSH's PROTOCOL.sshsig.
func verifySSHSig(t *testing.T, pub ssh.PublicKey, payload, armored string) {
	t.Helper()
	body := strings.TrimSpace(armored)
	body = strings.TrimPrefix(body, "-----BEGIN SSH SIGNATURE-----")
	body = strings.TrimSuffix(body, "-----END SSH SIGNATURE-----")
	raw, err := base64.StdEncoding.DecodeString(strings.Join(strings.Fields(body), ""))
	require.NoError(t, err)
	rest, ok := strings.CutPrefix(string(raw), "SSHSIG")
	require.True(t, ok)
	var blob struct {
		Version                   uint32
		PublicKey                 []byte
		Namespace, Reserved, Hash string
		Signature                 []byte
	}
	require.NoError(t, ssh.Unmarshal([]byte(rest), &blob))
	assert.Equal(t, uint32(1), blob.Version)
	assert.Equal(t, "git", blob.Namespace)
	assert.Equal(t, "sha512", blob.Hash)
	assert.Equal(t, pub.Marshal(), blob.PublicKey)
	var sig ssh.Signature
	require.NoError(t, ssh.Unmarshal(blob.Signature, &sig))
	digest := sha512.Sum512([]byte(payload))
	signed := "SSHSIG" + string(ssh.Marshal(struct {
		Namespace, Reserved, Hash string
		Digest                    []byte
	}{"git", "", "sha512", digest[:]}))
	assert.NoError(t, pub.Verify([]byte(signed), &sig))
}

func TestCommitSignedWithSSH(t *testing.T) {
	t.Parallel()
	_, edKey, err := ed25519.GenerateKey(rand.Reader)
	require.NoError(t, err)
	rsaKey, err := rsa.GenerateKey(rand.Reader, 2048)
	require.NoError(t, err)
	edBlock, err := ssh.MarshalPrivateKey(edKey, "railyard")
	require.NoError(t, err)
	// A passphrase-protected key in the legacy PEM encryption, whose KDF is
	// fast; OpenSSH's bcrypt KDF takes seconds under -race.
	rsaBlock, err := x509.EncryptPEMBlock(rand.Reader, "RSA PRIVATE KEY", x509.MarshalPKCS1PrivateKey(rsaKey), []byte("pass phrase"), x509.PEMCipherAES256) //nolint:staticcheck // test fixture
	require.NoError(t, err)
	for name, tc := range map[string]struct {
		key        any
		block      *pem.Block
		passphrase string
	}{"ed25519": {edKey, edBlock, ""}, "rsa, encrypted": {rsaKey, rsaBlock, "pass phrase"}} {
		key := tc.key
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			pemKey := pem.EncodeToMemory(tc.block)
			if tc.passphrase != "" {
				_, err := gitops.NewSSHSigner(pemKey, []byte("wrong"))
				require.Error(t, err)
				assert.NotContains(t, err.Error(), tc.passphrase)
			}
			signer, err := gitops.NewSSHSigner(pemKey, []byte(tc.passphrase))
			require.NoError(t, err)
			sshSigner, err := ssh.NewSignerFromKey(key)
			require.NoError(t, err)
			pub := sshSigner.PublicKey()

			rem := newRemote(t)
			res, err := newRepo(t, rem.url, gitops.WithSigner(signer)).Commit(testContext(t),
				gitops.Change{Branch: "stage/test", Dir: deployDir, Files: render(1)})
			require.NoError(t, err)
			payload, sig := splitSignature(rem.git(t, "cat-file", "commit", res.Commit) + "\n")
			require.Contains(t, sig, "BEGIN SSH SIGNATURE")
			verifySSHSig(t, pub, payload, sig)

			// The git CLI as oracle, where ssh-keygen (which git calls to
			// verify SSH signatures) is installed.
			if _, err := exec.LookPath("ssh-keygen"); err != nil {
				t.Log("ssh-keygen not installed: verified in Go only")
				return
			}
			allowed := filepath.Join(t.TempDir(), "allowed_signers")
			require.NoError(t, os.WriteFile(allowed, []byte("railyard@localhost "+strings.TrimSpace(string(ssh.MarshalAuthorizedKey(pub)))+"\n"), 0o600))
			out, err := exec.Command("git", "-C", rem.dir, "-c", "gpg.format=ssh", "-c", "gpg.ssh.allowedSignersFile="+allowed,
				"verify-commit", res.Commit).CombinedOutput()
			assert.NoError(t, err, "git verify-commit: %s", out)
			assert.Contains(t, string(out), "Good \"git\" signature")
		})
	}
}
