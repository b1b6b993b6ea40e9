package memstorage

import (
	"context"
	"strings"
	"sync"
	"time"

	"github.com/cesivi/cesivi/internal/storage"
)

// Options configure the store. The zero value is useful.
type Options struct {
	// Now is the clock (default storage.Now); tests inject a fake one.
	Now func() time.Time
}

// Store is the in-memory provider.
type Store struct {
	mu  sync.RWMutex
	now func() time.Time
	db  db
}

type db struct {
	sites map[string]*storage.Site
	webs  map[string]*storage.Web
	lists map[string]*list
	users map[string]*siteUsers // by site id
	// uploads are the chunked uploads in progress, by id (uploads.go).
	uploads map[string]*storage.Upload
	// bin is the recycle bin of every site, by id, binSeq the count of
	// what was recycled (recyclebin.go).
	bin    map[string]*binEntry
	binSeq int64
	// security is each site's levels, groups and assignments (security.go).
	security map[string]*siteSecurity
	// requests are the remembered writes by owner and key (requests.go).
	requests map[string]*storage.RequestRecord
}

// list is a list with everything that belongs to it.
type list struct {
	l      *storage.List
	fields []*storage.Field
	views  []*storage.View
	items  map[int64]*storage.Item
	next   int64 // the last id handed out
	// files are a library's files and folders by the item that carries
	// each, byURL their item ids by lower-cased URL.
	files map[int64]*storage.File
	byURL map[string]int64
	// attachments are the items' attachments by item id, then by
	// lower-cased name (attachments.go); nil until the first.
	attachments map[int64]map[string]*storage.File
	// fileHistories are the files' earlier versions by UniqueID,
	// itemHistories the items' by id (versions.go); nil until the first.
	fileHistories map[string]*fileHistory
	itemHistories map[int64][]*storage.ItemVersion
	// changes is the change log in number order, lastChange the last
	// number handed out, prunedThrough the highest number pruned
	// (changes.go); subs the webhook subscriptions by id.
	changes       []*storage.Change
	lastChange    int64
	prunedThrough int64
	subs          map[string]*storage.Subscription
}

type siteUsers struct {
	byID map[int64]*storage.User
	next int64
}

var _ storage.Store = (*Store)(nil)

// New returns an empty store.
func New(opts Options) *Store {
	if opts.Now == nil {
		opts.Now = storage.Now
	}
	return &Store{now: opts.Now, db: db{
		sites: map[string]*storage.Site{}, webs: map[string]*storage.Web{},
		lists: map[string]*list{}, users: map[string]*siteUsers{},
		uploads: map[string]*storage.Upload{}, security: map[string]*siteSecurity{},
	}}
}

// Name is "InMemory".
func (s *Store) Name() string { return "InMemory" }

// Ping always answers.
func (s *Store) Ping(ctx context.Context) error { return ctx.Err() }

// Close does nothing.
func (s *Store) Close() {}

// Update runs fn in a transaction that holds the store alone.
func (s *Store) Update(ctx context.Context, fn func(storage.Tx) error) (err error) {
	if err := ctx.Err(); err != nil {
		return err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	t := &tx{s: s, now: s.now()}
	defer func() {
		if p := recover(); p != nil {
			t.rollback()
			panic(p)
		}
		if err != nil {
			t.rollback()
		}
		t.done = true
	}()
	return fn(t)
}

// View runs fn in a read-only transaction.
func (s *Store) View(ctx context.Context, fn func(storage.Tx) error) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	s.mu.RLock()
	defer s.mu.RUnlock()
	t := &tx{s: s, readOnly: true, now: s.now()}
	defer func() { t.done = true }()
	return fn(t)
}

// tx is one transaction; it implements every aggregate.
type tx struct {
	s        *Store
	readOnly bool
	done     bool
	now      time.Time
	undo     []func()
}

func (t *tx) Sites() storage.Sites   { return sites{t} }
func (t *tx) Webs() storage.Webs     { return webs{t} }
func (t *tx) Lists() storage.Lists   { return lists{t} }
func (t *tx) Fields() storage.Fields { return fields{t} }
func (t *tx) Views() storage.Views   { return views{t} }
func (t *tx) Items() storage.Items   { return items{t} }
func (t *tx) Users() storage.Users   { return users{t} }

func (t *tx) rollback() {
	for i := len(t.undo) - 1; i >= 0; i-- {
		t.undo[i]()
	}
	t.undo = nil
}

// check refuses use after the transaction ended, and writes in View.
func (t *tx) check(ctx context.Context, write bool) error {
	if err := storage.CheckTx(t.done, t.readOnly, write); err != nil {
		return err
	}
	return ctx.Err()
}

// set stores m[k] = v and records how to undo it.
func set[K comparable, V any](t *tx, m map[K]V, k K, v V) {
	old, had := m[k]
	m[k] = v
	t.undo = append(t.undo, func() {
		if had {
			m[k] = old
		} else {
			delete(m, k)
		}
	})
}

// del deletes m[k] and records how to undo it.
func del[K comparable, V any](t *tx, m map[K]V, k K) {
	old, had := m[k]
	if !had {
		return
	}
	delete(m, k)
	t.undo = append(t.undo, func() { m[k] = old })
}

// assign sets *p = v and records how to undo it.
func assign[V any](t *tx, p *V, v V) {
	old := *p
	*p = v
	t.undo = append(t.undo, func() { *p = old })
}

func fold(s string) string { return strings.ToLower(s) }

func clone[T any](p *T) *T {
	c := *p
	return &c
}
