package appserver

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strconv"
	"strings"
	"testing"

	"github.com/cesivi/cesivi/internal/identity"
	"github.com/cesivi/cesivi/internal/testenv"
	"github.com/cesivi/cesivi/keyring"
)

// pageClient calls a real server's /_api as the web pages do: a browser
// session (so writes need the form digest), odata=nometadata, an
// Idempotency-Key on every write. The edge's part, the signed assertion
// bound to each request, is played by the test.
type pageClient struct {
	t       *testing.T
	srv     *Server
	base    string
	subject string
	email   string
	digest  string
	keys    int // Idempotency-Keys handed out
}

type pageAnswer struct {
	status int
	header http.Header
	body   []byte
}

// json decodes the answer into a generic object.
func (a pageAnswer) obj(t *testing.T) map[string]any {
	t.Helper()
	var m map[string]any
	if err := json.Unmarshal(a.body, &m); err != nil {
		t.Fatalf("not JSON (%d): %s", a.status, a.body)
	}
	return m
}

// jsEncode is JavaScript's encodeURIComponent, which the pages use on
// every query option's value.
func jsEncode(s string) string {
	var b strings.Builder
	for _, c := range []byte(s) {
		switch {
		case 'a' <= c && c <= 'z', 'A' <= c && c <= 'Z', '0' <= c && c <= '9', strings.IndexByte("-_.!~*'()", c) >= 0:
			b.WriteByte(c)
		default:
			b.WriteString("%" + strings.ToUpper(strconv.FormatInt(int64(c)|0x100, 16)[1:]))
		}
	}
	return b.String()
}

func (p *pageClient) do(method, path string, body any, header map[string]string) pageAnswer {
	p.t.Helper()
	var rd io.Reader
	if body != nil {
		b, _ := json.Marshal(body)
		rd = bytes.NewReader(b)
	}
	req, err := http.NewRequest(method, p.base+path, rd)
	if err != nil {
		p.t.Fatal(err)
	}
	req.Header.Set("Accept", "application/json;odata=nometadata")
	if body != nil {
		req.Header.Set("Content-Type", "application/json;odata=nometadata")
	}
	if method != http.MethodGet {
		p.keys++
		req.Header.Set("Idempotency-Key", "page-"+strconv.Itoa(p.keys))
		if p.digest != "" {
			req.Header.Set("X-RequestDigest", p.digest)
		}
	}
	for k, v := range header {
		req.Header.Set(k, v)
	}
	tok, err := p.srv.backends.KeyRing.MintAssertion(keyring.Assertion{Subject: p.subject, Name: "Alice Example", Email: p.email,
		SessionID: "s-" + p.subject, Audience: identity.DefaultAudience, Request: method + " " + req.URL.RequestURI()})
	if err != nil {
		p.t.Fatal(err)
	}
	req.Header.Set(identity.AssertionHeader, tok)
	return p.send(req)
}

// send sends a request that carries its assertion and reads the answer.
func (p *pageClient) send(req *http.Request) pageAnswer {
	p.t.Helper()
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		p.t.Fatal(err)
	}
	defer res.Body.Close()
	b, _ := io.ReadAll(res.Body)
	return pageAnswer{status: res.StatusCode, header: res.Header, body: b}
}

// must calls and fails the test unless the answer has the status.
func (p *pageClient) must(status int, method, path string, body any, header map[string]string) pageAnswer {
	p.t.Helper()
	a := p.do(method, path, body, header)
	if a.status != status {
		p.t.Fatalf("%s %s: %d, want %d: %s", method, path, a.status, status, a.body)
	}
	return a
}

// The list view, the item form and the recycle bin rely on these REST
// calls, built as list.js, form.js and recycle.js build them (the same
// options, encoded as encodeURIComponent encodes them). The first view
// is two requests: the list with Fields and DefaultView/ViewFields
// expanded, then a page of items.
func TestTheListPagesRESTCallsWork(t *testing.T) {
	for _, provider := range []string{"InMemory", "PostgreSQL"} {
		t.Run(provider, func(t *testing.T) {
			env := []string{"Cesivi__Sites__Administrators=u-alice"}
			if provider == "PostgreSQL" {
				env = append(env, "Cesivi__Storage__Provider=PostgreSQL", "Cesivi__Storage__ConnectionString="+testenv.Postgres(t))
			}
			srv := newServer(t, env...)
			ts := httptest.NewServer(srv.Handler())
			defer ts.Close()
			pageRESTCalls(t, &pageClient{t: t, srv: srv, base: ts.URL, subject: "u-alice", email: "alice@example.com"})
		})
	}
}

func pageRESTCalls(t *testing.T, p *pageClient) {
	me := p.must(200, "GET", "/_api/web/currentUser", nil, nil).obj(t)
	// A write without the digest is refused: the pages must fetch one.
	p.must(403, "POST", "/_api/web/lists", map[string]any{"Title": "NoDigest", "BaseTemplate": 100}, nil)
	p.digest = p.must(200, "POST", "/_api/contextinfo", nil, nil).obj(t)["FormDigestValue"].(string)

	// The new list dialog, then fields of every kind the form knows.
	projects := p.must(201, "POST", "/_api/web/lists", map[string]any{"Title": "Projects", "BaseTemplate": 100}, nil).obj(t)
	tasks := p.must(201, "POST", "/_api/web/lists", map[string]any{"Title": "Tasks", "BaseTemplate": 100}, nil).obj(t)
	lp := "/_api/web/lists(guid'" + tasks["Id"].(string) + "')"
	pp := "/_api/web/lists(guid'" + projects["Id"].(string) + "')"
	for _, f := range []map[string]any{
		{"Title": "Priority", "FieldTypeKind": 9, "Indexed": true},
		{"Title": "Notes", "FieldTypeKind": 3},
		{"Title": "Done", "FieldTypeKind": 8},
		{"Title": "Due", "FieldTypeKind": 4},
		{"Title": "Status", "FieldTypeKind": 6, "Choices": []string{"Open", "Closed"}},
		{"Title": "Owner", "FieldTypeKind": 20},
		{"Title": "Project", "FieldTypeKind": 7, "LookupList": projects["Id"], "LookupField": "Title"},
	} {
		p.must(201, "POST", lp+"/fields", f, nil)
	}
	// The Add column dialog shows the server's refusal of a name the list
	// has already, as SharePoint words it.
	dup := p.must(400, "POST", lp+"/fields", map[string]any{"Title": "Priority", "FieldTypeKind": 2}, nil).obj(t)
	if e, _ := dup["odata.error"].(map[string]any); e == nil || e["message"].(map[string]any)["value"] != `A duplicate field name "Priority" was found.` {
		t.Errorf("a duplicate column: %s", jsonOf(dup))
	}

	// The site home: the web with the person's rights (the "New list"
	// button needs ManageLists), and its lists.
	webInfo := p.must(200, "GET", "/_api/web?$select=Title,EffectiveBasePermissions", nil, nil).obj(t)
	if !hasLow(webInfo, 0x800) {
		t.Fatalf("an administrator lacks ManageLists: %v", webInfo)
	}
	lists := p.must(200, "GET", "/_api/web/lists?$select=Id,Title,BaseTemplate,ItemCount,Hidden", nil, nil).obj(t)
	if n := len(lists["value"].([]any)); n < 2 {
		t.Fatalf("home sees %d lists", n)
	}

	// First view, request 1: the list, its fields, its default view's columns.
	list := p.must(200, "GET", lp+"?$select=Id,Title,BaseTemplate,ItemCount,ListItemEntityTypeFullName,EffectiveBasePermissions,Fields,DefaultView"+
		"&$expand=Fields,DefaultView/ViewFields", nil, nil).obj(t)
	fields, _ := list["Fields"].([]any)
	byName := map[string]map[string]any{}
	for _, f := range fields {
		m := f.(map[string]any)
		byName[m["InternalName"].(string)] = m
	}
	for name, typ := range map[string]string{"Title": "Text", "Priority": "Number", "Owner": "User", "Project": "Lookup", "Status": "Choice", "Editor": "User"} {
		if byName[name]["TypeAsString"] != typ {
			t.Errorf("expanded field %s: %v", name, byName[name])
		}
	}
	if ch, _ := byName["Status"]["Choices"].([]any); len(ch) != 2 {
		t.Errorf("Status choices %v", byName["Status"]["Choices"])
	}
	view, _ := list["DefaultView"].(map[string]any)
	vf, _ := view["ViewFields"].(map[string]any)
	if items, _ := vf["Items"].([]any); len(items) == 0 || items[0] != "LinkTitle" || view["RowLimit"] == nil {
		t.Fatalf("default view %v", view)
	}
	if !hasLow(list, 0xe) {
		t.Fatalf("an administrator lacks add/edit/delete: %v", list["EffectiveBasePermissions"])
	}

	// The item form's people picker and lookup: search, add a person.
	users := p.must(200, "GET", "/_api/web/siteUsers?$select=Id,Title,Email,LoginName&$filter="+
		jsEncode("substringof('alice',Title) or substringof('alice',Email) or substringof('alice',LoginName)")+"&$top=10", nil, nil).obj(t)
	if vs := users["value"].([]any); len(vs) != 1 || vs[0].(map[string]any)["Id"] != me["Id"] {
		t.Fatalf("people search: %s", jsonOf(users))
	}
	bob := p.must(200, "POST", "/_api/web/ensureUser", map[string]any{"logonName": "bob@example.com"}, nil).obj(t)
	p.must(201, "POST", pp+"/items", map[string]any{"Title": "Apollo"}, nil)
	lookup := p.must(200, "GET", pp+"/items?$select=Id,Title&$top=500", nil, nil).obj(t)
	project := lookup["value"].([]any)[0].(map[string]any)["Id"]

	// Adding items as the form sends them: only filled fields, user and
	// lookup as <Name>Id.
	for i, it := range []map[string]any{
		{"Title": "alpha", "Priority": 3, "Done": true, "Status": "Open", "OwnerId": me["Id"], "ProjectId": project, "Due": "2026-12-24T09:00:00.000Z"},
		{"Title": "beta", "Priority": 1, "Notes": "two\nlines", "OwnerId": bob["Id"]},
		{"Title": "gamma", "Priority": 2, "Status": "Closed"},
	} {
		if a := p.must(201, "POST", lp+"/items", it, nil); a.header.Get("ETag") == "" {
			t.Fatalf("item %d: no ETag", i)
		}
	}

	// First view, request 2, then sorted, filtered and paged as the page asks.
	sel := "$select=" + jsEncode("Id,Title,Priority,Notes,Done,Due,Status,OwnerId,Owner/Title,ProjectId,Project/Title")
	exp := "&$expand=" + jsEncode("Owner,Project")
	items := func(extra string) []map[string]any {
		t.Helper()
		r := p.must(200, "GET", lp+"/items?"+sel+"&$top=30"+exp+extra, nil, nil).obj(t)
		var out []map[string]any
		for _, v := range r["value"].([]any) {
			out = append(out, v.(map[string]any))
		}
		return out
	}
	titles := func(its []map[string]any) string {
		var s []string
		for _, it := range its {
			s = append(s, it["Title"].(string))
		}
		return strings.Join(s, ",")
	}
	first := items("")
	if titles(first) != "alpha,beta,gamma" {
		t.Fatalf("first page %s", titles(first))
	}
	if o, _ := first[0]["Owner"].(map[string]any); o["Title"] != me["Title"] || first[0]["Project"].(map[string]any)["Title"] != "Apollo" {
		t.Fatalf("expanded user/lookup %v", first[0])
	}
	for _, c := range []struct{ query, want string }{
		{"&$orderby=" + jsEncode("Priority desc"), "alpha,gamma,beta"},
		{"&$orderby=" + jsEncode("Title asc"), "alpha,beta,gamma"},
		{"&$orderby=" + jsEncode("OwnerId asc"), ""},
		{"&$filter=" + jsEncode("(substringof('ET',Title))"), "beta"},
		{"&$filter=" + jsEncode("(startswith(Title,'g'))"), "gamma"},
		{"&$filter=" + jsEncode("(Title eq 'alpha')"), "alpha"},
		{"&$filter=" + jsEncode("(Priority gt 1) and (Priority lt 3)"), "gamma"},
		{"&$filter=" + jsEncode("(Done eq 1)"), "alpha"},
		{"&$filter=" + jsEncode("(Status eq 'Closed')"), "gamma"},
		{"&$filter=" + jsEncode("(Due ge datetime'2026-12-01T00:00:00.000Z')"), "alpha"},
		{"&$filter=" + jsEncode("(OwnerId eq "+num(bob["Id"])+")"), "beta"},
		{"&$filter=" + jsEncode("(ProjectId eq "+num(project)+")"), "alpha"},
	} {
		got := titles(items(c.query))
		if c.want != "" && got != c.want {
			t.Errorf("%s: %s, want %s", c.query, got, c.want)
		}
	}
	// The person and lookup filters first find the ids by name.
	p.must(200, "GET", "/_api/web/siteUsers?$select=Id&$filter="+jsEncode("substringof('bob',Title) or substringof('bob',Email)")+"&$top=50", nil, nil)
	p.must(200, "GET", pp+"/items?$select=Id&$filter="+jsEncode("substringof('apo',Title)")+"&$top=50", nil, nil)

	// "More items" follows odata.nextLink on this origin.
	page := p.must(200, "GET", lp+"/items?"+sel+"&$top=2"+exp+"&$orderby="+jsEncode("Priority desc"), nil, nil).obj(t)
	next, _ := page["odata.nextLink"].(string)
	u, err := url.Parse(next)
	if err != nil || next == "" {
		t.Fatalf("nextLink %q", next)
	}
	rest := p.must(200, "GET", u.RequestURI(), nil, nil).obj(t)
	if vs := rest["value"].([]any); len(vs) != 1 || vs[0].(map[string]any)["Title"] != "beta" {
		t.Fatalf("second page %s", jsonOf(rest))
	}

	// The edit form reads the item with its ETag, saves with If-Match;
	// a stale ETag is 412 with a message, and the form rereads the item.
	formSel := "?$select=" + jsEncode("Id,Title,Priority,Notes,Done,Due,Status,OwnerId,Owner/Title,ProjectId,Project/Title,EditorId,Editor/Title,Modified") +
		"&$expand=" + jsEncode("Owner,Project,Editor")
	got := p.must(200, "GET", lp+"/items(1)"+formSel, nil, nil)
	etag := got.header.Get("ETag")
	if etag == "" || got.obj(t)["Editor"].(map[string]any)["Title"] == nil {
		t.Fatalf("form read: %v %s", got.header, got.body)
	}
	p.must(204, "POST", lp+"/items(1)", map[string]any{"Priority": 5}, map[string]string{"X-HTTP-Method": "MERGE", "IF-MATCH": etag})
	stale := p.must(412, "POST", lp+"/items(1)", map[string]any{"Title": "mine"}, map[string]string{"X-HTTP-Method": "MERGE", "IF-MATCH": etag})
	if msg, _ := stale.obj(t)["odata.error"].(map[string]any)["message"].(map[string]any)["value"].(string); msg == "" {
		t.Fatalf("412 without a message: %s", stale.body)
	}
	now := p.must(200, "GET", lp+"/items(1)"+formSel, nil, nil)
	if now.obj(t)["Priority"] != 5.0 || now.header.Get("ETag") == etag {
		t.Fatalf("reread after the conflict: %v %s", now.header, now.body)
	}

	// Delete moves to the recycle bin; the bin page restores and deletes for good.
	p.must(200, "POST", lp+"/items(2)/recycle", nil, nil)
	p.must(200, "POST", lp+"/items(3)/recycle", nil, nil)
	bin := p.must(200, "GET", "/_api/web/recycleBin?$select=Id,Title,LeafName,DirName,ItemType,DeletedDate,DeletedByName", nil, nil).obj(t)
	entries := bin["value"].([]any)
	if len(entries) != 2 {
		t.Fatalf("bin %s", jsonOf(bin))
	}
	for i, e := range entries {
		m := e.(map[string]any)
		if m["ItemType"] != 3.0 || m["DeletedByName"] == "" {
			t.Errorf("bin entry %v", m)
		}
		how := []string{"restore", "deleteObject"}[i]
		if a := p.do("POST", "/_api/web/recycleBin('"+m["Id"].(string)+"')/"+how, nil, nil); a.status != 200 && a.status != 204 {
			t.Fatalf("%s: %d %s", how, a.status, a.body)
		}
	}
	if n := len(items("")); n != 2 {
		t.Fatalf("after one restore and one delete for good: %d items", n)
	}
	if bin := p.must(200, "GET", "/_api/web/recycleBin?$select=Id", nil, nil).obj(t); len(bin["value"].([]any)) != 0 {
		t.Fatalf("bin not empty: %s", jsonOf(bin))
	}

	// A reader: the same first view, without the rights the edit buttons
	// need; a write is 403 with a message naming the missing permission.
	read := p.must(200, "GET", "/_api/web/roleDefinitions/getByName('Read')", nil, nil).obj(t)
	p.must(200, "POST", "/_api/web/roleAssignments/addRoleAssignment(principalid="+num(bob["Id"])+",roledefid="+num(read["Id"])+")", nil, nil)
	r := &pageClient{t: t, srv: p.srv, base: p.base, subject: "u-bob", email: "bob@example.com"}
	r.digest = r.must(200, "POST", "/_api/contextinfo", nil, nil).obj(t)["FormDigestValue"].(string)
	if w := r.must(200, "GET", "/_api/web?$select=Title,EffectiveBasePermissions", nil, nil).obj(t); hasLow(w, 0x800) {
		t.Errorf("a reader may manage lists: %v", w)
	}
	rl := r.must(200, "GET", lp+"?$select=Id,Title,BaseTemplate,ItemCount,ListItemEntityTypeFullName,EffectiveBasePermissions,Fields,DefaultView"+
		"&$expand=Fields,DefaultView/ViewFields", nil, nil).obj(t)
	if !hasLow(rl, 0x1) || hasLow(rl, 0x2) || hasLow(rl, 0x4) || hasLow(rl, 0x8) {
		t.Errorf("a reader's rights on the list: %v", rl["EffectiveBasePermissions"])
	}
	r.must(200, "GET", lp+"/items?"+sel+"&$top=30"+exp, nil, nil)
	denied := r.must(403, "POST", lp+"/items", map[string]any{"Title": "by a reader"}, nil)
	if !strings.Contains(string(denied.body), "AddListItems") {
		t.Errorf("the 403 does not name the permission: %s", denied.body)
	}
}

// hasLow reports whether an entity's EffectiveBasePermissions has the
// bits of SP.BasePermissions.Low.
func hasLow(ent map[string]any, bits uint64) bool {
	ebp, _ := ent["EffectiveBasePermissions"].(map[string]any)
	low, _ := strconv.ParseUint(fmt.Sprint(ebp["Low"]), 10, 64)
	return low&bits == bits
}

func num(v any) string { return strconv.FormatFloat(v.(float64), 'f', -1, 64) }

func jsonOf(v any) string { b, _ := json.Marshal(v); return string(b) }
