package sharepoint

import (
	"mime"
	"net/http"
	"net/url"
	"path"
	"strings"

	"github.com/cesivi/cesivi/internal/storage"
)

// download answers a file's $value: its content, streamed from the blob
// store after the transaction committed. net/http's ServeContent answers
// Range (206, or 416 beyond the end), If-None-Match and
// If-Modified-Since (304) and HEAD, from the file's ETag and time; the
// content is read in pieces, never whole.
func (c *call) download(f *storage.File) *response {
	h := c.h
	f = cloneFile(f)
	return &response{status: http.StatusOK, stream: func(w http.ResponseWriter, r *http.Request) {
		if h.Blobs == nil {
			h.fail(c, errNoFileStore).write(w, r)
			return
		}
		rd, err := h.Blobs.Open(r.Context(), f.Blob)
		if err != nil {
			h.fail(c, err).write(w, r)
			return
		}
		defer rd.Close()
		hd := w.Header()
		ct := mediaType(f.Name)
		hd.Set("Content-Type", ct)
		hd.Set("ETag", fileETag(f))
		hd.Set("Cache-Control", "private, max-age=0")
		hd.Set("X-Content-Type-Options", "nosniff")
		if activeContent(ct) {
			// A browser must not run what a user uploaded in the site's
			// origin: HTML, SVG, XML and scripts are downloaded, never
			// rendered (SharePoint's "strict" browser file handling), and
			// never framed, not even by the site's own pages.
			hd.Set("Content-Disposition", "attachment; filename*=UTF-8''"+url.PathEscape(f.Name))
			hd.Set("Content-Security-Policy", activeContentPolicy)
			hd.Set("X-Frame-Options", "DENY") // for browsers without frame-ancestors
		} else {
			// Passive content (a PDF, an image, text) may be framed by the
			// site's own pages, which preview PDFs in an iframe, and by no
			// other origin: no clickjacking through a framed download.
			// The name, so that a viewer's Save and its title say
			// "report.pdf", not "$value".
			hd.Set("Content-Disposition", "inline; filename*=UTF-8''"+url.PathEscape(f.Name))
			hd.Set("Content-Security-Policy", passiveContentPolicy)
			hd.Set("X-Frame-Options", "SAMEORIGIN")
		}
		http.ServeContent(countingWriter{ResponseWriter: w, m: h.Metrics}, r, "", f.Modified, rd)
	}}
}

// The policies a file's content is served with. A sandboxed document
// has an opaque origin and runs no script. Passive content is not
// sandboxed: a browser's PDF viewer may be script of the document itself
// (Firefox's pdf.js), which a sandbox would stop from drawing.
const (
	activeContentPolicy  = "sandbox; frame-ancestors 'none'"
	passiveContentPolicy = "frame-ancestors 'self'"
)

func cloneFile(f *storage.File) *storage.File { c := *f; return &c }

// mediaType is the type a file's name says, octet-stream when it says
// none.
func mediaType(name string) string {
	if t := mime.TypeByExtension(strings.ToLower(path.Ext(name))); t != "" {
		return t
	}
	return "application/octet-stream"
}

// activeContent reports whether a browser would run content of type ct
// as part of the page's origin.
func activeContent(ct string) bool {
	t, _, _ := strings.Cut(ct, ";")
	t = strings.TrimSpace(strings.ToLower(t))
	switch {
	case strings.HasPrefix(t, "text/html"), strings.Contains(t, "xml"), strings.Contains(t, "javascript"),
		t == "application/xhtml+xml", t == "image/svg+xml", t == "text/css":
		return true
	}
	return false
}
