package keyring

import (
	"crypto/aes"
	"crypto/cipher"
	"crypto/hkdf"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/binary"
	"errors"
	"os"
	"strings"
)

// Sealed material: one format byte, then either the raw material (plain) or
// a nonce and the AES-256-GCM ciphertext under the key-encryption key, with
// the key id, creation, activation and expiration bound as associated data
// so a record's dates cannot be edited without detection.
const (
	sealPlain     = 0x50 // 'P'
	sealEncrypted = 0x45 // 'E'
	materialSize  = 32
)

// MasterKeySize is the length of a master key (a 256-bit key-encryption key).
const MasterKeySize = 32

// ParseMasterKey reads Cesivi:DataProtection:MasterKey: empty (no
// encryption at rest), 32 bytes in base64 (standard or URL alphabet, padded
// or not), or "file:PATH" / "@PATH" naming a file that holds the base64 text
// or the 32 raw bytes. Errors never contain the value.
func ParseMasterKey(s string) ([]byte, error) {
	s = strings.TrimSpace(s)
	if s == "" {
		return nil, nil
	}
	if path, ok := strings.CutPrefix(s, "file:"); ok || strings.HasPrefix(s, "@") {
		if !ok {
			path = s[1:]
		}
		b, err := os.ReadFile(path)
		if err != nil {
			return nil, errors.New("keyring: master key file: " + pathError(err))
		}
		if len(b) == MasterKeySize {
			return b, nil
		}
		s = strings.TrimSpace(string(b))
	}
	for _, enc := range []*base64.Encoding{base64.StdEncoding, base64.RawStdEncoding, base64.URLEncoding, base64.RawURLEncoding} {
		if b, err := enc.DecodeString(s); err == nil {
			if len(b) != MasterKeySize {
				return nil, errors.New("keyring: the master key must be 32 bytes (256 bits) in base64, e.g. from `openssl rand -base64 32`")
			}
			return b, nil
		}
	}
	return nil, errors.New("keyring: the master key is not valid base64 (want 32 bytes in base64, e.g. from `openssl rand -base64 32`)")
}

func pathError(err error) string {
	var pe *os.PathError
	if errors.As(err, &pe) {
		return pe.Op + " " + pe.Path + ": " + pe.Err.Error()
	}
	return err.Error()
}

// kek is the key-encryption key derived from the master key.
type kek struct{ aead cipher.AEAD }

func newKEK(master []byte) (*kek, error) {
	if master == nil {
		return nil, nil
	}
	if len(master) != MasterKeySize {
		return nil, errors.New("keyring: the master key must be 32 bytes")
	}
	k, err := hkdf.Key(sha256.New, master, nil, "cesivi keyring key-encryption key v1", 32)
	if err != nil {
		return nil, err
	}
	block, err := aes.NewCipher(k)
	if err != nil {
		return nil, err
	}
	aead, err := cipher.NewGCM(block)
	if err != nil {
		return nil, err
	}
	return &kek{aead: aead}, nil
}

func sealAD(rec *KeyRecord) []byte {
	ad := make([]byte, 0, 4+3*8+len("cesivi-keyring-material"))
	ad = append(ad, "cesivi-keyring-material"...)
	ad = binary.BigEndian.AppendUint32(ad, uint32(rec.ID))
	ad = binary.BigEndian.AppendUint64(ad, uint64(rec.Created.UnixMicro()))
	ad = binary.BigEndian.AppendUint64(ad, uint64(rec.Activation.UnixMicro()))
	ad = binary.BigEndian.AppendUint64(ad, uint64(rec.Expiration.UnixMicro()))
	return ad
}

// seal sets rec.Material from the raw material.
func (k *kek) seal(rec *KeyRecord, material []byte) {
	if k == nil {
		rec.Material = append([]byte{sealPlain}, material...)
		return
	}
	out := make([]byte, 1+12, 1+12+len(material)+16)
	out[0] = sealEncrypted
	rand.Read(out[1:13])
	rec.Material = k.aead.Seal(out, out[1:13], material, sealAD(rec))
}

// open returns the raw material of rec.
func (k *kek) open(rec *KeyRecord) (material []byte, encrypted bool, err error) {
	m := rec.Material
	if len(m) == 0 {
		return nil, false, ErrWrongMasterKey
	}
	switch m[0] {
	case sealPlain:
		if len(m) != 1+materialSize {
			return nil, false, ErrWrongMasterKey
		}
		return m[1:], false, nil
	case sealEncrypted:
		if k == nil {
			return nil, true, ErrMasterKeyRequired
		}
		if len(m) != 1+12+materialSize+16 {
			return nil, true, ErrWrongMasterKey
		}
		out, err := k.aead.Open(nil, m[1:13], m[13:], sealAD(rec))
		if err != nil {
			return nil, true, ErrWrongMasterKey
		}
		return out, true, nil
	}
	return nil, false, ErrWrongMasterKey
}
