package storage

import (
	"context"
	"errors"
	"fmt"
)

// Sentinel errors. Providers wrap them with %w and callers test with
// errors.Is. Every message says what is wrong (which field, which kind)
// and never repeats a value a user wrote.
var (
	// ErrNotFound: the site, web, list, field, view, item or user does not
	// exist (or lives in another parent than the one named).
	ErrNotFound = errors.New("storage: not found")
	// ErrConflict: an ETag (version) that is not the current one, or a
	// duplicate list title or URL, field name, view title, web or site URL.
	ErrConflict = errors.New("storage: conflict")
	// ErrUnavailable: the database did not answer, or the transaction lost
	// a race the database would not serialise (deadlock, serialisation
	// failure); nothing was written and the request may be retried.
	ErrUnavailable = errors.New("storage: unavailable")
	// ErrInvalid: the input is wrong: a value of the wrong type, an unknown
	// field, a read-only field written, a malformed name. The message says
	// which. Filter errors also wrap the *odata.Error the API can send.
	ErrInvalid = errors.New("storage: invalid")
	// ErrThrottled: a query ran past the statement timeout, typically a
	// filter or order on a large list that no index serves (SharePoint's
	// list view threshold). Nothing was written.
	ErrThrottled = errors.New("storage: throttled")
	// ErrLocked: the file is checked out to another user (SharePoint's
	// 423).
	ErrLocked = errors.New("storage: locked")
)

// Invalid returns an ErrInvalid error with a message.
func Invalid(format string, args ...any) error {
	return fmt.Errorf("%w: %s", ErrInvalid, fmt.Sprintf(format, args...))
}

// NotFound returns an ErrNotFound error naming what is missing.
func NotFound(format string, args ...any) error {
	return fmt.Errorf("%w: %s", ErrNotFound, fmt.Sprintf(format, args...))
}

// Conflict returns an ErrConflict error with a message.
func Conflict(format string, args ...any) error {
	return fmt.Errorf("%w: %s", ErrConflict, fmt.Sprintf(format, args...))
}

// Store is a provider: a SharePoint content database. It is safe for
// concurrent use by many goroutines and, for a shared provider, by many
// servers.
type Store interface {
	// Update runs fn in one read-write transaction and commits when fn
	// returns nil; an error, a panic or runtime.Goexit rolls everything
	// back. When a Tx method fails, fn should return that error: in
	// PostgreSQL the transaction is aborted and later statements fail.
	// Providers do not retry; ErrUnavailable means nothing was written and
	// the request may be retried whole. The Tx must not be used after fn
	// returns.
	Update(ctx context.Context, fn func(tx Tx) error) error
	// View runs fn in a read-only transaction: every read inside sees one
	// consistent snapshot that includes every write committed before View
	// began, on any server. Writes through tx fail.
	View(ctx context.Context, fn func(tx Tx) error) error
	// Ping reports whether the database answers (for /health/ready).
	Ping(ctx context.Context) error
	// Name is the provider's name ("InMemory", "PostgreSQL").
	Name() string
	// Close releases what the provider opened itself (never a pool it was
	// given).
	Close()
}

// Tx is one transaction's view of the aggregates. Future aggregates
// (role assignments) join as further methods.
type Tx interface {
	Sites() Sites
	Webs() Webs
	Lists() Lists
	Fields() Fields
	Views() Views
	Items() Items
	Users() Users
	Files() Files
	Versions() Versions
	CheckOuts() CheckOuts
	Attachments() Attachments
	RecycleBin() RecycleBin
	Uploads() Uploads
	Security() Security
	Subscriptions() Subscriptions
	Changes() Changes
	Requests() Requests
}

// Sites are site collections.
type Sites interface {
	// Create makes a site collection and its root web (with the root web's
	// default lists). The URL is "/" or "/sites/<name>"; a taken URL is
	// ErrConflict.
	Create(ctx context.Context, in SiteInput) (*Site, error)
	Get(ctx context.Context, id string) (*Site, error)
	// GetByURL finds a site by its URL, case-insensitively.
	GetByURL(ctx context.Context, url string) (*Site, error)
	List(ctx context.Context) ([]*Site, error)
	// Delete removes the site with all its webs, lists, items and users.
	Delete(ctx context.Context, id string) error
}

// Webs are the webs (sites and subsites) of a site collection.
type Webs interface {
	// Create makes a subweb under in.ParentID with SharePoint's default
	// lists, fields and views, in the same transaction.
	Create(ctx context.Context, in WebInput) (*Web, error)
	Get(ctx context.Context, id string) (*Web, error)
	// GetByURL finds a web by its server-relative URL, case-insensitively.
	GetByURL(ctx context.Context, serverRelativeURL string) (*Web, error)
	// Locate finds the web at a server-relative URL (case-insensitively)
	// and, when list names one, that list of the web with its fields:
	// what nearly every API request reads first, in one step (one round
	// trip for PostgreSQL). A missing web is ErrNotFound; a missing list
	// is a Location without List.
	// next says what the caller reads next (see Prefetch).
	Locate(ctx context.Context, url string, list ListRef, next Prefetch) (*Location, error)
	// Children lists the direct subwebs of a web, by URL.
	Children(ctx context.Context, parentID string) ([]*Web, error)
	Update(ctx context.Context, id string, upd WebUpdate) (*Web, error)
	// Delete removes a subweb and everything below it; the root web of a
	// site is deleted with its site only (ErrInvalid).
	Delete(ctx context.Context, id string) error
}

// Lists are the lists and libraries of a web.
type Lists interface {
	// Create makes a list with its system fields and the default view
	// "All Items". The URL name is fixed here (see ListInput.URLName) and
	// so are EntityTypeName and ListItemEntityTypeFullName.
	Create(ctx context.Context, webID string, in ListInput) (*List, error)
	// Get returns a list of the web; a list of another web is ErrNotFound.
	Get(ctx context.Context, webID, id string) (*List, error)
	// GetByTitle matches the title case-insensitively, as SharePoint does.
	GetByTitle(ctx context.Context, webID, title string) (*List, error)
	// GetByURL matches the web-relative URL name ("Lists/Tasks",
	// "Shared Documents") case-insensitively.
	GetByURL(ctx context.Context, webID, url string) (*List, error)
	// List returns the web's lists ordered by title, hidden ones included.
	List(ctx context.Context, webID string) ([]*List, error)
	Update(ctx context.Context, webID, id string, upd ListUpdate) (*List, error)
	Delete(ctx context.Context, webID, id string) error
}

// Fields are the columns of a list, system fields included.
type Fields interface {
	// Create adds a field; its internal name is in.InternalName, or
	// derived from the title (letters, digits and '_' kept, others
	// escaped as _xHHHH_). A name taken in the list, ignoring case, is
	// ErrConflict.
	Create(ctx context.Context, listID string, in FieldInput) (*Field, error)
	Get(ctx context.Context, listID, id string) (*Field, error)
	// GetByName matches the internal name, then the title, both
	// ignoring case (getByInternalNameOrTitle).
	GetByName(ctx context.Context, listID, name string) (*Field, error)
	// List returns the list's fields in creation order.
	List(ctx context.Context, listID string) ([]*Field, error)
	Update(ctx context.Context, listID, id string, upd FieldUpdate) (*Field, error)
	// Delete removes a field and its values from every item; a system
	// field cannot be deleted (ErrInvalid).
	Delete(ctx context.Context, listID, id string) error
}

// Views are the views of a list.
type Views interface {
	Create(ctx context.Context, listID string, in ViewInput) (*View, error)
	Get(ctx context.Context, listID, id string) (*View, error)
	GetByTitle(ctx context.Context, listID, title string) (*View, error)
	// List returns the views in creation order.
	List(ctx context.Context, listID string) ([]*View, error)
	// Update changes a view; making it the default clears the flag on the
	// list's other views.
	Update(ctx context.Context, listID, id string, upd ViewUpdate) (*View, error)
	// Delete removes a view; the default view cannot be deleted
	// (ErrInvalid).
	Delete(ctx context.Context, listID, id string) error
}

// Items are the rows of a list.
type Items interface {
	// Create inserts an item with the next id of its list (1, 2, 3…, never
	// reused), version 1 and a new GUID.
	Create(ctx context.Context, listID string, in ItemInput) (*Item, error)
	Get(ctx context.Context, listID string, id int64) (*Item, error)
	// Update sets the values in upd (a null value clears a field) and adds
	// one to the version. A non-zero upd.IfVersion that is not the current
	// version is ErrConflict.
	Update(ctx context.Context, listID string, id int64, upd ItemUpdate) (*Item, error)
	// Delete removes an item; a non-zero ifVersion must be current.
	Delete(ctx context.Context, listID string, id int64, ifVersion int) error
	// Query returns one page of the items that match q, in q's order.
	Query(ctx context.Context, listID string, q ItemQuery) (*ItemPage, error)
}

// Users are the users of a site collection (its User Information List).
type Users interface {
	// Ensure returns the site's user with this login, creating it when
	// missing; concurrent calls for one login, on any servers, create one
	// user. login may be a claims login name or an e-mail address (see
	// ClaimsLogin). An existing user keeps its title and e-mail.
	Ensure(ctx context.Context, siteID, login, title, email string) (*User, error)
	Get(ctx context.Context, siteID string, id int64) (*User, error)
	GetByLogin(ctx context.Context, siteID, login string) (*User, error)
	// List returns the site's users by id.
	List(ctx context.Context, siteID string) ([]*User, error)
	Update(ctx context.Context, siteID string, id int64, upd UserUpdate) (*User, error)
	Delete(ctx context.Context, siteID string, id int64) error
}
