package sharepoint

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"net/http"
	"time"

	"github.com/cesivi/cesivi/internal/odata"
	"github.com/cesivi/cesivi/internal/storage"
)

// A write that carries an Idempotency-Key (the IETF httpapi draft's
// header) is carried out at most once per user and key: its answer is
// kept in its own transaction (storage.Requests), and a retry of the
// same request with the same key gets that answer back, marked with
// Idempotent-Replayed, instead of running again. This is what lets a
// client retry a write whose answer it never saw, because the server
// died between commit and reply, without storing it twice.
const (
	idempotencyHeader = "Idempotency-Key"
	replayedHeader    = "Idempotent-Replayed"
)

// idempotencyKey is the call's key: "" for reads, for $batch and its
// requests (a changeset's answers are not kept) and when none was sent.
func (c *call) idempotencyKey() (string, error) {
	key := c.r.Header.Get(idempotencyHeader)
	if key == "" || c.readOnly() || c.inBatch {
		return "", nil
	}
	// The draft sends the key as a structured-field string: "…".
	if len(key) >= 2 && key[0] == '"' && key[len(key)-1] == '"' {
		key = key[1 : len(key)-1]
	}
	if err := storage.CheckIdempotencyKey(key); err != nil {
		return "", odata.InvalidQuery(sentence(err, storage.ErrInvalid))
	}
	return key, nil
}

// fingerprint names what was asked: the method, the request URI and a
// digest of the body, so a key reused for another request is caught.
func (c *call) fingerprint() string {
	sum := sha256.Sum256(c.body)
	digest := hex.EncodeToString(sum[:])
	if c.blob != nil {
		digest = c.blob.SHA256
	}
	return c.method + " " + c.r.URL.RequestURI() + " " + digest
}

// claim takes the key in the call's transaction; when an earlier
// request holds it, the answer is that request's (a replay).
func (c *call) claim(key string) (*response, error) {
	fp := c.fingerprint()
	rec, err := c.tx.Requests().Claim(c.ctx, c.login(), key, fp)
	if err != nil || rec == nil {
		return nil, err
	}
	if rec.Fingerprint != fp {
		return nil, odata.NewError(http.StatusUnprocessableEntity, odata.CodeInvalidQuery,
			"This Idempotency-Key was used for another request; send a new key with each new request.")
	}
	h := rec.Answer.Header.Clone()
	if h == nil {
		h = http.Header{}
	}
	h.Set(replayedHeader, "true")
	return &response{status: rec.Answer.Status, header: h, body: rec.Answer.Body, format: c.format, raw: true}, nil
}

// keep records the call's answer under its key, or gives the key up
// when the answer cannot be replayed (a second step after commit, a
// stream).
func (c *call) keep(key string, resp *response) error {
	if resp.after != nil || resp.stream != nil {
		return c.tx.Requests().Release(c.ctx, c.login(), key)
	}
	h := resp.header.Clone()
	if h == nil {
		h = http.Header{}
	}
	if len(resp.body) > 0 && h.Get("Content-Type") == "" {
		h.Set("Content-Type", resp.format.ContentType())
	}
	return c.tx.Requests().Answer(c.ctx, c.login(), key, storage.RequestAnswer{Status: resp.status, Header: h, Body: resp.body})
}

// IdempotencyRetention is how long a write's answer is kept for its
// retries: a day, as the IETF draft's examples and payment APIs keep
// theirs; a client retries within minutes.
const IdempotencyRetention = 24 * time.Hour

// PruneRequests removes the answers kept longer than
// IdempotencyRetention before now.
func (h *Handler) PruneRequests(ctx context.Context, now time.Time) (int64, error) {
	var n int64
	err := h.Store.Update(ctx, func(tx storage.Tx) (err error) {
		n, err = tx.Requests().Prune(ctx, now.Add(-IdempotencyRetention))
		return err
	})
	return n, err
}

// PruneRequestsEvery prunes kept answers at each interval until ctx
// ends. Every server may run it: a prune is one DELETE on an index.
func (h *Handler) PruneRequestsEvery(ctx context.Context, interval time.Duration) {
	t := time.NewTicker(interval)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		if _, err := h.PruneRequests(ctx, time.Now()); err != nil && ctx.Err() == nil && h.Log != nil {
			h.Log.Warn("pruning the kept answers of idempotent writes failed", "error", err)
		}
	}
}
