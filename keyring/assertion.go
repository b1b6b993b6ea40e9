package keyring

import (
	"crypto/hmac"
	"encoding/binary"
	"errors"
	"time"
)

// The identity assertion the edge sends to app servers is a compact binary
// token, signed with HMAC-SHA256 under HKDF(key, "cesivi", "assertion") and
// sent as base64url. Binary rather than JSON because the header's bytes cost
// more throughput than the crypto does (research/edge-cost.md):
//
//	version (1) | key id (4) | body length (2) | issued at (4, unix s) | lifetime (2, s)
//	| audience | subject | session id | name | email      (each: uvarint length | bytes)
//	| group count (uvarint) | groups (each: uvarint length | bytes)
//	| tag (16: HMAC-SHA256 of everything before it, truncated to 128 bits)
//
// A 128-bit tag is ample for a token that lives 60 seconds.

// DefaultAssertionTTL is an assertion's lifetime unless Mint is told one.
const DefaultAssertionTTL = 60 * time.Second

// AssertionLeeway is the clock difference between edge and app server an
// assertion's issued-at and expiry checks tolerate.
const AssertionLeeway = 10 * time.Second

// MaxAssertionLen bounds the encoded token a verifier looks at.
const MaxAssertionLen = 16 << 10

const (
	assertionFixed = 1 + 4 + 2 + 4 + 2
	assertionTag   = 16
	maxGroups      = 4096
)

// Assertion is the identity an edge asserts to app servers.
type Assertion struct {
	Subject   string
	Name      string
	Email     string
	Groups    []string
	SessionID string
	Audience  string
	IssuedAt  time.Time
	Expires   time.Time
	KeyID     KeyID
}

// MintAssertion signs a. IssuedAt defaults to now and Expires to IssuedAt +
// DefaultAssertionTTL (at most 18 h); KeyID is set by the ring.
func (r *Ring) MintAssertion(a Assertion) (string, error) {
	e, err := r.currentKey()
	if err != nil {
		return "", err
	}
	iat := a.IssuedAt
	if iat.IsZero() {
		iat = r.now()
	}
	ttl := DefaultAssertionTTL
	if !a.Expires.IsZero() {
		ttl = a.Expires.Sub(iat)
	}
	if ttl <= 0 || ttl > 65535*time.Second {
		return "", errors.New("keyring: assertion lifetime must be between 1 s and 18 h")
	}
	if len(a.Groups) > maxGroups {
		return "", errors.New("keyring: too many groups in an assertion")
	}
	var stack [512]byte
	b := append(stack[:0], versionAssertion)
	b = binary.BigEndian.AppendUint32(b, uint32(e.ID))
	b = append(b, 0, 0) // body length, set below
	b = binary.BigEndian.AppendUint32(b, uint32(iat.Unix()))
	b = binary.BigEndian.AppendUint16(b, uint16((ttl+time.Second-1)/time.Second))
	for _, s := range [...]string{a.Audience, a.Subject, a.SessionID, a.Name, a.Email} {
		b = binary.AppendUvarint(b, uint64(len(s)))
		b = append(b, s...)
	}
	b = binary.AppendUvarint(b, uint64(len(a.Groups)))
	for _, g := range a.Groups {
		b = binary.AppendUvarint(b, uint64(len(g)))
		b = append(b, g...)
	}
	if len(b) > 65535 || b64.EncodedLen(len(b)+assertionTag) > MaxAssertionLen {
		return "", errors.New("keyring: assertion too large")
	}
	binary.BigEndian.PutUint16(b[5:7], uint16(len(b)))
	sk := e.crypto.assert
	h := sk.mac()
	h.Write(b)
	var sum [32]byte
	b = append(b, h.Sum(sum[:0])[:assertionTag]...)
	sk.release(h)
	return b64.EncodeToString(b), nil
}

// VerifyAssertion checks a token for audience (which must equal the
// minted audience). Errors wrap one refusal reason.
func (r *Ring) VerifyAssertion(token, audience string) (Assertion, error) {
	a, err := r.verifyAssertion(token, audience)
	if err != nil {
		return Assertion{}, r.metrics.refused("assertion", err)
	}
	return a, nil
}

func (r *Ring) verifyAssertion(token, audience string) (Assertion, error) {
	var a Assertion
	if len(token) > MaxAssertionLen || !b64Clean(token) {
		return a, ErrMalformed
	}
	var stack [512]byte
	var buf []byte
	if n := b64.DecodedLen(len(token)); n <= len(stack) {
		buf = stack[:n]
	} else {
		buf = make([]byte, n)
	}
	n, err := b64.Decode(buf, stringBytes(token))
	if err != nil {
		if len(token) < 4 {
			return a, ErrTruncated
		}
		return a, ErrMalformed
	}
	b := buf[:n]
	if len(b) >= 1 {
		if err := checkVersion(b[0], versionAssertion); err != nil {
			return a, err
		}
	}
	if len(b) < assertionFixed {
		return a, ErrTruncated
	}
	body := int(binary.BigEndian.Uint16(b[5:7]))
	switch {
	case body < assertionFixed:
		return a, ErrTampered
	case len(b) < body+assertionTag:
		return a, ErrTruncated
	case len(b) > body+assertionTag:
		return a, ErrTampered
	}
	e, err := r.lookup(keyIDAt(b[1:5]))
	if err != nil {
		return a, err
	}
	sk := e.crypto.assert
	h := sk.mac()
	h.Write(b[:body])
	var sum [32]byte
	ok := hmac.Equal(h.Sum(sum[:0])[:assertionTag], b[body:])
	sk.release(h)
	if !ok {
		return a, ErrTampered
	}
	// Authenticated from here on; a parse failure means a minting bug.
	a.KeyID = e.ID
	a.IssuedAt = time.Unix(int64(binary.BigEndian.Uint32(b[7:11])), 0)
	a.Expires = a.IssuedAt.Add(time.Duration(binary.BigEndian.Uint16(b[11:13])) * time.Second)
	p := b[assertionFixed:body]
	var fields [5]string
	for i := range fields {
		if fields[i], p, ok = readString(p); !ok {
			return Assertion{}, ErrMalformed
		}
	}
	a.Audience, a.Subject, a.SessionID, a.Name, a.Email = fields[0], fields[1], fields[2], fields[3], fields[4]
	count, k := binary.Uvarint(p)
	if k <= 0 || count > maxGroups || count > uint64(len(p)) {
		return Assertion{}, ErrMalformed
	}
	p = p[k:]
	if count > 0 {
		a.Groups = make([]string, count)
		for i := range a.Groups {
			if a.Groups[i], p, ok = readString(p); !ok {
				return Assertion{}, ErrMalformed
			}
		}
	}
	if len(p) != 0 {
		return Assertion{}, ErrMalformed
	}
	now := r.now()
	if !now.Before(a.Expires.Add(AssertionLeeway)) {
		return Assertion{}, ErrExpired
	}
	if a.IssuedAt.After(now.Add(AssertionLeeway)) {
		return Assertion{}, ErrNotYetValid
	}
	if a.Audience != audience {
		return Assertion{}, ErrWrongAudience
	}
	return a, nil
}

func readString(p []byte) (string, []byte, bool) {
	n, k := binary.Uvarint(p)
	if k <= 0 || n > uint64(len(p)-k) {
		return "", p, false
	}
	return string(p[k : k+int(n)]), p[k+int(n):], true
}
