// Package chunks holds what the blob providers share: reading content in
// fixed-size pieces (counting, hashing, enforcing Put's limit and its
// context) and the arithmetic of Seek, so that every provider refuses the
// same content the same way.
package chunks

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"hash"
	"io"

	"github.com/cesivi/cesivi/internal/blobstore"
)

// Size is the piece size the providers read and store content in: large
// enough that a database row or a write call carries little overhead,
// small enough that a few hundred transfers at once stay within memory.
const Size = 1 << 20

// Reader reads a Put's content piece by piece into one buffer.
type Reader struct {
	ctx  context.Context
	r    io.Reader
	max  int64
	buf  []byte
	hash hash.Hash
	size int64
	eof  bool
}

// NewReader reads r in pieces of len(buf) bytes, the last one shorter;
// content longer than max (max > 0) is ErrTooLarge.
func NewReader(ctx context.Context, r io.Reader, max int64, buf []byte) *Reader {
	return &Reader{ctx: ctx, r: r, max: max, buf: buf, hash: sha256.New()}
}

// Next returns the next piece, which stays valid until the next call: a
// full buffer, or a shorter last piece. After the last piece it returns
// io.EOF (a piece is never empty). Any other error ends the content: the
// reader's own error (wrapped), ctx's error, or ErrTooLarge.
func (c *Reader) Next() ([]byte, error) {
	if c.eof {
		return nil, io.EOF
	}
	if err := c.ctx.Err(); err != nil {
		return nil, fmt.Errorf("blobstore: the upload was cancelled: %w", err)
	}
	n, err := io.ReadFull(c.r, c.buf)
	// A request body whose request ends reports it as a read error or a
	// short read; either way the context decides.
	if cerr := c.ctx.Err(); cerr != nil {
		return nil, fmt.Errorf("blobstore: the upload was cancelled: %w", cerr)
	}
	switch {
	case errors.Is(err, io.EOF), errors.Is(err, io.ErrUnexpectedEOF):
		c.eof = true
	case err != nil:
		return nil, fmt.Errorf("blobstore: reading the content: %w", err)
	}
	c.size += int64(n)
	if c.max > 0 && c.size > c.max {
		return nil, fmt.Errorf("%w: more than %d bytes", blobstore.ErrTooLarge, c.max)
	}
	if n == 0 {
		return nil, io.EOF
	}
	c.hash.Write(c.buf[:n])
	return c.buf[:n], nil
}

// Last reports whether the piece Next returned last was the last one.
func (c *Reader) Last() bool { return c.eof }

// Size is the number of bytes returned so far.
func (c *Reader) Size() int64 { return c.size }

// SHA256 is the lower-case hex SHA-256 of the bytes returned so far.
func (c *Reader) SHA256() string { return hex.EncodeToString(c.hash.Sum(nil)) }

// Seek computes a reader's new position as io.Seeker defines it. A
// position past the end is allowed (reads there return io.EOF), a
// negative one is an error.
func Seek(pos, size, offset int64, whence int) (int64, error) {
	switch whence {
	case io.SeekStart:
	case io.SeekCurrent:
		offset += pos
	case io.SeekEnd:
		offset += size
	default:
		return pos, errors.New("blobstore: Seek: invalid whence")
	}
	if offset < 0 {
		return pos, errors.New("blobstore: Seek: negative position")
	}
	return offset, nil
}

// NewKey returns a random key in the form of a version 4 UUID (lower
// case), for providers whose keys are not derived from the content.
func NewKey() string {
	var b [16]byte
	rand.Read(b[:])
	b[6] = b[6]&0x0f | 0x40
	b[8] = b[8]&0x3f | 0x80
	h := hex.EncodeToString(b[:])
	return h[0:8] + "-" + h[8:12] + "-" + h[12:16] + "-" + h[16:20] + "-" + h[20:32]
}

// IsKey reports whether key has NewKey's form, so that a provider answers
// ErrNotFound for anything else without asking its backend.
func IsKey(key string) bool {
	if len(key) != 36 {
		return false
	}
	for i := 0; i < len(key); i++ {
		c := key[i]
		switch i {
		case 8, 13, 18, 23:
			if c != '-' {
				return false
			}
		default:
			if !('0' <= c && c <= '9' || 'a' <= c && c <= 'f') {
				return false
			}
		}
	}
	return true
}
