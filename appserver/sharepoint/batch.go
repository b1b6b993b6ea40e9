package sharepoint

import (
	"bytes"
	"errors"
	"net/http"
	"strconv"

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
	if err := h.ensureWeb(c); err != nil {
		return h.fail(c, err)
	}
	var out []odatabatch.Response
	for _, p := range parts {
		switch {
		case p.Err != nil:
			bad := h.fail(c, odata.InvalidQuery("This part of the $batch is malformed: "+p.Err.Error()))
			for i := 0; i < p.ResponseCount(); i++ {
				out = append(out, batchResponse(bad))
			}
		case p.Changeset:
			out = append(out, h.runChangeset(c, p.Requests)...)
		default:
			for _, req := range p.Requests {
				out = append(out, batchResponse(h.inner(c, req, nil)))
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
func (h *Handler) runChangeset(c *call, reqs []odatabatch.Request) []odatabatch.Response {
	resps := make([]*response, len(reqs))
	failed := -1
	var stale []string
	err := h.Store.Update(c.ctx, func(tx storage.Tx) error {
		stale = stale[:0]
		for i, req := range reqs {
			resp, ok, st := h.innerResult(c, req, tx)
			resps[i] = resp
			if !ok {
				failed = i
				return errChangesetFailed
			}
			stale = append(stale, st...)
		}
		return nil
	})
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
	return out
}

// inner runs one inner request, in tx when it belongs to a changeset.
func (h *Handler) inner(outer *call, req odatabatch.Request, tx storage.Tx) *response {
	resp, _, _ := h.innerResult(outer, req, tx)
	return resp
}

// innerResult runs one inner request; ok is false when it failed. In a
// changeset (tx set), stale are the user-context cache keys its changes
// made stale, to be published once the changeset commits.
func (h *Handler) innerResult(outer *call, req odatabatch.Request, tx storage.Tx) (resp *response, ok bool, stale []string) {
	r, err := req.HTTPRequest(outer.ctx)
	if err != nil {
		return h.fail(outer, odata.InvalidQuery("The request line of a $batch part is not a valid request.")), false, nil
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
		return h.fail(c, err), false, nil
	}
	// The batch's identity, origin and digest check hold for its parts.
	c.user, c.origin, c.inBatch, c.tx = outer.user, outer.origin, true, tx
	resp, err = h.run(c)
	if err != nil {
		return h.fail(c, err), false, nil
	}
	return resp, true, c.stale
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
