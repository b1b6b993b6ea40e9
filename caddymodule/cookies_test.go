package caddymodule

import (
	"math/rand/v2"
	"net/http"
	"slices"
	"strings"
	"testing"
)

// lookupCookie must read the Cookie header exactly as r.Cookie does: the
// session cookie an edge verifies is the one Go's server would see.
func TestLookupCookieReadsAsNetHTTPDoes(t *testing.T) {
	name := DefaultCookieName
	headers := [][]string{
		nil,
		{""},
		{name + "=abc"},
		{" " + name + " = abc ; other=1"},
		{"other=1; " + name + "=\"quoted\""},
		{name + "=\"\""},
		{name + "=a b"},
		{name + "= leading"},
		{name + "=bad\\value; " + name + "=good"},
		{name + "=bad\"value", name + "=second-line"},
		{name},
		{name + "=;" + name + "=x"},
		{"x" + name + "=no; " + name + "x=no"},
		{"\t" + name + "=tab\t"},
		{name + "=a=b"},
		{strings.Repeat("a=b;", 1200) + name + "=late"},
		{strings.Repeat("a;", 3100) + name + "=toomany"},
	}
	rng := rand.New(rand.NewPCG(1, 2))
	alphabet := []byte(" \t;=\"\\ab" + name[:3])
	for range 2000 {
		var b []byte
		for range rng.IntN(40) {
			if rng.IntN(8) == 0 {
				b = append(b, name...)
			} else {
				b = append(b, alphabet[rng.IntN(len(alphabet))])
			}
		}
		headers = append(headers, []string{string(b)})
	}
	for _, lines := range headers {
		r, _ := http.NewRequest(http.MethodGet, "http://edge/", nil)
		if lines != nil {
			r.Header["Cookie"] = lines
		}
		want, err := r.Cookie(name)
		got, ok := lookupCookie(r, name)
		if (err == nil) != ok || (ok && got != want.Value) {
			t.Errorf("Cookie %q: lookupCookie %q %v, net/http %v %v", lines, got, ok, want, err)
		}
	}
}

// BenchmarkLookupCookie reads the session cookie of a browser request.
func BenchmarkLookupCookie(b *testing.B) {
	r, _ := http.NewRequest(http.MethodGet, "http://edge/", nil)
	r.Header.Set("Cookie", "app_pref=dark; "+name71()+"; _ga=GA1.1.123")
	b.Run("lookupCookie", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			if _, ok := lookupCookie(r, DefaultCookieName); !ok {
				b.Fatal("no cookie")
			}
		}
	})
	b.Run("net/http", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			if _, err := r.Cookie(DefaultCookieName); err != nil {
				b.Fatal(err)
			}
		}
	})
}

func name71() string { return DefaultCookieName + "=" + strings.Repeat("A", 71) }

// dropCookies removes the edge's cookies and keeps the others, in order,
// joined into one line.
func TestDropCookiesKeepsTheAppsCookies(t *testing.T) {
	names := []string{DefaultCookieName, bindingCookie}
	for _, c := range []struct {
		lines []string
		want  []string // nil: no Cookie header left
	}{
		{[]string{"a=1; b=2"}, []string{"a=1; b=2"}},
		{[]string{DefaultCookieName + "=x"}, nil},
		{[]string{" " + DefaultCookieName + " =x ; a=1;;", "b=2; " + bindingCookie + "=y"}, []string{"a=1; b=2"}},
		{[]string{"x" + DefaultCookieName + "=1; " + DefaultCookieName + "x=2"}, []string{"x" + DefaultCookieName + "=1; " + DefaultCookieName + "x=2"}},
		{[]string{DefaultCookieName + "=x", "  ;  "}, nil},
	} {
		r, _ := http.NewRequest(http.MethodGet, "http://edge/", nil)
		r.Header["Cookie"] = c.lines
		dropCookies(r, names)
		if got := r.Header["Cookie"]; !slices.Equal(got, c.want) {
			t.Errorf("%q: %q, want %q", c.lines, got, c.want)
		}
	}
}
