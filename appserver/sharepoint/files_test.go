package sharepoint_test

import (
	"bytes"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"

	"github.com/cesivi/cesivi/appserver/sharepoint"
)

// folderPath and filePath build the PnPjs URL forms: decodedUrl with the
// path escaped as encodeURIComponent does and quotes doubled.
func folderPath(p string) string {
	return "/_api/web/getFolderByServerRelativePath(decodedUrl='" + pathLiteral(p) + "')"
}

func filePath(p string) string {
	return "/_api/web/getFileByServerRelativePath(decodedUrl='" + pathLiteral(p) + "')"
}

func pathLiteral(p string) string {
	return url.PathEscape(strings.ReplaceAll(p, "'", "''"))
}

// upload adds a file with addUsingPath, as PnPjs sends it.
func (a *api) upload(folder, name string, content []byte, overwrite bool, headers ...string) *result {
	a.t.Helper()
	path := folderPath(folder) + "/files/addUsingPath(decodedurl='" + pathLiteral(name) + "'" +
		fmt.Sprintf(",Overwrite=%t)", overwrite)
	return a.req(http.MethodPost, path, content, headers...)
}

func TestLibraryFoldersFilesAndTheirItems(t *testing.T) {
	eachProvider(t, func(t *testing.T, a *api) {
		a.signIn("")
		a.req("POST", "/_api/web/folders/addUsingPath(decodedurl='Shared Documents/Reports')", nil).must(t, 200)
		r := a.req("POST", folderPath("/Shared Documents/Reports")+"/folders/addUsingPath(decodedurl='2026')", nil).must(t, 200)
		if r.json["odata.type"] != "SP.Folder" || r.json["ServerRelativeUrl"] != "/Shared Documents/Reports/2026" || r.json["Name"] != "2026" {
			t.Fatalf("nested folder: %s", r.body)
		}

		f := a.upload("/Shared Documents/Reports/2026", "hello.txt", []byte("hello"), false).must(t, 200)
		guid, _ := f.json["UniqueId"].(string)
		if f.json["odata.type"] != "SP.File" || f.json["Name"] != "hello.txt" || f.json["Length"] != "5" ||
			f.json["ServerRelativeUrl"] != "/Shared Documents/Reports/2026/hello.txt" || f.json["UIVersionLabel"] != "1.0" ||
			f.json["ETag"] != `"{`+strings.ToUpper(guid)+`},1"` || guid == "" {
			t.Fatalf("file: %s", f.body)
		}

		v := a.req("GET", filePath("/Shared Documents/Reports/2026/hello.txt")+"/$value", nil).must(t, 200)
		if string(v.body) != "hello" || v.header.Get("Content-Length") != "5" ||
			!strings.HasPrefix(v.header.Get("Content-Type"), "text/plain") || v.header.Get("ETag") != f.json["ETag"] ||
			v.header.Get("Last-Modified") == "" {
			t.Errorf("download: %q %v", v.body, v.header)
		}
		// The web-relative form and %24value name the same file.
		if v := a.req("GET", filePath("Shared Documents/Reports/2026/hello.txt")+"/%24value", nil).must(t, 200); string(v.body) != "hello" {
			t.Errorf("web-relative download %q", v.body)
		}
		if p := a.req("GET", filePath("/Shared Documents/Reports/2026/hello.txt")+"/$value", nil, "Range", "bytes=1-2").must(t, 206); string(p.body) != "el" {
			t.Errorf("range: %q", p.body)
		}
		a.req("GET", filePath("/Shared Documents/Reports/2026/hello.txt")+"/$value", nil, "Range", "bytes=10-").must(t, 416)
		a.req("GET", filePath("/Shared Documents/Reports/2026/hello.txt")+"/$value", nil, "If-None-Match", f.json["ETag"].(string)).must(t, 304)

		// Without Overwrite an existing name is refused and nothing changes.
		e := a.upload("/Shared Documents/Reports/2026", "hello.txt", []byte("other"), false).must(t, 400)
		if e.errorCode() != "-2130575257, Microsoft.SharePoint.SPException" {
			t.Errorf("exists code %q", e.errorCode())
		}
		o := a.upload("/Shared Documents/Reports/2026", "hello.txt", []byte("hello world"), true).must(t, 200)
		if o.json["UniqueId"] != guid || o.json["MajorVersion"] != float64(2) || o.json["Length"] != "11" {
			t.Errorf("overwrite: %s", o.body)
		}
		a.upload("/Shared Documents/Reports/2026", "hello.txt", []byte("stale"), true, "IF-Match", f.json["ETag"].(string)).must(t, 412)
		if v := a.req("GET", filePath("/Shared Documents/Reports/2026/hello.txt")+"/$value", nil).must(t, 200); string(v.body) != "hello world" {
			t.Errorf("after overwrite and a stale one: %q", v.body)
		}

		files := a.req("GET", folderPath("/Shared Documents/Reports/2026")+"/files", nil).must(t, 200).values(t)
		if len(files) != 1 || files[0]["Name"] != "hello.txt" {
			t.Errorf("files: %v", files)
		}
		if fs := a.req("GET", folderPath("/Shared Documents/Reports")+"/folders", nil).must(t, 200).values(t); len(fs) != 1 || fs[0]["Name"] != "2026" {
			t.Errorf("folders: %v", fs)
		}
		if r := a.req("GET", folderPath("/Shared Documents/Reports/2026"), nil).must(t, 200); r.json["ItemCount"] != float64(1) {
			t.Errorf("ItemCount: %s", r.body)
		}

		// The file is an item of its library, found by $filter.
		it := a.req("GET", filePath("/Shared Documents/Reports/2026/hello.txt")+"/listItemAllFields?$select=Id,FileLeafRef,FileRef,FileDirRef,FSObjType", nil).must(t, 200)
		if it.json["FileLeafRef"] != "hello.txt" || it.json["FileRef"] != "/Shared Documents/Reports/2026/hello.txt" ||
			it.json["FileDirRef"] != "/Shared Documents/Reports/2026" || it.json["FSObjType"] != float64(0) {
			t.Errorf("item: %s", it.body)
		}
		id := it.json["Id"].(float64)
		items := a.req("GET", "/_api/web/lists/getByTitle('Documents')/items?$filter=FileLeafRef eq 'hello.txt'&$select=Id", nil).must(t, 200).values(t)
		if len(items) != 1 || items[0]["Id"] != id {
			t.Errorf("filter by FileLeafRef: %v", items)
		}
		ex := a.req("GET", "/_api/web/lists/getByTitle('Documents')/items?$select=Id,FileLeafRef,File/Name,File/Length,Folder/Name&$expand=File,Folder", nil).must(t, 200).values(t)
		for _, e := range ex {
			file, _ := e["File"].(map[string]any)
			folder, _ := e["Folder"].(map[string]any)
			switch e["FileLeafRef"] {
			case "hello.txt":
				if file["Name"] != "hello.txt" || file["Length"] != "11" || e["Folder"] != nil {
					t.Errorf("expanded file: %v", e)
				}
			case "2026", "Reports":
				if folder["Name"] != e["FileLeafRef"] || e["File"] != nil {
					t.Errorf("expanded folder: %v", e)
				}
			default:
				t.Errorf("item %v", e)
			}
		}
		if len(ex) != 3 {
			t.Errorf("%d items with $expand=File,Folder", len(ex))
		}
		if r := a.req("GET", fmt.Sprintf("/_api/web/lists/getByTitle('Documents')/items(%d)/file", int(id)), nil).must(t, 200); r.json["UniqueId"] != guid {
			t.Errorf("item/file: %s", r.body)
		}
		if r := a.req("GET", "/_api/web/getFileById('"+guid+"')", nil).must(t, 200); r.json["Name"] != "hello.txt" {
			t.Errorf("getFileById: %s", r.body)
		}
		if r := a.req("GET", "/_api/web/lists/getByTitle('Documents')/rootFolder/folders", nil).must(t, 200).values(t); len(r) != 1 || r[0]["Name"] != "Reports" {
			t.Errorf("rootFolder/folders: %v", r)
		}

		// Deleting a folder deletes what it holds, items included.
		a.req("POST", folderPath("/Shared Documents/Reports"), nil, "X-HTTP-Method", "DELETE").must(t, 200)
		a.req("GET", filePath("/Shared Documents/Reports/2026/hello.txt"), nil).must(t, 404)
		if items := a.req("GET", "/_api/web/lists/getByTitle('Documents')/items", nil).must(t, 200).values(t); len(items) != 0 {
			t.Errorf("items after the folder's delete: %v", items)
		}
	})
}

func TestFileBytesAreCounted(t *testing.T) {
	eachProvider(t, func(t *testing.T, a *api) {
		reg := prometheus.NewRegistry()
		a.handler.Metrics = sharepoint.NewMetrics(reg)
		a.signIn("")
		a.upload("/Shared Documents", "m.txt", []byte("12345"), false).must(t, 200)
		a.req("GET", filePath("/Shared Documents/m.txt")+"/$value", nil).must(t, 200)
		a.req("GET", filePath("/Shared Documents/m.txt")+"/$value", nil, "Range", "bytes=0-1").must(t, 206)
		a.req("POST", chunkPath("/Shared Documents/m.txt", "startUpload", "5e96a924-ec8f-41c2-9a77-6f31ba0600a6", 0), []byte("abc")).must(t, 200)
		if got := testutil.ToFloat64(a.handler.Metrics.UploadedCounter()); got != 8 {
			t.Errorf("uploaded %v bytes, want 8", got)
		}
		if got := testutil.ToFloat64(a.handler.Metrics.DownloadedCounter()); got != 7 {
			t.Errorf("downloaded %v bytes, want 7", got)
		}
		if got := testutil.ToFloat64(a.handler.Metrics.SessionCounter("started")); got != 1 {
			t.Errorf("sessions started %v", got)
		}
	})
}

func TestFileNamesWithCharactersURLsCarry(t *testing.T) {
	eachProvider(t, func(t *testing.T, a *api) {
		a.signIn("")
		for _, name := range []string{"with space.txt", "100%.txt", "a#b.txt", "it's.txt", "R&D.txt", "1+1.txt", "ünï cødé.txt"} {
			r := a.upload("/Shared Documents", name, []byte(name), false).must(t, 200)
			if r.json["Name"] != name || r.json["ServerRelativeUrl"] != "/Shared Documents/"+name {
				t.Errorf("%q: %s", name, r.body)
			}
			if v := a.req("GET", filePath("/Shared Documents/"+name)+"/$value", nil).must(t, 200); string(v.body) != name {
				t.Errorf("%q: content %q", name, v.body)
			}
		}
	})
}

func TestBadFileNamesAndPathsAreRefusedAndStoreNothing(t *testing.T) {
	eachProvider(t, func(t *testing.T, a *api) {
		a.signIn("")
		for _, name := range []string{"a:b.txt", "a*b", "a?b", "a<b", "a|b", `a"b`, "trailing.", " lead.txt", "trail.txt ", "CON", "lpt1.txt", ".."} {
			r := a.upload("/Shared Documents", name, []byte("x"), false)
			// The message names the rule, not the name (a reserved name is
			// in the rule's list).
			if r.status != 400 || r.errorMessage() == "" || (len(name) > 3 && strings.Contains(r.errorMessage(), name)) {
				t.Errorf("%q: %d %s", name, r.status, r.body)
			}
		}
		for _, p := range []string{"Shared Documents/../../x", "/Shared Documents/./x", "/Shared Documents//x", `/Shared Documents\x`} {
			if r := a.req("GET", folderPath(p), nil); r.status != 400 {
				t.Errorf("%q: %d %s", p, r.status, r.body)
			}
		}
		// A folder of another web, or no library at all, names nothing here.
		a.req("POST", "/_api/SPSiteManager/create", map[string]any{"request": map[string]any{"Title": "Other", "Url": "/sites/other"}}).must(t, 200)
		a.req("GET", folderPath("/sites/other/Shared Documents"), nil).must(t, 404)
		a.upload("/sites/other/Shared Documents", "x.txt", []byte("x"), false).must(t, 404)
		a.req("GET", folderPath("/Lists/Nothing"), nil).must(t, 404)
		if fs := a.req("GET", folderPath("/Shared Documents")+"/files", nil).must(t, 200).values(t); len(fs) != 0 {
			t.Errorf("files stored: %v", fs)
		}
		// Items cannot be added to a library without a file.
		a.req("POST", "/_api/web/lists/getByTitle('Documents')/items", map[string]any{"Title": "x"}).must(t, 400)
	})
}

func TestUploadLimitsAndBrokenUploadsStoreNothing(t *testing.T) {
	eachProvider(t, func(t *testing.T, a *api) {
		a.handler.MaxUpload = 1 << 10
		a.signIn("")
		big := bytes.Repeat([]byte("x"), 2<<10)
		r := a.upload("/Shared Documents", "big.bin", big, false).must(t, 413)
		if !strings.Contains(r.errorMessage(), "chunks") {
			t.Errorf("413 message: %s", r.body)
		}
		// Without a Content-Length the limit holds while streaming.
		req, _ := http.NewRequest("POST", a.srv.URL+folderPath("/Shared Documents")+"/files/addUsingPath(decodedurl='big.bin')",
			io.MultiReader(bytes.NewReader(big)))
		a.sign(req)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != 413 || resp.ContentLength == 0 {
			t.Errorf("chunked oversize: %d", resp.StatusCode)
		}
		a.upload("/Shared Documents", "exact.bin", big[:1<<10], false).must(t, 200)

		// A client that goes away mid-upload leaves no file and no blob.
		before, served := a.blobCount(), a.finished.Load()
		conn, err := net.Dial("tcp", a.srv.Listener.Addr().String())
		if err != nil {
			t.Fatal(err)
		}
		req, _ = http.NewRequest("POST", a.srv.URL+folderPath("/Shared Documents")+"/files/addUsingPath(decodedurl='cut.bin')", nil)
		a.sign(req)
		req.ContentLength = 1000
		req.Header.Set("Content-Length", "1000")
		var head bytes.Buffer
		_ = req.Header.Write(&head)
		fmt.Fprintf(conn, "POST %s HTTP/1.1\r\nHost: x\r\n%s\r\n%s", req.URL.RequestURI(), head.String(), strings.Repeat("y", 100))
		conn.Close()
		a.waitFinished(served)
		a.req("GET", filePath("/Shared Documents/cut.bin"), nil).must(t, 404)
		if n := a.blobCount(); n != before {
			t.Errorf("blobs %d after a cut upload, %d before", n, before)
		}
	})
}

// TestActiveContentIsDownloadedNotRendered: what a browser would run in
// the site's origin (HTML, SVG, scripts) comes as a sandboxed attachment
// no page may frame; passive content (a PDF, text) is shown inline and
// may be framed by the site's own pages only (the web UI previews PDFs
// in an iframe). Earlier versions and ranges carry the same headers.
func TestActiveContentIsDownloadedNotRendered(t *testing.T) {
	eachProvider(t, func(t *testing.T, a *api) {
		a.signIn("")
		pdf := []byte("%PDF-1.4\n%minimal\n")
		for _, f := range []struct {
			name    string
			content []byte
			active  bool
		}{
			{"page.html", []byte("<script>alert(1)</script>"), true},
			{"logo.svg", []byte(`<svg xmlns="http://www.w3.org/2000/svg" onload="alert(1)"/>`), true},
			{"run.js", []byte("alert(1)"), true},
			{"report.pdf", pdf, false},
			{"note.txt", []byte("plain"), false},
			{"Résumé 2026.pdf", pdf, false},
		} {
			a.upload("/Shared Documents", f.name, f.content, false).must(t, 200)
			a.upload("/Shared Documents", f.name, append(f.content, ' '), true).must(t, 200)
			file := filePath("/Shared Documents/" + f.name)
			for _, got := range []*result{
				a.req("GET", file+"/$value", nil).must(t, 200),
				a.req("GET", file+"/$value", nil, "Range", "bytes=0-1").must(t, 206),
				a.req("GET", file+"/versions(512)/$value", nil).must(t, 200),
			} {
				h := got.header
				if h.Get("X-Content-Type-Options") != "nosniff" {
					t.Errorf("%s: no nosniff: %v", f.name, h)
				}
				disp, csp, xfo := h.Get("Content-Disposition"), h.Get("Content-Security-Policy"), h.Get("X-Frame-Options")
				if f.active {
					if !strings.HasPrefix(disp, "attachment") || csp != "sandbox; frame-ancestors 'none'" || xfo != "DENY" {
						t.Errorf("%s: active content served with disposition %q, policy %q, X-Frame-Options %q", f.name, disp, csp, xfo)
					}
				} else if disp != "inline; filename*=UTF-8''"+url.PathEscape(f.name) || csp != "frame-ancestors 'self'" || xfo != "SAMEORIGIN" {
					t.Errorf("%s: passive content served with disposition %q, policy %q, X-Frame-Options %q", f.name, disp, csp, xfo)
				}
			}
		}
		if ct := a.req("GET", filePath("/Shared Documents/report.pdf")+"/$value", nil).must(t, 200).header.Get("Content-Type"); ct != "application/pdf" {
			t.Errorf("a PDF is served as %q", ct)
		}
	})
}

func TestReplacingContentWithPutValue(t *testing.T) {
	eachProvider(t, func(t *testing.T, a *api) {
		a.signIn("")
		f := a.upload("/Shared Documents", "doc.txt", []byte("one"), false).must(t, 200)
		r := a.req("POST", filePath("/Shared Documents/doc.txt")+"/$value", []byte("two"), "X-HTTP-Method", "PUT").must(t, 204)
		if r.header.Get("ETag") == f.json["ETag"] || r.header.Get("ETag") == "" {
			t.Errorf("etag after PUT: %q", r.header.Get("ETag"))
		}
		a.req("PUT", filePath("/Shared Documents/doc.txt")+"/$value", []byte("stale"), "IF-Match", f.json["ETag"].(string)).must(t, 412)
		if v := a.req("GET", filePath("/Shared Documents/doc.txt")+"/$value", nil).must(t, 200); string(v.body) != "two" {
			t.Errorf("content %q", v.body)
		}
		// Deleting with a stale ETag is refused too.
		a.req("POST", filePath("/Shared Documents/doc.txt"), nil, "X-HTTP-Method", "DELETE", "IF-Match", f.json["ETag"].(string)).must(t, 412)
		a.req("POST", filePath("/Shared Documents/doc.txt"), nil, "X-HTTP-Method", "DELETE", "IF-Match", "*").must(t, 200)
		a.req("GET", filePath("/Shared Documents/doc.txt"), nil).must(t, 404)
	})
}

func TestMoveAndCopyAsPnPjsSendsThem(t *testing.T) {
	eachProvider(t, func(t *testing.T, a *api) {
		a.signIn("")
		a.req("POST", "/_api/web/folders/addUsingPath(DecodedUrl='%2FShared%20Documents%2FA',overwrite=false)", nil).must(t, 200)
		src := a.upload("/Shared Documents/A", "x.txt", []byte("content"), false).must(t, 200)
		// PnPjs reads the web URL off odata.id under $select.
		sel := a.req("GET", filePath("/Shared Documents/A/x.txt")+"?$select=ServerRelativeUrl", nil).must(t, 200)
		if id, _ := sel.json["odata.id"].(string); !strings.HasPrefix(id, a.srv.URL+"/_api/") || sel.json["ServerRelativeUrl"] != "/Shared Documents/A/x.txt" {
			t.Errorf("$select=ServerRelativeUrl: %s", sel.body)
		}
		body := func(from, to string, keepBoth bool) map[string]any {
			return map[string]any{
				"srcPath":  map[string]any{"DecodedUrl": a.srv.URL + from},
				"destPath": map[string]any{"DecodedUrl": a.srv.URL + to},
				"options":  map[string]any{"KeepBoth": keepBoth, "ResetAuthorAndCreatedOnCopy": true, "ShouldBypassSharedLocks": true},
			}
		}
		// Decoded URLs are absolute and unescaped: '#' and '%' are the name's.
		r := a.req("POST", "/_api/SP.MoveCopyUtil.CopyFileByPath(overwrite=@a1)?@a1=false", body("/Shared Documents/A/x.txt", "/Shared Documents/A/copy #1 100%.txt", false)).must(t, 200)
		if r.json["odata.null"] != true {
			t.Errorf("copy answer: %s", r.body)
		}
		c := a.req("GET", filePath("/Shared Documents/A/copy #1 100%.txt"), nil).must(t, 200)
		if c.json["UniqueId"] == src.json["UniqueId"] {
			t.Errorf("a copy keeps the id: %s", c.body)
		}
		if v := a.req("GET", filePath("/Shared Documents/A/copy #1 100%.txt")+"/$value", nil).must(t, 200); string(v.body) != "content" {
			t.Errorf("copy content %q", v.body)
		}
		a.req("POST", "/_api/SP.MoveCopyUtil.CopyFileByPath(overwrite=@a1)?@a1=false", body("/Shared Documents/A/x.txt", "/Shared Documents/A/copy #1 100%.txt", false)).must(t, 400)
		a.req("POST", "/_api/SP.MoveCopyUtil.CopyFileByPath(overwrite=@a1)?@a1=false", body("/Shared Documents/A/x.txt", "/Shared Documents/A/copy #1 100%.txt", true)).must(t, 200)
		a.req("GET", filePath("/Shared Documents/A/copy #1 100% 1.txt"), nil).must(t, 200)

		a.req("POST", "/_api/SP.MoveCopyUtil.MoveFileByPath(overwrite=@a1)?@a1=true", body("/Shared Documents/A/x.txt", "/Shared Documents/moved.txt", false)).must(t, 200)
		a.req("GET", filePath("/Shared Documents/A/x.txt"), nil).must(t, 404)
		m := a.req("GET", filePath("/Shared Documents/moved.txt"), nil).must(t, 200)
		if m.json["UniqueId"] != src.json["UniqueId"] {
			t.Errorf("a move changes the id: %s", m.body)
		}

		// A folder moves with what it holds; its items follow.
		a.req("POST", "/_api/SP.MoveCopyUtil.MoveFolderByPath()", body("/Shared Documents/A", "/Shared Documents/B", false)).must(t, 200)
		it := a.req("GET", filePath("/Shared Documents/B/copy #1 100%.txt")+"/listItemAllFields?$select=FileRef,FileDirRef", nil).must(t, 200)
		if it.json["FileRef"] != "/Shared Documents/B/copy #1 100%.txt" || it.json["FileDirRef"] != "/Shared Documents/B" {
			t.Errorf("moved item: %s", it.body)
		}
		a.req("GET", folderPath("/Shared Documents/A"), nil).must(t, 404)

		// The older functions, relative to the web.
		a.req("POST", filePath("/Shared Documents/moved.txt")+"/copyTo(strnewurl='Shared Documents/B/again.txt',boverwrite=false)", nil).must(t, 200)
		a.req("POST", filePath("/Shared Documents/B/again.txt")+"/moveTo(newurl='/Shared Documents/again.txt',flags=1)", nil).must(t, 200)
		a.req("GET", filePath("/Shared Documents/again.txt"), nil).must(t, 200)

		// Never out of the site collection.
		a.req("POST", "/_api/SPSiteManager/create", map[string]any{"request": map[string]any{"Title": "Other", "Url": "/sites/other"}}).must(t, 200)
		a.req("POST", "/_api/SP.MoveCopyUtil.CopyFileByPath(overwrite=@a1)?@a1=false", body("/Shared Documents/moved.txt", "/sites/other/Shared Documents/x.txt", false)).must(t, 404)

		// PnPjs asks for a digest under a folder's path after a move.
		if r := a.req("POST", "/Shared%20Documents/B/_api/contextinfo", nil).must(t, 200); r.json["WebFullUrl"] != a.srv.URL {
			t.Errorf("contextinfo under a folder: %s", r.body)
		}
		// The root folder's listItemAllFields is odata.null.
		if r := a.req("GET", "/_api/web/lists/getByTitle('Documents')/rootFolder/listItemAllFields", nil).must(t, 200); r.json["odata.null"] != true {
			t.Errorf("root folder item: %s", r.body)
		}
	})
}

func TestWritingFileLeafRefRenames(t *testing.T) {
	eachProvider(t, func(t *testing.T, a *api) {
		a.signIn("")
		a.upload("/Shared Documents", "old.txt", []byte("x"), false).must(t, 200)
		a.upload("/Shared Documents", "taken.txt", []byte("y"), false).must(t, 200)
		it := a.req("GET", filePath("/Shared Documents/old.txt")+"/listItemAllFields?$select=Id", nil).must(t, 200)
		item := fmt.Sprintf("/_api/web/lists/getByTitle('Documents')/items(%d)", int(it.json["Id"].(float64)))
		a.req("POST", item, map[string]any{"FileLeafRef": "taken.txt"}, "X-HTTP-Method", "MERGE", "IF-Match", "*").must(t, 400)
		a.req("POST", item, map[string]any{"FileLeafRef": "bad:name.txt"}, "X-HTTP-Method", "MERGE", "IF-Match", "*").must(t, 400)
		r := a.req("POST", item, map[string]any{"FileLeafRef": "new.txt"}, "X-HTTP-Method", "MERGE", "IF-Match", "*").must(t, 204)
		if r.header.Get("ETag") == "" {
			t.Errorf("no ETag after the rename")
		}
		a.req("GET", filePath("/Shared Documents/old.txt"), nil).must(t, 404)
		if v := a.req("GET", filePath("/Shared Documents/new.txt")+"/$value", nil).must(t, 200); string(v.body) != "x" {
			t.Errorf("renamed content %q", v.body)
		}
	})
}
