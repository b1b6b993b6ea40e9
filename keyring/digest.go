package keyring

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"strings"
	"time"
)

// The form digest keeps SharePoint's outer shape, "0x<HEX>,<date>", so
// clients that split it keep working:
//
//	0x HEX( version (1) | key id (4) | issued at (4, unix s) | user tag (4) | tag (16) ) , dd Mon yyyy hh:mm:ss -0000
//
// The user tag (the first 4 bytes of SHA-256 of the user's login name) lets
// a digest of another user be refused as such; the 16-byte tag is
// HMAC-SHA256 under HKDF(key, "cesivi", "form-digest") over the binary
// header, the user and the scope (e.g. the site URL), truncated to 128 bits.
// The date is the issue time; it must match, upper-case hex only, so no
// two strings verify as the same digest.

// FormDigestTimeout is a digest's validity, as SharePoint's
// FormDigestTimeoutSeconds (1800) says.
const FormDigestTimeout = 1800 * time.Second

const (
	digestRaw     = 1 + 4 + 4 + 4 + 16
	digestDate    = "02 Jan 2006 15:04:05 -0000"
	digestHexLen  = 2 + 2*digestRaw
	digestFullLen = digestHexLen + 1 + len(digestDate)
)

// MintFormDigest returns a form digest for user (the login name) in scope
// (the site or web it is for; "" for none), valid FormDigestTimeout on every
// server of the farm.
func (r *Ring) MintFormDigest(user, scope string) (string, error) {
	e, err := r.currentKey()
	if err != nil {
		return "", err
	}
	now := r.now()
	var raw [digestRaw]byte
	raw[0] = versionDigest
	binary.BigEndian.PutUint32(raw[1:5], uint32(e.ID))
	binary.BigEndian.PutUint32(raw[5:9], uint32(now.Unix()))
	userTag(raw[9:13], user)
	digestMAC(e, raw[:13], user, scope, raw[13:13])
	var out [digestFullLen]byte
	out[0], out[1] = '0', 'x'
	hexUpper(out[2:digestHexLen], raw[:])
	out[digestHexLen] = ','
	time.Unix(int64(binary.BigEndian.Uint32(raw[5:9])), 0).UTC().AppendFormat(out[digestHexLen+1:digestHexLen+1], digestDate)
	return string(out[:]), nil
}

// VerifyFormDigest checks a digest (the X-RequestDigest header or the
// __REQUESTDIGEST form field) for user and scope. Errors wrap one refusal
// reason (ErrWrongUser for another user's digest).
func (r *Ring) VerifyFormDigest(digest, user, scope string) error {
	if err := r.verifyFormDigest(digest, user, scope); err != nil {
		return r.metrics.refused("form_digest", err)
	}
	return nil
}

func (r *Ring) verifyFormDigest(digest, user, scope string) error {
	if !strings.HasPrefix(digest, "0x") {
		if len(digest) < 2 && strings.HasPrefix("0x", digest) {
			return ErrTruncated
		}
		return ErrMalformed
	}
	var raw [digestRaw]byte
	hexPart := digest[2:]
	if i := strings.IndexByte(hexPart, ','); i >= 0 {
		hexPart = hexPart[:i]
	}
	if len(hexPart) > 2*digestRaw || len(hexPart)%2 != 0 || !isUpperHex(hexPart) {
		return ErrMalformed
	}
	if _, err := hex.Decode(raw[:len(hexPart)/2], stringBytes(hexPart)); err != nil {
		return ErrMalformed
	}
	if len(hexPart) >= 2 {
		if err := checkVersion(raw[0], versionDigest); err != nil {
			return err
		}
	}
	if len(digest) < digestFullLen {
		return ErrTruncated
	}
	if len(digest) > digestFullLen || digest[digestHexLen] != ',' {
		return ErrMalformed
	}
	e, err := r.lookup(keyIDAt(raw[1:5]))
	if err != nil {
		return err
	}
	var ut [4]byte
	userTag(ut[:], user)
	var sum [32]byte
	mac := digestMAC(e, raw[:13], user, scope, sum[:0])
	if !hmac.Equal(mac, raw[13:]) {
		if !hmac.Equal(ut[:], raw[9:13]) {
			return ErrWrongUser
		}
		return ErrTampered
	}
	if !hmac.Equal(ut[:], raw[9:13]) {
		return ErrWrongUser
	}
	iat := time.Unix(int64(binary.BigEndian.Uint32(raw[5:9])), 0)
	var date [len(digestDate)]byte
	if string(iat.UTC().AppendFormat(date[:0], digestDate)) != digest[digestHexLen+1:] {
		return ErrTampered
	}
	now := r.now()
	if !now.Before(iat.Add(FormDigestTimeout)) {
		return ErrExpired
	}
	if iat.After(now.Add(r.opt.ClockSkew)) {
		return ErrNotYetValid
	}
	return nil
}

func userTag(dst []byte, user string) {
	sum := sha256.Sum256([]byte(user))
	copy(dst, sum[:4])
}

func digestMAC(e *keyEntry, header []byte, user, scope string, dst []byte) []byte {
	sk := e.crypto.digest
	h := sk.mac()
	h.Write(header)
	var lp [binary.MaxVarintLen64]byte
	h.Write(binary.AppendUvarint(lp[:0], uint64(len(user))))
	h.Write(stringBytes(user))
	h.Write(binary.AppendUvarint(lp[:0], uint64(len(scope))))
	h.Write(stringBytes(scope))
	var sum [32]byte
	out := append(dst, h.Sum(sum[:0])[:16]...)
	sk.release(h)
	return out
}

func hexUpper(dst, src []byte) {
	const digits = "0123456789ABCDEF"
	for i, c := range src {
		dst[2*i], dst[2*i+1] = digits[c>>4], digits[c&15]
	}
}

func isUpperHex(s string) bool {
	for i := 0; i < len(s); i++ {
		if c := s[i]; !('0' <= c && c <= '9' || 'A' <= c && c <= 'F') {
			return false
		}
	}
	return true
}
