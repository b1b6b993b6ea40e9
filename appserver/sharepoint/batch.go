package sharepoint

import (
	"bytes"
	"errors"
	"net/http"
	"net/url"
	"strconv"
	"strings"

	"github.com/cesivi/cesivi/internal/odata"
	"github.com/cesivi/cesivi/internal/odatabatch"
	"github.com/cesivi/cesivi/internal/storage"
)

// serveBatch is POST $batch (research §3.2): each part runs as the
// request it holds, with the batch's identity; a changeset runs in one
// transaction, all or nothing. The answer is flat: one part per inner
// request, in order, which PnPjs's parser requires. A malformed part is
// answered 400 and the others still run.
func (h *Handler) serveBatch(c *call) *response {
	if err := h.prepare(c); err != nil {
		return h.fail(c, err)
	}
	parts, err := odatabatch.Parse(c.r.Header.Get("Content-Type"), bytes.NewReader(c.body), odatabatch.Limits{MaxBytes: h.maxBody()})
	if err != nil {
		return h.fail(c, odata.InvalidQuery("The $batch body cannot be read: "+err.Error()))
	}
	// The batch's web must exist before any part runs. When the batch
	// opens with a changeset, that changeset's transaction checks it
	// (its first request locates the web anyway); else a read of its own.
	checkInFirst := len(parts) > 0 && parts[0].Err == nil && parts[0].Changeset
	if !checkInFirst {
		if err := h.ensureWeb(c); err != nil {
			return h.fail(c, err)
		}
	}
	var out []odatabatch.Response
	for i, p := range parts {
		switch {
		case p.Err != nil:
			bad := h.fail(c, odata.InvalidQuery("This part of the $batch is malformed: "+p.Err.Error()))
			for i := 0; i < p.ResponseCount(); i++ {
				out = append(out, batchResponse(bad))
			}
		case p.Changeset && i == 0 && checkInFirst:
			resps, err := h.runChangeset(c, p.Requests, true)
			if errors.Is(err, errNoRootSite) {
				if err = h.createRootSite(c.ctx); err == nil {
					resps, err = h.runChangeset(c, p.Requests, true)
				}
			}
			if err != nil {
				return h.fail(c, err)
			}
			out = append(out, resps...)
		case p.Changeset:
			resps, _ := h.runChangeset(c, p.Requests, false)
			out = append(out, resps...)
		default:
			for _, req := range p.Requests {
				out = append(out, batchResponse(h.inner(c, req)))
			}
		}
	}
	var body bytes.Buffer
	boundary := odatabatch.NewBoundary()
	if err := odatabatch.Write(&body, boundary, out); err != nil {
		return h.fail(c, err)
	}
	resp := &response{status: http.StatusOK, header: http.Header{}, body: body.Bytes(), raw: true}
	resp.header.Set("Content-Type", odatabatch.ContentType(boundary))
	return resp
}

// ensureWeb makes sure the batch's web exists before any part runs (a
// first request to an empty database may be a batch: its changesets'
// transactions cannot create the root site themselves).
func (h *Handler) ensureWeb(c *call) error {
	err := h.Store.View(c.ctx, func(tx storage.Tx) error {
		c.tx = tx
		defer func() { c.tx = nil }()
		return c.resolveWeb()
	})
	if errors.Is(err, errNoRootSite) {
		return h.createRootSite(c.ctx)
	}
	return err
}

// errChangesetFailed stops a changeset's transaction at its first
// failed request.
var errChangesetFailed = errors.New("sharepoint: a request of the changeset failed")

// runChangeset runs requests in one write transaction. When one fails,
// everything the changeset wrote is rolled back: the failed request gets
// its error, and every other request of the changeset a 424 saying its
// work was not kept, so no client believes a rolled-back write happened.
//
// With checkWeb (the batch's first changeset), the batch's web is
// checked in the same transaction, as ensureWeb would before: when it
// cannot be resolved the error is returned for the whole batch and
// nothing is answered (errNoRootSite: the caller creates the root site
// and runs the changeset again). The first request's own Locate is the
// check when it names the batch's web.
func (h *Handler) runChangeset(c *call, reqs []odatabatch.Request, checkWeb bool) ([]odatabatch.Response, error) {
	resps := make([]*response, len(reqs))
	failed := -1
	var stale []string
	var webErr error
	sameWeb := checkWeb && len(reqs) > 0 && h.namesWeb(c, reqs[0])
	unchecked := false
	err := h.Store.Update(c.ctx, func(tx storage.Tx) error {
		stale = stale[:0]
		failed, webErr, unchecked = -1, nil, false
		if checkWeb && !sameWeb {
			// The first request names another web than the batch:
			// the batch's is checked first, in this transaction.
			if err := h.checkBatchWeb(c, tx); err != nil {
				webErr = err
				return err
			}
		}
		share := &changesetShare{}
		for i, req := range reqs {
			resp, res := h.innerResult(c, req, tx, share)
			if i == 0 && sameWeb {
				if res.webFailed {
					webErr = res.err
					return res.err
				}
				unchecked = !res.resolved
			}
			resps[i] = resp
			if !res.ok {
				failed = i
				return errChangesetFailed
			}
			stale = append(stale, res.stale...)
		}
		return nil
	})
	if webErr != nil {
		return nil, webErr
	}
	if unchecked {
		// The first request failed before it located its web; the
		// changeset was rolled back, and the web is checked now.
		if err := h.ensureWeb(c); err != nil {
			return nil, err
		}
	}
	if err == nil {
		h.publishStale(c.ctx, stale)
	}
	out := make([]odatabatch.Response, len(reqs))
	switch {
	case err == nil:
		for i, r := range resps {
			out[i] = batchResponse(r)
		}
	case failed >= 0:
		for i := range reqs {
			if i == failed {
				out[i] = batchResponse(resps[i])
				continue
			}
			e := odata.NewError(http.StatusFailedDependency, odata.CodeInvalidQuery,
				"This request was not applied: request "+strconv.Itoa(failed+1)+" of its changeset failed, and a changeset is applied whole or not at all.")
			out[i] = batchResponse(h.fail(c, e))
		}
	default: // the commit itself failed: nothing was written
		r := batchResponse(h.fail(c, err))
		for i := range out {
			out[i] = r
		}
	}
	return out, nil
}

// namesWeb reports whether req names the batch's own web.
func (h *Handler) namesWeb(outer *call, req odatabatch.Request) bool {
	r, err := req.HTTPRequest(outer.ctx)
	if err != nil {
		return false
	}
	web, _, ok := odata.SplitAPIPath(r.URL.EscapedPath())
	if !ok {
		return false
	}
	wp, err := url.PathUnescape(web)
	return err == nil && strings.EqualFold(cleanWebPath(wp), outer.webPath)
}

// checkBatchWeb resolves the batch's own web in tx.
func (h *Handler) checkBatchWeb(c *call, tx storage.Tx) error {
	c.tx = tx
	defer func() { c.tx = nil }()
	return c.resolveWeb()
}

// inner runs one inner request, outside any changeset.
func (h *Handler) inner(outer *call, req odatabatch.Request) *response {
	resp, _ := h.innerResult(outer, req, nil, nil)
	return resp
}

// innerRun is how an inner request went: ok is false when it failed
// (err). In a changeset (tx set), stale are the user-context cache keys
// its changes made stale, to be published once the changeset commits;
// webFailed says its web could not be resolved, resolved that it was.
type innerRun struct {
	ok, webFailed, resolved bool
	err                     error
	stale                   []string
}

// innerResult runs one inner request, in tx with the changeset's share
// when it belongs to a changeset.
func (h *Handler) innerResult(outer *call, req odatabatch.Request, tx storage.Tx, share *changesetShare) (*response, innerRun) {
	r, err := req.HTTPRequest(outer.ctx)
	if err != nil {
		return h.fail(outer, odata.InvalidQuery("The request line of a $batch part is not a valid request.")), innerRun{err: err}
	}
	format, ferr := odata.Negotiate(r.Header.Get("Accept"), formatOption(r.URL.RawQuery))
	c, err := h.newCall(r, format)
	if err == nil {
		err = ferr
	}
	if err == nil && c.isBatch() {
		err = odata.InvalidQuery("A $batch cannot hold another $batch.")
	}
	if err != nil {
		return h.fail(c, err), innerRun{err: err}
	}
	res := innerRun{}
	// The batch's identity, origin and digest check hold for its parts.
	c.user, c.origin, c.inBatch, c.tx, c.share = outer.user, outer.origin, true, tx, share
	resp, err := h.run(c)
	if err != nil {
		res.err, res.webFailed, res.resolved = err, c.webFailed, c.web != nil
		return h.fail(c, err), res
	}
	res.ok, res.stale, res.resolved = true, c.stale, c.web != nil
	return resp, res
}

// batchResponse is a response as a $batch part.
func batchResponse(r *response) odatabatch.Response {
	h := r.header.Clone()
	if h == nil {
		h = http.Header{}
	}
	if len(r.body) > 0 && h.Get("Content-Type") == "" {
		h.Set("Content-Type", r.format.ContentType())
	}
	return odatabatch.Response{Status: r.status, Header: h, Body: r.body}
}

// changesetShare is what the requests of one changeset share of what
// they read before their own work: the web and list the last request
// located (with the list's fields), the signed-in user's row and what
// the user may do in the site. A changeset of 20 adds to one list thus
// locates once, not 20 times, in the same transaction.
//
// Only requests that change items alone (an add to a list's items, or a
// MERGE, PUT, PATCH or DELETE of one item) use the copy or keep it: they
// change no web, list, field, user or permission. Any other request of
// the changeset drops it, as does one that changed what a user may do
// (c.stale), so the next request locates afresh and sees what the
// changeset did so far. A failed request rolls the changeset back and
// the copy goes with it.
type changesetShare struct {
	key      string
	web      *storage.Web
	located  *storage.Location
	siteUser *storage.User
	acc      *access
}

// shareKey names what a call locates: its web, its list and its user.
func (c *call) shareKey() string {
	ref := c.namedList()
	return strings.ToLower(c.webPath) + "\x00" + strings.ToLower(ref.Title) + "\x00" + strings.ToLower(ref.ID) + "\x00" + c.login()
}

// itemWrite reports whether the call changes items only: POST to a
// list's items, or MERGE, PUT, PATCH or DELETE of items(n) itself.
func (c *call) itemWrite() bool {
	if c.readOnly() || c.namedList().IsZero() {
		return false
	}
	rest, ok := c.listAfter()
	if !ok || len(rest) == 0 {
		return false
	}
	if _, one := itemSegment(rest); one {
		if len(afterItem(rest)) != 0 {
			return false
		}
		switch c.method {
		case "MERGE", http.MethodPatch, http.MethodPut, http.MethodDelete:
			return true
		}
		return false
	}
	return len(rest) == 1 && rest[0].Is("items") && !rest[0].Call && c.method == http.MethodPost
}

// use gives c the shared copy when c may use it, instead of locating.
func (s *changesetShare) use(c *call) bool {
	if s == nil || s.web == nil || !c.itemWrite() || s.key != c.shareKey() {
		return false
	}
	fresh := s.copyOf(s.web, s.located)
	c.site, c.web, c.located = nil, fresh.web, fresh.located
	c.enc = odata.Encoder{Format: c.format, Web: c.absURL(c.web.ServerRelativeURL)}
	if s.siteUser != nil {
		u := *s.siteUser
		c.siteUser = &u
	}
	c.acc = s.acc
	return true
}

// snapshot copies what c located, before its handler may change it.
func (s *changesetShare) snapshot(c *call) *changesetShare {
	if s == nil || c.web == nil || c.located == nil || !c.itemWrite() {
		return nil
	}
	return s.copyOf(c.web, c.located)
}

// copyOf is a copy of web and loc a request may change freely.
func (s *changesetShare) copyOf(web *storage.Web, loc *storage.Location) *changesetShare {
	w := *web
	out := &changesetShare{web: &w}
	if loc != nil {
		l := *loc
		l.Web = &w
		if loc.List != nil {
			list := *loc.List
			l.List = &list
		}
		l.Fields = make([]*storage.Field, len(loc.Fields))
		for i, f := range loc.Fields {
			cf := *f
			l.Fields[i] = &cf
		}
		out.located = &l
	}
	return out
}

// after keeps or drops the copy once c succeeded: fresh is what c
// located itself (nil: it used the copy).
func (s *changesetShare) after(c *call, fresh *changesetShare) {
	if s == nil {
		return
	}
	if !c.itemWrite() || len(c.stale) > 0 || c.web == nil {
		*s = changesetShare{}
		return
	}
	if fresh != nil {
		*s = changesetShare{key: c.shareKey(), web: fresh.web, located: fresh.located}
	}
	if c.siteUser != nil && c.siteUser.SiteID == s.web.SiteID {
		u := *c.siteUser
		s.siteUser = &u
	}
	if c.acc != nil {
		s.acc = c.acc
	}
}
