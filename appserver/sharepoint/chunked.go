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

// Chunked uploads, as PnPjs's files.addChunked sends them: it creates
// the file empty (addUsingPath), then POSTs file/startUpload(uploadId=
// guid'…') with the first chunk, continueUpload(uploadId, fileOffset)
// with each next one, and finishUpload(uploadId, fileOffset) with the
// rest (possibly nothing). Each answer is the bytes received so far,
// which PnPjs sends back as the next fileOffset. Each chunk is a blob,
// and the session (which blobs, in which order, whose) is in the
// database, so every chunk may reach another server of the farm. A
// client resending a chunk whose answer it lost (PnPjs does on 503) gets
// the same answer again.

func (h *Handler) maxFileSize() int64 {
	if h.MaxFileSize > 0 {
		return h.MaxFileSize
	}
	return DefaultMaxFileSize
}

// isChunk reports whether seg is a chunk's function.
func isChunk(seg odata.Segment) bool {
	return seg.Call && (seg.Is("startupload") || seg.Is("continueupload") || seg.Is("finishupload"))
}

// uploadID is the uploadId argument, a guid.
func uploadID(seg odata.Segment) (string, error) {
	v, ok := seg.Named("uploadid")
	if ok {
		if id, ok := canonicalID(v); ok {
			return id, nil
		}
	}
	return "", odata.InvalidQuery(seg.Name + " needs uploadId, a guid (uploadId=guid'…').")
}

// fileOffset is the fileOffset argument.
func fileOffset(seg odata.Segment) (int64, error) {
	v, ok := seg.Named("fileoffset")
	switch {
	case ok && v.Kind == odata.KindInt && v.Int >= 0:
		return v.Int, nil
	case ok && v.Kind == odata.KindString:
		if n, err := strconv.ParseInt(v.Str, 10, 64); err == nil && n >= 0 {
			return n, nil
		}
	}
	return 0, odata.InvalidQuery(seg.Name + " needs fileOffset, the number of bytes sent before this chunk.")
}

// errUnknownUpload is the answer for an upload id that names no upload
// of this user and file: the same whether it exists for another user or
// not at all.
func errUnknownUpload() error {
	return odata.NewError(http.StatusNotFound, "-2147024809, System.ArgumentException",
		"There is no upload in progress with this uploadId for this file.")
}

// offsetAnswer is the bytes received so far, as SharePoint answers it
// (an Edm.Int64, a string in JSON light).
func (c *call) offsetAnswer(function string, n int64) *response {
	return c.primitiveOf(function, strconv.FormatInt(n, 10), "Edm.Int64")
}

// chunk serves startUpload, continueUpload and finishUpload of file f.
func (c *call) chunk(l *storage.List, f *storage.File, seg odata.Segment) (*response, error) {
	if err := c.allow(http.MethodPost); err != nil {
		return nil, err
	}
	id, err := uploadID(seg)
	if err != nil {
		return nil, err
	}
	if c.blob == nil {
		return nil, odata.InvalidQuery("The chunk's content is missing.")
	}
	u, err := c.currentUser()
	if err != nil {
		return nil, err
	}
	if seg.Is("startupload") {
		if err := c.checkWritable(f, u); err != nil {
			return nil, err
		}
		up, err := c.tx.Uploads().Start(c.ctx, storage.Upload{ID: id, ListID: l.ID, FileURL: f.URL, UserID: u.ID,
			Parts: []storage.UploadPart{{Offset: 0, Size: c.blob.Size, Blob: c.blob.Key}}})
		if errors.Is(err, storage.ErrConflict) {
			return nil, odata.InvalidQuery("An upload with this uploadId is in progress already; start a new one with a new uploadId.")
		}
		if err != nil {
			return nil, err
		}
		c.h.Metrics.uploadSession("started")
		return c.offsetAnswer("StartUpload", up.Size()), nil
	}
	offset, err := fileOffset(seg)
	if err != nil {
		return nil, err
	}
	up, err := c.tx.Uploads().Get(c.ctx, id)
	if errors.Is(err, storage.ErrNotFound) || (err == nil && (up.UserID != u.ID || up.ListID != l.ID || up.FileURL != f.URL)) {
		return nil, errUnknownUpload()
	}
	if err != nil {
		return nil, err
	}
	if offset+c.blob.Size > c.h.maxFileSize() {
		return nil, odata.NewError(http.StatusRequestEntityTooLarge, "-2147024816, Microsoft.SharePoint.SPException",
			"The file would be larger than "+strconv.FormatInt(c.h.maxFileSize()>>20, 10)+" MiB, the largest this server keeps.")
	}
	if c.blob.Size > 0 || !seg.Is("finishupload") {
		up, err = c.tx.Uploads().Append(c.ctx, id, offset, c.blob.Size, c.blob.Key)
		if errors.Is(err, storage.ErrConflict) {
			return nil, odata.InvalidQuery("The chunk's fileOffset is not the number of bytes this upload has received.")
		}
		if err != nil {
			return nil, err
		}
	} else if offset != up.Size() {
		return nil, odata.InvalidQuery("The chunk's fileOffset is not the number of bytes this upload has received.")
	}
	if seg.Is("continueupload") {
		return c.offsetAnswer("ContinueUpload", up.Size()), nil
	}
	parts := up.Parts
	return &response{after: func() (*response, error) { return c.finish(l.ID, f.URL, id, parts) }}, nil
}

// finish puts the parts together into one blob, outside any transaction,
// then replaces the file's content and ends the upload in one.
func (c *call) finish(listID, fileURL, id string, parts []storage.UploadPart) (*response, error) {
	h := c.h
	pr, pw := io.Pipe()
	go func() { pw.CloseWithError(copyParts(c.ctx, h.Blobs, parts, pw)) }()
	b, err := h.Blobs.Put(c.ctx, pr, h.maxFileSize())
	pr.Close()
	if err != nil {
		if errors.Is(err, blobstore.ErrTooLarge) {
			return nil, odata.NewError(http.StatusRequestEntityTooLarge, "-2147024816, Microsoft.SharePoint.SPException",
				"The file is larger than the largest this server keeps.")
		}
		return nil, err
	}
	var resp *response
	err = h.Store.Update(c.ctx, func(tx storage.Tx) error {
		c.tx = tx
		defer func() { c.tx = nil }()
		up, err := tx.Uploads().Get(c.ctx, id)
		if errors.Is(err, storage.ErrNotFound) || (err == nil && len(up.Parts) != len(parts)) {
			return errUnknownUpload() // finished or cancelled meanwhile
		}
		if err != nil {
			return err
		}
		cur, err := tx.Files().Get(c.ctx, listID, fileURL)
		if errors.Is(err, storage.ErrNotFound) {
			return fileNotFound()
		}
		if err != nil {
			return err
		}
		f, err := tx.Files().Put(c.ctx, listID, storage.FileInput{FolderURL: cur.DirURL, Name: cur.Name, Overwrite: true,
			Blob: b.Key, Length: b.Size, By: up.UserID})
		if err != nil {
			return err
		}
		if err := tx.Uploads().Delete(c.ctx, id); err != nil {
			return err
		}
		resp = c.fileResponse(f)
		return nil
	})
	if err != nil {
		return nil, err
	}
	h.Metrics.uploadSession("finished")
	return resp, nil
}

// copyParts writes the parts' content, in order, to w.
func copyParts(ctx context.Context, blobs blobstore.Store, parts []storage.UploadPart, w io.Writer) error {
	for _, p := range parts {
		rd, err := blobs.Open(ctx, p.Blob)
		if err != nil {
			return err
		}
		_, err = io.Copy(w, rd)
		rd.Close()
		if err != nil {
			return err
		}
	}
	return nil
}

// cancelUpload ends an upload without changing the file.
func (c *call) cancelUpload(l *storage.List, f *storage.File, seg odata.Segment) (*response, error) {
	if err := c.allow(http.MethodPost); err != nil {
		return nil, err
	}
	id, err := uploadID(seg)
	if err != nil {
		return nil, err
	}
	u, err := c.currentUser()
	if err != nil {
		return nil, err
	}
	up, err := c.tx.Uploads().Get(c.ctx, id)
	if errors.Is(err, storage.ErrNotFound) || (err == nil && (up.UserID != u.ID || up.ListID != l.ID || up.FileURL != f.URL)) {
		return nil, errUnknownUpload()
	}
	if err != nil {
		return nil, err
	}
	if err := c.tx.Uploads().Delete(c.ctx, id); err != nil {
		return nil, err
	}
	c.h.Metrics.uploadSession("cancelled")
	return noContent(""), nil
}
