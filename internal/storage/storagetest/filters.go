package storagetest

import (
	"errors"
	"slices"
	"testing"

	"github.com/cesivi/cesivi/internal/odata"
	"github.com/cesivi/cesivi/internal/storage"
)

const keyGUID = "0f8fad5b-d9cb-469f-a165-70867728950e"

// filterList makes a list of five rows with every kind of value, and nulls.
func filterList(e *env) *storage.List {
	l := e.list("Tasks",
		storage.FieldInput{Title: "Priority", Type: storage.TypeNumber},
		storage.FieldInput{Title: "Count", Type: storage.TypeInteger, Indexed: true},
		storage.FieldInput{Title: "Done", Type: storage.TypeBoolean},
		storage.FieldInput{Title: "Due", Type: storage.TypeDateTime},
		storage.FieldInput{Title: "Owner", Type: storage.TypeUser},
		storage.FieldInput{Title: "Status", Type: storage.TypeChoice, Choices: []string{"Open", "Closed"}},
		storage.FieldInput{Title: "Key", Type: storage.TypeGuid},
	)
	type row struct {
		by   int64
		vals map[string]odata.Value
	}
	for _, r := range []row{
		{6, map[string]odata.Value{"Title": str("Alpha"), "Priority": odata.Int(1), "Count": odata.Int(10), "Done": odata.Bool(true),
			"Due": str("2026-01-01T00:00:00Z"), "OwnerId": odata.Int(6), "Status": str("Open"), "Key": str(keyGUID)}},
		{6, map[string]odata.Value{"Title": str("beta"), "Priority": odata.Decimal(2.5), "Count": odata.Int(20), "Done": odata.Bool(false),
			"Due": str("2026-06-01T12:00:00Z"), "OwnerId": odata.Int(7), "Status": str("Closed")}},
		{6, map[string]odata.Value{"Title": str("Gamma ray")}},
		{7, map[string]odata.Value{"Title": str("alphabet"), "Priority": odata.Int(3), "Count": odata.Int(30), "Done": odata.Bool(true),
			"Due": str("2027-01-01T00:00:00Z"), "OwnerId": odata.Int(6), "Status": str("Open")}},
		{7, map[string]odata.Value{"Priority": odata.Int(1), "Count": odata.Int(5), "Done": odata.Bool(false), "OwnerId": odata.Int(6)}},
	} {
		e.add(l.ID, r.by, r.vals)
	}
	return l
}

var filterCases = []struct {
	filter string
	ids    []int64
}{
	{"Title eq 'alpha'", []int64{1}},
	{"Title eq 'ALPHA'", []int64{1}},
	{"'beta' eq Title", []int64{2}},
	{"Title ne 'alpha'", []int64{2, 3, 4, 5}},
	{"Title eq null", []int64{5}},
	{"Title ne null", []int64{1, 2, 3, 4}},
	{"Title gt 'alpha'", []int64{2, 3, 4}},
	{"Title le 'ALPHABET'", []int64{1, 4}},
	{"Priority gt 1", []int64{2, 4}},
	{"Priority ge 1", []int64{1, 2, 4, 5}},
	{"Priority lt 2.5", []int64{1, 5}},
	{"Priority le 2.5", []int64{1, 2, 5}},
	{"Priority eq 2.5", []int64{2}},
	{"not (Priority gt 1)", []int64{1, 3, 5}},
	{"not (Priority le 1)", []int64{2, 3, 4}},
	{"not (Priority ne 1)", []int64{1, 5}},
	{"not (Priority eq null)", []int64{1, 2, 4, 5}},
	{"Count eq 20", []int64{2}},
	{"Count gt 5 and Count lt 30", []int64{1, 2}},
	{"Count eq 5 or Title eq 'beta'", []int64{2, 5}},
	{"Count gt 9.5", []int64{1, 2, 4}},
	{"Done eq true", []int64{1, 4}},
	{"Done eq 1", []int64{1, 4}},
	{"Done eq false", []int64{2, 5}},
	{"Done ne true", []int64{2, 3, 5}},
	{"Due gt datetime'2026-03-01T00:00:00Z'", []int64{2, 4}},
	{"Due lt '2026-03-01T00:00:00.000Z'", []int64{1}},
	{"Due eq datetime'2026-06-01T12:00:00Z'", []int64{2}},
	{"Due eq null", []int64{3, 5}},
	{"startswith(Title,'alp')", []int64{1, 4}},
	{"startswith(Title,'ALP')", []int64{1, 4}},
	{"endswith(Title,'RAY')", []int64{3}},
	{"substringof('ph',Title)", []int64{1, 4}},
	{"substringof('%',Title)", nil},
	{"not startswith(Title,'alp')", []int64{2, 3, 5}},
	{"startswith(Title,'alp') eq false", []int64{2, 3, 5}},
	{"startswith(Title,'alp') ne false", []int64{1, 4}},
	{"AuthorId eq 6", []int64{1, 2, 3}},
	{"Author/Id eq 7", []int64{4, 5}},
	{"EditorId ne 6", []int64{4, 5}},
	{"OwnerId eq 6", []int64{1, 4, 5}},
	{"Owner eq null", []int64{3}},
	{"Status eq 'open'", []int64{1, 4}},
	{"ID le 2", []int64{1, 2}},
	{"Id gt 4", []int64{5}},
	{"Key eq guid'0F8FAD5B-D9CB-469F-A165-70867728950E'", []int64{1}},
	{"Key eq '" + keyGUID + "'", []int64{1}},
	{"not (Title eq 'alpha' or Count ge 20)", []int64{3, 5}},
	{"Priority eq null and Count eq null", []int64{3}},
	{"(Priority eq 1 or Priority eq 3) and not (Done eq false)", []int64{1, 4}},
	{"Created gt datetime'2000-01-01T00:00:00Z' and Modified ne null", []int64{1, 2, 3, 4, 5}},
}

var filterTests = []test{
	{"every operator, null, and, or, not and the string functions select the same rows", func(t *testing.T, e *env) {
		l := filterList(e)
		for _, c := range filterCases {
			f, err := odata.ParseFilter(c.filter)
			if err != nil {
				t.Fatalf("%s: %v", c.filter, err)
			}
			p, err := e.query(l.ID, storage.ItemQuery{Filter: f})
			if err != nil {
				t.Errorf("%s: %v", c.filter, err)
				continue
			}
			var got []int64
			for _, it := range p.Items {
				got = append(got, it.ID)
			}
			if !slices.Equal(got, c.ids) {
				t.Errorf("%s: got %v, want %v", c.filter, got, c.ids)
			}
		}
	}},
	{"a filter on an unknown field or with a literal of the wrong kind is invalid, whatever the data", func(t *testing.T, e *env) {
		l := filterList(e)
		empty := e.list("Empty", storage.FieldInput{Title: "Count", Type: storage.TypeInteger})
		for _, s := range []string{"Nope eq 1", "Title eq 1", "Priority eq 'x'", "startswith(Priority,'1')",
			"Done gt true", "Due gt 5", "Key eq 'not a guid'", "Owner/Title eq 'x'", "Count eq 'x'"} {
			f, err := odata.ParseFilter(s)
			if err != nil {
				t.Fatalf("%s: %v", s, err)
			}
			for _, id := range []string{l.ID, empty.ID} {
				_, err := e.query(id, storage.ItemQuery{Filter: f})
				var oe *odata.Error
				if id == empty.ID && s != "Nope eq 1" && s != "Count eq 'x'" {
					continue
				}
				if !errors.Is(err, storage.ErrInvalid) || !errors.As(err, &oe) || oe.Status != 400 {
					t.Errorf("%s: %v", s, err)
				}
			}
		}
		_, err := e.query(l.ID, storage.ItemQuery{OrderBy: []odata.OrderKey{{Field: "Nope"}}})
		if !errors.Is(err, storage.ErrInvalid) {
			t.Errorf("orderby unknown: %v", err)
		}
		_, err = e.query(l.ID, storage.ItemQuery{Select: []string{"Title", "Nope"}})
		if !errors.Is(err, storage.ErrInvalid) {
			t.Errorf("select unknown: %v", err)
		}
	}},
	{"select keeps only the named values", func(t *testing.T, e *env) {
		l := filterList(e)
		p, err := e.query(l.ID, storage.ItemQuery{Select: []string{"Title", "OwnerId"}, Top: 1})
		if err != nil {
			t.Fatal(err)
		}
		it := p.Items[0]
		if len(it.Values) != 2 || it.Values["Title"] != str("Alpha") || it.Values["Owner"] != odata.Int(6) || it.ID != 1 || it.Version != 1 {
			t.Errorf("selected %+v", it)
		}
	}},
}
