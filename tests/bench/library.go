package bench

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
)

// Library sends the document-library calls PnPjs sends (files/
// addUsingPath, the chunk functions, $value) through an edge with a bearer
// token, streaming bodies both ways: the files benchmark and the farm
// tests of files use it alike.
type Library struct {
	// Edge is the edge's base URL ("http://127.0.0.1:8080").
	Edge string
	// Token returns a valid access token for each request.
	Token func(ctx context.Context) (string, error)
	// Client sends the requests; its timeout must allow the largest
	// transfer.
	Client *http.Client
}

// Answer is what a call answered. Body holds the answer's bytes, except
// for a download that succeeded, whose content went to its writer.
type Answer struct {
	Status int
	Header http.Header
	Body   []byte
	// Server is the X-Cesivi-Server-Id of the app server that answered;
	// empty when the edge answered by itself.
	Server string
}

func (a Answer) String() string {
	server := a.Server
	if server == "" {
		server = "(no server id)"
	}
	body := a.Body
	if len(body) > 400 {
		body = body[len(body)-400:]
	}
	return fmt.Sprintf("%s: %d %s", server, a.Status, body)
}

// FileAPI is the API path of the file at a server-relative URL
// ("/Shared Documents/a.bin"), as PnPjs addresses it.
func FileAPI(serverRelative string) string {
	return "/_api/web/getFileByServerRelativePath(decodedUrl='" + pathLiteral(serverRelative) + "')"
}

// FolderAPI is the API path of the folder at a server-relative URL.
func FolderAPI(serverRelative string) string {
	return "/_api/web/getFolderByServerRelativePath(decodedUrl='" + pathLiteral(serverRelative) + "')"
}

// pathLiteral is an OData string literal's content, escaped for a URL path.
func pathLiteral(p string) string {
	return url.PathEscape(strings.ReplaceAll(p, "'", "''"))
}

// Upload adds (or overwrites) the file name in folder with a simple
// upload of size bytes read from body (size < 0: length unknown, sent
// chunked).
func (l *Library) Upload(ctx context.Context, folder, name string, body io.Reader, size int64) (Answer, error) {
	path := FolderAPI(folder) + "/files/addUsingPath(decodedurl='" + pathLiteral(name) + "',Overwrite=true)"
	return l.Send(ctx, http.MethodPost, path, body, size, nil)
}

// Chunk sends one chunk function of a chunked upload of file, as PnPjs's
// addChunked does: fn is startUpload, continueUpload or finishUpload;
// offset is the bytes sent before this chunk (not sent for startUpload).
func (l *Library) Chunk(ctx context.Context, file, fn, uploadID string, offset int64, body io.Reader, size int64) (Answer, error) {
	path := FileAPI(file) + "/" + fn + "(uploadId=guid'" + uploadID + "'"
	if fn != "startUpload" {
		path += fmt.Sprintf(",fileOffset=%d", offset)
	}
	return l.Send(ctx, http.MethodPost, path+")", body, size, nil)
}

// Download streams the file's content ($value) into w and returns the
// answer and the bytes written; header is added to the request (Range,
// If-None-Match). Only a 200 or 206 answer's body goes to w.
func (l *Library) Download(ctx context.Context, file string, w io.Writer, header http.Header) (Answer, int64, error) {
	resp, err := l.do(ctx, http.MethodGet, FileAPI(file)+"/$value", nil, 0, header)
	if err != nil {
		return Answer{}, 0, err
	}
	defer resp.Body.Close()
	a := answerOf(resp)
	if resp.StatusCode != http.StatusOK && resp.StatusCode != http.StatusPartialContent {
		a.Body, err = io.ReadAll(resp.Body)
		return a, 0, err
	}
	n, err := io.Copy(w, resp.Body)
	if err != nil {
		return a, n, fmt.Errorf("GET %s: reading the content after %d bytes: %w", file, n, err)
	}
	return a, n, nil
}

// Send sends one request with body (nil: none) of size bytes and reads
// the whole answer.
func (l *Library) Send(ctx context.Context, method, path string, body io.Reader, size int64, header http.Header) (Answer, error) {
	resp, err := l.do(ctx, method, path, body, size, header)
	if err != nil {
		return Answer{}, err
	}
	defer resp.Body.Close()
	a := answerOf(resp)
	if a.Body, err = io.ReadAll(resp.Body); err != nil {
		return a, fmt.Errorf("%s %s: reading the answer: %w", method, path, err)
	}
	return a, nil
}

func (l *Library) do(ctx context.Context, method, path string, body io.Reader, size int64, header http.Header) (*http.Response, error) {
	if body == nil {
		body, size = http.NoBody, 0
	}
	req, err := http.NewRequestWithContext(ctx, method, l.Edge+path, body)
	if err != nil {
		return nil, err
	}
	req.ContentLength = size
	if size < 0 {
		req.ContentLength = -1
	}
	token, err := l.Token(ctx)
	if err != nil {
		return nil, fmt.Errorf("access token: %w", err)
	}
	req.Header.Set("Authorization", "Bearer "+token)
	req.Header.Set("Accept", "application/json;odata=nometadata")
	for k, v := range header {
		req.Header[k] = v
	}
	resp, err := l.Client.Do(req)
	if err != nil {
		return nil, fmt.Errorf("%s %s: %w", method, path, err)
	}
	return resp, nil
}

func answerOf(resp *http.Response) Answer {
	return Answer{Status: resp.StatusCode, Header: resp.Header, Server: resp.Header.Get("X-Cesivi-Server-Id")}
}
