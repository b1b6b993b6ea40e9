package keyring

import (
	"crypto/hmac"
	"encoding/binary"
	"encoding/hex"
	"errors"
	"math"
	"time"
)

// The form digest keeps SharePoint's shape exactly — "0x", 128 upper-case
// hex digits (64 bytes), a comma and the issue time as "dd Mon yyyy
// hh:mm:ss -0000", as SharePoint Online and Server write it — so clients
// that split it, parse its date or check its length keep working:
//
//	0x HEX( version (1) | key id (4) | issued at (4, unix s)
//	        | user hint (4) | scope hint (4) | zero (15)
//	        | tag (32) ) , dd Mon yyyy hh:mm:ss -0000
//
// The tag is the full HMAC-SHA256, under HKDF(key, "cesivi", "form-digest"),
// of the first 32 bytes, the user and the scope (each length-prefixed): the
// user and scope are not carried, the verifier knows both. The hints are the
// first 4 bytes of HMAC('u' | user) and HMAC('s' | scope) under the same
// subkey; keyed, so a digest seen in a log or a page does not let anyone
// test guesses of the login name. They only tell "another user" and
// "another scope" from a forgery in the refusal, once the tag has failed.
// The 15 zero bytes are reserved (covered by the tag); a layout that uses
// them takes another version byte.
//
// Exactly one text verifies for a digest: the hex must be upper case and
// the date must be the one minted (the hex is authoritative, but a value
// whose date disagrees with it was not written by this farm).

// FormDigestTimeout is a digest's validity, as SharePoint's
// FormDigestTimeoutSeconds (1800) says.
const FormDigestTimeout = 1800 * time.Second

const (
	digestRaw     = 64
	digestHeader  = 32 // what the tag covers, besides user and scope
	digestDate    = "02 Jan 2006 15:04:05 -0000"
	digestHexLen  = 2 + 2*digestRaw
	digestFullLen = digestHexLen + 1 + len(digestDate) // 157 characters
)

// ErrWrongScope is the refusal of a digest minted for another scope (another
// site). It wraps ErrTampered, the reason its metric label and Explain give,
// since only the tag, not the hint, proves anything.
var ErrWrongScope error = wrongScope{}

type wrongScope struct{}

func (wrongScope) Error() string { return "keyring: form digest of another scope" }
func (wrongScope) Unwrap() error { return ErrTampered }

// MintFormDigest returns a form digest for user (the login name) in scope
// (the site it is for; "" for none), valid FormDigestTimeout on every server
// of the farm. The issue time is rounded up to the second: clients count
// the timeout from when they received the digest, so the farm must not
// count it from up to a second earlier.
func (r *Ring) MintFormDigest(user, scope string) (string, error) {
	e, err := r.currentKey()
	if err != nil {
		return "", err
	}
	now := r.now()
	iat := now.Unix()
	if now.Nanosecond() != 0 {
		iat++
	}
	if iat < 0 || iat > math.MaxUint32 {
		return "", errors.New("keyring: form digest: the clock is outside 1970-2106")
	}
	sk := e.crypto.digest
	var raw [digestRaw]byte
	raw[0] = versionDigest
	binary.BigEndian.PutUint32(raw[1:5], uint32(e.ID))
	binary.BigEndian.PutUint32(raw[5:9], uint32(iat))
	digestHint(sk, 'u', user, raw[9:13])
	digestHint(sk, 's', scope, raw[13:17])
	digestTag(sk, raw[:digestHeader], user, scope, raw[digestHeader:])
	var out [digestFullLen]byte
	out[0], out[1] = '0', 'x'
	hexUpper(out[2:digestHexLen], raw[:])
	out[digestHexLen] = ','
	appendDigestDate(out[digestHexLen+1:digestHexLen+1], raw[5:9])
	return string(out[:]), nil
}

// VerifyFormDigest checks a digest (the X-RequestDigest header or the
// __REQUESTDIGEST form field) for user and scope: minted by this farm under
// a key that is not revoked, for this user and scope, at most
// FormDigestTimeout ago and at most AssertionLeeway in the future. Errors
// wrap one refusal reason: ErrWrongUser for another user's digest,
// ErrWrongScope (an ErrTampered) for another scope's. Refusals are counted
// under the format label "form_digest".
func (r *Ring) VerifyFormDigest(digest, user, scope string) error {
	if err := r.verifyFormDigest(digest, user, scope); err != nil {
		return r.metrics.refused("form_digest", err)
	}
	return nil
}

func (r *Ring) verifyFormDigest(digest, user, scope string) error {
	var raw [digestRaw]byte
	if err := parseDigest(digest, &raw); err != nil {
		return err
	}
	e, err := r.lookup(keyIDAt(raw[1:5]))
	if err != nil {
		return err
	}
	sk := e.crypto.digest
	var sum [32]byte
	if !hmac.Equal(digestTag(sk, raw[:digestHeader], user, scope, sum[:]), raw[digestHeader:]) {
		var hint [4]byte
		if !hmac.Equal(digestHint(sk, 'u', user, hint[:]), raw[9:13]) {
			return ErrWrongUser
		}
		if !hmac.Equal(digestHint(sk, 's', scope, hint[:]), raw[13:17]) {
			return ErrWrongScope
		}
		return ErrTampered
	}
	// The assertion's leeway, not the ring's ClockSkew (minutes): the same
	// request carries an assertion that fails beyond it anyway.
	iat := time.Unix(int64(binary.BigEndian.Uint32(raw[5:9])), 0)
	now := r.now()
	if !now.Before(iat.Add(FormDigestTimeout)) {
		return ErrExpired
	}
	if iat.After(now.Add(AssertionLeeway)) {
		return ErrNotYetValid
	}
	return nil
}

// parseDigest decodes the text form into raw, checking everything that
// needs no key. A value that is not exactly a digest is classified: another
// format's version byte first, then a prefix of a digest as ErrTruncated,
// anything else as ErrMalformed.
func parseDigest(digest string, raw *[digestRaw]byte) error {
	if len(digest) > digestFullLen {
		return ErrMalformed
	}
	if len(digest) < 2 || digest[0] != '0' || digest[1] != 'x' {
		if len(digest) < 2 && digest == "0x"[:len(digest)] {
			return ErrTruncated
		}
		return ErrMalformed
	}
	n := 0 // hex digits after "0x"
	for n < 2*digestRaw && 2+n < len(digest) && isUpperHexDigit(digest[2+n]) {
		n++
	}
	hex.Decode(raw[:n/2], stringBytes(digest[2:2+(n&^1)])) // upper-case hex only: cannot fail
	if n >= 2 {
		if err := checkVersion(raw[0], versionDigest); err != nil {
			return err
		}
	}
	if n < 2*digestRaw {
		if 2+n == len(digest) {
			return ErrTruncated
		}
		return ErrMalformed
	}
	var want [1 + len(digestDate)]byte
	want[0] = ','
	appendDigestDate(want[1:1], raw[5:9])
	tail := digest[digestHexLen:]
	switch {
	case tail == string(want[:]):
		return nil
	case len(tail) < len(want) && tail == string(want[:len(tail)]):
		return ErrTruncated
	}
	return ErrMalformed
}

func appendDigestDate(dst []byte, iat []byte) []byte {
	return time.Unix(int64(binary.BigEndian.Uint32(iat)), 0).UTC().AppendFormat(dst, digestDate)
}

// digestTag writes the 32-byte tag into dst and returns it.
func digestTag(sk *subkey, header []byte, user, scope string, dst []byte) []byte {
	h := sk.mac()
	h.Write(header)
	writeBound(h, user, scope)
	var sum [32]byte
	copy(dst, h.Sum(sum[:0]))
	sk.release(h)
	return dst[:32]
}

// digestHint writes a 4-byte hint of s into dst and returns it. Its input
// starts with label, never with versionDigest, so it is never a tag.
func digestHint(sk *subkey, label byte, s string, dst []byte) []byte {
	h := sk.mac()
	var n [1 + binary.MaxVarintLen64]byte
	n[0] = label
	h.Write(n[:1+binary.PutUvarint(n[1:], uint64(len(s)))])
	h.Write(stringBytes(s))
	var sum [32]byte
	copy(dst, h.Sum(sum[:0])[:4])
	sk.release(h)
	return dst[:4]
}

func hexUpper(dst, src []byte) {
	const digits = "0123456789ABCDEF"
	for i, c := range src {
		dst[2*i], dst[2*i+1] = digits[c>>4], digits[c&15]
	}
}

func isUpperHexDigit(c byte) bool { return '0' <= c && c <= '9' || 'A' <= c && c <= 'F' }
