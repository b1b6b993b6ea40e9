package sharepoint

import (
	"context"
	"errors"
	"io"
	"net/http"
	"strconv"

	"github.com/cesivi/cesivi/internal/blobstore"
	"github.com/cesivi/cesivi/internal/odata"
	"github.com/cesivi/cesivi/internal/storage"
)

// Uploads stream the request body into the blob store before the
// request's transaction begins, so the metadata that names the content
// commits only after the content is durable. A request that fails after
// that leaves at worst an orphan blob, which the sweep removes; the body
// is never held in memory.

// uploadsContent reports whether the call's body is file content:
// files/add, files/addUsingPath, and PUT of a file's $value.
func (c *call) uploadsContent() bool {
	n := len(c.path)
	if n < 2 || (c.method != http.MethodPost && c.method != http.MethodPut) {
		return false
	}
	last, parent := c.path[n-1], c.path[n-2]
	switch {
	case (last.Is("add") || last.Is("addusingpath")) && parent.Is("files") && !parent.Call:
		return c.method == http.MethodPost
	case (last.Is("add") || last.Is("addusingpath")) && parent.Is("attachmentfiles") && !parent.Call:
		return c.method == http.MethodPost
	case isChunk(last):
		return c.method == http.MethodPost
	case last.Is("$value"):
		return c.method == http.MethodPut
	}
	return false
}

// uploadName is the new file's name an add or addUsingPath names, for
// checking before any content is received.
func (c *call) uploadName() (string, bool) {
	last := c.path[len(c.path)-1]
	if last.Is("$value") || isChunk(last) {
		return "", false
	}
	p, err := pathArg(last, "decodedurl", "url", "filename")
	if err != nil {
		return "", false
	}
	return lastSegment(p), true
}

func (h *Handler) maxUpload() int64 {
	if h.MaxUpload > 0 {
		return h.MaxUpload
	}
	return DefaultMaxUpload
}

// tooLarge is the 413 for content over the simple-upload limit.
func (h *Handler) tooLarge() error {
	return odata.NewError(http.StatusRequestEntityTooLarge, "-2147024816, Microsoft.SharePoint.SPException",
		"The file is larger than "+strconv.FormatInt(h.maxUpload()>>20, 10)+
			" MiB, the most this server accepts in one request. Upload it in chunks (startUpload, continueUpload, finishUpload; PnPjs's files.addChunked).")
}

// errNoFileStore: the server has no blob store.
var errNoFileStore = errors.New("sharepoint: no file store is configured")

// receive stores the call's body as a blob (c.blob) after checking what
// can be checked without storage: the limit, and the new file's name.
func (h *Handler) receive(c *call) error {
	if c.inBatch {
		return odata.InvalidQuery("File content cannot be uploaded inside a $batch; send it as a request of its own.")
	}
	if name, ok := c.uploadName(); ok {
		if err := storage.CheckLeafName(name); err != nil {
			return badName(err)
		}
	}
	if h.Blobs == nil {
		return errNoFileStore
	}
	max := h.maxUpload()
	if c.r.ContentLength > max {
		return h.tooLarge()
	}
	body := c.r.Body
	if body == nil {
		body = http.NoBody
	}
	counted := &countingReader{r: body}
	b, err := h.Blobs.Put(c.ctx, counted, max)
	h.Metrics.addUploaded(counted.n)
	switch {
	case err == nil:
		c.blob = &b
		return nil
	case errors.Is(err, blobstore.ErrTooLarge):
		return h.tooLarge()
	case errors.Is(err, blobstore.ErrUnavailable):
		return err
	case c.ctx.Err() != nil:
		return context.Cause(c.ctx)
	}
	// Anything else is the body itself: the client went away or sent a
	// broken chunked encoding. Nothing was kept.
	e := odata.InvalidQuery("The file's content could not be read completely; nothing was stored.")
	e.Cause = err
	return e
}

// countingReader counts the bytes read through it.
type countingReader struct {
	r io.Reader
	n int64
}

func (c *countingReader) Read(p []byte) (int, error) {
	n, err := c.r.Read(p)
	c.n += int64(n)
	return n, err
}

// badName turns storage's name refusal into SharePoint's 400.
func badName(err error) error {
	e := odata.NewError(http.StatusBadRequest, "-2130575245, Microsoft.SharePoint.SPException", sentence(err, storage.ErrInvalid))
	e.Cause = err
	return e
}
