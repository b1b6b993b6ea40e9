package sharepoint_test

import (
	"bytes"
	"fmt"
	"strings"
	"testing"
)

// chunkPath is a file's chunk function, as PnPjs's addChunked sends it.
func chunkPath(file, fn, id string, offset int64) string {
	p := filePath(file) + "/" + fn + "(uploadId=guid'" + id + "'"
	if fn != "startUpload" && fn != "cancelUpload" {
		p += fmt.Sprintf(",fileOffset=%d", offset)
	}
	return p + ")"
}

func TestChunkedUploadsAsAddChunkedSendsThem(t *testing.T) {
	eachProvider(t, func(t *testing.T, a *api) {
		a.signIn("")
		const id = "2e96a924-ec8f-41c2-9a77-6f31ba0600a6"
		part := func(n int, c byte) []byte { return bytes.Repeat([]byte{c}, n) }
		// The stub first, empty, as PnPjs makes it.
		a.upload("/Shared Documents", "big.bin", nil, false).must(t, 200)
		r := a.req("POST", chunkPath("/Shared Documents/big.bin", "startUpload", id, 0), part(1000, 'a')).must(t, 200)
		if r.json["value"] != "1000" {
			t.Fatalf("startUpload: %s", r.body)
		}
		// A chunk at the wrong offset changes nothing.
		a.req("POST", chunkPath("/Shared Documents/big.bin", "continueUpload", id, 999), part(1000, 'x')).must(t, 400)
		r = a.req("POST", chunkPath("/Shared Documents/big.bin", "continueUpload", id, 1000), part(1000, 'b')).must(t, 200)
		if r.json["value"] != "2000" {
			t.Fatalf("continueUpload: %s", r.body)
		}
		// Resent after a lost answer: the same answer, nothing appended.
		if r := a.req("POST", chunkPath("/Shared Documents/big.bin", "continueUpload", id, 1000), part(1000, 'b')).must(t, 200); r.json["value"] != "2000" {
			t.Fatalf("resent chunk: %s", r.body)
		}
		// Another user cannot finish it.
		a.user, a.email = "bob-subject", "bob@example.com"
		a.joinGroup(t, "bob@example.com", "Cesivi Members")
		a.signIn("")
		a.req("POST", chunkPath("/Shared Documents/big.bin", "finishUpload", id, 2000), part(10, 'z')).must(t, 404)
		a.user, a.email = "alice-subject", "alice@example.com"
		a.signIn("")
		// The file stays empty until the upload finishes.
		if v := a.req("GET", filePath("/Shared Documents/big.bin")+"/$value", nil).must(t, 200); len(v.body) != 0 {
			t.Errorf("content before finishUpload: %d bytes", len(v.body))
		}
		f := a.req("POST", chunkPath("/Shared Documents/big.bin", "finishUpload", id, 2000), nil).must(t, 200)
		if f.json["Length"] != "2000" || f.json["Name"] != "big.bin" {
			t.Fatalf("finishUpload: %s", f.body)
		}
		v := a.req("GET", filePath("/Shared Documents/big.bin")+"/$value", nil).must(t, 200)
		if !bytes.Equal(v.body, append(part(1000, 'a'), part(1000, 'b')...)) {
			t.Errorf("assembled content: %d bytes", len(v.body))
		}
		// The upload is over: finishing it again names nothing.
		a.req("POST", chunkPath("/Shared Documents/big.bin", "finishUpload", id, 2000), nil).must(t, 404)
		a.req("POST", chunkPath("/Shared Documents/big.bin", "continueUpload", "11111111-2222-3333-4444-555555555555", 0), part(1, 'q')).must(t, 404)

		// Cancelled: the file keeps its content.
		const id2 = "3e96a924-ec8f-41c2-9a77-6f31ba0600a6"
		a.req("POST", chunkPath("/Shared Documents/big.bin", "startUpload", id2, 0), part(10, 'c')).must(t, 200)
		a.req("POST", chunkPath("/Shared Documents/big.bin", "cancelUpload", id2, 0), nil).must(t, 204)
		a.req("POST", chunkPath("/Shared Documents/big.bin", "finishUpload", id2, 10), nil).must(t, 404)
		if v := a.req("GET", filePath("/Shared Documents/big.bin")+"/$value", nil).must(t, 200); len(v.body) != 2000 {
			t.Errorf("after a cancelled upload: %d bytes", len(v.body))
		}
	})
}

func TestChunkedUploadsStopAtTheMaximumFileSize(t *testing.T) {
	eachProvider(t, func(t *testing.T, a *api) {
		a.handler.MaxFileSize = 1500
		a.signIn("")
		const id = "4e96a924-ec8f-41c2-9a77-6f31ba0600a6"
		a.upload("/Shared Documents", "big.bin", nil, false).must(t, 200)
		a.req("POST", chunkPath("/Shared Documents/big.bin", "startUpload", id, 0), bytes.Repeat([]byte("a"), 1000)).must(t, 200)
		a.req("POST", chunkPath("/Shared Documents/big.bin", "continueUpload", id, 1000), bytes.Repeat([]byte("b"), 1000)).must(t, 413)
	})
}

func TestCheckOutMakesAFileWritableOnlyByItsHolder(t *testing.T) {
	eachProvider(t, func(t *testing.T, a *api) {
		a.signIn("")
		a.upload("/Shared Documents", "doc.txt", []byte("v1"), false).must(t, 200)
		a.req("POST", filePath("/Shared Documents/doc.txt")+"/checkout", nil).must(t, 204)
		f := a.req("GET", filePath("/Shared Documents/doc.txt"), nil).must(t, 200)
		if f.json["CheckOutType"] != float64(0) {
			t.Errorf("CheckOutType while checked out: %s", f.body)
		}
		if u := a.req("GET", filePath("/Shared Documents/doc.txt")+"/checkedOutByUser", nil).must(t, 200); u.json["Email"] != "alice@example.com" {
			t.Errorf("checkedOutByUser: %s", u.body)
		}
		a.user, a.email = "bob-subject", "bob@example.com"
		a.joinGroup(t, "bob@example.com", "Cesivi Members")
		a.signIn("")
		e := a.upload("/Shared Documents", "doc.txt", []byte("bob"), true).must(t, 423)
		if !strings.Contains(e.errorCode(), "SPFileCheckOutException") {
			t.Errorf("423 code %q", e.errorCode())
		}
		a.req("POST", filePath("/Shared Documents/doc.txt"), nil, "X-HTTP-Method", "DELETE").must(t, 423)
		a.req("POST", filePath("/Shared Documents/doc.txt")+"/checkin(comment='x',checkintype=1)", nil).must(t, 423)
		a.user, a.email = "alice-subject", "alice@example.com"
		a.signIn("")
		a.upload("/Shared Documents", "doc.txt", []byte("v2"), true).must(t, 200)
		a.req("POST", filePath("/Shared Documents/doc.txt")+"/checkin(comment=@a2,checkintype=@a3)?@a2='it''s 50%25 done'&@a3=1", nil).must(t, 204)
		f = a.req("GET", filePath("/Shared Documents/doc.txt"), nil).must(t, 200)
		if f.json["CheckOutType"] != float64(2) || f.json["UIVersionLabel"] != "2.0" || f.json["CheckInComment"] != "it's 50% done" {
			t.Errorf("after check-in: %s", f.body)
		}
		if u := a.req("GET", filePath("/Shared Documents/doc.txt")+"/checkedOutByUser", nil).must(t, 200); u.json["odata.null"] != true {
			t.Errorf("checkedOutByUser after check-in: %s", u.body)
		}
		// Undo puts back what was there at check-out.
		a.req("POST", filePath("/Shared Documents/doc.txt")+"/checkout", nil).must(t, 204)
		a.upload("/Shared Documents", "doc.txt", []byte("draft"), true).must(t, 200)
		a.req("POST", filePath("/Shared Documents/doc.txt")+"/undoCheckout", nil).must(t, 204)
		if v := a.req("GET", filePath("/Shared Documents/doc.txt")+"/$value", nil).must(t, 200); string(v.body) != "v2" {
			t.Errorf("after undoCheckout: %q", v.body)
		}
		a.req("POST", filePath("/Shared Documents/doc.txt")+"/checkin(comment='',checkintype=1)", nil).must(t, 400)
	})
}

func TestFileVersionsKeepEarlierContent(t *testing.T) {
	eachProvider(t, func(t *testing.T, a *api) {
		a.signIn("")
		// How many versions a library keeps is the list's setting.
		a.req("POST", "/_api/web/lists/getByTitle('Documents')", map[string]any{"MajorVersionLimit": 0}, "X-HTTP-Method", "MERGE").must(t, 400)
		a.req("POST", "/_api/web/lists/getByTitle('Documents')", map[string]any{"MajorVersionLimit": 2}, "X-HTTP-Method", "MERGE").must(t, 204)
		if l := a.req("GET", "/_api/web/lists/getByTitle('Documents')?$select=EnableVersioning,MajorVersionLimit", nil).must(t, 200); l.json["MajorVersionLimit"] != float64(2) || l.json["EnableVersioning"] != true {
			t.Errorf("list: %s", l.body)
		}
		for _, c := range []string{"one", "two", "three"} {
			a.upload("/Shared Documents", "v.txt", []byte(c), true).must(t, 200)
		}
		vs := a.req("GET", filePath("/Shared Documents/v.txt")+"/versions", nil).must(t, 200).values(t)
		if len(vs) != 2 || vs[0]["VersionLabel"] != "1.0" || vs[0]["ID"] != float64(512) || vs[1]["VersionLabel"] != "2.0" {
			t.Fatalf("versions: %v", vs)
		}
		if m := a.req("GET", folderPath("/Shared Documents")+"/storageMetrics", nil).must(t, 200); m.json["TotalFileCount"] != float64(1) || m.json["TotalSize"] != "5" {
			t.Errorf("storageMetrics: %s", m.body)
		}
		if v := a.req("GET", filePath("/Shared Documents/v.txt")+"/versions(512)/$value", nil).must(t, 200); string(v.body) != "one" {
			t.Errorf("version 1.0: %q", v.body)
		}
		a.req("GET", filePath("/Shared Documents/v.txt")+"/versions(9999)", nil).must(t, 404)
		a.req("POST", filePath("/Shared Documents/v.txt")+"/versions/restoreByLabel(versionlabel='1.0')", nil).must(t, 204)
		f := a.req("GET", filePath("/Shared Documents/v.txt"), nil).must(t, 200)
		if f.json["UIVersionLabel"] != "4.0" {
			t.Errorf("after restore: %s", f.body)
		}
		if v := a.req("GET", filePath("/Shared Documents/v.txt")+"/$value", nil).must(t, 200); string(v.body) != "one" {
			t.Errorf("restored content %q", v.body)
		}
		// Four versions made, a limit of two: the oldest went.
		vs = a.req("GET", filePath("/Shared Documents/v.txt")+"/versions", nil).must(t, 200).values(t)
		if len(vs) != 2 || vs[0]["VersionLabel"] != "2.0" {
			t.Fatalf("versions under a limit of 2: %v", vs)
		}
		a.req("POST", filePath("/Shared Documents/v.txt")+"/versions/deleteById(vid=1024)", nil).must(t, 204)
		if vs := a.req("GET", filePath("/Shared Documents/v.txt")+"/versions", nil).must(t, 200).values(t); len(vs) != 1 {
			t.Errorf("after deleteById: %v", vs)
		}
		a.req("POST", filePath("/Shared Documents/v.txt")+"/versions/deleteAll", nil).must(t, 204)
		if vs := a.req("GET", filePath("/Shared Documents/v.txt")+"/versions", nil).must(t, 200).values(t); len(vs) != 0 {
			t.Errorf("after deleteAll: %v", vs)
		}
	})
}

func TestTheRecycleBinRestoresWhatWasRecycled(t *testing.T) {
	eachProvider(t, func(t *testing.T, a *api) {
		a.signIn("")
		a.req("POST", "/_api/web/folders/addUsingPath(DecodedUrl='Shared Documents/F')", nil).must(t, 200)
		a.upload("/Shared Documents/F", "in.txt", []byte("inside"), false).must(t, 200)
		r := a.req("POST", folderPath("/Shared Documents/F")+"/recycle", nil).must(t, 200)
		id, _ := r.json["value"].(string)
		if len(id) != 36 || !strings.HasSuffix(r.json["odata.metadata"].(string), "#Edm.Guid") {
			t.Fatalf("recycle: %s", r.body)
		}
		a.req("GET", filePath("/Shared Documents/F/in.txt"), nil).must(t, 404)
		bin := a.req("GET", "/_api/web/recycleBin", nil).must(t, 200).values(t)
		if len(bin) != 1 || bin[0]["Id"] != id || bin[0]["LeafName"] != "F" || bin[0]["ItemType"] != float64(5) || bin[0]["DirName"] != "Shared Documents" {
			t.Fatalf("bin: %v", bin)
		}
		if s := a.req("GET", "/_api/site/recycleBin", nil).must(t, 200).values(t); len(s) != 1 {
			t.Errorf("site bin: %v", s)
		}
		a.req("POST", "/_api/web/recycleBin('"+id+"')/restore", nil).must(t, 204)
		if v := a.req("GET", filePath("/Shared Documents/F/in.txt")+"/$value", nil).must(t, 200); string(v.body) != "inside" {
			t.Errorf("restored: %q", v.body)
		}
		if bin := a.req("GET", "/_api/web/recycleBin", nil).must(t, 200).values(t); len(bin) != 0 {
			t.Errorf("bin after restore: %v", bin)
		}
		a.req("GET", "/_api/web/recycleBin('"+id+"')", nil).must(t, 404)

		// A list item, and deleting for good.
		a.req("POST", "/_api/web/lists", map[string]any{"Title": "Tasks"}).must(t, 201)
		a.req("POST", "/_api/web/lists/getByTitle('Tasks')/items", map[string]any{"Title": "t1"}).must(t, 201)
		r = a.req("POST", "/_api/web/lists/getByTitle('Tasks')/items(1)/recycle", nil).must(t, 200)
		a.req("GET", "/_api/web/lists/getByTitle('Tasks')/items(1)", nil).must(t, 404)
		a.req("POST", "/_api/web/recycleBin('"+r.json["value"].(string)+"')/deleteObject", nil).must(t, 204)
		a.req("POST", "/_api/web/recycleBin('"+r.json["value"].(string)+"')/restore", nil).must(t, 404)
	})
}

func TestItemAttachments(t *testing.T) {
	eachProvider(t, func(t *testing.T, a *api) {
		a.signIn("")
		a.req("POST", "/_api/web/lists", map[string]any{"Title": "Tasks"}).must(t, 201)
		a.req("POST", "/_api/web/lists/getByTitle('Tasks')/items", map[string]any{"Title": "t1"}).must(t, 201)
		base := "/_api/web/lists/getByTitle('Tasks')/items(1)/attachmentFiles"
		r := a.req("POST", base+"/add(FileName='note%20sp%25%23''%26%2B.txt')", []byte("attached")).must(t, 200)
		if r.json["FileName"] != "note sp%#'&+.txt" || r.json["ServerRelativeUrl"] != "/Lists/Tasks/Attachments/1/note sp%#'&+.txt" {
			t.Fatalf("add: %s", r.body)
		}
		a.req("POST", base+"/add(FileName='note%20sp%25%23''%26%2B.txt')", []byte("again")).must(t, 400)
		if it := a.req("GET", "/_api/web/lists/getByTitle('Tasks')/items(1)", nil).must(t, 200); it.json["Attachments"] != true {
			t.Errorf("item Attachments: %s", it.body)
		}
		if l := a.req("GET", base, nil).must(t, 200).values(t); len(l) != 1 {
			t.Errorf("list: %v", l)
		}
		if v := a.req("GET", base+"('note%20sp%25%23''%26%2B.txt')/$value", nil).must(t, 200); string(v.body) != "attached" {
			t.Errorf("content %q", v.body)
		}
		a.req("POST", base+"('note%20sp%25%23''%26%2B.txt')/$value", []byte("replaced"), "X-HTTP-Method", "PUT").must(t, 204)
		if v := a.req("GET", base+"('note%20sp%25%23''%26%2B.txt')/$value", nil).must(t, 200); string(v.body) != "replaced" {
			t.Errorf("content after PUT %q", v.body)
		}
		a.req("POST", base+"('note%20sp%25%23''%26%2B.txt')/recycleObject", nil, "X-HTTP-Method", "DELETE", "IF-Match", "*").must(t, 200)
		if l := a.req("GET", base, nil).must(t, 200).values(t); len(l) != 0 {
			t.Errorf("after recycleObject: %v", l)
		}
		if it := a.req("GET", "/_api/web/lists/getByTitle('Tasks')/items(1)", nil).must(t, 200); it.json["Attachments"] != false {
			t.Errorf("item Attachments after: %s", it.body)
		}
		a.req("GET", "/_api/web/lists/getByTitle('Documents')/rootFolder", nil).must(t, 200)
		a.req("POST", base+"/add(FileName='CON')", []byte("x")).must(t, 400)
	})
}
