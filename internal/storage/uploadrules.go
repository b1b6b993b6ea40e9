package storage

import (
	"github.com/cesivi/cesivi/internal/odata"
)

// The rules of Uploads both providers apply, so that they refuse and
// accept the same chunks.

// UploadID is an upload id in its stored form (a lower-case guid
// without braces); ok is false when id is no guid.
func UploadID(id string) (canonical string, ok bool) {
	g, ok := odata.Guid(id)
	return g.Str, ok
}

// CheckUploadStart refuses an upload Start cannot open: an id that is
// no guid, no list or file, or parts that are not contiguous from
// offset 0 (at least the first one).
func CheckUploadStart(u Upload) error {
	if _, ok := UploadID(u.ID); !ok {
		return Invalid("an upload id is a guid")
	}
	if _, ok := odata.Guid(u.ListID); !ok {
		return Invalid("an upload's list id is a guid")
	}
	if u.FileURL == "" {
		return Invalid("an upload names the file it writes")
	}
	if len(u.Parts) == 0 {
		return Invalid("an upload starts with its first part")
	}
	var next int64
	for i, p := range u.Parts {
		if err := CheckUploadPart(p.Offset, p.Size, p.Blob); err != nil {
			return err
		}
		if p.Offset != next {
			return Invalid("part %d of the upload starts at byte %d, after the parts before it", i+1, next)
		}
		next += p.Size
	}
	return nil
}

// CheckUploadPart refuses a part with a negative offset or size, or
// without its blob.
func CheckUploadPart(offset, size int64, blob string) error {
	switch {
	case offset < 0:
		return Invalid("an upload part's offset cannot be negative")
	case size < 0:
		return Invalid("an upload part's size cannot be negative")
	case blob == "":
		return Invalid("an upload part names the blob that holds it")
	}
	return nil
}

// Accept decides what Append does with a part at offset of size bytes:
// resend when it equals the last part in offset and size (a client
// resending a chunk whose answer it lost: nothing changes), ErrConflict
// when offset is not Size(), otherwise append it. The resend is decided
// first, so an empty part repeated at the end is a resend, not a second
// empty part.
func (u *Upload) Accept(offset, size int64) (resend bool, err error) {
	if n := len(u.Parts); n > 0 && u.Parts[n-1].Offset == offset && u.Parts[n-1].Size == size {
		return true, nil
	}
	if offset != u.Size() {
		return false, Conflict("the upload has received %d bytes: the next chunk starts there", u.Size())
	}
	return false, nil
}
