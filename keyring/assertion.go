package keyring

import (
	"crypto/hmac"
	"encoding/binary"
	"errors"
	"time"
	"unsafe"
)

// The identity assertion the edge sends to app servers is a compact binary
// token, signed with HMAC-SHA256 under HKDF(key, "cesivi", "assertion") and
// sent as base64url. Binary rather than JSON because the header's bytes cost
// more throughput than the crypto does (research/edge-cost.md):
//
//	version (1) | key id (4) | issued at (4, unix s) | lifetime (2, s)
//	| audience check (2) | request check (2)
//	| subject | session id | name | email      (each: uvarint length | bytes)
//	| group count (uvarint) | groups (each: uvarint length | bytes)
//	| tag (16)
//
// The tag is HMAC-SHA256, truncated to 128 bits (ample for a token that
// lives seconds), of the audience, the request and everything before the
// tag. The audience and the request — the method and the request URI as
// the app server receives them, "GET /a?b=1" — are not sent: the verifier
// knows both. So an assertion is good for the one request it was minted
// for: seen in a log or taken off the wire, it opens no other path, no
// other method, and nothing after its few seconds. The two 16-bit checks
// (FNV-1a of the audience and of the request) only tell a wrong audience
// or a rewritten request from a forgery in the refusal's reason.

// DefaultAssertionTTL is an assertion's lifetime unless Mint is told one:
// enough for the edge's retries on another server (lb_try_duration) and
// any clock difference within AssertionLeeway.
const DefaultAssertionTTL = 15 * time.Second

// AssertionLeeway is the clock difference between edge and app server an
// assertion's issued-at and expiry checks tolerate.
const AssertionLeeway = 10 * time.Second

// MaxAssertionLen bounds the encoded token a verifier looks at.
const MaxAssertionLen = 16 << 10

const (
	assertionFixed = 1 + 4 + 4 + 2 + 2 + 2
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
	// Request is the request the assertion is minted for: its method, a
	// space and its request URI as the app server receives it.
	Request  string
	IssuedAt time.Time
	Expires  time.Time
	KeyID    KeyID
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
	// One allocation holds the token and its text: the hash's interface
	// makes any buffer escape, so a stack buffer would cost one as well,
	// and the text is encoded next to the token, not into a second one.
	n := assertionFixed + assertionTag + uvarintLen(uint64(len(a.Groups)))
	for _, s := range [...]string{a.Subject, a.SessionID, a.Name, a.Email} {
		n += uvarintLen(uint64(len(s))) + len(s)
	}
	for _, g := range a.Groups {
		n += uvarintLen(uint64(len(g))) + len(g)
	}
	if n-assertionTag > 65535 || b64.EncodedLen(n) > MaxAssertionLen {
		return "", errors.New("keyring: assertion too large")
	}
	out := make([]byte, n+b64.EncodedLen(n))
	b := append(out[:0:n], versionAssertion)
	b = binary.BigEndian.AppendUint32(b, uint32(e.ID))
	b = binary.BigEndian.AppendUint32(b, uint32(iat.Unix()))
	b = binary.BigEndian.AppendUint16(b, uint16((ttl+time.Second-1)/time.Second))
	b = binary.BigEndian.AppendUint16(b, check16(a.Audience))
	b = binary.BigEndian.AppendUint16(b, check16(a.Request))
	for _, s := range [...]string{a.Subject, a.SessionID, a.Name, a.Email} {
		b = binary.AppendUvarint(b, uint64(len(s)))
		b = append(b, s...)
	}
	b = binary.AppendUvarint(b, uint64(len(a.Groups)))
	for _, g := range a.Groups {
		b = binary.AppendUvarint(b, uint64(len(g)))
		b = append(b, g...)
	}
	sk := e.crypto.assert
	h := sk.mac()
	writeBound(h, a.Audience, a.Request)
	h.Write(b)
	var sum [32]byte
	b = append(b, h.Sum(sum[:0])[:assertionTag]...)
	sk.release(h)
	text := out[n:]
	b64.Encode(text, b)
	// text is never written again: the string may share its bytes.
	return unsafe.String(&text[0], len(text)), nil
}

// uvarintLen is the length of binary.AppendUvarint's encoding of v.
func uvarintLen(v uint64) int {
	n := 1
	for v >= 0x80 {
		v >>= 7
		n++
	}
	return n
}

// VerifyAssertion checks a token for audience and request (which must
// equal the minted ones). Errors wrap one refusal reason.
func (r *Ring) VerifyAssertion(token, audience, request string) (Assertion, error) {
	a, err := r.verifyAssertion(token, audience, request)
	if err != nil {
		return Assertion{}, r.metrics.refused("assertion", err)
	}
	return a, nil
}

func (r *Ring) verifyAssertion(token, audience, request string) (Assertion, error) {
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
	if len(b) < assertionFixed+assertionTag {
		return a, ErrTruncated
	}
	body := len(b) - assertionTag
	e, err := r.lookup(keyIDAt(b[1:5]))
	if err != nil {
		return a, err
	}
	sk := e.crypto.assert
	h := sk.mac()
	writeBound(h, audience, request)
	h.Write(b[:body])
	var sum [32]byte
	ok := hmac.Equal(h.Sum(sum[:0])[:assertionTag], b[body:])
	sk.release(h)
	if !ok {
		switch {
		case binary.BigEndian.Uint16(b[11:13]) != check16(audience):
			return a, ErrWrongAudience
		case binary.BigEndian.Uint16(b[13:15]) != check16(request):
			return a, ErrWrongRequest
		}
		return a, ErrTampered
	}
	// Authenticated from here on; a parse failure means a minting bug.
	a.KeyID, a.Audience, a.Request = e.ID, audience, request
	a.IssuedAt = time.Unix(int64(binary.BigEndian.Uint32(b[5:9])), 0)
	a.Expires = a.IssuedAt.Add(time.Duration(binary.BigEndian.Uint16(b[9:11])) * time.Second)
	p := b[assertionFixed:body]
	var fields [4]string
	for i := range fields {
		if fields[i], p, ok = readString(p); !ok {
			return Assertion{}, ErrMalformed
		}
	}
	a.Subject, a.SessionID, a.Name, a.Email = fields[0], fields[1], fields[2], fields[3]
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
	return a, nil
}

// writeBound feeds what an assertion is bound to, but does not carry, to
// its MAC: each length-prefixed, so no two pairs read alike.
func writeBound(h interface{ Write([]byte) (int, error) }, audience, request string) {
	var n [binary.MaxVarintLen64]byte
	for _, s := range [...]string{audience, request} {
		h.Write(n[:binary.PutUvarint(n[:], uint64(len(s)))])
		h.Write(stringBytes(s))
	}
}

// check16 is FNV-1a folded to 16 bits: a hint on the wire that tells a
// wrong audience or request from a forgery (never a security check).
func check16(s string) uint16 {
	h := uint32(2166136261)
	for i := 0; i < len(s); i++ {
		h ^= uint32(s[i])
		h *= 16777619
	}
	return uint16(h>>16) ^ uint16(h)
}

func readString(p []byte) (string, []byte, bool) {
	n, k := binary.Uvarint(p)
	if k <= 0 || n > uint64(len(p)-k) {
		return "", p, false
	}
	return string(p[k : k+int(n)]), p[k+int(n):], true
}
