package sharepoint

import (
	"errors"
	"net/http"
	"strings"

	"github.com/cesivi/cesivi/internal/odata"
	"github.com/cesivi/cesivi/internal/storage"
)

// Folder and file paths arrive as arguments: decodedUrl='…' of
// getFolderByServerRelativePath and AddUsingPath, or the positional
// argument of getFolderByServerRelativeUrl('…') and add(url='…'). They
// may be server-relative ("/sites/dev/Shared Documents/a") or relative to
// the web ("Shared Documents/a"). Either way they are resolved inside the
// request's web: a path that leaves it (another web, another site, a ".."
// segment) names nothing.

// pathArg is the path argument of seg: decodedUrl (or url, or the only
// positional argument), as a string.
func pathArg(seg odata.Segment, names ...string) (string, error) {
	for _, n := range names {
		if v, ok := seg.Named(n); ok {
			if v.Kind != odata.KindString {
				return "", odata.InvalidQuery("The " + n + " argument of " + seg.Name + " must be a string.")
			}
			return v.Str, nil
		}
	}
	if len(seg.Args) == 1 && seg.Args[0].Name == "" && seg.Args[0].Value.Kind == odata.KindString {
		return seg.Args[0].Value.Str, nil
	}
	return "", odata.InvalidQuery(seg.Name + " needs the path of a file or folder as its argument.")
}

// boolArg reads an optional boolean argument (Overwrite=true).
func boolArg(seg odata.Segment, name string) (bool, error) {
	v, ok := seg.Named(name)
	if !ok || v.Kind == odata.KindNull {
		return false, nil
	}
	if v.Kind != odata.KindBool {
		return false, odata.InvalidQuery("The " + name + " argument of " + seg.Name + " must be true or false.")
	}
	return v.Bool, nil
}

// errPathOutside: a path that is not inside the request's web.
var errPathOutside = errors.New("sharepoint: the path is outside the web")

// inWeb resolves p against web w and cleans it: the server-relative
// URL, without a trailing '/'. A path with an empty, "." or ".." segment
// or a backslash is refused (400); one outside the web is errPathOutside.
func inWeb(w *storage.Web, p string) (string, error) {
	if strings.ContainsRune(p, '\\') {
		return "", odata.InvalidQuery("A file or folder path cannot contain '\\'.")
	}
	if !strings.HasPrefix(p, "/") {
		p = strings.TrimSuffix(w.ServerRelativeURL, "/") + "/" + p
	}
	if len(p) > 1 {
		p = strings.TrimSuffix(p, "/")
	}
	for _, s := range strings.Split(p[1:], "/") {
		if s == "" || s == "." || s == ".." {
			if p == "/" {
				break
			}
			return "", odata.InvalidQuery("A file or folder path cannot have empty, '.' or '..' segments.")
		}
	}
	if len([]rune(p)) > storage.MaxURLLength {
		return "", odata.InvalidQuery("A file or folder path is at most 400 characters long.")
	}
	if !underPath(p, w.ServerRelativeURL) {
		return "", errPathOutside
	}
	return p, nil
}

// underPath reports whether p is dir or below it, ignoring case.
func underPath(p, dir string) bool {
	if dir == "/" {
		return strings.HasPrefix(p, "/")
	}
	return strings.EqualFold(p, dir) ||
		(len(p) > len(dir) && p[len(dir)] == '/' && strings.EqualFold(p[:len(dir)], dir))
}

// libraryAt is the library of web w whose root folder holds url (the
// longest match), or ErrNotFound.
func (c *call) libraryAt(w *storage.Web, url string) (*storage.List, error) {
	ls, err := c.tx.Lists().List(c.ctx, w.ID)
	if err != nil {
		return nil, err
	}
	var best *storage.List
	for _, l := range ls {
		if l.BaseType != storage.BaseTypeDocumentLibrary || !underPath(url, l.RootFolderURL) {
			continue
		}
		if best == nil || len(l.RootFolderURL) > len(best.RootFolderURL) {
			best = l
		}
	}
	if best == nil {
		return nil, storage.NotFound("no library of the web holds the path")
	}
	if err := c.checkLibrary(best, func() error { return storage.NotFound("no library of the web holds the path") }); err != nil {
		return nil, err
	}
	return best, nil
}

// fileNotFound is SharePoint's 404 for a file path that names nothing.
func fileNotFound() error {
	return odata.NewError(http.StatusNotFound, "-2130575338, Microsoft.SharePoint.SPException", "The file does not exist.")
}

// folderNotFound is SharePoint's 404 for a folder path that names nothing.
func folderNotFound() error {
	return odata.NewError(http.StatusNotFound, "-2147024894, System.IO.FileNotFoundException", "File Not Found.")
}

// locateFile finds the file or folder a path argument names in web w,
// with its library. Anything missing, or outside the web, is notFound().
func (c *call) locateFile(w *storage.Web, raw string, notFound func() error) (*storage.List, *storage.File, error) {
	p, err := inWeb(w, raw)
	if errors.Is(err, errPathOutside) {
		return nil, nil, notFound()
	}
	if err != nil {
		return nil, nil, err
	}
	return c.locateIn(w, p, notFound)
}

// libraryFor is libraryAt with a missing library answered notFound().
func (c *call) libraryFor(w *storage.Web, url string, notFound func() error) (*storage.List, error) {
	l, err := c.libraryAt(w, url)
	if errors.Is(err, storage.ErrNotFound) {
		return nil, notFound()
	}
	return l, err
}

// locateIn finds the file or folder at clean server-relative URL p of
// web w, with its library; anything missing is notFound().
func (c *call) locateIn(w *storage.Web, p string, notFound func() error) (*storage.List, *storage.File, error) {
	l, err := c.libraryFor(w, p, notFound)
	if err != nil {
		return nil, nil, err
	}
	f, err := c.tx.Files().Get(c.ctx, l.ID, p)
	if errors.Is(err, storage.ErrNotFound) {
		return nil, nil, notFound()
	}
	if err != nil {
		return nil, nil, err
	}
	if err := c.checkFile(l, f, notFound); err != nil {
		return nil, nil, err
	}
	return l, f, nil
}
