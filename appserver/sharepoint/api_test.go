package sharepoint_test

import (
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"testing"
)

func TestTheRootWebAnswersInEveryFormat(t *testing.T) {
	eachProvider(t, func(t *testing.T, a *api) {
		r := a.req("GET", "/_api/web", nil).must(t, 200)
		if ct := r.header.Get("Content-Type"); ct != "application/json;odata=minimalmetadata;streaming=true;charset=utf-8" {
			t.Errorf("content type %q", ct)
		}
		if r.json["odata.type"] != "SP.Web" || r.json["ServerRelativeUrl"] != "/" || r.json["Title"] != "Cesivi" {
			t.Errorf("web: %s", r.body)
		}
		if m, _ := r.json["odata.metadata"].(string); !strings.HasPrefix(m, a.srv.URL+"/_api/$metadata#") {
			t.Errorf("odata.metadata %q", m)
		}
		v := a.req("GET", "/_api/web", nil, "Accept", "application/json; odata=verbose").must(t, 200)
		d, _ := v.json["d"].(map[string]any)
		md, _ := d["__metadata"].(map[string]any)
		if md["type"] != "SP.Web" || md["uri"] != a.srv.URL+"/_api/Web" {
			t.Errorf("verbose: %s", v.body)
		}
		n := a.req("GET", "/_api/web?$select=Title,Url", nil, "Accept", "application/json;odata=nometadata").must(t, 200)
		if len(n.json) != 2 || n.json["Url"] != a.srv.URL {
			t.Errorf("nometadata with $select: %s", n.body)
		}
	})
}

func TestWithoutASignedInUserTheAPIAnswers401(t *testing.T) {
	eachProvider(t, func(t *testing.T, a *api) {
		a.user = ""
		r := a.req("GET", "/_api/web", nil).must(t, 401)
		if r.errorCode() != "-2147024891, System.UnauthorizedAccessException" {
			t.Errorf("code %q", r.errorCode())
		}
	})
}

func TestAbsoluteLinksUseTheOriginTheEdgeForwards(t *testing.T) {
	eachProvider(t, func(t *testing.T, a *api) {
		r := a.req("GET", "/_api/web", nil, "X-Forwarded-Proto", "https", "X-Forwarded-Host", "cesivi.example.com").must(t, 200)
		if r.json["Url"] != "https://cesivi.example.com" || !strings.HasPrefix(r.json["odata.metadata"].(string), "https://cesivi.example.com/_api/") {
			t.Errorf("web: %s", r.body)
		}
		// Without an identity (no verified assertion) the headers are not
		// trusted; such a request is refused anyway, and its refusal
		// names nothing of the forwarded host.
		a.user = ""
		if r := a.req("GET", "/_api/web", nil, "X-Forwarded-Host", "evil.example"); strings.Contains(string(r.body), "evil") {
			t.Errorf("unauthenticated answer echoes the forwarded host: %s", r.body)
		}
	})
}

func TestWritesOfABrowserSessionNeedTheFormDigest(t *testing.T) {
	eachProvider(t, func(t *testing.T, a *api) {
		body := map[string]any{"Title": "Tasks", "BaseTemplate": 100}
		r := a.req("POST", "/_api/web/lists", body).must(t, 403)
		if r.errorCode() != "-2130575252, Microsoft.SharePoint.SPException" {
			t.Errorf("code %q", r.errorCode())
		}
		a.req("POST", "/_api/web/lists", body, "X-RequestDigest", "undefined").must(t, 403)
		// Nothing was created.
		a.req("GET", "/_api/web/lists/getbytitle('Tasks')", nil).must(t, 404)

		a.signIn("")
		ci := a.req("POST", "/_api/contextinfo", nil).must(t, 200)
		if ci.json["FormDigestTimeoutSeconds"] != float64(1800) || ci.json["WebFullUrl"] != a.srv.URL {
			t.Errorf("contextinfo: %s", ci.body)
		}
		a.req("POST", "/_api/web/lists", body).must(t, 201)

		// Another user's digest is refused.
		a.user, a.email = "bob-subject", "bob@example.com"
		a.joinGroup(t, "bob@example.com", "Cesivi Members")
		a.req("POST", "/_api/web/lists", map[string]any{"Title": "Bob"}).must(t, 403)
		// A bearer-token request (no session in the assertion) needs none.
		a.session, a.digest = "", ""
		a.req("POST", "/_api/web/lists", map[string]any{"Title": "Bob"}).must(t, 201)
	})
}

func TestContextInfoInVerboseWrapsTheDigest(t *testing.T) {
	eachProvider(t, func(t *testing.T, a *api) {
		r := a.req("POST", "/_api/contextinfo", nil, "Accept", "application/json;odata=verbose").must(t, 200)
		d := r.json["d"].(map[string]any)
		gi, ok := d["GetContextWebInformation"].(map[string]any)
		if !ok || gi["FormDigestValue"] == nil {
			t.Fatalf("verbose contextinfo: %s", r.body)
		}
		if v := gi["SupportedSchemaVersions"].(map[string]any)["results"]; v == nil {
			t.Errorf("SupportedSchemaVersions: %s", r.body)
		}
	})
}

// newList creates a list with fields through the API.
func newList(t *testing.T, a *api, web, title string) {
	t.Helper()
	a.req("POST", web+"/_api/web/lists", map[string]any{"AllowContentTypes": false, "BaseTemplate": 100,
		"ContentTypesEnabled": false, "Description": "d", "Title": title}).must(t, 201)
	for _, f := range []map[string]any{
		{"Title": "Priority", "FieldTypeKind": 9},
		{"Title": "Status", "FieldTypeKind": 6, "Choices": []string{"Open", "Done"}},
		{"Title": "Done", "FieldTypeKind": 8},
		{"Title": "Due", "FieldTypeKind": 4},
		{"Title": "Tags", "FieldTypeKind": 15, "Choices": map[string]any{"results": []string{"a", "b", "c"}}},
		{"Title": "Link", "FieldTypeKind": 11},
		{"Title": "Owner", "FieldTypeKind": 20},
	} {
		a.req("POST", web+"/_api/web/lists/getByTitle('"+title+"')/fields", f).must(t, 201)
	}
}

func TestListsAreCreatedFoundUpdatedAndDeleted(t *testing.T) {
	eachProvider(t, func(t *testing.T, a *api) {
		a.signIn("")
		r := a.req("POST", "/_api/web/lists", map[string]any{"Title": "Bob's Tasks", "BaseTemplate": 100}).must(t, 201)
		id := r.json["Id"].(string)
		if r.json["EntityTypeName"] != "Bobs_x0020_TasksList" && !strings.HasSuffix(r.json["EntityTypeName"].(string), "List") {
			t.Errorf("EntityTypeName %v", r.json["EntityTypeName"])
		}
		full := r.json["ListItemEntityTypeFullName"].(string)
		for _, p := range []string{"/_api/web/lists/getbytitle('Bob''s%20Tasks')", "/_api/web/lists/GetByTitle('bob''s tasks')",
			"/_api/web/lists(guid'" + id + "')", "/_api/web/lists('" + id + "')", "/_api/lists/getById('" + id + "')"} {
			g := a.req("GET", p, nil).must(t, 200)
			if g.json["Id"] != id {
				t.Errorf("%s: %s", p, g.body)
			}
		}
		sel := a.req("GET", "/_api/web/lists(guid'"+id+"')?$select=ListItemEntityTypeFullName", nil).must(t, 200)
		if sel.json["ListItemEntityTypeFullName"] != full || sel.json["Title"] != nil {
			t.Errorf("$select: %s", sel.body)
		}
		// Duplicate title: SharePoint's 500 list-exists error.
		dup := a.req("POST", "/_api/web/lists", map[string]any{"Title": "bob's tasks"}).must(t, 500)
		if dup.errorCode() != "-2130575342, Microsoft.SharePoint.SPException" {
			t.Errorf("duplicate: %s", dup.body)
		}
		// MERGE with a leftover query string, as PnPjs's lists.ensure sends it.
		u := a.req("POST", "/_api/web/lists(guid'"+id+"')?%24select=Title", map[string]any{"Title": "Renamed", "Description": "x"},
			"X-HTTP-Method", "MERGE", "IF-Match", "*").must(t, 204)
		if u.header.Get("ETag") == "" {
			t.Error("MERGE answered without an ETag")
		}
		g := a.req("GET", "/_api/web/lists/getbytitle('Renamed')", nil).must(t, 200)
		if g.json["ListItemEntityTypeFullName"] != full {
			t.Errorf("the item type changed with the title: %v", g.json["ListItemEntityTypeFullName"])
		}
		a.req("POST", "/_api/web/lists(guid'"+id+"')", map[string]any{"Title": strings.Repeat("x", 256)}, "X-HTTP-Method", "MERGE").must(t, 400)
		a.req("POST", "/_api/web/lists(guid'"+id+"')", map[string]any{"Nope": 1}, "X-HTTP-Method", "MERGE").must(t, 400)
		a.req("GET", "/_api/web/lists/getbytitle('Renamed')", nil).must(t, 200)
		a.req("POST", "/_api/web/lists(guid'"+id+"')", nil, "X-HTTP-Method", "DELETE").must(t, 200)
		nf := a.req("GET", "/_api/web/lists/getbytitle('Renamed')", nil).must(t, 404)
		if nf.errorCode() != "-1, System.ArgumentException" || !strings.Contains(nf.errorMessage(), "List 'Renamed' does not exist at site with URL") {
			t.Errorf("not found: %s", nf.body)
		}
	})
}

func TestEveryNewWebHasSharePointsDefaultLists(t *testing.T) {
	eachProvider(t, func(t *testing.T, a *api) {
		a.signIn("")
		r := a.req("GET", "/_api/web/lists?$select=Title,BaseTemplate&$filter=Hidden eq false", nil).must(t, 200)
		titles := map[string]bool{}
		for _, l := range r.values(t) {
			titles[l["Title"].(string)] = true
		}
		for _, want := range []string{"Documents", "Site Assets", "Site Pages"} {
			if !titles[want] {
				t.Errorf("no %s in %s", want, r.body)
			}
		}
		d := a.req("GET", "/_api/web/defaultDocumentLibrary", nil).must(t, 200)
		if d.json["EntityTypeName"] != "Shared_x0020_Documents" || d.json["ListItemEntityTypeFullName"] != "SP.Data.Shared_x0020_DocumentsItem" {
			t.Errorf("default library: %s", d.body)
		}
		a.req("POST", "/_api/web/lists/ensureSiteAssetsLibrary", nil).must(t, 200)
		a.req("GET", "/_api/web/getList('/Shared%20Documents')", nil).must(t, 200)
		for _, p := range []string{"allProperties", "regionalSettings", "contentTypes", "availableFields", "fields", "features", "userCustomActions", "siteUserInfoList", "webinfos", "webs"} {
			a.req("GET", "/_api/web/"+p, nil).must(t, 200)
		}
		ct := a.req("GET", "/_api/web/contentTypes", nil).must(t, 200)
		if n := len(ct.values(t)); n != 3 {
			t.Errorf("%d content types: %s", n, ct.body)
		}
	})
}

func TestItemsRoundTripWithETagsAsPnPjsUsesThem(t *testing.T) {
	eachProvider(t, func(t *testing.T, a *api) {
		a.signIn("")
		newList(t, a, "", "Tasks")
		base := "/_api/web/lists/getByTitle('Tasks')/items"
		add := a.req("POST", base, map[string]any{"Title": "Task 1", "Priority": 1, "Status": "Open", "Done": false,
			"Due": "2026-11-23T19:35:09Z", "Tags": []string{"a", "b"}, "Link": map[string]any{"Url": "https://example.com", "Description": "ex"}}).must(t, 201)
		if add.header.Get("ETag") != `"1"` || add.json["odata.etag"] != `"1"` || add.json["Id"] != float64(1) || add.json["ID"] != float64(1) {
			t.Fatalf("add: %v %s", add.header, add.body)
		}
		if add.header.Get("Location") == "" || add.json["odata.type"] != "SP.Data.TasksListItem" || add.json["AuthorId"] == nil {
			t.Errorf("add: %s", add.body)
		}
		if tags, _ := add.json["Tags"].([]any); len(tags) != 2 {
			t.Errorf("Tags: %s", add.body)
		}
		if link, _ := add.json["Link"].(map[string]any); link["Url"] != "https://example.com" || link["Description"] != "ex" {
			t.Errorf("Link: %s", add.body)
		}
		g := a.req("GET", base+"(1)", nil).must(t, 200)
		if g.header.Get("ETag") != `"1"` || g.json["Title"] != "Task 1" || g.json["Due"] != "2026-11-23T19:35:09Z" {
			t.Errorf("get: %s", g.body)
		}
		u := a.req("POST", base+"(1)", map[string]any{"Title": "Task 1 (edited)"}, "X-HTTP-Method", "MERGE", "IF-Match", "*").must(t, 204)
		if u.header.Get("ETag") != `"2"` {
			t.Errorf("MERGE ETag %q", u.header.Get("ETag"))
		}
		a.req("POST", base+"(1)", map[string]any{"Priority": 10}, "X-HTTP-Method", "MERGE", "IF-Match", `"2"`).must(t, 204)
		stale := a.req("POST", base+"(1)", map[string]any{"Priority": 11}, "X-HTTP-Method", "MERGE", "IF-Match", `"2"`).must(t, 412)
		if stale.errorCode() != "-1, Microsoft.SharePoint.Client.ClientServiceException" || !strings.Contains(stale.errorMessage(), `'"3"'`) {
			t.Errorf("stale: %s", stale.body)
		}
		a.req("POST", base+"(1)", map[string]any{"Priority": 11}, "X-HTTP-Method", "MERGE", "IF-Match", "null").must(t, 412)
		// Real HTTP methods, and PUT clearing what it omits.
		a.req("PATCH", base+"(1)", map[string]any{"Priority": 12}).must(t, 204)
		a.req("PUT", base+"(1)", map[string]any{"Title": "Replaced"}).must(t, 204)
		p := a.req("GET", base+"(1)", nil).must(t, 200)
		if p.json["Priority"] != nil || p.json["Title"] != "Replaced" || p.json["odata.etag"] != `"5"` {
			t.Errorf("after PUT: %s", p.body)
		}
		fv := a.req("GET", base+"(1)/FieldValuesAsText", nil).must(t, 200)
		if fv.json["Title"] != "Replaced" {
			t.Errorf("FieldValuesAsText: %s", fv.body)
		}
		a.req("POST", base+"(1)", nil, "X-HTTP-Method", "DELETE", "IF-Match", `"4"`).must(t, 412)
		d := a.req("POST", base+"(1)", nil, "X-HTTP-Method", "DELETE", "IF-Match", "*").must(t, 200)
		if len(d.body) != 0 {
			t.Errorf("delete body: %s", d.body)
		}
		nf := a.req("GET", base+"(1)", nil).must(t, 404)
		if nf.errorCode() != "-2147024809, System.ArgumentException" {
			t.Errorf("not found: %s", nf.body)
		}
	})
}

func TestItemQueriesFilterOrderSelectExpandAndPage(t *testing.T) {
	eachProvider(t, func(t *testing.T, a *api) {
		a.signIn("")
		newList(t, a, "", "Tasks")
		base := "/_api/web/lists/getByTitle('Tasks')/items"
		for i := 1; i <= 7; i++ {
			st := "Open"
			if i%2 == 0 {
				st = "Done"
			}
			a.req("POST", base, map[string]any{"Title": fmt.Sprintf("Task %d", i), "Priority": i, "Status": st}).must(t, 201)
		}
		// PnPjs's exact query (URLSearchParams encoding).
		r := a.req("GET", base+"?%24select=Id%2CTitle%2CPriority&%24filter=Priority+ge+2+and+startswith%28Title%2C%27Task%27%29&%24orderby=Priority+desc&%24top=2", nil).must(t, 200)
		vs := r.values(t)
		if len(vs) != 2 || vs[0]["Priority"] != float64(7) || vs[1]["Priority"] != float64(6) || vs[0]["Status"] != nil {
			t.Fatalf("page 1: %s", r.body)
		}
		next, _ := r.json["odata.nextLink"].(string)
		if !strings.HasPrefix(next, a.srv.URL+"/_api/web/lists/getByTitle('Tasks')/items?%24skiptoken=") {
			t.Fatalf("nextLink %q", next)
		}
		seen := len(vs)
		for next != "" {
			u, _ := url.Parse(next)
			r = a.req("GET", u.RequestURI(), nil).must(t, 200)
			seen += len(r.values(t))
			next, _ = r.json["odata.nextLink"].(string)
		}
		if seen != 6 {
			t.Errorf("walked %d items, want 6 (Priority >= 2)", seen)
		}
		// $skiptoken as items.skip(n) sends it.
		s := a.req("GET", base+"?%24select=Id&%24skiptoken=Paged%3DTRUE%26p_ID%3D3", nil).must(t, 200)
		if vs := s.values(t); len(vs) != 4 || vs[0]["Id"] != float64(4) {
			t.Errorf("skip: %s", s.body)
		}
		// Expand the author.
		me := a.req("GET", "/_api/web/currentUser", nil).must(t, 200).json["Id"]
		e := a.req("GET", base+fmt.Sprintf("?$select=Title,Author/Title,Author/EMail,AuthorId&$expand=Author&$filter=AuthorId eq %v&$top=1", me), nil).must(t, 200)
		ev := e.values(t)
		if len(ev) != 1 {
			t.Fatalf("expand: %s", e.body)
		}
		author, _ := ev[0]["Author"].(map[string]any)
		if author["Title"] != "Alice" || author["EMail"] != "alice@example.com" || ev[0]["AuthorId"] != me {
			t.Errorf("expand: %s", e.body)
		}
		// Verbose collections page with __next.
		v := a.req("GET", base+"?$top=3", nil, "Accept", "application/json;odata=verbose").must(t, 200)
		d := v.json["d"].(map[string]any)
		if n, _ := d["__next"].(string); !strings.HasPrefix(n, a.srv.URL) || len(d["results"].([]any)) != 3 {
			t.Errorf("verbose page: %s", v.body)
		}
		// Text filters ignore case; substringof and endswith.
		c := a.req("GET", base+"?$filter="+url.QueryEscape("substringof('ASK 3',Title) or Title eq 'task 5'")+"&$select=Id", nil).must(t, 200)
		if n := len(c.values(t)); n != 2 {
			t.Errorf("%d matches: %s", n, c.body)
		}
	})
}

func TestLookupFieldsExpandToTheirTarget(t *testing.T) {
	eachProvider(t, func(t *testing.T, a *api) {
		a.signIn("")
		r := a.req("POST", "/_api/web/lists", map[string]any{"Title": "Projects", "BaseTemplate": 100}).must(t, 201)
		projects := r.json["Id"].(string)
		a.req("POST", "/_api/web/lists/getByTitle('Projects')/items", map[string]any{"Title": "Apollo"}).must(t, 201)
		a.req("POST", "/_api/web/lists", map[string]any{"Title": "Tasks", "BaseTemplate": 107}).must(t, 201)
		a.req("POST", "/_api/web/lists/getByTitle('Tasks')/fields/addfield", map[string]any{"parameters": map[string]any{
			"FieldTypeKind": 7, "Title": "Project", "LookupListId": projects, "LookupFieldName": "Title"}}).must(t, 201)
		a.req("POST", "/_api/web/lists/getByTitle('Tasks')/items", map[string]any{"Title": "T", "ProjectId": 1}).must(t, 201)
		g := a.req("GET", "/_api/web/lists/getByTitle('Tasks')/items?$select=Title,Project/Title,ProjectId&$expand=Project", nil).must(t, 200)
		v := g.values(t)
		p, _ := v[0]["Project"].(map[string]any)
		if p["Title"] != "Apollo" || v[0]["ProjectId"] != float64(1) {
			t.Errorf("lookup: %s", g.body)
		}
		a.req("GET", "/_api/web/lists/getByTitle('Tasks')/items?$filter=ProjectId eq 1", nil).must(t, 200)
	})
}

func TestSubwebsAreCreatedAndServeTheirOwnLists(t *testing.T) {
	eachProvider(t, func(t *testing.T, a *api) {
		a.signIn("")
		r := a.req("POST", "/_api/web/webs/add", map[string]any{"parameters": map[string]any{"Title": "Team", "Url": "team",
			"Description": "", "Language": 1033, "WebTemplate": "STS", "UseSamePermissionsAsParentSite": true}}).must(t, 200)
		if r.json["ServerRelativeUrl"] != "/team" || r.json["Url"] != a.srv.URL+"/team" {
			t.Fatalf("webs.add: %s", r.body)
		}
		a.req("POST", "/team/_api/web/lists", map[string]any{"Title": "Local"}).must(t, 201)
		a.req("GET", "/team/_api/web/lists/getbytitle('Local')", nil).must(t, 200)
		a.req("GET", "/_api/web/lists/getbytitle('Local')", nil).must(t, 404)
		wi := a.req("GET", "/_api/web/webinfos", nil).must(t, 200)
		if v := wi.values(t); len(v) != 1 || v[0]["Title"] != "Team" {
			t.Errorf("webinfos: %s", wi.body)
		}
		a.req("POST", "/_api/web/webs/add", map[string]any{"parameters": map[string]any{"Title": "Team", "Url": "team"}}).must(t, 500)
		a.req("GET", "/nope/_api/web", nil).must(t, 404)
	})
}

func TestSiteCollectionsAreCreatedBySPSiteManager(t *testing.T) {
	eachProvider(t, func(t *testing.T, a *api) {
		a.signIn("")
		body := map[string]any{"request": map[string]any{"Title": "Dev", "Url": a.srv.URL + "/sites/dev", "Lcid": 1033, "WebTemplate": "STS#3"}}
		r := a.req("POST", "/_api/SPSiteManager/create", body, "Accept", "application/json;odata=nometadata").must(t, 200)
		if r.json["SiteStatus"] != float64(2) || r.json["SiteUrl"] != a.srv.URL+"/sites/dev" {
			t.Fatalf("create: %s", r.body)
		}
		again := a.req("POST", "/_api/SPSiteManager/create", body, "Accept", "application/json;odata=nometadata").must(t, 200)
		if again.json["SiteStatus"] != float64(3) {
			t.Errorf("second create: %s", again.body)
		}
		// The digest is per site collection.
		a.req("POST", "/sites/dev/_api/web/lists", map[string]any{"Title": "L"}).must(t, 403)
		a.signIn("/sites/dev")
		a.req("POST", "/sites/dev/_api/web/lists", map[string]any{"Title": "L"}).must(t, 201)
		s := a.req("GET", "/sites/dev/_api/site", nil).must(t, 200)
		if s.json["ServerRelativeUrl"] != "/sites/dev" {
			t.Errorf("site: %s", s.body)
		}
		a.req("GET", "/sites/dev/_api/site/rootweb", nil).must(t, 200)
	})
}

func TestUsersAppearOnFirstUseAndCanBeEnsured(t *testing.T) {
	eachProvider(t, func(t *testing.T, a *api) {
		me := a.req("GET", "/_api/web/currentUser", nil).must(t, 200)
		if me.json["LoginName"] != "i:0#.f|membership|alice@example.com" || me.json["Title"] != "Alice" || me.json["PrincipalType"] != float64(1) {
			t.Fatalf("currentUser: %s", me.body)
		}
		id := me.json["Id"].(float64)
		a.signIn("")
		e := a.req("POST", "/_api/web/ensureuser", map[string]any{"logonName": "i:0#.f|membership|carol@contoso.com"}).must(t, 200)
		carol := e.json["Id"].(float64)
		if carol == id || e.json["Email"] != "carol@contoso.com" {
			t.Errorf("ensureUser: %s", e.body)
		}
		if again := a.req("POST", "/_api/web/ensureuser", map[string]any{"logonName": "carol@contoso.com"}).must(t, 200); again.json["Id"] != carol {
			t.Errorf("ensureUser twice made two users: %s", again.body)
		}
		a.req("POST", "/_api/web/ensureuser", map[string]any{"logonName": "not a login"}).must(t, 400)
		us := a.req("GET", "/_api/web/siteUsers?$select=Id,Title,LoginName", nil).must(t, 200)
		if n := len(us.values(t)); n != 2 {
			t.Errorf("%d site users: %s", n, us.body)
		}
		a.req("GET", fmt.Sprintf("/_api/web/siteUsers/getById(%d)", int(carol)), nil).must(t, 200)
		a.req("GET", fmt.Sprintf("/_api/web/getUserById(%d)", int(carol)), nil).must(t, 200)
		a.req("GET", "/_api/web/siteUsers/getByEmail('carol@contoso.com')", nil).must(t, 200)
		a.req("GET", "/_api/web/siteUsers/getByLoginName('"+url.PathEscape("i:0#.f|membership|carol@contoso.com")+"')", nil).must(t, 200)
		a.req("GET", "/_api/web/getUserById(999)", nil).must(t, 404)
	})
}

func TestFieldsAndViewsAreManaged(t *testing.T) {
	eachProvider(t, func(t *testing.T, a *api) {
		a.signIn("")
		newList(t, a, "", "Tasks")
		l := "/_api/web/lists/getByTitle('Tasks')"
		f := a.req("GET", l+"/fields/getByInternalNameOrTitle('Priority')", nil).must(t, 200)
		if f.json["odata.type"] != "SP.FieldNumber" || f.json["FieldTypeKind"] != float64(9) {
			t.Errorf("field: %s", f.body)
		}
		a.req("GET", l+"/fields/getByTitle('Status')", nil).must(t, 200)
		a.req("GET", l+"/fields/getById('"+f.json["Id"].(string)+"')", nil).must(t, 200)
		a.req("POST", l+"/fields/getByTitle('Status')", map[string]any{"Title": "State"}, "X-HTTP-Method", "MERGE").must(t, 204)
		a.req("GET", l+"/fields/getByTitle('State')", nil).must(t, 200)
		verbose := a.req("POST", l+"/fields", `{"__metadata":{"type":"SP.FieldText"},"Title":"Notes2","FieldTypeKind":2}`,
			"Content-Type", "application/json;odata=verbose").must(t, 201)
		if verbose.json["InternalName"] != "Notes2" {
			t.Errorf("verbose add: %s", verbose.body)
		}
		// A duplicate names the internal name that clashes, whether it was
		// given or derived from the title.
		for _, dup := range []struct {
			body map[string]any
			name string
		}{
			{map[string]any{"Title": "Other", "InternalName": "Notes2", "FieldTypeKind": 2}, "Notes2"},
			{map[string]any{"Title": "Notes2", "FieldTypeKind": 2}, "Notes2"},
		} {
			r := a.req("POST", l+"/fields", dup.body).must(t, 400)
			msg, _ := r.json["odata.error"].(map[string]any)["message"].(map[string]any)
			if want := `A duplicate field name "` + dup.name + `" was found.`; msg["value"] != want {
				t.Errorf("duplicate %v: %s, want %q", dup.body, r.body, want)
			}
		}
		spaced := map[string]any{"Title": "Due Date", "FieldTypeKind": 4}
		a.req("POST", l+"/fields", spaced).must(t, 201)
		r := a.req("POST", l+"/fields", spaced).must(t, 400)
		if msg, _ := r.json["odata.error"].(map[string]any)["message"].(map[string]any); msg["value"] != `A duplicate field name "Due_x0020_Date" was found.` {
			t.Errorf("duplicate of a spaced title: %s", r.body)
		}
		a.req("POST", l+"/fields/getByTitle('Notes2')", nil, "X-HTTP-Method", "DELETE").must(t, 200)
		a.req("GET", l+"/fields/getByTitle('Notes2')", nil).must(t, 404)
		a.req("POST", l+"/fields/getByTitle('Title')", nil, "X-HTTP-Method", "DELETE").must(t, 400)

		dv := a.req("GET", l+"/defaultView", nil).must(t, 200)
		if dv.json["Title"] != "All Items" {
			t.Errorf("default view: %s", dv.body)
		}
		a.req("POST", l+"/views/add", map[string]any{"parameters": map[string]any{"Title": "Open", "RowLimit": 50,
			"ViewQuery": `<Where><Eq><FieldRef Name="Status"/><Value Type="Text">Open</Value></Eq></Where>`}}).must(t, 201)
		a.req("POST", l+"/views/getByTitle('Open')/viewfields/addViewField('Priority')", nil).must(t, 200)
		vf := a.req("GET", l+"/views/getByTitle('Open')/viewfields", nil).must(t, 200)
		if items, _ := vf.json["Items"].([]any); len(items) != 2 {
			t.Errorf("view fields: %s", vf.body)
		}
		a.req("POST", l+"/views/getByTitle('Open')/viewfields/addViewField('Nope')", nil).must(t, 404)
		a.req("POST", l+"/views/getByTitle('Open')", map[string]any{"RowLimit": 10}, "X-HTTP-Method", "MERGE").must(t, 204)
		if v := a.req("GET", l+"/views/getByTitle('Open')", nil).must(t, 200); v.json["RowLimit"] != float64(10) {
			t.Errorf("view: %s", v.body)
		}
	})
}

// TestBadInputGetsAClearErrorAndChangesNothing tries what a careless or
// hostile client sends; after each, the list still has its one item,
// unchanged.
func TestBadInputGetsAClearErrorAndChangesNothing(t *testing.T) {
	eachProvider(t, func(t *testing.T, a *api) {
		a.signIn("")
		newList(t, a, "", "Tasks")
		items := "/_api/web/lists/getByTitle('Tasks')/items"
		a.req("POST", items, map[string]any{"Title": "keep", "Priority": 1}).must(t, 201)
		cases := []struct {
			name, method, path string
			body               any
			headers            []string
			status             int
			code               string
		}{
			{"malformed JSON", "POST", items, `{"Title":`, nil, 400, "InvalidClientQueryException"},
			{"not an object", "POST", items, `["Title"]`, nil, 400, "InvalidClientQueryException"},
			{"two objects", "POST", items, `{"Title":"a"}{"Title":"b"}`, nil, 400, "InvalidClientQueryException"},
			{"unknown field", "POST", items, map[string]any{"Title": "x", "Nope": 1}, nil, 400, "InvalidClientQueryException"},
			{"wrong type", "POST", items, map[string]any{"Title": "x", "Priority": "high"}, nil, 400, "InvalidClientQueryException"},
			{"wrong choice type", "POST", items, map[string]any{"Title": "x", "Done": "yes please"}, nil, 400, ""},
			{"wrong __metadata.type", "POST", items, `{"__metadata":{"type":"SP.Data.OtherListItem"},"Title":"x"}`, nil, 400, "InvalidClientQueryException"},
			{"read-only field", "POST", items, map[string]any{"Title": "x", "Created": "2020-01-01T00:00:00Z"}, nil, 400, ""},
			{"unknown $filter field", "GET", items + "?$filter=Nope eq 1", nil, nil, 400, ""},
			{"wrong literal type", "GET", items + "?$filter=Priority eq 'x'", nil, nil, 400, ""},
			{"deep nesting", "GET", items + "?$filter=" + strings.Repeat("(", 200) + "ID eq 1" + strings.Repeat(")", 200), nil, nil, 400, "InvalidClientQueryException"},
			{"100 KB filter", "GET", items + "?$filter=" + strings.Repeat("ID eq 1 or ", 10000) + "ID eq 1", nil, nil, 400, "InvalidClientQueryException"},
			{"SQL-looking value", "GET", items + "?$filter=" + url.QueryEscape("Title eq 'x'' or 1=1 --'"), nil, nil, 200, ""},
			{"unknown $select", "GET", items + "?$select=Nope", nil, nil, 400, ""},
			{"unknown $orderby", "GET", items + "?$orderby=Nope", nil, nil, 400, ""},
			{"$top too large", "GET", items + "?$top=5001", nil, nil, 400, "InvalidClientQueryException"},
			{"$top negative", "GET", items + "?$top=-1", nil, nil, 400, "InvalidClientQueryException"},
			{"stale If-Match", "POST", items + "(1)", map[string]any{"Title": "x"}, []string{"X-HTTP-Method", "MERGE", "IF-Match", `"7"`}, 412, "ClientServiceException"},
			{"malformed If-Match", "POST", items + "(1)", map[string]any{"Title": "x"}, []string{"X-HTTP-Method", "MERGE", "IF-Match", `"abc`}, 412, "ClientServiceException"},
			{"missing digest", "POST", items, map[string]any{"Title": "x"}, []string{"X-RequestDigest", ""}, 403, "SPException"},
			{"forged digest", "POST", items, map[string]any{"Title": "x"}, []string{"X-RequestDigest", "0x" + strings.Repeat("AB", 64) + ",Mon, 23 Nov 2026 19:35:09 -0000"}, 403, "SPException"},
			{"unknown list", "GET", "/_api/web/lists/getByTitle('Nope')/items", nil, nil, 404, "ArgumentException"},
			{"unknown item", "GET", items + "(99)", nil, nil, 404, "ArgumentException"},
			{"item id not a number", "GET", items + "('x')", nil, nil, 400, ""},
			{"unknown web", "GET", "/nope/_api/web", nil, nil, 404, ""},
			{"unknown field", "GET", "/_api/web/lists/getByTitle('Tasks')/fields/getByTitle('Nope')", nil, nil, 404, ""},
			{"unknown segment", "GET", "/_api/web/nope", nil, nil, 404, "ResourceNotFoundException"},
			{"bad X-HTTP-Method", "POST", items + "(1)", nil, []string{"X-HTTP-Method", "TRACE"}, 400, ""},
			{"unterminated string in path", "GET", "/_api/web/lists/getByTitle('Tasks", nil, nil, 400, "InvalidClientQueryException"},
			{"Atom only", "GET", items, nil, []string{"Accept", "application/atom+xml"}, 406, ""},
		}
		for _, tc := range cases {
			t.Run(tc.name, func(t *testing.T) {
				r := a.req(tc.method, tc.path, tc.body, tc.headers...)
				if r.status != tc.status {
					t.Fatalf("status %d, want %d: %s", r.status, tc.status, r.body)
				}
				if tc.status >= 400 && tc.status != 406 && (r.errorMessage() == "" || !strings.Contains(r.errorCode(), tc.code)) {
					t.Errorf("error body %s, want code containing %q and a message", r.body, tc.code)
				}
			})
		}
		all := a.req("GET", items, nil).must(t, 200).values(t)
		if len(all) != 1 || all[0]["Title"] != "keep" || all[0]["odata.etag"] != `"1"` {
			t.Errorf("bad input changed what is stored: %v", all)
		}
	})
}

func TestTheDefaultPageIs100AndTopReaches5000(t *testing.T) {
	eachProvider(t, func(t *testing.T, a *api) {
		a.session = "" // bearer: no digest
		a.req("POST", "/_api/web/lists", map[string]any{"Title": "Big"}).must(t, 201)
		for i := 0; i < 150; i++ {
			a.req("POST", "/_api/web/lists/getByTitle('Big')/items", map[string]any{"Title": fmt.Sprint(i)}).must(t, 201)
		}
		r := a.req("GET", "/_api/web/lists/getByTitle('Big')/items?$select=Id", nil).must(t, 200)
		if n := len(r.values(t)); n != 100 || r.json["odata.nextLink"] == nil {
			t.Errorf("default page: %d items", n)
		}
		r = a.req("GET", "/_api/web/lists/getByTitle('Big')/items?$select=Id&$top=5000&$skip=10", nil).must(t, 200)
		if vs := r.values(t); len(vs) != 150 || vs[0]["Id"] != float64(1) || r.json["odata.nextLink"] != nil {
			t.Errorf("$top=5000 with $skip (ignored): %d items", len(vs))
		}
		if l := a.req("GET", "/_api/web/lists/getByTitle('Big')", nil).must(t, 200); l.json["ItemCount"] != float64(150) {
			t.Errorf("ItemCount %v", l.json["ItemCount"])
		}
	})
}

var _ = http.MethodGet

func TestParameterAliasesStandForTheirValues(t *testing.T) {
	eachProvider(t, func(t *testing.T, a *api) {
		a.req("GET", "/_api/web/currentUser", nil).must(t, 200)
		r := a.req("GET", "/_api/web/siteUsers(@v)?%40v=%27i%3A0%23.f%7Cmembership%7Calice%40example.com%27", nil).must(t, 200)
		if r.json["Email"] != "alice@example.com" {
			t.Errorf("alias: %s", r.body)
		}
		a.req("GET", "/_api/web/siteUsers(@w)?%40v=%27x%27", nil).must(t, 400)
	})
}
