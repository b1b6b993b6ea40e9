package keyring

import (
	"encoding/base64"
	"encoding/binary"
	"strings"
	"unsafe"
)

// Format version bytes: the high nibble names the format, the low nibble its
// version. Every payload starts with one, followed by the 4-byte key id.
const (
	versionCookie = 0x11
	// 0x22: bound to the request, audience off the wire (0x21, which was
	// not, is refused as an unknown version).
	versionAssertion = 0x22
	versionDigest    = 0x31
	versionProtected = 0x41
)

// checkVersion returns nil when b starts with want, ErrWrongPurpose when it
// starts with another format's version byte, else ErrBadVersion.
func checkVersion(v, want byte) error {
	if v == want {
		return nil
	}
	switch v {
	case versionCookie, versionAssertion, versionDigest, versionProtected:
		return ErrWrongPurpose
	}
	return ErrBadVersion
}

// b64 is the text encoding of cookies and assertions: URL-safe base64
// without padding, strict (non-zero trailing bits are refused, so no two
// strings decode to the same payload). encoding/base64 skips '\r' and '\n'
// even in strict mode, so callers refuse them first (b64Clean).
var b64 = base64.RawURLEncoding.Strict()

// b64Clean reports whether s holds no character the decoder would skip.
func b64Clean(s string) bool { return strings.IndexByte(s, '\n') < 0 && strings.IndexByte(s, '\r') < 0 }

// stringBytes views s as bytes without copying; the callers only read.
func stringBytes(s string) []byte { return unsafe.Slice(unsafe.StringData(s), len(s)) }

func keyIDAt(b []byte) KeyID { return KeyID(binary.BigEndian.Uint32(b)) }

// truncated classifies a base64url value too short for its format: another
// format's or an unknown version byte wins over "truncated".
func truncated(value string, want byte) error {
	if len(value) >= 4 {
		var b [3]byte
		if _, err := base64.RawURLEncoding.Decode(b[:], stringBytes(value[:4])); err == nil {
			if err := checkVersion(b[0], want); err != nil {
				return err
			}
		}
	}
	return ErrTruncated
}
