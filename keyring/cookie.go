package keyring

import (
	"crypto/rand"
	"encoding/binary"
	"encoding/hex"
	"errors"
	"math"
	"time"
)

// The session cookie value is an AEAD format of our own rather than
// gorilla/securecookie. securecookie carries no key id, so rotation means
// trying every codec in turn (and "old key" cannot be told from "tampered");
// its value is gob-serialised, AES-CTR encrypted then HMAC'd, with a textual
// timestamp, giving long, variable-size cookies. Ours is fixed-size and
// needs one key lookup:
//
//	version (1) | key id (4) | nonce (12) | AES-256-GCM( session id (16) | expiry (4, unix s, 0 = none) ) + tag (16)
//
// 53 bytes, 71 characters of base64url, whatever the session holds (the
// session itself lives in the distributed store under the id). The header is
// the associated data. The subkey is HKDF(key, "cesivi", "session-cookie").
// Nonces are random: at most 2^32 cookies per key and purpose keep the
// collision risk negligible, and a key is the current one for 90 days.

// SessionIDSize is the size of a session id: 128 random bits.
const SessionIDSize = 16

// SessionID is a session's id.
type SessionID [SessionIDSize]byte

// NewSessionID returns a random session id.
func NewSessionID() SessionID {
	var s SessionID
	rand.Read(s[:])
	return s
}

// String is the id as 32 lower-case hex digits (the form in Redis keys).
func (s SessionID) String() string { return hex.EncodeToString(s[:]) }

// ParseSessionID reads the form String writes.
func ParseSessionID(v string) (SessionID, error) {
	var s SessionID
	if len(v) != 2*SessionIDSize {
		return s, errors.New("keyring: session id: want 32 hex digits")
	}
	if _, err := hex.Decode(s[:], []byte(v)); err != nil {
		return s, errors.New("keyring: session id: want 32 hex digits")
	}
	return s, nil
}

const (
	cookieHeader     = 1 + 4 + 12
	cookiePlain      = SessionIDSize + 4
	cookieRawSize    = cookieHeader + cookiePlain + 16
	SessionCookieLen = (cookieRawSize*8 + 5) / 6 // 71: the value's length in characters
)

// SessionCookie is what a verified session cookie carries.
type SessionCookie struct {
	SessionID SessionID
	// Expires is the cookie's own expiry (zero: none).
	Expires time.Time
	KeyID   KeyID
}

// MintSessionCookie returns the cookie value for a session, valid until
// expires (zero: no expiry of its own; the session's TTL in the store
// still applies).
func (r *Ring) MintSessionCookie(id SessionID, expires time.Time) (string, error) {
	e, err := r.currentKey()
	if err != nil {
		return "", err
	}
	// One array for both halves: the AEAD interface makes them escape, so
	// this is one allocation instead of two.
	var buf [cookieRawSize + cookiePlain]byte
	raw, plain := buf[:cookieRawSize], buf[cookieRawSize:]
	raw[0] = versionCookie
	binary.BigEndian.PutUint32(raw[1:5], uint32(e.ID))
	rand.Read(raw[5:cookieHeader])
	copy(plain, id[:])
	if !expires.IsZero() {
		binary.BigEndian.PutUint32(plain[SessionIDSize:], uint32(min(max(expires.Unix(), 1), math.MaxUint32)))
	}
	e.crypto.cookie.aead.Seal(raw[cookieHeader:cookieHeader], raw[5:cookieHeader], plain, raw[:cookieHeader])
	return b64.EncodeToString(raw), nil
}

// VerifySessionCookie checks a cookie value. Errors wrap one refusal
// reason (ErrTampered, ErrTruncated, ErrUnknownKey, ErrRevoked, ErrExpired,
// ErrWrongPurpose, ErrBadVersion, ErrMalformed).
func (r *Ring) VerifySessionCookie(value string) (SessionCookie, error) {
	c, err := r.verifySessionCookie(value)
	if err != nil {
		return SessionCookie{}, r.metrics.refused("session_cookie", err)
	}
	return c, nil
}

func (r *Ring) verifySessionCookie(value string) (SessionCookie, error) {
	var c SessionCookie
	if len(value) > SessionCookieLen || !b64Clean(value) {
		return c, ErrMalformed
	}
	if len(value) < SessionCookieLen {
		return c, truncated(value, versionCookie)
	}
	var buf [cookieRawSize + cookiePlain]byte
	raw, plain := buf[:cookieRawSize], buf[cookieRawSize:]
	if n, err := b64.Decode(raw, stringBytes(value)); err != nil || n != cookieRawSize {
		return c, ErrMalformed
	}
	if err := checkVersion(raw[0], versionCookie); err != nil {
		return c, err
	}
	e, err := r.lookup(keyIDAt(raw[1:5]))
	if err != nil {
		return c, err
	}
	if _, err := e.crypto.cookie.aead.Open(plain[:0], raw[5:cookieHeader], raw[cookieHeader:], raw[:cookieHeader]); err != nil {
		return c, ErrTampered
	}
	copy(c.SessionID[:], plain[:SessionIDSize])
	c.KeyID = e.ID
	if exp := binary.BigEndian.Uint32(plain[SessionIDSize:]); exp != 0 {
		c.Expires = time.Unix(int64(exp), 0)
		if !r.now().Before(c.Expires) {
			return SessionCookie{}, ErrExpired
		}
	}
	return c, nil
}
