package sharepoint_test

import "testing"

// A list expands Fields, Views, DefaultView and DefaultView/ViewFields
// in every format, so a page gets the list, its columns and its default
// view in one request.
func TestAListExpandsItsFieldsAndDefaultView(t *testing.T) {
	eachProvider(t, func(t *testing.T, a *api) {
		a.signIn("")
		a.req("POST", "/_api/web/lists", map[string]any{"Title": "Tasks", "BaseTemplate": 100}).must(t, 201)
		a.req("POST", "/_api/web/lists/getByTitle('Tasks')/fields", map[string]any{"Title": "Priority", "FieldTypeKind": 9}).must(t, 201)
		base := "/_api/web/lists/getByTitle('Tasks')"

		r := a.req("GET", base+"?$expand=Fields,DefaultView/ViewFields", nil).must(t, 200)
		fields, _ := r.json["Fields"].([]any)
		found := false
		for _, f := range fields {
			if f.(map[string]any)["InternalName"] == "Priority" {
				found = true
			}
		}
		if !found {
			t.Fatalf("Fields: %s", r.body)
		}
		dv, _ := r.json["DefaultView"].(map[string]any)
		vf, _ := dv["ViewFields"].(map[string]any)
		if dv["DefaultView"] != true || vf == nil {
			t.Fatalf("DefaultView/ViewFields: %s", r.body)
		}
		if items, _ := vf["Items"].([]any); len(items) != 1 || items[0] != "LinkTitle" {
			t.Fatalf("view fields: %v", vf)
		}

		// DefaultView alone has no ViewFields; Views lists every view.
		r = a.req("GET", base+"?$expand=DefaultView,Views", nil).must(t, 200)
		if dv, _ := r.json["DefaultView"].(map[string]any); dv == nil || dv["ViewFields"] != nil {
			t.Fatalf("DefaultView: %s", r.body)
		}
		if vs, _ := r.json["Views"].([]any); len(vs) != 1 {
			t.Fatalf("Views: %s", r.body)
		}
		// Both named: one DefaultView, with its fields.
		r = a.req("GET", base+"?$expand=DefaultView,DefaultView/ViewFields&$select=Title,DefaultView", nil).must(t, 200)
		if dv, _ := r.json["DefaultView"].(map[string]any); dv == nil || dv["ViewFields"] == nil || r.json["Fields"] != nil {
			t.Fatalf("DefaultView with ViewFields: %s", r.body)
		}

		v := a.req("GET", base+"?$expand=Fields,DefaultView/ViewFields", nil, "Accept", "application/json;odata=verbose").must(t, 200)
		d, _ := v.json["d"].(map[string]any)
		vfields, _ := d["Fields"].(map[string]any)
		vdv, _ := d["DefaultView"].(map[string]any)
		vvf, _ := vdv["ViewFields"].(map[string]any)
		vitems, _ := vvf["Items"].(map[string]any)
		if res, _ := vfields["results"].([]any); len(res) == 0 || vitems["results"] == nil {
			t.Fatalf("verbose: %s", v.body)
		}
		// Without $expand a list stays as it was.
		if r := a.req("GET", base, nil).must(t, 200); r.json["Fields"] != nil || r.json["DefaultView"] != nil {
			t.Fatalf("unexpanded: %s", r.body)
		}
	})
}
