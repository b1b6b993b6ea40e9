package keyring

import (
	"crypto/aes"
	"crypto/cipher"
	"crypto/hkdf"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/binary"
	"hash"
	"sync"
)

// DefaultApplicationName is the root purpose: every subkey is derived under
// it, so rings of different applications sharing a store never accept each
// other's payloads (DataProtection's application discriminator, #26786).
const DefaultApplicationName = "cesivi"

// Purposes of the formats built on the ring. Any other non-empty string may
// be used with Protect and Unprotect.
const (
	PurposeSessionCookie = "session-cookie"
	PurposeOIDCState     = "oidc-state"
	PurposeAssertion     = "assertion"
	PurposeFormDigest    = "form-digest"
)

// subkey is one purpose's key derived from a key's material, with the
// primitives built on it prepared once and shared by every goroutine.
type subkey struct {
	key  []byte
	aead cipher.AEAD // AES-256-GCM under key
	macs sync.Pool   // of hash.Hash: HMAC-SHA256 under key
}

// deriveSubkey is HKDF-SHA256(material, salt = nil, info = version ||
// len(app) || app || len(purpose) || purpose). The length prefixes make the
// (application, purpose) pair unambiguous.
func deriveSubkey(material []byte, app, purpose string) *subkey {
	info := make([]byte, 0, 32+len(app)+len(purpose))
	info = append(info, "cesivi-keyring-subkey-v1"...)
	info = binary.AppendUvarint(info, uint64(len(app)))
	info = append(info, app...)
	info = binary.AppendUvarint(info, uint64(len(purpose)))
	info = append(info, purpose...)
	k, err := hkdf.Key(sha256.New, material, nil, string(info), 32)
	if err != nil {
		panic("keyring: hkdf: " + err.Error()) // only for impossible lengths
	}
	block, err := aes.NewCipher(k)
	if err != nil {
		panic("keyring: aes: " + err.Error())
	}
	aead, err := cipher.NewGCM(block)
	if err != nil {
		panic("keyring: gcm: " + err.Error())
	}
	s := &subkey{key: k, aead: aead}
	s.macs.New = func() any { return hmac.New(sha256.New, s.key) }
	return s
}

func (s *subkey) mac() hash.Hash { return s.macs.Get().(hash.Hash) }

func (s *subkey) release(h hash.Hash) {
	h.Reset()
	s.macs.Put(h)
}

// keyCrypto holds the material of one key and its subkeys. It is immutable
// apart from the lazily filled map of other purposes.
type keyCrypto struct {
	sealed   []byte // to recognise the same record at the next refresh
	material []byte
	app      string
	cookie   *subkey
	assert   *subkey
	digest   *subkey
	oidc     *subkey
	other    sync.Map // purpose string -> *subkey
}

func newKeyCrypto(sealed, material []byte, app string) *keyCrypto {
	return &keyCrypto{
		sealed:   sealed,
		material: material,
		app:      app,
		cookie:   deriveSubkey(material, app, PurposeSessionCookie),
		assert:   deriveSubkey(material, app, PurposeAssertion),
		digest:   deriveSubkey(material, app, PurposeFormDigest),
		oidc:     deriveSubkey(material, app, PurposeOIDCState),
	}
}

func (c *keyCrypto) purpose(p string) *subkey {
	switch p {
	case PurposeSessionCookie:
		return c.cookie
	case PurposeAssertion:
		return c.assert
	case PurposeFormDigest:
		return c.digest
	case PurposeOIDCState:
		return c.oidc
	}
	if s, ok := c.other.Load(p); ok {
		return s.(*subkey)
	}
	s, _ := c.other.LoadOrStore(p, deriveSubkey(c.material, c.app, p))
	return s.(*subkey)
}
