package storage

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"
)

// Webhooks (issue 11, storage part): a list's webhook subscriptions and
// its change log. Both providers pass storagetest's "Subscriptions" and
// "Changes" areas.
//
// The change log: every write of an item, file or folder of a list
// (add, update, delete, recycle, restore, rename or move, attachments
// and check-ins included) records, in the same transaction, one Change
// per item it touches (deleting a folder with 100 files records 101).
// Numbers are per list, 1, 2, 3… without gaps, handed out under the
// list's counter row as item ids are, so they are committed in order:
// a reader that has seen number n will never later see a change below
// n appear. A change token carries the list and the number (ChangeToken).

// ChangeType is SharePoint's ChangeType (SP.ChangeType) of a change.
type ChangeType int

// SharePoint's numbers.
const (
	ChangeAdd          ChangeType = 1
	ChangeUpdate       ChangeType = 2
	ChangeDeleteObject ChangeType = 3
	// ChangeRename: the item's URL changed within its library (a file or
	// folder renamed or moved, and everything below a moved folder).
	ChangeRename ChangeType = 4
	// ChangeMoveAway is recorded on the library a file or folder left,
	// ChangeMoveInto on the one it went into (with its new item id).
	ChangeMoveAway ChangeType = 5
	ChangeMoveInto ChangeType = 6
	// ChangeRestore: the item came back from the recycle bin.
	ChangeRestore ChangeType = 7
	// ChangeSystemUpdate: the item's permissions changed, its role
	// inheritance broken or restored (SharePoint's SystemUpdate, a change
	// that is not an edit of the item's values).
	ChangeSystemUpdate ChangeType = 15
)

func (k ChangeType) String() string {
	switch k {
	case ChangeAdd:
		return "Add"
	case ChangeUpdate:
		return "Update"
	case ChangeDeleteObject:
		return "DeleteObject"
	case ChangeRename:
		return "Rename"
	case ChangeMoveAway:
		return "MoveAway"
	case ChangeMoveInto:
		return "MoveInto"
	case ChangeRestore:
		return "Restore"
	case ChangeSystemUpdate:
		return "SystemUpdate"
	}
	return "ChangeType(" + strconv.Itoa(int(k)) + ")"
}

// Change is one entry of a list's change log.
type Change struct {
	ListID string
	// Number is the change's place in its list's log: 1, 2, 3…
	Number int64
	Kind   ChangeType
	ItemID int64
	// UniqueID is the item's GUID (lower case), the file's or folder's
	// UniqueId in a library.
	UniqueID string
	// Time is the time of the transaction that made the change.
	Time time.Time
}

// Token is the change token that resumes after c.
func (c *Change) Token() ChangeToken {
	return ChangeToken{ListID: c.ListID, Time: c.Time, Number: c.Number}
}

// ErrChangeTokenExpired: the change token names a position older than
// what the log still keeps (it was pruned); SharePoint answers such a
// token with an error, and the receiver starts again from the current
// token.
var ErrChangeTokenExpired = errors.New("storage: the change token has expired")

// Changes are the lists' change logs.
type Changes interface {
	// Since returns, by number, at most limit changes of the list after
	// number afterNumber (0: from the first). A position older than the
	// log keeps (changes after it were pruned) is ErrChangeTokenExpired;
	// a missing list is ErrNotFound.
	Since(ctx context.Context, listID string, afterNumber int64, limit int) ([]*Change, error)
	// Latest is the list's current position: the number of its last
	// change (0 when none) and that change's time (the list's creation
	// when it has none, or it was pruned).
	Latest(ctx context.Context, listID string) (ChangeToken, error)
	// Prune removes the changes of every list older than olderThan and
	// reports how many went.
	Prune(ctx context.Context, olderThan time.Time) (int64, error)
}

// ChangeToken is SharePoint's change token of a list:
// "1;3;<list id>;<ticks>;<change number>" (version 1, scope 3 = list,
// the time as .NET ticks).
type ChangeToken struct {
	ListID string
	Time   time.Time
	Number int64
}

// ticksAtUnixEpoch is 1970-01-01 in .NET ticks (100 ns since
// 0001-01-01 UTC).
const ticksAtUnixEpoch = 621355968000000000

// Ticks is t in .NET ticks: 100 ns intervals since 0001-01-01 UTC.
func Ticks(t time.Time) int64 {
	s := t.Unix()
	return (s*1e7 + int64(t.Nanosecond())/100) + ticksAtUnixEpoch
}

// FromTicks is the time of .NET ticks, in UTC.
func FromTicks(ticks int64) time.Time {
	d := ticks - ticksAtUnixEpoch
	sec, rem := d/1e7, d%1e7
	if rem < 0 {
		sec, rem = sec-1, rem+1e7
	}
	return time.Unix(sec, rem*100).UTC()
}

// String is the token as SharePoint writes it.
func (c ChangeToken) String() string {
	return "1;3;" + strings.ToLower(c.ListID) + ";" + strconv.FormatInt(Ticks(c.Time), 10) + ";" + strconv.FormatInt(c.Number, 10)
}

// ParseChangeToken reads a list's change token. Anything but
// "1;3;<guid>;<ticks>;<number>" with non-negative numbers is ErrInvalid
// saying which part is wrong.
func ParseChangeToken(s string) (ChangeToken, error) {
	parts := strings.Split(strings.TrimSpace(s), ";")
	if len(parts) != 5 {
		return ChangeToken{}, Invalid("a change token has five parts separated by ';'")
	}
	if parts[0] != "1" {
		return ChangeToken{}, Invalid("the change token's version is not 1")
	}
	if parts[1] != "3" {
		return ChangeToken{}, Invalid("the change token's scope is not a list (3)")
	}
	id := strings.ToLower(strings.Trim(parts[2], "{}"))
	if !IsGUID(id) {
		return ChangeToken{}, Invalid("the change token's list id is not a GUID")
	}
	ticks, err := strconv.ParseInt(parts[3], 10, 64)
	if err != nil || ticks < 0 {
		return ChangeToken{}, Invalid("the change token's time is not a non-negative number of ticks")
	}
	n, err := strconv.ParseInt(parts[4], 10, 64)
	if err != nil || n < 0 {
		return ChangeToken{}, Invalid("the change token's change number is not a non-negative integer")
	}
	return ChangeToken{ListID: id, Time: FromTicks(ticks), Number: n}, nil
}

// IsGUID reports whether s is a GUID in its 8-4-4-4-12 hexadecimal form.
func IsGUID(s string) bool {
	if len(s) != 36 {
		return false
	}
	for i, r := range s {
		switch i {
		case 8, 13, 18, 23:
			if r != '-' {
				return false
			}
		default:
			if !strings.ContainsRune("0123456789abcdefABCDEF", r) {
				return false
			}
		}
	}
	return true
}

// Subscription is a list webhook subscription (SharePoint's
// Microsoft.SharePoint.Webhooks.Subscription).
type Subscription struct {
	// ID is the subscription's guid, lower case.
	ID     string
	ListID string
	SiteID string
	WebID  string
	// NotificationURL receives the notifications; its network policy is
	// the caller's (storage only bounds its length).
	NotificationURL string
	ClientState     string
	// Resource is what SharePoint calls the subscribed list: its id.
	Resource           string
	ExpirationDateTime time.Time
	// CreatedBy is the site user who subscribed.
	CreatedBy int64
	Created   time.Time
	// NotifiedThrough is the list's last change number the receiver has
	// been told of (at creation, the list's latest: a subscriber hears of
	// what happens after it subscribed).
	NotifiedThrough int64
	// LastChange is the list's last change number when the subscription
	// was read by Due (0 elsewhere).
	LastChange int64
}

// SubscriptionInput creates a subscription.
type SubscriptionInput struct {
	ListID             string
	NotificationURL    string
	ClientState        string
	ExpirationDateTime time.Time
	CreatedBy          int64
}

// SubscriptionUpdate changes a subscription; nil fields are kept.
type SubscriptionUpdate struct {
	ExpirationDateTime *time.Time
	NotificationURL    *string
	ClientState        *string
}

// Subscription limits, as SharePoint's.
const (
	MaxSubscriptionLifetime = 180 * 24 * time.Hour
	MaxClientStateLength    = 255
	MaxNotificationURLLen   = 2048
)

// CheckSubscription refuses what SharePoint refuses of a subscription at
// time now: an expiry not in the future or more than 180 days ahead, a
// client state over 255 characters, an empty notification URL or one
// over 2048.
func CheckSubscription(s *Subscription, now time.Time) error {
	switch {
	case !s.ExpirationDateTime.After(now):
		return Invalid("expirationDateTime must be in the future")
	case s.ExpirationDateTime.Sub(now) > MaxSubscriptionLifetime:
		return Invalid("expirationDateTime must be at most 180 days from now")
	case utf8.RuneCountInString(s.ClientState) > MaxClientStateLength:
		return Invalid("clientState is at most %d characters", MaxClientStateLength)
	case s.NotificationURL == "":
		return Invalid("notificationUrl is required")
	case len(s.NotificationURL) > MaxNotificationURLLen:
		return Invalid("notificationUrl is at most %d characters", MaxNotificationURLLen)
	}
	return nil
}

// NewSubscription builds and checks the subscription in describes for
// list l (its site siteID) at time now.
func NewSubscription(l *List, siteID string, in SubscriptionInput, now time.Time) (*Subscription, error) {
	s := &Subscription{ID: NewGUID(), ListID: l.ID, SiteID: siteID, WebID: l.WebID, Resource: l.ID,
		NotificationURL: in.NotificationURL, ClientState: in.ClientState,
		ExpirationDateTime: in.ExpirationDateTime.UTC().Truncate(time.Microsecond), CreatedBy: in.CreatedBy, Created: now}
	if err := CheckSubscription(s, now); err != nil {
		return nil, err
	}
	return s, nil
}

// ApplySubscriptionUpdate returns s with upd applied and checked at now.
func ApplySubscriptionUpdate(s *Subscription, upd SubscriptionUpdate, now time.Time) (*Subscription, error) {
	n := *s
	if upd.ExpirationDateTime != nil {
		n.ExpirationDateTime = upd.ExpirationDateTime.UTC().Truncate(time.Microsecond)
	}
	if upd.NotificationURL != nil {
		n.NotificationURL = *upd.NotificationURL
	}
	if upd.ClientState != nil {
		n.ClientState = *upd.ClientState
	}
	if err := CheckSubscription(&n, now); err != nil {
		return nil, err
	}
	return &n, nil
}

// Subscriptions are the lists' webhook subscriptions. Deleting a list
// deletes its subscriptions.
type Subscriptions interface {
	// Create subscribes to a list (ErrNotFound when it does not exist);
	// see CheckSubscription for what is refused (ErrInvalid).
	Create(ctx context.Context, in SubscriptionInput) (*Subscription, error)
	// Get returns a subscription of the list; one of another list is
	// ErrNotFound.
	Get(ctx context.Context, listID, id string) (*Subscription, error)
	// List returns the list's subscriptions, expired ones included, by
	// creation then id.
	List(ctx context.Context, listID string) ([]*Subscription, error)
	// Update renews or changes a subscription, checked as Create.
	Update(ctx context.Context, listID, id string, upd SubscriptionUpdate) (*Subscription, error)
	Delete(ctx context.Context, listID, id string) error
	// Active returns the list's subscriptions that expire after now, the
	// ones a change notifies.
	Active(ctx context.Context, listID string, now time.Time) ([]*Subscription, error)
	// Expired returns at most limit subscriptions, of any list, that
	// expired at or before before, soonest first (for a sweeper).
	Expired(ctx context.Context, before time.Time, limit int) ([]*Subscription, error)
	// Due returns at most limit subscriptions, of any list, not expired
	// at now, whose list changed after their NotifiedThrough, with
	// LastChange set: the receivers that have something to hear.
	Due(ctx context.Context, now time.Time, limit int) ([]*Subscription, error)
	// MarkNotified records that the receiver was told of the list's
	// changes through number; it never moves NotifiedThrough back.
	MarkNotified(ctx context.Context, listID, id string, through int64) error
}

// SubscriptionNotFound is the error of a missing subscription.
func SubscriptionNotFound() error { return NotFound("the list has no subscription with this id") }

// CheckLimit refuses a limit of Since or Expired that is not positive.
func CheckLimit(limit int) error {
	if limit <= 0 {
		return Invalid("the limit must be positive")
	}
	return nil
}

// ChangeTokenExpired is the error of a pruned position.
func ChangeTokenExpired() error {
	return fmt.Errorf("%w: changes after it are no longer kept", ErrChangeTokenExpired)
}
