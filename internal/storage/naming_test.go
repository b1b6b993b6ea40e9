package storage

import "testing"

func TestEntityTypeNameComesFromTheURLName(t *testing.T) {
	for _, c := range []struct {
		url      string
		template int
		want     string
	}{
		{"Lists/Tasks", TemplateGenericList, "TasksList"},
		{"Shared Documents", TemplateDocumentLibrary, "Shared_x0020_Documents"},
		{"Lists/my list", TemplateTasks, "My_x0020_listList"},
		{"SitePages", TemplateWebPageLibrary, "SitePages"},
		{"Lists/2026 Plan", TemplateGenericList, "_x0032_026_x0020_PlanList"},
	} {
		if got := EntityTypeName(c.url, c.template); got != c.want {
			t.Errorf("EntityTypeName(%q) = %q, want %q", c.url, got, c.want)
		}
	}
	if got := ListItemEntityTypeFullName("TasksList"); got != "SP.Data.TasksListItem" {
		t.Errorf("full name %q", got)
	}
}

func TestClaimsLoginAcceptsClaimsAndEmails(t *testing.T) {
	for in, want := range map[string]string{
		"Carol@Contoso.com":                     "i:0#.f|membership|carol@contoso.com",
		"i:0#.f|membership|carol@contoso.com":   "i:0#.f|membership|carol@contoso.com",
		" i:0#.f|membership|Bob@contoso.com   ": "i:0#.f|membership|bob@contoso.com",
	} {
		if got, err := ClaimsLogin(in); err != nil || got != want {
			t.Errorf("ClaimsLogin(%q) = %q, %v", in, got, err)
		}
	}
	for _, in := range []string{"", "carol", "a|", "a b@c"} {
		if _, err := ClaimsLogin(in); err == nil {
			t.Errorf("ClaimsLogin(%q) accepted", in)
		}
	}
}
