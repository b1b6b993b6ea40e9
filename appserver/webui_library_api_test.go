package appserver

import (
	"bytes"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"testing"

	"github.com/cesivi/cesivi/internal/identity"
	"github.com/cesivi/cesivi/internal/testenv"
	"github.com/cesivi/cesivi/keyring"
)

// The library page and the people-and-groups pages rely on these REST
// calls, built as library.js and permissions.js build them. Each call
// that the pages' buttons send is sent here once and its effect checked,
// on both storage providers.
func TestTheLibraryAndPermissionsPagesRESTCallsWork(t *testing.T) {
	for _, provider := range []string{"InMemory", "PostgreSQL"} {
		t.Run(provider, func(t *testing.T) {
			env := []string{"Cesivi__Sites__Administrators=u-alice"}
			if provider == "PostgreSQL" {
				env = append(env, "Cesivi__Storage__Provider=PostgreSQL", "Cesivi__Storage__ConnectionString="+testenv.Postgres(t))
			}
			srv := newServer(t, env...)
			ts := httptest.NewServer(srv.Handler())
			defer ts.Close()
			p := &pageClient{t: t, srv: srv, base: ts.URL, subject: "u-alice", email: "alice@example.com"}
			p.digest = p.ok("POST", "/_api/contextinfo", nil, nil).obj(t)["FormDigestValue"].(string)
			libraryRESTCalls(t, p)
			permissionsRESTCalls(t, p)
			subsiteRESTCalls(t, p)
		})
	}
}

// odataQuoted is library.js's odataString: an OData string literal.
func odataQuoted(s string) string { return "'" + strings.ReplaceAll(s, "'", "''") + "'" }

func fileAPI(url string) string {
	return "/_api/web/getFileByServerRelativePath(decodedUrl=" + jsPath(odataQuoted(url)) + ")"
}

func folderAPI(url string) string {
	return "/_api/web/getFolderByServerRelativePath(decodedUrl=" + jsPath(odataQuoted(url)) + ")"
}

// jsPath is how fetch sends a path the page wrote unencoded: spaces and
// other characters a URL path cannot hold as they are get escaped.
func jsPath(s string) string { return strings.ReplaceAll(s, " ", "%20") }

func libraryRESTCalls(t *testing.T, p *pageClient) {
	lib := p.must(201, "POST", "/_api/web/lists", map[string]any{"Title": "Team Files", "BaseTemplate": 101}, nil).obj(t)
	lp := "/_api/web/lists(guid'" + lib["Id"].(string) + "')"

	// Request 1: the library, its root folder and the caller's rights.
	got := p.must(200, "GET", lp+"?$select="+jsEncode("Id,Title,EffectiveBasePermissions,RootFolder/ServerRelativeUrl")+"&$expand=RootFolder", nil, nil).obj(t)
	rf, _ := got["RootFolder"].(map[string]any)
	root, _ := rf["ServerRelativeUrl"].(string)
	if root == "" {
		t.Fatalf("no root folder: %s", jsonOf(got))
	}
	if ebp, _ := got["EffectiveBasePermissions"].(map[string]any); ebp == nil {
		t.Fatalf("no EffectiveBasePermissions: %s", jsonOf(got))
	}

	// New folder, then uploads into it: one request, and chunked.
	p.ok("POST", folderAPI(root)+"/folders/addUsingPath(DecodedUrl="+jsPath(odataQuoted("Plans"))+")", nil, nil)
	plans := root + "/Plans"
	upload := func(path string, body string) pageAnswer {
		t.Helper()
		return p.doRaw("POST", path, []byte(body))
	}
	if a := upload(folderAPI(plans)+"/files/addUsingPath(decodedurl="+jsPath(odataQuoted("notes.txt"))+",overwrite=true)", "first words"); a.status != 200 {
		t.Fatalf("upload: %d %s", a.status, a.body)
	}
	big := strings.Repeat("a", 10) + strings.Repeat("b", 10) + strings.Repeat("c", 5)
	if a := upload(folderAPI(plans)+"/files/addUsingPath(decodedurl="+jsPath(odataQuoted("big.bin"))+",overwrite=true)", ""); a.status != 200 {
		t.Fatalf("empty file: %d %s", a.status, a.body)
	}
	id := "6f1c2b5e-0d7a-4c43-9a0b-5d2f1c9e7a11"
	bigAPI := fileAPI(plans + "/big.bin")
	a := upload(bigAPI+"/startUpload(uploadId=guid'"+id+"')", big[:10])
	if a.status != 200 || !strings.Contains(string(a.body), "10") {
		t.Fatalf("startUpload: %d %s", a.status, a.body)
	}
	if a := upload(bigAPI+"/continueUpload(uploadId=guid'"+id+"',fileOffset=10)", big[10:20]); a.status != 200 || !strings.Contains(string(a.body), "20") {
		t.Fatalf("continueUpload: %d %s", a.status, a.body)
	}
	if a := upload(bigAPI+"/finishUpload(uploadId=guid'"+id+"',fileOffset=20)", big[20:]); a.status != 200 {
		t.Fatalf("finishUpload: %d %s", a.status, a.body)
	}
	if a := p.must(200, "GET", bigAPI+"/$value", nil, nil); string(a.body) != big {
		t.Fatalf("the chunked file holds %q", a.body)
	}

	// Request 2: the folder's folders and files, as the page selects them.
	folders := p.must(200, "GET", folderAPI(root)+"/folders?$select="+jsEncode("Name,ServerRelativeUrl,ItemCount"), nil, nil).obj(t)
	if !strings.Contains(jsonOf(folders), `"Plans"`) {
		t.Fatalf("folders: %s", jsonOf(folders))
	}
	filesQuery := "/files?$select=" + jsEncode("Name,ServerRelativeUrl,Length,TimeLastModified,UIVersionLabel,CheckOutType")
	files := p.must(200, "GET", folderAPI(plans)+filesQuery, nil, nil).obj(t)
	if s := jsonOf(files); !strings.Contains(s, `"notes.txt"`) || !strings.Contains(s, `"big.bin"`) {
		t.Fatalf("files: %s", s)
	}

	// Check out, check in with a comment: a new version; then versions
	// and restore the first.
	notes := fileAPI(plans + "/notes.txt")
	p.ok("POST", notes+"/checkOut", nil, nil)
	files = p.must(200, "GET", folderAPI(plans)+filesQuery, nil, nil).obj(t)
	if !strings.Contains(jsonOf(files), `"CheckOutType":0,"Length":"11","Name":"notes.txt"`) {
		t.Errorf("a checked-out file is not CheckOutType 0: %s", jsonOf(files))
	}
	if u := p.must(200, "GET", notes+"/checkedOutByUser?$select=Title", nil, nil).obj(t); u["Title"] != "Alice Example" {
		t.Errorf("checkedOutByUser: %s", jsonOf(u))
	}
	if a := upload(folderAPI(plans)+"/files/addUsingPath(decodedurl="+jsPath(odataQuoted("notes.txt"))+",overwrite=true)", "second words"); a.status != 200 {
		t.Fatalf("upload over a checked-out file by its holder: %d %s", a.status, a.body)
	}
	p.ok("POST", notes+"/checkIn(comment="+jsPath(odataQuoted("it's done"))+",checkInType=1)", nil, nil)
	vs := p.must(200, "GET", notes+"/versions?$select="+jsEncode("ID,VersionLabel,Created,Size,CheckInComment,CreatedBy/Title")+"&$expand=CreatedBy", nil, nil).obj(t)
	versions, _ := vs["value"].([]any)
	if len(versions) == 0 {
		t.Fatalf("no versions: %s", jsonOf(vs))
	}
	v0 := versions[0].(map[string]any)
	label, _ := v0["VersionLabel"].(string)
	vid := strconv.FormatFloat(v0["ID"].(float64), 'f', -1, 64)
	if a := p.must(200, "GET", notes+"/versions("+vid+")/$value", nil, nil); string(a.body) != "first words" {
		t.Fatalf("version %s holds %q", label, a.body)
	}
	p.ok("POST", notes+"/versions/restoreByLabel(versionlabel="+odataQuoted(label)+")", nil, nil)
	if a := p.must(200, "GET", notes+"/$value", nil, nil); string(a.body) != "first words" {
		t.Fatalf("after restoring %s the file holds %q", label, a.body)
	}
	// Check out and discard.
	p.ok("POST", notes+"/checkOut", nil, nil)
	p.ok("POST", notes+"/undoCheckOut", nil, nil)

	// Rename and move (moveTo in the same folder, then to the root),
	// rename a folder, recycle a file and a folder.
	p.ok("POST", notes+"/moveTo(newurl="+jsPath(odataQuoted(plans+"/minutes.txt"))+",flags=0)", nil, nil)
	p.ok("POST", fileAPI(plans+"/minutes.txt")+"/moveTo(newurl="+jsPath(odataQuoted(root+"/minutes.txt"))+",flags=0)", nil, nil)
	if a := p.must(200, "GET", fileAPI(root+"/minutes.txt")+"/$value", nil, nil); string(a.body) != "first words" {
		t.Fatalf("moved file holds %q", a.body)
	}
	p.ok("POST", folderAPI(plans)+"/moveToUsingPath(DecodedUrl="+jsPath(odataQuoted(root+"/Old Plans"))+")", nil, nil)
	p.must(200, "GET", fileAPI(root+"/Old Plans/big.bin")+"?$select=Name", nil, nil)
	p.ok("POST", fileAPI(root+"/minutes.txt")+"/recycle", nil, nil)
	p.ok("POST", folderAPI(root+"/Old Plans")+"/recycle", nil, nil)
	if a := p.do("GET", fileAPI(root+"/minutes.txt")+"?$select=Name", nil, nil); a.status != 404 {
		t.Fatalf("a recycled file still answers: %d", a.status)
	}
	bin := p.must(200, "GET", "/_api/web/recycleBin?$select=Id,Title,LeafName", nil, nil).obj(t)
	if s := jsonOf(bin); !strings.Contains(s, "minutes.txt") || !strings.Contains(s, "Old Plans") {
		t.Fatalf("recycle bin: %s", s)
	}

	// A name the server refuses is a readable error, nothing stored.
	if a := upload(folderAPI(root)+"/files/addUsingPath(decodedurl="+jsPath(odataQuoted("bad:name.txt"))+",overwrite=true)", "x"); a.status != 400 || !strings.Contains(string(a.body), "odata.error") {
		t.Fatalf("a bad file name: %d %s", a.status, a.body)
	}
}

func permissionsRESTCalls(t *testing.T, p *pageClient) {
	tasks := p.must(201, "POST", "/_api/web/lists", map[string]any{"Title": "Secret Tasks", "BaseTemplate": 100}, nil).obj(t)
	lp := "/_api/web/lists(guid'" + tasks["Id"].(string) + "')"
	item := p.must(201, "POST", lp+"/items", map[string]any{"Title": "plan"}, nil).obj(t)
	ip := lp + "/items(" + strconv.FormatFloat(item["Id"].(float64), 'f', -1, 64) + ")"

	// The site's page.
	web := p.must(200, "GET", "/_api/web?$select="+jsEncode("Title,HasUniqueRoleAssignments,EffectiveBasePermissions"), nil, nil).obj(t)
	ebp := web["EffectiveBasePermissions"].(map[string]any)
	if low, _ := strconv.ParseUint(ebp["Low"].(string), 10, 64); low&(1<<25) == 0 {
		t.Fatalf("the administrator lacks ManagePermissions: %v", ebp)
	}
	site := p.must(200, "GET", "/_api/web/roleAssignments?$expand="+jsEncode("Member,RoleDefinitionBindings"), nil, nil).obj(t)
	if s := jsonOf(site); !strings.Contains(s, "Owners") || !strings.Contains(s, "Full Control") {
		t.Fatalf("site assignments: %s", s)
	}

	// A list that inherits, then its own permissions; grant bob Read;
	// remove it; inherit again.
	l := p.must(200, "GET", lp+"?$select="+jsEncode("Title,HasUniqueRoleAssignments,EffectiveBasePermissions"), nil, nil).obj(t)
	if l["HasUniqueRoleAssignments"] != false {
		t.Fatalf("a new list has its own permissions: %s", jsonOf(l))
	}
	p.ok("POST", lp+"/breakRoleInheritance(copyRoleAssignments=true,clearSubscopes=false)", nil, nil)
	defs := p.must(200, "GET", "/_api/web/roleDefinitions?$select="+jsEncode("Id,Name,Hidden,Order"), nil, nil).obj(t)
	var read string
	for _, d := range defs["value"].([]any) {
		if m := d.(map[string]any); m["Name"] == "Read" {
			read = strconv.FormatFloat(m["Id"].(float64), 'f', -1, 64)
		}
	}
	groups := p.must(200, "GET", "/_api/web/siteGroups?$select="+jsEncode("Id,Title"), nil, nil).obj(t)
	if len(groups["value"].([]any)) < 3 {
		t.Fatalf("site groups: %s", jsonOf(groups))
	}
	bob := p.ok("POST", "/_api/web/ensureUser", map[string]any{"logonName": "i:0#.f|membership|bob@example.com"}, nil).obj(t)
	bobID := strconv.FormatFloat(bob["Id"].(float64), 'f', -1, 64)
	p.ok("POST", lp+"/roleAssignments/addRoleAssignment(principalid="+bobID+",roledefid="+read+")", nil, nil)
	as := jsonOf(p.must(200, "GET", lp+"/roleAssignments?$expand="+jsEncode("Member,RoleDefinitionBindings"), nil, nil).obj(t))
	if !strings.Contains(as, "bob@example.com") || !strings.Contains(as, `"Read"`) {
		t.Fatalf("list assignments after the grant: %s", as)
	}
	p.ok("POST", lp+"/roleAssignments/removeRoleAssignment(principalid="+bobID+",roledefid="+read+")", nil, nil)
	if as := jsonOf(p.must(200, "GET", lp+"/roleAssignments?$expand="+jsEncode("Member,RoleDefinitionBindings"), nil, nil).obj(t)); strings.Contains(as, "bob@example.com") {
		t.Fatalf("bob still listed after the removal: %s", as)
	}
	// An item's page: its rights and its own permissions.
	p.must(200, "GET", ip+"?$select="+jsEncode("Id,Title,HasUniqueRoleAssignments"), nil, nil)
	p.must(200, "GET", ip+"/effectiveBasePermissions", nil, nil)
	p.ok("POST", ip+"/breakRoleInheritance(copyRoleAssignments=true,clearSubscopes=false)", nil, nil)
	p.ok("POST", ip+"/resetRoleInheritance", nil, nil)
	p.ok("POST", lp+"/resetRoleInheritance", nil, nil)
	if l := p.must(200, "GET", lp+"?$select=HasUniqueRoleAssignments", nil, nil).obj(t); l["HasUniqueRoleAssignments"] != false {
		t.Fatalf("the list still has its own permissions: %s", jsonOf(l))
	}

	// The groups pages: members, add, remove.
	g := groups["value"].([]any)[1].(map[string]any)
	gid := strconv.FormatFloat(g["Id"].(float64), 'f', -1, 64)
	p.must(200, "GET", "/_api/web/siteGroups/getById("+gid+")?$select=Id,Title", nil, nil)
	p.must(201, "POST", "/_api/web/siteGroups/getById("+gid+")/users", map[string]any{"LoginName": "i:0#.f|membership|bob@example.com"}, nil)
	members := jsonOf(p.must(200, "GET", "/_api/web/siteGroups/getById("+gid+")/users?$select="+jsEncode("Id,Title,Email,LoginName"), nil, nil).obj(t))
	if !strings.Contains(members, "bob@example.com") {
		t.Fatalf("group members: %s", members)
	}
	p.ok("POST", "/_api/web/siteGroups/getById("+gid+")/users/removeById("+bobID+")", nil, nil)
	members = jsonOf(p.must(200, "GET", "/_api/web/siteGroups/getById("+gid+")/users?$select=Id,Email", nil, nil).obj(t))
	if strings.Contains(members, "bob@example.com") {
		t.Fatalf("bob is still a member: %s", members)
	}
	// A level that does not exist: a readable error, nothing granted.
	if a := p.do("POST", lp+"/roleAssignments/addRoleAssignment(principalid="+bobID+",roledefid=999)", nil, nil); a.status < 400 || !strings.Contains(string(a.body), "odata.error") {
		t.Fatalf("an unknown level: %d %s", a.status, a.body)
	}
}

// doRaw sends bytes as library.js's uploads send a file: the body as it
// is, with the digest and an Idempotency-Key.
func (p *pageClient) doRaw(method, path string, body []byte) pageAnswer {
	p.t.Helper()
	req, err := http.NewRequest(method, p.base+path, bytes.NewReader(body))
	if err != nil {
		p.t.Fatal(err)
	}
	req.Header.Set("Accept", "application/json;odata=nometadata")
	p.keys++
	req.Header.Set("Idempotency-Key", "page-"+strconv.Itoa(p.keys))
	req.Header.Set("X-RequestDigest", p.digest)
	tok, err := p.srv.backends.KeyRing.MintAssertion(keyring.Assertion{Subject: p.subject, Name: "Alice Example", Email: p.email,
		SessionID: "s-" + p.subject, Audience: identity.DefaultAudience, Request: method + " " + req.URL.RequestURI()})
	if err != nil {
		p.t.Fatal(err)
	}
	req.Header.Set(identity.AssertionHeader, tok)
	return p.send(req)
}

// ok is must for the pages' actions, which take any 2xx as done (the
// server answers 200 or 204, as SharePoint does for each).
func (p *pageClient) ok(method, path string, body any, header map[string]string) pageAnswer {
	p.t.Helper()
	a := p.do(method, path, body, header)
	if a.status < 200 || a.status > 299 {
		p.t.Fatalf("%s %s: %d, want 2xx: %s", method, path, a.status, a.body)
	}
	return a
}

// subsiteRESTCalls are the home page's sub-web navigation: the web's
// sub-webs, and in a sub-web its parent, each linking to the pages at
// <web>/_layouts/cesivi/.
func subsiteRESTCalls(t *testing.T, p *pageClient) {
	p.ok("POST", "/_api/web/webs/add", map[string]any{"parameters": map[string]any{"Title": "Design Team", "Url": "design"}}, nil)
	subs := jsonOf(p.must(200, "GET", "/_api/web/webs?$select="+jsEncode("Title,ServerRelativeUrl"), nil, nil).obj(t))
	if !strings.Contains(subs, `"ServerRelativeUrl":"/design"`) || !strings.Contains(subs, "Design Team") {
		t.Fatalf("sub-webs: %s", subs)
	}
	parent := p.must(200, "GET", "/design/_api/web/parentWeb?$select="+jsEncode("Title,ServerRelativeUrl"), nil, nil).obj(t)
	if parent["ServerRelativeUrl"] != "/" {
		t.Fatalf("the sub-web's parent: %s", jsonOf(parent))
	}
	page := p.do("GET", "/design/_layouts/cesivi/", nil, map[string]string{"Accept": "text/html"})
	if page.status != 200 || !strings.Contains(string(page.body), "<main") {
		t.Fatalf("the sub-web's pages: %d %.200s", page.status, page.body)
	}
}
