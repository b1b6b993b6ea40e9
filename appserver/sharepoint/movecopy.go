package sharepoint

import (
	"encoding/json"
	"errors"
	"net/http"
	"strconv"
	"strings"

	"github.com/cesivi/cesivi/internal/odata"
	"github.com/cesivi/cesivi/internal/storage"
)

// Moving and copying files and folders: SP.MoveCopyUtil (what PnPjs v4's
// moveByPath and copyByPath call) and the older file and folder
// functions copyTo, moveTo, copyToUsingPath and moveToUsingPath. Both
// ends must lie in the request's site collection; storage moves a
// folder with everything in it, in one transaction.

// moveCopy is one move or copy asked for.
type moveCopy struct {
	move, folder bool
	from, to     string // server-relative
	overwrite    bool
	keepBoth     bool
}

// moveCopyUtil serves POST SP.MoveCopyUtil.<Copy|Move><File|Folder>[ByPath]().
func (c *call) moveCopyUtil(seg odata.Segment, rest []odata.Segment) (*response, error) {
	op := strings.ToLower(seg.Name[len("sp.movecopyutil."):])
	byPath := strings.HasSuffix(op, "bypath")
	op = strings.TrimSuffix(op, "bypath")
	mc := moveCopy{move: strings.HasPrefix(op, "move"), folder: strings.HasSuffix(op, "folder")}
	if len(rest) > 0 || !seg.Call || (op != "copyfile" && op != "movefile" && op != "copyfolder" && op != "movefolder") {
		return nil, notFound(seg)
	}
	if err := c.allow(http.MethodPost); err != nil {
		return nil, err
	}
	var err error
	if mc.overwrite, err = boolArg(seg, "overwrite"); err != nil {
		return nil, err
	}
	m, err := c.object("")
	if err != nil {
		return nil, err
	}
	if byPath {
		mc.from, err = decodedPathProp(m, "srcPath")
		if err == nil {
			mc.to, err = decodedPathProp(m, "destPath")
		}
	} else {
		mc.from, err = urlProp(m, "srcUrl")
		if err == nil {
			mc.to, err = urlProp(m, "destUrl")
		}
	}
	if err != nil {
		return nil, err
	}
	if raw, ok := lookup(m, "options"); ok && string(raw) != "null" {
		var opts struct{ KeepBoth bool }
		if json.Unmarshal(raw, &opts) != nil {
			return nil, odata.InvalidQuery("options must be an SP.MoveCopyOptions object.")
		}
		mc.keepBoth = opts.KeepBoth
	}
	if _, err := c.moveOrCopy(mc); err != nil {
		return nil, err
	}
	return c.null(), nil
}

// decodedPathProp reads {"<name>":{"DecodedUrl":"…"}}.
func decodedPathProp(m map[string]json.RawMessage, name string) (string, error) {
	raw, ok := lookup(m, name)
	if !ok {
		return "", odata.InvalidQuery("The body needs " + name + ".")
	}
	var p map[string]json.RawMessage
	if json.Unmarshal(raw, &p) != nil {
		return "", odata.InvalidQuery(name + " must be an SP.ResourcePath object.")
	}
	return urlProp(p, "DecodedUrl")
}

// urlProp reads a string property holding a decoded URL: absolute
// (http://host/sites/dev/a b#c.txt, never percent-escaped: '#' and '%'
// are part of the name) or server-relative. Only the path is kept.
func urlProp(m map[string]json.RawMessage, name string) (string, error) {
	s, err := propString(m, name, "")
	if err != nil {
		return "", err
	}
	if s == nil || *s == "" {
		return "", odata.InvalidQuery("The body needs " + name + ".")
	}
	return stripOrigin(*s), nil
}

// stripOrigin cuts scheme://host[:port] off an absolute URL, as text: the
// rest is a decoded path.
func stripOrigin(u string) string {
	for _, scheme := range []string{"https://", "http://"} {
		if len(u) > len(scheme) && strings.EqualFold(u[:len(scheme)], scheme) {
			rest := u[len(scheme):]
			if i := strings.IndexByte(rest, '/'); i >= 0 {
				return rest[i:]
			}
			return "/"
		}
	}
	return u
}

// fileMoveCopy serves a file's or folder's copyTo(strnewurl,boverwrite),
// moveTo(newurl,flags), copyToUsingPath(DecodedUrl,bOverWrite) and
// moveToUsingPath(DecodedUrl,moveOperations).
func (c *call) fileMoveCopy(f *storage.File, seg odata.Segment) (*response, error) {
	if err := c.allow(http.MethodPost); err != nil {
		return nil, err
	}
	name := strings.ToLower(seg.Name)
	mc := moveCopy{move: strings.HasPrefix(name, "move"), folder: f.IsFolder, from: f.URL}
	to, err := pathArg(seg, "strnewurl", "newurl", "decodedurl")
	if err != nil {
		return nil, err
	}
	if !strings.HasPrefix(to, "/") {
		to = strings.TrimSuffix(c.web.ServerRelativeURL, "/") + "/" + to
	}
	mc.to = to
	if mc.overwrite, err = boolArg(seg, "boverwrite"); err != nil {
		return nil, err
	}
	if v, ok := seg.Named("flags"); ok && v.Kind == odata.KindInt {
		mc.overwrite = v.Int&1 != 0 // SP.MoveOperations.Overwrite
	}
	if v, ok := seg.Named("moveoperations"); ok && v.Kind == odata.KindInt {
		mc.overwrite = v.Int&1 != 0
	}
	if _, err := c.moveOrCopy(mc); err != nil {
		return nil, err
	}
	return c.null(), nil
}

// moveOrCopy checks both ends and has storage do it.
func (c *call) moveOrCopy(mc moveCopy) (*storage.File, error) {
	scope := siteScope(c.web.ServerRelativeURL)
	from, err := cleanURL(mc.from)
	if err != nil {
		return nil, err
	}
	to, err := cleanURL(mc.to)
	if err != nil {
		return nil, err
	}
	missing := fileNotFound
	if mc.folder {
		missing = folderNotFound
	}
	if !underPath(from, scope) || !underPath(to, scope) {
		return nil, missing()
	}
	w, err := c.webAt(parentURL(from), scope)
	if errors.Is(err, storage.ErrNotFound) {
		return nil, missing()
	}
	if err != nil {
		return nil, err
	}
	l, src, err := c.locateIn(w, from, missing)
	if err != nil {
		return nil, err
	}
	if src.IsFolder != mc.folder {
		return nil, missing()
	}
	if src.ItemID == 0 {
		return nil, odata.InvalidQuery("A library's root folder cannot be moved or copied.")
	}
	dir, name := splitURL(to)
	if err := storage.CheckLeafName(name); err != nil {
		return nil, badName(err)
	}
	if mc.keepBoth {
		if to, err = c.freeName(dir, name); err != nil {
			return nil, err
		}
	}
	u, err := c.currentUser()
	if err != nil {
		return nil, err
	}
	in := storage.MoveInput{ListID: l.ID, From: src.URL, To: to, Overwrite: mc.overwrite, By: u.ID}
	var f *storage.File
	if mc.move {
		f, err = c.tx.Files().Move(c.ctx, in)
	} else {
		f, err = c.tx.Files().Copy(c.ctx, in)
	}
	switch {
	case errors.Is(err, storage.ErrConflict):
		return nil, odata.NewError(http.StatusBadRequest, "-2130575257, Microsoft.SharePoint.SPException",
			"A file or folder with this name already exists at the destination. Send overwrite=true (files only) or KeepBoth.")
	case errors.Is(err, storage.ErrNotFound):
		return nil, folderNotFound()
	case errors.Is(err, storage.ErrInvalid):
		return nil, badName(err)
	}
	return f, err
}

// freeName is dir/name, or with " 1", " 2"… before the extension when
// that is taken (KeepBoth).
func (c *call) freeName(dir, name string) (string, error) {
	base, ext := name, ""
	if i := strings.LastIndexByte(name, '.'); i > 0 {
		base, ext = name[:i], name[i:]
	}
	candidate := name
	for n := 1; n <= 100; n++ {
		target := strings.TrimSuffix(dir, "/") + "/" + candidate
		w, err := c.webAt(parentURL(target), siteScope(target))
		if err != nil {
			return "", err
		}
		l, err := c.libraryAt(w, target)
		if err != nil {
			return target, nil // storage will say what is wrong
		}
		if _, err := c.tx.Files().Get(c.ctx, l.ID, target); errors.Is(err, storage.ErrNotFound) {
			return target, nil
		} else if err != nil {
			return "", err
		}
		candidate = base + " " + strconv.Itoa(n) + ext
	}
	return "", odata.InvalidQuery("No free name was found for KeepBoth.")
}

// cleanURL refuses a decoded server-relative path with empty, "." or
// ".." segments or a backslash.
func cleanURL(p string) (string, error) {
	if !strings.HasPrefix(p, "/") || strings.ContainsRune(p, '\\') {
		return "", odata.InvalidQuery("A file or folder path must be server-relative and cannot contain '\\'.")
	}
	p = strings.TrimSuffix(p, "/")
	for _, s := range strings.Split(p[1:], "/") {
		if s == "" || s == "." || s == ".." {
			return "", odata.InvalidQuery("A file or folder path cannot have empty, '.' or '..' segments.")
		}
	}
	return p, nil
}

// isMoveCopy reports whether seg is one of a file's or folder's move and
// copy functions.
func isMoveCopy(seg odata.Segment) bool {
	return seg.Call && (seg.Is("copyto") || seg.Is("moveto") || seg.Is("copytousingpath") || seg.Is("movetousingpath"))
}
