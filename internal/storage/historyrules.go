package storage

import (
	"fmt"
	"strconv"
	"strings"
	"time"
)

// The rules of Versions and CheckOuts both providers apply: version ids
// and labels, what a replaced content becomes, who may write a file that
// is checked out, and what a check-in makes of the version.

// versionsPerMajor is SharePoint's step between major version ids: 1.0
// is 512, 1.1 is 513, 2.0 is 1024.
const versionsPerMajor = 512

// VersionID is SharePoint's id of version major.minor.
func VersionID(major, minor int) int { return versionsPerMajor*major + minor }

// VersionLabel is the label ("2.1") of a version id.
func VersionLabel(id int) string {
	return strconv.Itoa(id/versionsPerMajor) + "." + strconv.Itoa(id%versionsPerMajor)
}

// ParseVersionLabel is the id of a label "major.minor"; false when it is
// not one.
func ParseVersionLabel(label string) (int, bool) {
	major, minor, ok := strings.Cut(label, ".")
	a, err1 := strconv.Atoi(major)
	b, err2 := strconv.Atoi(minor)
	if !ok || err1 != nil || err2 != nil || a < 0 || b < 0 || b >= versionsPerMajor {
		return 0, false
	}
	return VersionID(a, b), true
}

// ContentVersion is the earlier version f's current content becomes when
// it is replaced: its label, blob, length, when it became current and by
// whom, and the comment it was checked in with.
func ContentVersion(f *File, comment string) *FileVersion {
	id := VersionID(f.MajorVersion, f.MinorVersion)
	return &FileVersion{ID: id, Label: VersionLabel(id), Blob: f.Blob, Length: f.Length, Created: f.Modified,
		CreatedBy: f.EditorID, CheckInComment: comment}
}

// ItemVersionOf is the version record of it as it is now (IsCurrent
// false): an item's version n is labelled "n.0".
func ItemVersionOf(it *Item) *ItemVersion {
	id := VersionID(it.Version, 0)
	return &ItemVersion{ID: id, Label: VersionLabel(id), Values: it.Values, Created: it.Modified, EditorID: it.EditorID}
}

// VersionsToDrop is how many of the n earlier versions a file or item
// keeps to drop, oldest first, so that at most limit remain (a limit
// below 1 keeps 1, as MajorVersionLimit cannot be lower).
func VersionsToDrop(n, limit int) int {
	return max(n-max(limit, 1), 0)
}

// errCheckedOut is ErrLocked: the file is checked out to another user.
var errCheckedOut = fmt.Errorf("%w: the file is checked out to another user; it must be checked in first", ErrLocked)

// CheckedOutError is ErrLocked for a file checked out to another user.
func CheckedOutError() error { return errCheckedOut }

// CheckLock refuses a write to f (a delete, a move, an overwrite, a
// recycle, an item update) by user by while another user has it checked
// out. by 0 is a write that names no user (Files.Delete, Items.Delete):
// refused while anyone has it checked out, the holder included, who
// checks it in or discards the check-out first.
func CheckLock(f *File, by int64) error {
	if f.CheckOutType != CheckOutNone && f.CheckedOutBy != 0 && (by == 0 || f.CheckedOutBy != by) {
		return errCheckedOut
	}
	return nil
}

// CheckTreeLocks is CheckLock of each entry of a tree (a file, or a
// folder and what it holds).
func CheckTreeLocks(tree []*File, by int64) error {
	for _, f := range tree {
		if err := CheckLock(f, by); err != nil {
			return err
		}
	}
	return nil
}

// CheckOutDecision is what a CheckOut by user by does to f: changed
// false when f is out to by already; ErrLocked when out to someone else.
// A folder cannot be checked out.
func CheckOutDecision(f *File, by int64) (changed bool, err error) {
	switch {
	case f.IsFolder:
		return false, Invalid("a folder cannot be checked out")
	case f.CheckOutType == CheckOutNone:
		return true, nil
	case f.CheckedOutBy == by:
		return false, nil
	}
	return false, errCheckedOut
}

// CheckInKinds are SharePoint's SP.CheckinType values.
const (
	CheckInMinor     = 0
	CheckInMajor     = 1
	CheckInOverwrite = 2
)

// CheckEndOfCheckOut refuses a CheckIn or Undo by user by of f: not
// checked out is ErrInvalid, out to another user ErrLocked.
func CheckEndOfCheckOut(f *File, by int64) error {
	switch {
	case f.CheckOutType == CheckOutNone:
		return Invalid("the file is not checked out")
	case f.CheckedOutBy != by:
		return errCheckedOut
	}
	return nil
}

// CheckedInLabel is the version f gets at a check-in of kind (minor
// x.y+1, major x+1.0, overwrite: the same).
func CheckedInLabel(f *File, kind int) (major, minor int, err error) {
	switch kind {
	case CheckInMinor:
		if f.MinorVersion+1 >= versionsPerMajor {
			return 0, 0, Invalid("a major version has at most %d minor versions", versionsPerMajor-1)
		}
		return f.MajorVersion, f.MinorVersion + 1, nil
	case CheckInMajor:
		return f.MajorVersion + 1, 0, nil
	case CheckInOverwrite:
		return f.MajorVersion, f.MinorVersion, nil
	}
	return 0, 0, Invalid("a check-in type is 0 (minor), 1 (major) or 2 (overwrite)")
}

// MaxCheckInComment is SharePoint's limit on a check-in comment.
const MaxCheckInComment = 1023

// CheckInComment refuses a comment longer than SharePoint takes.
func CheckInComment(comment string) error {
	if len([]rune(comment)) > MaxCheckInComment {
		return Invalid("a check-in comment is at most %d characters", MaxCheckInComment)
	}
	return nil
}

// CheckedOut is f checked out to by at now.
func CheckedOut(f *File, by int64) *File {
	c := *f
	c.CheckOutType, c.CheckedOutBy = CheckOutOnline, by
	return &c
}

// RestoredContent is f with v's content current again, as a new major
// version (Versions.Restore).
func RestoredContent(f *File, v *FileVersion, by int64, now time.Time) *File {
	return Overwritten(f, FileInput{Blob: v.Blob, Length: v.Length, By: by}, now)
}

// HeldOverwrite is f with its content replaced by in's while its holder
// has it checked out: the ETag moves on, the version label stays (the
// draft becomes a version at check-in).
func HeldOverwrite(f *File, in FileInput, now time.Time) *File {
	c := *f
	c.Blob, c.Length = in.Blob, in.Length
	c.Version++
	c.Modified, c.EditorID = now, in.By
	return &c
}

// IsHeld reports whether f is checked out (so that its holder's
// overwrites keep the content of the check-out for Undo and check-in).
func IsHeld(f *File) bool { return f.CheckOutType != CheckOutNone && f.CheckedOutBy != 0 }
