package storage

import (
	"errors"
	"slices"
	"strings"
	"testing"
)

func TestCheckLeafNameRefusesWhatSharePointRefusesAndNamesTheRule(t *testing.T) {
	for name, rule := range map[string]string{
		"":                        "empty",
		".":                       "'.' or '..'",
		"..":                      "'.' or '..'",
		`qq"zz`:                   "cannot contain any of",
		"qq*zz":                   "cannot contain any of",
		"qq:zz":                   "cannot contain any of",
		"qq<zz":                   "cannot contain any of",
		"qq>zz":                   "cannot contain any of",
		"qq?zz":                   "cannot contain any of",
		"qq/zz":                   "cannot contain any of",
		`qq\zz`:                   "cannot contain any of",
		"qq|zz":                   "cannot contain any of",
		"qq\x00zz":                "control characters",
		"qq\nzz":                  "control characters",
		"qq\u007fzz":              "control characters",
		" qqzz":                   "start or end with a space",
		"qqzz ":                   "start or end with a space",
		"qqzz.":                   "end with '.'",
		"CON":                     "reserved",
		"prn":                     "reserved",
		"Aux.txt":                 "reserved",
		"nul.tar.gz":              "reserved",
		"COM1":                    "reserved",
		"com9.log":                "reserved",
		"LPT5":                    "reserved",
		strings.Repeat("q", 401):  "at most 400",
		strings.Repeat("é", 401):  "at most 400",
		"qqzz" + string('\u0085'): "control characters",
	} {
		err := CheckLeafName(name)
		if !errors.Is(err, ErrInvalid) || !strings.Contains(err.Error(), rule) {
			t.Errorf("CheckLeafName(%q) = %v, want ErrInvalid saying %q", name, err, rule)
			continue
		}
		if strings.Contains(err.Error(), "qqzz") || strings.Contains(err.Error(), "qq") && len(name) > 400 {
			t.Errorf("the error %q repeats the name", err)
		}
	}
	for _, name := range []string{"report.docx", "with space.txt", "%#'&+.txt", "名前.txt", ".hidden", "a.b.c", "CONSOLE",
		"COM0", "COM10", "LPT", "con_notes.txt", "...x", strings.Repeat("é", 400)} {
		if err := CheckLeafName(name); err != nil {
			t.Errorf("CheckLeafName(%q) = %v, want nil", name, err)
		}
	}
}

func TestResolveFileURLKeepsPathsInsideTheirLibrary(t *testing.T) {
	const root = "/sites/dev/Shared Documents"
	for url, want := range map[string][]string{
		root:                              {},
		root + "/":                        {},
		"/SITES/dev/shared documents/a/b": {"a", "b"},
		root + "/a/":                      {"a"},
		root + "/a b/c%20d#e":             {"a b", "c%20d#e"},
	} {
		got, err := ResolveFileURL(root, url)
		if err != nil || !slices.Equal(got, want) {
			t.Errorf("ResolveFileURL(%q) = %q, %v; want %q", url, got, err, want)
		}
	}
	for url, want := range map[string]error{
		root + "/../SiteAssets/x":            ErrInvalid,
		root + "/a/..":                       ErrInvalid,
		root + "/./a":                        ErrInvalid,
		root + "//a":                         ErrInvalid,
		root + "/a//":                        ErrInvalid,
		root + `/a\b`:                        ErrInvalid,
		`\\server\share`:                     ErrInvalid,
		"/sites/dev/../dev/Shared Documents": ErrInvalid,
		"/sites/dev/Shared Documents2/a":     ErrNotFound,
		"/sites/dev/SiteAssets":              ErrNotFound,
		"/sites/dev":                         ErrNotFound,
		"/sites/dev/team/Shared Documents":   ErrNotFound,
		"/":                                  ErrNotFound,
		"":                                   ErrNotFound,
		"Shared Documents/a":                 ErrNotFound,
		"https://contoso.example" + root:     ErrInvalid,
	} {
		if _, err := ResolveFileURL(root, url); !errors.Is(err, want) {
			t.Errorf("ResolveFileURL(%q) = %v, want %v", url, err, want)
		}
	}
}

func TestURLHelpersRebaseAndSplit(t *testing.T) {
	for _, c := range []struct{ url, from, to, want string }{
		{"/L/a", "/L/a", "/L/b", "/L/b"},
		{"/L/a/x/y.txt", "/L/a", "/M/b/c", "/M/b/c/x/y.txt"},
		{"/L/A/x", "/L/a", "/L/a2", "/L/a2/x"},
	} {
		if got := RebaseURL(c.url, c.from, c.to); got != c.want {
			t.Errorf("RebaseURL(%q, %q, %q) = %q, want %q", c.url, c.from, c.to, got, c.want)
		}
	}
	if !IsBelowURL("/L/A/x", "/l/a") || IsBelowURL("/L/ab", "/L/a") || IsBelowURL("/L/a", "/L/a") {
		t.Error("IsBelowURL")
	}
	if ParentURL("/Shared Documents") != "/" || ParentURL("/s/L/a.txt") != "/s/L" || LeafName("/s/L/a.txt") != "a.txt" {
		t.Error("ParentURL or LeafName")
	}
	if got := FolderChain("/s/L", []string{"a", "b"}); !slices.Equal(got, []string{"/s/L/a", "/s/L/a/b"}) {
		t.Errorf("FolderChain %q", got)
	}
	if err := CheckURLLength("/" + strings.Repeat("é", MaxURLLength-1)); err != nil {
		t.Errorf("a URL of %d characters: %v", MaxURLLength, err)
	}
	if err := CheckURLLength("/" + strings.Repeat("a", MaxURLLength)); !errors.Is(err, ErrInvalid) {
		t.Errorf("a URL of %d characters: %v", MaxURLLength+1, err)
	}
}

func TestALibraryHasTheFileFieldsAndAListNot(t *testing.T) {
	names := func(fs []*Field) map[string]*Field {
		m := map[string]*Field{}
		for _, f := range fs {
			m[f.InternalName] = f
		}
		return m
	}
	lib := names(SystemFields("l", TemplateDocumentLibrary))
	for name, typ := range map[string]FieldType{FieldFileLeafRef: TypeFile, FieldFileRef: TypeText, FieldFileDirRef: TypeText, FieldFSObjType: TypeInteger} {
		f := lib[name]
		if f == nil || f.Type != typ || !f.ReadOnly || !f.System {
			t.Errorf("library field %s: %+v", name, f)
		}
	}
	if lib[FieldFileRef].MaxLength != MaxURLLength || !lib[FieldFileRef].Hidden || lib[FieldFileLeafRef].Hidden {
		t.Errorf("FileRef %+v, FileLeafRef %+v", lib[FieldFileRef], lib[FieldFileLeafRef])
	}
	if !NewSchema(SystemFields("l", TemplateDocumentLibrary)).IsLibrary() || NewSchema(SystemFields("l", TemplateGenericList)).IsLibrary() {
		t.Error("IsLibrary")
	}
	if f := (&Field{Type: TypeFile}); f.TypeKind() != 18 || TypeFile.Kind().String() != TypeText.Kind().String() {
		t.Errorf("TypeFile kind %d %v", f.TypeKind(), TypeFile.Kind())
	}
	if _, ok := names(SystemFields("l", TemplateGenericList))[FieldFileRef]; ok {
		t.Error("a list has FileRef")
	}
	// A user's field named like one cannot make a list a library.
	custom := append(SystemFields("l", TemplateGenericList), &Field{InternalName: FieldFileRef, Type: TypeText})
	if NewSchema(custom).IsLibrary() {
		t.Error("a custom FileRef field made a list a library")
	}
}
