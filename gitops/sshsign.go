package gitops

import (
	"bytes"
	"context"
	"crypto/sha512"
	"encoding/base64"
	"errors"
	"fmt"
	"io"

	"golang.org/x/crypto/ssh"
)

// sshsig constants (OpenSSH PROTOCOL.sshsig).
const (
	sshsigMagic     = "SSHSIG"
	sshsigVersion   = 1
	sshsigNamespace = "git"
	sshsigHash      = "sha512"
)

type sshSigner struct {
	signer ssh.Signer
}

// NewSSHSigner returns a [Signer] that makes SSH signatures (the format of
// `ssh-keygen -Y sign -n git`, which git verifies with gpg.format=ssh) with
// a PEM private key (OpenSSH, PKCS#1 or PKCS#8), decrypting it with
// passphrase when it is protected. RSA keys sign with rsa-sha2-512. Errors
// never include key material.
func NewSSHSigner(privateKeyPEM []byte, passphrase []byte) (Signer, error) {
	s, err := ssh.ParsePrivateKey(privateKeyPEM)
	var missing *ssh.PassphraseMissingError
	if errors.As(err, &missing) {
		s, err = ssh.ParsePrivateKeyWithPassphrase(privateKeyPEM, passphrase)
	}
	if err != nil {
		return nil, fmt.Errorf("gitops: %w: SSH private key does not parse or the passphrase is wrong", ErrInvalid)
	}
	return &sshSigner{signer: s}, nil
}

func (s *sshSigner) Sign(_ context.Context, message io.Reader) ([]byte, error) {
	h := sha512.New()
	if _, err := io.Copy(h, message); err != nil {
		return nil, err
	}
	signed := sshsigMagic + string(ssh.Marshal(struct {
		Namespace, Reserved, Hash string
		Digest                    []byte
	}{sshsigNamespace, "", sshsigHash, h.Sum(nil)}))
	var sig *ssh.Signature
	var err error
	if as, ok := s.signer.(ssh.AlgorithmSigner); ok && s.signer.PublicKey().Type() == ssh.KeyAlgoRSA {
		sig, err = as.SignWithAlgorithm(nil, []byte(signed), ssh.KeyAlgoRSASHA512)
	} else {
		sig, err = s.signer.Sign(nil, []byte(signed))
	}
	if err != nil {
		return nil, fmt.Errorf("SSH signature: %w", err)
	}
	blob := sshsigMagic + string(ssh.Marshal(struct {
		Version                   uint32
		PublicKey                 []byte
		Namespace, Reserved, Hash string
		Signature                 []byte
	}{sshsigVersion, s.signer.PublicKey().Marshal(), sshsigNamespace, "", sshsigHash, ssh.Marshal(sig)}))
	enc := base64.StdEncoding.EncodeToString([]byte(blob))
	var b bytes.Buffer
	b.WriteString("-----BEGIN SSH SIGNATURE-----\n")
	for len(enc) > 70 {
		b.WriteString(enc[:70] + "\n")
		enc = enc[70:]
	}
	b.WriteString(enc + "\n-----END SSH SIGNATURE-----\n")
	return b.Bytes(), nil
}
