package sharepoint

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/cesivi/cesivi/internal/blobstore"
	"github.com/cesivi/cesivi/internal/odata"
	"github.com/cesivi/cesivi/internal/permissions"
	"github.com/cesivi/cesivi/internal/state"
	"github.com/cesivi/cesivi/internal/storage"
)

// Digests mint and check form digests (X-RequestDigest). The key ring's
// formdigest package implements it; a digest is bound to a user and a
// scope (the site collection's URL) and valid on every server of a farm.
type Digests interface {
	Mint(subject, scope string) (string, error)
	Verify(value, subject, scope string) error
}

// DigestTimeout is FormDigestTimeoutSeconds, as SharePoint's default.
const DigestTimeout = 1800 * time.Second

// DefaultMaxBody bounds a request body (a $batch included).
const DefaultMaxBody = 16 << 20

// Handler serves SharePoint's REST API (/_api/… and /<web>/_api/…).
type Handler struct {
	Store   storage.Store
	Digests Digests
	// Log receives failures that are the server's own (never field
	// values, never bodies).
	Log *slog.Logger
	// MaxBody bounds request bodies (default DefaultMaxBody).
	MaxBody int64
	// RetryAfter is what a 503 advises when storage does not answer
	// (default 2 s).
	RetryAfter time.Duration
	// Blobs holds file content (Cesivi:Storage:Files); without it every
	// upload and download answers 503.
	Blobs blobstore.Store
	// MaxUpload bounds a simple upload and each chunk of a chunked one
	// (Cesivi:Storage:Files:MaxUploadSize, default DefaultMaxUpload).
	MaxUpload int64
	// MaxFileSize bounds a file put together by a chunked upload
	// (Cesivi:Storage:Files:MaxFileSize, default DefaultMaxFileSize).
	MaxFileSize int64
	// Metrics count file bytes and upload sessions (nil: none).
	Metrics *Metrics
	// Admins are the site collection administrators of every site
	// (Cesivi:Sites:Administrators); without any, only the levels granted
	// in each site count.
	Admins permissions.Administrators
	// UserContexts caches what each user may do, on every server, kept
	// coherent through usercontext:invalidated (nil: read from storage
	// on every request).
	UserContexts state.UserContextCache
	// Receivers check and validate list webhook receivers (nil: no
	// subscription can be made).
	Receivers Receivers
}

// DefaultMaxFileSize is the largest file by default, 10 GiB.
const DefaultMaxFileSize = 10 << 30

// DefaultMaxUpload is the largest simple upload by default, 250 MiB.
const DefaultMaxUpload = 250 << 20

// ServeHTTP answers one API request: it parses the request, runs it in
// one storage transaction (read-only for GET), and only then writes the
// response, so a client never sees a success whose transaction did not
// commit.
func (h *Handler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	format, ferr := odata.Negotiate(r.Header.Get("Accept"), formatOption(r.URL.RawQuery))
	resp := h.serve(r, format, ferr)
	resp.write(w, r)
}

// serve runs the request and returns its response; $batch runs each
// inner request through it too.
func (h *Handler) serve(r *http.Request, format odata.Format, ferr error) *response {
	c, err := h.newCall(r, format)
	if err == nil {
		err = ferr
	}
	if err != nil {
		return h.fail(c, err)
	}
	if c.isBatch() {
		return h.serveBatch(c)
	}
	resp, err := h.run(c)
	if err != nil {
		return h.fail(c, err)
	}
	return resp
}

// run executes c in a transaction of its own, or in the changeset's
// transaction when c belongs to one. A first request to an empty
// database creates the root site, and a read by a user the site has not
// seen yet creates the user's row, each in a write transaction of its
// own, before the request runs again.
func (h *Handler) run(c *call) (*response, error) {
	if err := h.prepare(c); err != nil {
		return nil, err
	}
	if c.uploadsContent() {
		if err := h.receive(c); err != nil {
			return nil, err
		}
	}
	if c.subscriptionCall() {
		if c.inBatch {
			return nil, odata.InvalidQuery("A webhook subscription cannot be made inside a $batch; send it as a request of its own.")
		}
		if err := h.validateReceiver(c); err != nil {
			return nil, err
		}
	}
	if c.tx != nil { // a changeset's request: its transaction is open
		var fresh *changesetShare
		if !c.share.use(c) {
			if err := c.resolveWeb(); err != nil {
				c.webFailed = true
				return nil, err
			}
			fresh = c.share.snapshot(c)
		}
		if err := c.authorize(); err != nil {
			return nil, err
		}
		resp, err := c.route() // runChangeset publishes c.stale after its commit
		if err == nil {
			err = c.failed
		}
		if err == nil {
			err = c.finishFileChecks()
		}
		if err == nil {
			c.share.after(c, fresh)
		}
		return resp, err
	}
	key, err := c.idempotencyKey()
	if err != nil {
		return nil, err
	}
	if err := h.loadRights(c); err != nil {
		return nil, err
	}
	for attempt := 0; ; attempt++ {
		var resp *response
		fn := func(tx storage.Tx) error {
			c.tx, c.siteUser, c.acc, c.stale, c.failed = tx, nil, nil, nil, nil
			c.fileKind, c.fileChecked = 0, false
			if key != "" {
				// First: a replay must not depend on what the first
				// request changed (a deleted item is gone).
				replay, err := c.claim(key)
				if err != nil || replay != nil {
					resp = replay
					return err
				}
			}
			if err := c.resolveWeb(); err != nil {
				return err
			}
			if err := c.authorize(); err != nil {
				return err
			}
			var err error
			if resp, err = c.route(); err == nil {
				err = c.failed
			}
			if err == nil {
				err = c.finishFileChecks()
			}
			if err == nil && key != "" {
				err = c.keep(key, resp)
			}
			return err
		}
		var err error
		if c.readOnly() {
			err = h.Store.View(c.ctx, fn)
		} else {
			err = h.Store.Update(c.ctx, fn)
		}
		c.tx = nil
		if attempt < 2 {
			switch {
			case errors.Is(err, errNoRootSite):
				if err = h.createRootSite(c.ctx); err == nil {
					continue
				}
			case errors.Is(err, errNewUser):
				if err = h.ensureUser(c); err == nil {
					continue
				}
			}
		}
		if err != nil {
			return nil, err
		}
		h.publishStale(c.ctx, c.stale)
		if resp.after != nil {
			// The request's second step, after its first transaction
			// committed (finishUpload assembles the file's content).
			return resp.after()
		}
		return resp, nil
	}
}

// fail maps err onto SharePoint's error body in the call's format.
func (h *Handler) fail(c *call, err error) *response {
	format := odata.Minimal
	if c != nil {
		format = c.format
	}
	e := h.errorOf(err)
	if e.Status >= 500 && e.Status != http.StatusServiceUnavailable && h.Log != nil {
		h.Log.Error("API request failed", "method", c.methodName(), "route", c.routeName(), "error", err)
	}
	enc := odata.Encoder{Format: format}
	resp := &response{status: e.Status, header: http.Header{}, body: enc.Error(e), format: format}
	if e.RetryAfter > 0 {
		resp.header.Set("Retry-After", strconv.Itoa(int((e.RetryAfter+time.Second-1)/time.Second)))
	}
	return resp
}

// errorOf maps a failure onto the refusal to send: API refusals as they
// are, storage sentinels onto SharePoint's statuses and codes, anything
// else onto a 500 that says nothing of the cause.
func (h *Handler) errorOf(err error) *odata.Error {
	var oe *odata.Error
	if errors.As(err, &oe) {
		return oe
	}
	switch {
	case errors.Is(err, errNoFileStore):
		return odata.NewError(http.StatusServiceUnavailable, "-1, Microsoft.SharePoint.SPException",
			"This server has no file store configured (Cesivi:Storage:Files:Provider).")
	case errors.Is(err, storage.ErrUnavailable) || errors.Is(err, blobstore.ErrUnavailable) || errors.Is(err, context.DeadlineExceeded):
		e := odata.NewError(http.StatusServiceUnavailable, "-1, Microsoft.SharePoint.SPException",
			"The content database is not available at the moment. Nothing was changed; please retry.")
		e.RetryAfter = h.retryAfter()
		e.Cause = err
		return e
	case errors.Is(err, storage.ErrThrottled):
		e := odata.NewError(http.StatusInternalServerError, odata.CodeThrottled,
			"The attempted operation is prohibited because it exceeds the list view threshold. Filter or sort on an indexed column, or ask for fewer items.")
		e.Cause = err
		return e
	case errors.Is(err, storage.ErrNotFound):
		e := odata.NewError(http.StatusNotFound, odata.CodeArgument, sentence(err, storage.ErrNotFound))
		e.Cause = err
		return e
	case errors.Is(err, storage.ErrLocked):
		e := errLocked().(*odata.Error)
		e.Cause = err
		return e
	case errors.Is(err, storage.ErrConflict):
		e := odata.NewError(http.StatusConflict, "-2130575214, Microsoft.SharePoint.SPException", sentence(err, storage.ErrConflict))
		e.Cause = err
		return e
	case errors.Is(err, storage.ErrInvalid):
		e := odata.InvalidQuery(sentence(err, storage.ErrInvalid))
		e.Cause = err
		return e
	case errors.Is(err, errBodyTooLarge):
		return odata.NewError(http.StatusRequestEntityTooLarge, odata.CodeInvalidQuery, errBodyTooLarge.Error())
	}
	return odata.ErrorOf(err)
}

func (h *Handler) retryAfter() time.Duration {
	if h.RetryAfter > 0 {
		return h.RetryAfter
	}
	return 2 * time.Second
}

// sentence turns "storage: invalid: field X is read-only" into "Field X
// is read-only.": the storage message without its sentinel's prefix.
func sentence(err, sentinel error) string {
	msg := err.Error()
	if i := strings.Index(msg, sentinel.Error()+": "); i >= 0 {
		msg = msg[i+len(sentinel.Error())+2:]
	}
	if msg == "" {
		return "The request could not be completed."
	}
	msg = strings.ToUpper(msg[:1]) + msg[1:]
	if !strings.HasSuffix(msg, ".") {
		msg += "."
	}
	return msg
}

// formatOption finds $format (or %24format) in a raw query without
// parsing the rest: the format decides how even a malformed query's
// error is written.
func formatOption(raw string) string {
	for raw != "" {
		var kv string
		kv, raw, _ = strings.Cut(raw, "&")
		k, v, _ := strings.Cut(kv, "=")
		if strings.EqualFold(k, "$format") || strings.EqualFold(k, "%24format") {
			if dec, err := url.QueryUnescape(v); err == nil {
				return dec
			}
		}
	}
	return ""
}

// response is an answer not yet written: handlers return one, and it is
// written only after the transaction committed.
type response struct {
	status int
	header http.Header
	body   []byte
	format odata.Format
	// json is false for bodies that are not the format's JSON ($value,
	// $batch).
	raw bool
	// stream, when set, writes the whole answer (headers included)
	// instead of status, header and body: a file's content, read from the
	// blob store after the transaction committed.
	stream func(w http.ResponseWriter, r *http.Request)
	// after, when set, is run once the transaction committed and gives
	// the real answer: work that must not hold a transaction open (it
	// runs its own when it needs one).
	after func() (*response, error)
}

func (r *response) write(w http.ResponseWriter, req *http.Request) {
	if r.stream != nil {
		r.stream(w, req)
		return
	}
	h := w.Header()
	for k, v := range r.header {
		h[k] = v
	}
	if len(r.body) > 0 && h.Get("Content-Type") == "" {
		h.Set("Content-Type", r.format.ContentType())
	}
	// Every answer is about one user's view of the data: no shared cache
	// may keep it.
	if h.Get("Cache-Control") == "" {
		h.Set("Cache-Control", "private, max-age=0")
	}
	h.Set("X-Content-Type-Options", "nosniff")
	h.Set("Content-Length", strconv.Itoa(len(r.body)))
	w.WriteHeader(r.status)
	_, _ = w.Write(r.body)
}

var errBodyTooLarge = errors.New("the request body is larger than the server accepts")

// readBody reads at most max bytes of the body.
func readBody(r *http.Request, max int64) ([]byte, error) {
	if r.Body == nil || r.Body == http.NoBody {
		return nil, nil
	}
	b, err := io.ReadAll(io.LimitReader(r.Body, max+1))
	if err != nil {
		return nil, odata.InvalidQuery("The request body could not be read.")
	}
	if int64(len(b)) > max {
		return nil, errBodyTooLarge
	}
	return b, nil
}
