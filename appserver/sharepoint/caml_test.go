package sharepoint_test

import (
	"fmt"
	"testing"
)

func TestCAMLQueriesRunThroughTheSameEngineAsFilters(t *testing.T) {
	eachProvider(t, func(t *testing.T, a *api) {
		a.signIn("")
		newList(t, a, "", "Tasks")
		l := "/_api/web/lists/getByTitle('Tasks')"
		for i := 1; i <= 6; i++ {
			a.req("POST", l+"/items", map[string]any{"Title": fmt.Sprintf("T%d", i), "Priority": i}).must(t, 201)
		}
		q := map[string]any{"query": map[string]any{"__metadata": map[string]any{"type": "SP.CamlQuery"},
			"ViewXml": `<View><Query><Where><And><Geq><FieldRef Name="Priority"/><Value Type="Number">2</Value></Geq>` +
				`<BeginsWith><FieldRef Name="Title"/><Value Type="Text">T</Value></BeginsWith></And></Where>` +
				`<OrderBy><FieldRef Name="Priority" Ascending="FALSE"/></OrderBy></Query><RowLimit>3</RowLimit></View>`}}
		r := a.req("POST", l+"/getItems?$select=Title,Priority", q).must(t, 200)
		vs := r.values(t)
		if len(vs) != 3 || vs[0]["Priority"] != float64(6) || vs[2]["Priority"] != float64(4) {
			t.Fatalf("getItems: %s", r.body)
		}
		a.req("POST", l+"/getItems", map[string]any{"query": map[string]any{"ViewXml": `<View><Query><Where><Eq><FieldRef Name="Nope"/><Value Type="Text">x</Value></Eq></Where></Query></View>`}}).must(t, 400)
		a.req("POST", l+"/getItems", map[string]any{"query": map[string]any{"ViewXml": `<View><Query><Where>`}}).must(t, 400)

		rd := a.req("POST", l+"/RenderListDataAsStream", map[string]any{"parameters": map[string]any{
			"ViewXml": `<View><Query><Where><Eq><FieldRef Name="Priority"/><Value Type="Number">3</Value></Eq></Where></Query></View>`}}).must(t, 200)
		rows, _ := rd.json["Row"].([]any)
		if len(rows) != 1 || rows[0].(map[string]any)["Title"] != "T3" {
			t.Errorf("RenderListDataAsStream: %s", rd.body)
		}

		// A stored view's query applies to its rows.
		v := a.req("POST", l+"/views/add", map[string]any{"parameters": map[string]any{"Title": "High",
			"ViewQuery": `<Where><Gt><FieldRef Name="Priority"/><Value Type="Number">4</Value></Gt></Where>`}}).must(t, 201)
		byView := a.req("POST", l+"/RenderListDataAsStream?View="+v.json["Id"].(string), map[string]any{"parameters": map[string]any{}}).must(t, 200)
		if rows, _ := byView.json["Row"].([]any); len(rows) != 2 {
			t.Errorf("the view's rows: %s", byView.body)
		}

		x := a.req("POST", l+"/fields/createFieldAsXml", map[string]any{"parameters": map[string]any{
			"SchemaXml": `<Field Type="Choice" DisplayName="Phase" Name="Phase"><CHOICES><CHOICE>One</CHOICE><CHOICE>Two</CHOICE></CHOICES><Default>One</Default></Field>`,
			"Options":   0}}).must(t, 201)
		if x.json["TypeAsString"] != "Choice" || x.json["InternalName"] != "Phase" {
			t.Errorf("createFieldAsXml: %s", x.body)
		}
		if it := a.req("POST", l+"/items", map[string]any{"Title": "p"}).must(t, 201); it.json["Phase"] != "One" {
			t.Errorf("the default value of the XML field: %s", it.body)
		}
		a.req("POST", l+"/fields/createFieldAsXml", map[string]any{"parameters": map[string]any{"SchemaXml": `<Field Type="Bogus" Name="B"/>`}}).must(t, 400)
	})
}
