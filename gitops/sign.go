package gitops

import (
	"bytes"
	"context"
	"fmt"
	"io"

	"github.com/ProtonMail/go-crypto/openpgp"
)

// Signer signs commits: Sign returns an ASCII-armored detached signature of
// the commit object as git encodes it without a signature (what `git
// verify-commit` checks). ctx bounds signers that call out (a KMS, an
// agent); it is the context of the Commit or Propose call. Implementations
// must be safe for concurrent use.
type Signer interface {
	Sign(ctx context.Context, message io.Reader) ([]byte, error)
}

type pgpSigner struct {
	entity *openpgp.Entity
}

// NewPGPSigner returns a [Signer] that makes OpenPGP signatures with the
// first key of an ASCII-armored private key ring, decrypting it with
// passphrase when it is protected. Errors never include key material.
func NewPGPSigner(armoredPrivateKey []byte, passphrase []byte) (Signer, error) {
	keys, err := openpgp.ReadArmoredKeyRing(bytes.NewReader(armoredPrivateKey))
	if err != nil {
		return nil, fmt.Errorf("gitops: %w: OpenPGP key ring does not parse", ErrInvalid)
	}
	if len(keys) == 0 || keys[0].PrivateKey == nil {
		return nil, fmt.Errorf("gitops: %w: OpenPGP key ring holds no private key", ErrInvalid)
	}
	e := keys[0]
	if e.PrivateKey.Encrypted {
		if err := e.DecryptPrivateKeys(passphrase); err != nil {
			return nil, fmt.Errorf("gitops: %w: OpenPGP private key: wrong passphrase", ErrInvalid)
		}
	}
	return &pgpSigner{entity: e}, nil
}

func (s *pgpSigner) Sign(_ context.Context, message io.Reader) ([]byte, error) {
	var b bytes.Buffer
	if err := openpgp.ArmoredDetachSign(&b, s.entity, message, nil); err != nil {
		return nil, fmt.Errorf("OpenPGP signature: %w", err)
	}
	return b.Bytes(), nil
}
