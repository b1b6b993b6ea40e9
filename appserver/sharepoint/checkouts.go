package sharepoint

import (
	"errors"
	"net/http"
	"unicode/utf8"

	"github.com/cesivi/cesivi/internal/odata"
	"github.com/cesivi/cesivi/internal/storage"
)

// Check-out and check-in, as SharePoint clients use them: a checked-out
// file is writable only by the user who holds it (others get 423).

// errLocked is SharePoint's 423 for a file checked out to someone else.
func errLocked() error {
	return odata.NewError(http.StatusLocked, "-2130575306, Microsoft.SharePoint.SPFileCheckOutException",
		"The file is checked out for editing by another user.")
}

// checkWritable refuses a write to f by u while another user holds it.
func (c *call) checkWritable(f *storage.File, u *storage.User) error {
	if f.CheckedOutBy != 0 && f.CheckedOutBy != u.ID {
		return errLocked()
	}
	return nil
}

// maxCheckInComment is SharePoint's limit on a check-in comment.
const maxCheckInComment = 1023

// checkOutResource serves file/checkout, checkin(comment, checkintype)
// and undoCheckout.
func (c *call) checkOutResource(l *storage.List, f *storage.File, seg odata.Segment) (*response, error) {
	if err := c.allow(http.MethodPost); err != nil {
		return nil, err
	}
	u, err := c.currentUser()
	if err != nil {
		return nil, err
	}
	switch {
	case seg.Is("checkout"):
		_, err = c.tx.CheckOuts().CheckOut(c.ctx, l.ID, f.URL, u.ID)
	case seg.Is("undocheckout"):
		_, err = c.tx.CheckOuts().Undo(c.ctx, l.ID, f.URL, u.ID)
	default: // checkin
		comment, kind := "", 1
		if v, ok := seg.Named("comment"); ok && v.Kind == odata.KindString {
			comment = v.Str
		}
		if v, ok := seg.Named("checkintype"); ok {
			if v.Kind != odata.KindInt || v.Int < 0 || v.Int > 2 {
				return nil, odata.InvalidQuery("checkInType is 0 (minor), 1 (major) or 2 (overwrite).")
			}
			kind = int(v.Int)
		}
		if utf8.RuneCountInString(comment) > maxCheckInComment {
			return nil, odata.InvalidQuery("A check-in comment is at most 1023 characters.")
		}
		_, err = c.tx.CheckOuts().CheckIn(c.ctx, l.ID, f.URL, u.ID, comment, kind)
	}
	switch {
	case errors.Is(err, storage.ErrLocked):
		return nil, errLocked()
	case errors.Is(err, storage.ErrInvalid):
		return nil, odata.NewError(http.StatusBadRequest, "-2130575305, Microsoft.SharePoint.SPFileCheckOutException",
			"The file is not checked out.")
	case err != nil:
		return nil, err
	}
	return noContent(""), nil
}

// isCheckOut reports whether seg is a check-out function.
func isCheckOut(seg odata.Segment) bool {
	return seg.Is("checkout") || seg.Is("undocheckout") || seg.Is("checkin")
}

// checkedOutBy answers file/checkedOutByUser and lockedByUser: the
// holder, or odata.null.
func (c *call) checkedOutBy(f *storage.File) (*response, error) {
	if err := c.allow(http.MethodGet); err != nil {
		return nil, err
	}
	if f.CheckedOutBy == 0 {
		return c.null(), nil
	}
	u, err := c.tx.Users().Get(c.ctx, c.web.SiteID, f.CheckedOutBy)
	if errors.Is(err, storage.ErrNotFound) {
		return c.null(), nil
	}
	if err != nil {
		return nil, err
	}
	return c.entity(c.userEntity(u), "SP.ApiData.Users/@Element"), nil
}
