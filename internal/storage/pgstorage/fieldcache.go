package pgstorage

import (
	"strings"
	"sync"

	"github.com/cesivi/cesivi/internal/storage"
)

// fieldCache keeps the fields Locate decoded, per lookup (a web's URL and
// a list's title or id), with the list's FieldsVersion they were read at.
// Locate sends the copy it holds and the database sends the fields only
// when that copy is not the list's current set: the stamp comes from the
// same snapshot as the rest of the request, so a copy is never used past
// a change another server made. Decoding a list's fields was a fifth of
// an item GET's time.
type fieldCache struct {
	mu sync.Mutex
	m  map[string]cachedFields
}

type cachedFields struct {
	listID  string
	version int64
	schema  *storage.Schema // shared by every transaction that uses it: never changed
}

// maxCachedLookups bounds the cache; past it, it starts again empty (a
// farm with more hot lookups than this decodes some fields again).
const maxCachedLookups = 4096

func (c *fieldCache) get(key string) (cachedFields, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	f, ok := c.m[key]
	return f, ok
}

func (c *fieldCache) put(key string, f cachedFields) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.m == nil || len(c.m) >= maxCachedLookups {
		c.m = make(map[string]cachedFields)
	}
	c.m[key] = f
}

// locateKey names a lookup: URLs and titles are matched ignoring case.
func locateKey(url string, ref storage.ListRef) string {
	return strings.ToLower(url) + "\x00" + strings.ToLower(ref.Title) + "\x00" + strings.ToLower(ref.ID)
}

// prefetched is the item Locate read for the transaction's next Items.Get
// (item nil: the list has no such item).
type prefetched struct {
	listID string
	id     int64
	item   *storage.Item
}

// prefetchedUser is the user Locate read for the transaction's next
// lookup by login (user nil: the site has none with it).
type prefetchedUser struct {
	siteID, login string
	user          *storage.User
}
