package keyring

import (
	"crypto/rand"
	"crypto/sha256"
	"encoding/binary"
	"errors"
)

// Protect and Unprotect are DataProtection's general-purpose protector: an
// authenticated, encrypted payload for any purpose other than the three
// formats above (the OpenID Connect state, tokens kept in Redis, …):
//
//	version (1) | key id (4) | purpose tag (4: SHA-256(purpose)[:4]) | nonce (12) | AES-256-GCM(plaintext) + tag (16)
//
// under HKDF(key, application name, purpose), with the header as associated
// data. The purpose tag only lets a payload of another purpose be refused as
// such; the subkey is what enforces it.

const protectHeader = 1 + 4 + 4 + 12

// Protect encrypts and authenticates plaintext for purpose.
func (r *Ring) Protect(purpose string, plaintext []byte) ([]byte, error) {
	if err := protectPurpose(purpose); err != nil {
		return nil, err
	}
	e, err := r.currentKey()
	if err != nil {
		return nil, err
	}
	out := make([]byte, protectHeader, protectHeader+len(plaintext)+16)
	out[0] = versionProtected
	binary.BigEndian.PutUint32(out[1:5], uint32(e.ID))
	purposeTag(out[5:9], purpose)
	rand.Read(out[9:protectHeader])
	return e.crypto.purpose(purpose).aead.Seal(out, out[9:protectHeader], plaintext, out[:protectHeader]), nil
}

// Unprotect returns the plaintext of a payload Protect made for purpose.
// Errors wrap one refusal reason.
func (r *Ring) Unprotect(purpose string, payload []byte) ([]byte, error) {
	if err := protectPurpose(purpose); err != nil {
		return nil, err
	}
	p, err := r.unprotect(purpose, payload)
	if err != nil {
		return nil, r.metrics.refused("protected", err)
	}
	return p, nil
}

func (r *Ring) unprotect(purpose string, b []byte) ([]byte, error) {
	if len(b) >= 1 {
		if err := checkVersion(b[0], versionProtected); err != nil {
			return nil, err
		}
	}
	if len(b) < protectHeader+16 {
		if len(b) >= 9 && !purposeMatches(b[5:9], purpose) {
			return nil, ErrWrongPurpose
		}
		return nil, ErrTruncated
	}
	if !purposeMatches(b[5:9], purpose) {
		return nil, ErrWrongPurpose
	}
	e, err := r.lookup(keyIDAt(b[1:5]))
	if err != nil {
		return nil, err
	}
	out, err := e.crypto.purpose(purpose).aead.Open(nil, b[9:protectHeader], b[protectHeader:], b[:protectHeader])
	if err != nil {
		return nil, ErrTampered
	}
	return out, nil
}

func protectPurpose(p string) error {
	switch p {
	case "":
		return errors.New("keyring: empty purpose")
	case PurposeSessionCookie, PurposeAssertion, PurposeFormDigest:
		return errors.New("keyring: purpose " + p + " has its own format")
	}
	return nil
}

func purposeTag(dst []byte, purpose string) {
	sum := sha256.Sum256([]byte(purpose))
	copy(dst, sum[:4])
}

func purposeMatches(tag []byte, purpose string) bool {
	var want [4]byte
	purposeTag(want[:], purpose)
	return [4]byte(tag) == want
}
