package odata

import (
	"errors"
	"net/url"
	"reflect"
	"strings"
	"testing"
)

func TestParseQuery(t *testing.T) {
	tests := []struct {
		name  string
		raw   string
		check func(t *testing.T, q *Query)
	}{
		{"PnPjs's encoded options are read", "%24select=Id%2CTitle%2CPriority&%24filter=Priority+ge+2+and+startswith%28Title%2C%27Task%27%29&%24orderby=Priority+desc&%24top=2",
			func(t *testing.T, q *Query) {
				want := &Query{Select: []string{"Id", "Title", "Priority"}, OrderBy: []OrderKey{{Field: "Priority", Desc: true}}, Top: 2, HasTop: true}
				if q.Filter == nil || q.Filter.String() != "Priority ge 2 and startswith(Title,'Task')" {
					t.Fatalf("filter %v", q.Filter)
				}
				q.Filter, q.raw = nil, nil
				if !reflect.DeepEqual(q, want) {
					t.Fatalf("got %+v, want %+v", q, want)
				}
			}},
		{"literal dollars and spaces are read", "$select=Id, Title&$orderby=Title asc,%20Id%20DESC",
			func(t *testing.T, q *Query) {
				if !reflect.DeepEqual(q.Select, []string{"Id", "Title"}) || !reflect.DeepEqual(q.OrderBy, []OrderKey{{"Title", false}, {"Id", true}}) {
					t.Fatalf("got %+v", q)
				}
			}},
		{"option names ignore case", "$Top=5&$SELECT=Id", func(t *testing.T, q *Query) {
			if q.Top != 5 || len(q.Select) != 1 {
				t.Fatalf("got %+v", q)
			}
		}},
		{"no $top means the default page", "", func(t *testing.T, q *Query) {
			if q.HasTop || q.PageSize() != DefaultTop || q.Filter != nil || q.Select != nil {
				t.Fatalf("got %+v", q)
			}
		}},
		{"$top=0 is a page of nothing", "$top=0", func(t *testing.T, q *Query) {
			if !q.HasTop || q.PageSize() != 0 {
				t.Fatalf("got %+v", q)
			}
		}},
		{"$top at the ceiling is allowed", "$top=5000", func(t *testing.T, q *Query) {
			if q.PageSize() != MaxTop {
				t.Fatalf("got %+v", q)
			}
		}},
		{"expanded lookups may be selected", "$select=Title,Author/Title,Author/Id&$expand=Author", func(t *testing.T, q *Query) {
			if !reflect.DeepEqual(q.Expand, []string{"Author"}) || len(q.Select) != 3 {
				t.Fatalf("got %+v", q)
			}
		}},
		{"a star selects everything", "$select=*", func(t *testing.T, q *Query) {
			if !reflect.DeepEqual(q.Select, []string{"*"}) {
				t.Fatalf("got %+v", q)
			}
		}},
		{"$skip is parsed and exposed", "$skip=10", func(t *testing.T, q *Query) {
			if q.Skip != 10 {
				t.Fatalf("got %+v", q)
			}
		}},
		{"$skiptoken is parsed", "%24skiptoken=Paged%3dTRUE%26p_ID%3d2", func(t *testing.T, q *Query) {
			if q.SkipToken == nil || q.SkipToken.ID != 2 {
				t.Fatalf("got %+v", q)
			}
		}},
		{"empty options are absent", "$select=&$filter=", func(t *testing.T, q *Query) {
			if q.Select != nil || q.Filter != nil {
				t.Fatalf("got %+v", q)
			}
		}},
		{"parameters without a dollar are left alone", "@target='x'&_=123&$format=json", func(t *testing.T, q *Query) {
			if q.Format != "json" {
				t.Fatalf("got %+v", q)
			}
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			q, err := ParseQuery(tt.raw)
			if err != nil {
				t.Fatalf("ParseQuery(%q): %v", tt.raw, err)
			}
			tt.check(t, q)
		})
	}
}

func TestParseQueryRefusesBadOptions(t *testing.T) {
	tests := []struct {
		name string
		raw  string
		says string
	}{
		{"unknown options are refused", "$inlinecount=allpages", "unknown query option $inlinecount"},
		{"an option given twice is refused", "$top=1&$top=2", "more than once"},
		{"an option given twice in two cases is refused", "$top=1&$TOP=2", "more than once"},
		{"$top above the ceiling is refused", "$top=5001", "more than the largest page, 5000"},
		{"a negative $top is refused", "$top=-1", "non-negative integer"},
		{"a word for $top is refused", "$top=ten", "non-negative integer"},
		{"a negative $skip is refused", "$skip=-1", "non-negative integer"},
		{"a lookup field needs its $expand", "$select=Author/Title", "$expand query string must contain Author"},
		{"an empty $select item is refused", "$select=Id,,Title", "empty item"},
		{"a bad field name is refused", "$select=Id;drop", "not a field name"},
		{"a bad direction is refused", "$orderby=Title up", "asc or desc"},
		{"a bad $filter is refused", "$filter=Title eq", "$filter: at character"},
		{"a bad $skiptoken is refused", "$skiptoken=Paged%3DTRUE", "p_ID is missing"},
		{"bad percent-encoding is refused", "$top=%zz", "percent-encoded"},
		{"too many expansions are refused", "$expand=" + strings.Repeat("A,", MaxExpand) + "A", "more than 12 items"},
		{"an overlong option is refused", "$select=" + strings.Repeat("a", MaxOptionLength+1), "longer than"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := ParseQuery(tt.raw)
			var se *SyntaxError
			var le *LimitError
			if !errors.As(err, &se) && !errors.As(err, &le) {
				t.Fatalf("ParseQuery(%.40q) = %v, want a syntax or limit error", tt.raw, err)
			}
			if !strings.Contains(err.Error(), tt.says) {
				t.Fatalf("ParseQuery(%.40q): %v, want it to say %q", tt.raw, err, tt.says)
			}
			if e := ErrorOf(err); e.Status != 400 || e.Code != CodeInvalidQuery {
				t.Fatalf("ErrorOf = %v", e)
			}
		})
	}
}

func TestNextLinkCarriesTheOptionsAndAnAbsoluteURL(t *testing.T) {
	q, err := ParseQuery("%24top=2&%24select=Id%2CTitle&%24filter=Title+eq+%27a+b%27&$skip=3&%24skiptoken=Paged%3DTRUE%26p_ID%3D1")
	if err != nil {
		t.Fatal(err)
	}
	enc := Encoder{Web: "https://cesivi.example.com/sites/dev"}
	link := q.NextLink(enc.APIURL("web/lists/GetByTitle('Tasks')/items"), SkipToken{ID: 2})
	want := "https://cesivi.example.com/sites/dev/_api/web/lists/GetByTitle('Tasks')/items?%24skiptoken=Paged%3DTRUE%26p_ID%3D2&%24select=Id%2CTitle&%24filter=Title+eq+%27a+b%27&%24top=2"
	if link != want {
		t.Fatalf("NextLink =\n %s, want\n %s", link, want)
	}
	u, err := url.Parse(link)
	if err != nil {
		t.Fatal(err)
	}
	again, err := ParseQuery(u.RawQuery)
	if err != nil || again.SkipToken.ID != 2 || again.Top != 2 || again.Filter.String() != "Title eq 'a b'" || again.Skip != 0 {
		t.Fatalf("the link does not parse back: %+v, %v", again, err)
	}
}
