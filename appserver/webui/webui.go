// Package webui serves Cesivi's web pages for people: one HTML shell and
// its scripts and styles, embedded in the server binary. Every piece of
// data the pages show comes from the public /_api REST, with the caller's
// own rights; this package only hands out static bytes.
package webui

import (
	"bytes"
	"crypto/sha256"
	"embed"
	"encoding/hex"
	"fmt"
	"io/fs"
	"mime"
	"net/http"
	"path"
	"regexp"
	"strings"
)

//go:embed static
var static embed.FS

// Prefix is where the pages live under every web ({web}/_layouts/cesivi/).
const Prefix = "/_layouts/cesivi/"

// CSP allows only this origin's own scripts, styles and API: no inline
// code, no eval, no third-party requests, and Trusted Types so that no
// string can become HTML behind the scripts' back.
//
// It has no form-action: browsers apply form-action to every redirect
// after a form is sent, and the sign-out form's POST /oauth2/logout is
// redirected to the identity provider's end_session endpoint, an origin
// the edge is configured with and the server does not know. With
// form-action 'self' Chromium blocks the sign-out (the browser test
// found it). Forms come only from the page's own scripts, which no
// string can inject (script-src 'self', Trusted Types).
//
// frame-src 'self' is for the PDF preview, an iframe of the file's $value:
// the server sends passive content with frame-ancestors 'self' and active
// content (HTML, SVG, scripts) as a sandboxed attachment with
// frame-ancestors 'none', so a frame of the site's origin can show a PDF
// and never run an uploaded page. Nothing else may be framed, embedded or
// run as a worker (default-src 'none' covers object-src, worker-src).
const CSP = "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; " +
	"connect-src 'self'; frame-src 'self'; frame-ancestors 'none'; base-uri 'none'; " +
	"require-trusted-types-for 'script'; trusted-types 'none'"

type asset struct {
	body  []byte
	ctype string
}

// UI is the embedded pages with their content-hashed asset names,
// computed once from the embedded bytes.
type UI struct {
	assets map[string]asset // hashed name -> bytes
	index  []byte
}

// importRef is a relative module import in a script: `from "./x.js"`,
// `import "./x.js"` or `import("./x.js")`. The scripts name each other
// by their plain names; the server rewrites the names to the hashed ones.
var importRef = regexp.MustCompile(`((?:from|import)\s*\(?\s*)"\./([A-Za-z0-9_-]+\.js)"`)

// New hashes the embedded assets and writes their names into the shell.
// A module's hash covers its imports' hashed names, so changing one
// module renames every module that imports it, and a browser never pairs
// a cached module with a stale import.
func New() (*UI, error) {
	sub, err := fs.Sub(static, "static")
	if err != nil {
		return nil, err
	}
	return newFrom(sub)
}

// newFrom builds the UI from a directory holding index.html and assets.
func newFrom(fsys fs.FS) (*UI, error) {
	u := &UI{assets: map[string]asset{}}
	raw := map[string][]byte{}
	err := fs.WalkDir(fsys, ".", func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() || path.Base(p) == "index.html" {
			return err
		}
		b, err := fs.ReadFile(fsys, p)
		if err != nil {
			return err
		}
		raw[path.Base(p)] = b
		return nil
	})
	if err != nil {
		return nil, err
	}
	names := map[string]string{}
	resolving := map[string]bool{}
	var resolve func(base string) (string, error)
	resolve = func(base string) (string, error) {
		if h, ok := names[base]; ok {
			return h, nil
		}
		b, ok := raw[base]
		if !ok {
			return "", fmt.Errorf("webui: a script imports %s, which is not embedded", base)
		}
		if resolving[base] {
			return "", fmt.Errorf("webui: %s imports itself through a cycle", base)
		}
		resolving[base] = true
		ext := path.Ext(base)
		if ext == ".js" {
			var rerr error
			b = importRef.ReplaceAllFunc(b, func(m []byte) []byte {
				sub := importRef.FindSubmatch(m)
				h, err := resolve(string(sub[2]))
				if err != nil {
					rerr = err
					return m
				}
				return []byte(string(sub[1]) + `"./` + h + `"`)
			})
			if rerr != nil {
				return "", rerr
			}
		}
		sum := sha256.Sum256(b)
		hashed := strings.TrimSuffix(base, ext) + "." + hex.EncodeToString(sum[:6]) + ext
		u.assets[hashed] = asset{body: b, ctype: mime.TypeByExtension(ext)}
		names[base] = hashed
		return hashed, nil
	}
	for base := range raw {
		if _, err := resolve(base); err != nil {
			return nil, err
		}
	}
	idx, err := fs.ReadFile(fsys, "index.html")
	if err != nil {
		return nil, err
	}
	for base, hashed := range names {
		idx = bytes.ReplaceAll(idx, []byte("{{"+base+"}}"), []byte(hashed))
	}
	u.index = idx
	return u, nil
}

// IsPagePath reports whether p is under some web's /_layouts/cesivi/.
func IsPagePath(p string) bool {
	return strings.Contains(p+"/", Prefix)
}

// WantsPage reports whether a request for "/" comes from a browser that
// asks for HTML; API clients asking for JSON keep the server's name.
func WantsPage(r *http.Request) bool {
	a := r.Header.Get("Accept")
	return strings.Contains(a, "text/html") && !strings.HasPrefix(a, "application/json")
}

// ServeHTTP answers the shell (no-cache, so a new release is seen at
// once) and the hashed assets (cached for a year: their names change with
// their bytes).
func (u *UI) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodGet && r.Method != http.MethodHead {
		w.Header().Set("Allow", "GET, HEAD")
		http.Error(w, "method not allowed", http.StatusMethodNotAllowed)
		return
	}
	h := w.Header()
	h.Set("X-Content-Type-Options", "nosniff")
	h.Set("Referrer-Policy", "same-origin")
	p := r.URL.Path
	if i := strings.Index(p, Prefix+"assets/"); i >= 0 {
		a, ok := u.assets[p[i+len(Prefix+"assets/"):]]
		if !ok {
			http.Error(w, "no such asset", http.StatusNotFound)
			return
		}
		h.Set("Content-Type", a.ctype)
		h.Set("Cache-Control", "public, max-age=31536000, immutable")
		_, _ = w.Write(a.body)
		return
	}
	h.Set("Content-Type", "text/html; charset=utf-8")
	h.Set("Cache-Control", "no-cache")
	h.Set("Content-Security-Policy", CSP)
	// frame-ancestors 'none' for browsers that predate it.
	h.Set("X-Frame-Options", "DENY")
	_, _ = w.Write(u.index)
}
