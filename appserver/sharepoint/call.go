package sharepoint

import (
	"context"
	"errors"
	"net/http"
	"net/url"
	"strings"

	"github.com/cesivi/cesivi/internal/blobstore"
	"github.com/cesivi/cesivi/internal/identity"
	"github.com/cesivi/cesivi/internal/odata"
	"github.com/cesivi/cesivi/internal/permissions"
	"github.com/cesivi/cesivi/internal/storage"
)

// call is one API request on its way through: what was asked, by whom,
// of which web, and the transaction it runs in.
type call struct {
	h      *Handler
	ctx    context.Context
	r      *http.Request
	method string // after X-HTTP-Method
	format odata.Format
	user   *identity.User
	// origin is the public scheme and host (https://cesivi.example.com).
	origin string
	// webPath is the server-relative URL of the web the path names ("/"
	// or "/sites/dev/team"), decoded.
	webPath string
	// path is the resource path after /_api/.
	path  odata.Path
	query *odata.Query
	body  []byte
	// inBatch marks an inner request of a $batch: the batch request
	// itself passed the digest check.
	inBatch bool
	// share is what the earlier requests of the call's changeset located
	// (batch.go), nil outside a changeset; webFailed records that the
	// call's own web could not be resolved.
	share     *changesetShare
	webFailed bool

	tx   storage.Tx
	site *storage.Site
	web  *storage.Web
	enc  odata.Encoder
	// located is the web, list and fields resolveWeb read, when the path
	// names a list.
	located *storage.Location
	// siteUser is the signed-in user's row in the site's user table,
	// once looked up.
	siteUser *storage.User
	// blob is the uploaded content, stored before the transaction began
	// (uploadsContent calls only).
	blob *blobstore.Blob
	// acc is what the user may do in the site, once read (access.go).
	acc *access
	// rights is what the user may do in every site, as the user-context
	// cache gave it before the transaction began (nil: read in the
	// transaction).
	rights []*storage.Access
	// itemReadChecked: authorize left the check of the one item the call
	// reads to getItem (checkItemRead).
	itemReadChecked bool
	// fileKind is what a call through a file or folder path needs on
	// the library and item it reaches (0: not such a call, or an
	// administrator's); fileChecked records that a library was checked.
	fileKind    permissions.Kind
	fileChecked bool
	// failed is an error met while building an answer by code that
	// cannot return one (an entity's property); the call fails with it.
	failed error
	// stale are the user-context cache keys (logins, or "*" for every
	// user) whose cached rights the call's changes make wrong; they are
	// published on usercontext:invalidated once the transaction commits
	// (usercontext.go).
	stale []string
}

// methods a client may tunnel through POST with X-HTTP-Method.
var tunnelled = map[string]string{"MERGE": "MERGE", "PATCH": "PATCH", "PUT": "PUT", "DELETE": "DELETE"}

// newCall reads what a request asks. It needs no storage.
func (h *Handler) newCall(r *http.Request, format odata.Format) (*call, error) {
	c := &call{h: h, ctx: r.Context(), r: r, method: r.Method, format: format}
	if o := r.Header.Get("X-HTTP-Method"); o != "" && r.Method == http.MethodPost {
		m, ok := tunnelled[strings.ToUpper(strings.TrimSpace(o))]
		if !ok {
			return c, odata.InvalidQuery("X-HTTP-Method must be MERGE, PATCH, PUT or DELETE.")
		}
		c.method = m
	}
	switch c.method {
	case http.MethodGet, http.MethodHead, http.MethodPost, "MERGE", http.MethodPatch, http.MethodPut, http.MethodDelete:
	default:
		return c, odata.NewError(http.StatusMethodNotAllowed, odata.CodeInvalidQuery, "The HTTP method "+c.method+" is not supported here.")
	}
	c.user = identity.FromContext(r.Context())
	c.origin = publicOrigin(r, c.user != nil)
	web, rest, ok := odata.SplitAPIPath(r.URL.EscapedPath())
	if !ok {
		return c, odata.ResourceNotFound(r.URL.Path)
	}
	wp, err := url.PathUnescape(web)
	if err != nil {
		return c, odata.InvalidQuery("The site path is not a valid URL path.")
	}
	c.webPath = cleanWebPath(wp)
	if strings.Contains(rest, "@") {
		if rest, err = resolveAliases(rest, r.URL.RawQuery); err != nil {
			return c, err
		}
	}
	if c.path, err = odata.ParsePath(rest); err != nil {
		return c, err
	}
	// Writes ignore the query: PnPjs's lists.ensure() POSTs its MERGE to
	// a URL that still carries an earlier $select.
	raw := ""
	if c.method == http.MethodGet || c.method == http.MethodHead || c.postReads() {
		raw = r.URL.RawQuery
	}
	if c.query, err = odata.ParseQuery(raw); err != nil {
		return c, err
	}
	if c.method != http.MethodGet && c.method != http.MethodHead && !c.uploadsContent() {
		if c.body, err = readBody(r, h.maxBody()); err != nil {
			return c, err
		}
	}
	return c, nil
}

func (h *Handler) maxBody() int64 {
	if h.MaxBody > 0 {
		return h.MaxBody
	}
	return DefaultMaxBody
}

// postReads reports whether the call is a POST that only reads and
// takes query options (getItems, RenderListDataAsStream): PnPjs sends
// their $select and $expand on the URL.
func (c *call) postReads() bool {
	if len(c.path) == 0 || c.method != http.MethodPost {
		return false
	}
	last := c.path[len(c.path)-1]
	return last.Is("getitems") || last.Is("renderlistdataasstream")
}

// readOnly reports whether the call runs in a read-only transaction.
func (c *call) readOnly() bool {
	if c.method == http.MethodGet || c.method == http.MethodHead {
		return true
	}
	// POSTs that only read.
	if len(c.path) == 1 && c.path[0].Is("contextinfo") {
		return true
	}
	return false
}

// isBatch reports whether the call is $batch.
func (c *call) isBatch() bool {
	return len(c.path) == 1 && c.path[0].Is("$batch") && c.method == http.MethodPost
}

func (c *call) methodName() string {
	if c == nil {
		return ""
	}
	return c.method
}

// routeName names the resource path without its arguments, for logs:
// web/lists/getbytitle/items. Arguments (titles, ids, paths) stay out.
func (c *call) routeName() string {
	if c == nil {
		return ""
	}
	names := make([]string, len(c.path))
	for i, s := range c.path {
		names[i] = strings.ToLower(s.Name)
	}
	return strings.Join(names, "/")
}

var (
	// errNoRootSite: the database has no root site yet.
	errNoRootSite = errors.New("sharepoint: no root site")
	// errNewUser: a read needs the signed-in user's row, which does not
	// exist yet in this site.
	errNewUser = errors.New("sharepoint: user not in the site yet")
)

// prepare checks who is calling and, for writes of a signed-in browser
// session, the form digest. It needs no storage.
func (h *Handler) prepare(c *call) error {
	if !c.user.Authenticated() {
		return odata.NewError(http.StatusUnauthorized, odata.CodeAccessDenied,
			"Sign in to use this site: the request carries no signed-in user.")
	}
	if c.inBatch || c.readOnly() || c.isContextInfo() {
		return nil
	}
	return h.checkDigest(c)
}

// checkDigest requires a valid X-RequestDigest on writes by a browser
// session (SharePoint's defence against cross-site requests). Requests
// the edge authenticated with a bearer token carry no session id in
// their assertion and need none, as in SharePoint; a client header
// cannot claim that, since the assertion is signed.
func (h *Handler) checkDigest(c *call) error {
	if c.user.SessionID == "" {
		return nil
	}
	v := c.r.Header.Get("X-RequestDigest")
	if v == "" || h.Digests == nil {
		return odata.SecurityValidation()
	}
	if err := h.Digests.Verify(v, c.user.Subject, siteScope(c.webPath)); err != nil {
		e := odata.SecurityValidation()
		e.Cause = err
		return e
	}
	return nil
}

func (c *call) isContextInfo() bool { return len(c.path) == 1 && c.path[0].Is("contextinfo") }

// resolveWeb finds the web the URL names and, in the same step, the list
// the path goes on to name (getByTitle, lists(guid'…'), getById), with
// its fields: most requests need nothing else before their own work.
func (c *call) resolveWeb() error {
	c.located = nil
	loc, err := c.tx.Webs().Locate(c.ctx, c.webPath, c.namedList(), c.prefetch())
	var w *storage.Web
	if err == nil {
		w = loc.Web
		if loc.List != nil {
			c.located = loc
		}
	}
	if errors.Is(err, storage.ErrNotFound) && c.isContextInfo() && !strings.EqualFold(c.webPath, siteScope(c.webPath)) {
		// contextinfo under a folder's or file's path
		// (/sites/dev/Shared Documents/a/_api/contextinfo, which PnPjs
		// asks after a move) is the enclosing web's, as in SharePoint;
		// never another site collection's. Other paths name their web.
		enclosing, werr := c.webAt(parentURL(c.webPath), siteScope(c.webPath))
		switch {
		case werr == nil:
			c.webPath = enclosing.ServerRelativeURL
			return c.resolveWeb()
		case !errors.Is(werr, storage.ErrNotFound):
			return werr
		case siteScope(c.webPath) == "/":
			return errNoRootSite
		}
	}
	if errors.Is(err, storage.ErrNotFound) {
		if c.webPath == "/" {
			return errNoRootSite
		}
		return odata.NewError(http.StatusNotFound, "-2147024894, System.IO.FileNotFoundException",
			"File Not Found. There is no site at "+c.webPath+".")
	}
	if err != nil {
		return err
	}
	c.site, c.web = nil, w
	c.enc = odata.Encoder{Format: c.format, Web: c.absURL(w.ServerRelativeURL)}
	return nil
}

// webAt is the web at server-relative URL p or, when none is there, the
// nearest web above it, up to the site collection's URL top.
func (c *call) webAt(p, top string) (*storage.Web, error) {
	for {
		w, err := c.tx.Webs().GetByURL(c.ctx, p)
		if !errors.Is(err, storage.ErrNotFound) || len(p) <= len(top) {
			return w, err
		}
		p = parentURL(p)
	}
}

// parentURL is the URL one segment up ("/" at the top).
func parentURL(p string) string {
	dir, _ := splitURL(p)
	return dir
}

// prefetch is what the call reads after Locate, which Locate may read
// in the same step: on a read, the item the path names after its list
// (items(n), items/getById(n), getItemById(n)); on a write, the signed-in
// user's row of the site (every write records its author or editor).
func (c *call) prefetch() storage.Prefetch {
	if c.user == nil {
		return storage.Prefetch{}
	}
	if !c.readOnly() {
		return storage.Prefetch{Login: c.login()}
	}
	if rest, ok := c.listAfter(); ok && !c.namedList().IsZero() {
		if id, ok := itemSegment(rest); ok {
			return storage.Prefetch{Item: id}
		}
	}
	return storage.Prefetch{}
}

// namedList is the list the path names right after web/lists (or the
// lists alias), if any.
func (c *call) namedList() storage.ListRef {
	p := c.path
	if len(p) > 0 && p[0].Is("web") && !p[0].Call {
		p = p[1:]
	}
	if len(p) == 0 || !p[0].Is("lists") {
		return storage.ListRef{}
	}
	if p[0].Call {
		if v, ok := p[0].Single(); ok {
			if id, ok := canonicalID(v); ok {
				return storage.ListRef{ID: id}
			}
		}
		return storage.ListRef{}
	}
	if len(p) < 2 || !p[1].Call {
		return storage.ListRef{}
	}
	v, ok := p[1].Single()
	switch {
	case !ok:
	case p[1].Is("getbytitle") && v.Kind == odata.KindString:
		return storage.ListRef{Title: v.Str}
	case p[1].Is("getbyid"):
		if id, ok := canonicalID(v); ok {
			return storage.ListRef{ID: id}
		}
	}
	return storage.ListRef{}
}

// locatedList is the list resolveWeb found, when it is the one asked
// for by title or id in web w.
func (c *call) locatedList(w *storage.Web, ref storage.ListRef) *storage.List {
	if c.located == nil || c.located.Web.ID != w.ID {
		return nil
	}
	l := c.located.List
	if (ref.Title != "" && strings.EqualFold(l.Title, ref.Title)) || (ref.ID != "" && strings.EqualFold(l.ID, ref.ID)) {
		return l
	}
	return nil
}

// siteOf is the call's site collection, read when a handler needs more
// than its id (most requests need only the web).
func (c *call) siteOf() (*storage.Site, error) {
	if c.site == nil {
		s, err := c.tx.Sites().Get(c.ctx, c.web.SiteID)
		if err != nil {
			return nil, err
		}
		c.site = s
	}
	return c.site, nil
}

// login is the signed-in user's claims login name: from the e-mail
// address when the provider gave one, else from the subject.
func (c *call) login() string {
	if e := strings.TrimSpace(c.user.Email); e != "" && strings.Count(e, "@") == 1 && !strings.ContainsAny(e, " |") {
		return storage.ClaimsPrefix + strings.ToLower(e)
	}
	return storage.ClaimsPrefix + strings.ToLower(c.user.Subject)
}

func (c *call) userTitle() string {
	if c.user.Name != "" {
		return c.user.Name
	}
	if c.user.Email != "" {
		return c.user.Email
	}
	return c.user.Subject
}

// currentUser is the signed-in user's row in the site's user table. A
// write transaction creates it on first use; a read that finds none asks
// for it to be created first (errNewUser).
func (c *call) currentUser() (*storage.User, error) {
	if c.siteUser != nil {
		return c.siteUser, nil
	}
	var u *storage.User
	var err error
	if c.readOnly() {
		u, err = c.tx.Users().GetByLogin(c.ctx, c.web.SiteID, c.login())
		if errors.Is(err, storage.ErrNotFound) {
			return nil, errNewUser
		}
	} else {
		u, err = c.tx.Users().Ensure(c.ctx, c.web.SiteID, c.login(), c.userTitle(), c.user.Email)
	}
	if err != nil {
		return nil, err
	}
	c.siteUser = u
	return u, nil
}

// currentUserRoute reports whether the call reads web/currentUser (or
// its groups): the signed-in user's own row, which anyone who may open
// any object of the site reads, as in SharePoint (opensAnything).
func (c *call) currentUserRoute() bool {
	p := afterWeb(c.path)
	return len(p) >= 1 && len(p) <= 2 && p[0].Is("currentuser") && !p[0].Call &&
		(len(p) == 1 || p[1].Is("groups"))
}

// opensAnything reports whether the user holds Open on some web or list
// scope of the site: a grant on one list (whose Limited Access on the
// web SharePoint adds) is enough to open the site and learn who one is.
func (a *access) opensAnything() bool {
	if a.admin {
		return true
	}
	if a.site == nil {
		return false
	}
	for _, m := range a.site.Grants {
		if m.Has(permissions.Open) {
			return true
		}
	}
	return false
}

// ensureUser creates the signed-in user's row of the call's site (by its
// own write transaction, before a read is run again).
func (h *Handler) ensureUser(c *call) error {
	return h.Store.Update(c.ctx, func(tx storage.Tx) error {
		w, err := tx.Webs().GetByURL(c.ctx, c.webPath)
		if err != nil {
			return err
		}
		_, err = tx.Users().Ensure(c.ctx, w.SiteID, c.login(), c.userTitle(), c.user.Email)
		return err
	})
}

// createRootSite creates the root site collection "/" once.
func (h *Handler) createRootSite(ctx context.Context) error {
	err := h.Store.Update(ctx, func(tx storage.Tx) error {
		_, err := tx.Sites().Create(ctx, storage.SiteInput{URL: "/", Title: "Cesivi"})
		return err
	})
	if errors.Is(err, storage.ErrConflict) {
		return nil // another server was first
	}
	return err
}
