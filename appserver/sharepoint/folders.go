package sharepoint

import (
	"errors"
	"net/http"
	"strconv"
	"strings"

	"github.com/cesivi/cesivi/internal/odata"
	"github.com/cesivi/cesivi/internal/storage"
)

// folderByPath serves getFolderByServerRelativePath(decodedUrl='…') and
// getFolderByServerRelativeUrl('…') of web w.
func (c *call) folderByPath(w *storage.Web, seg odata.Segment, rest []odata.Segment) (*response, error) {
	raw, err := pathArg(seg, "decodedurl")
	if err != nil {
		return nil, err
	}
	if p, err := inWeb(w, raw); err == nil && strings.EqualFold(p, w.ServerRelativeURL) && len(rest) == 0 {
		// The web's own root folder holds the libraries; it is no library's.
		return c.entity(c.folderEntity(w.ServerRelativeURL, "", w.Title), "SP.ApiData.Folders/@Element"), nil
	}
	l, f, err := c.locateFile(w, raw, folderNotFound)
	if err != nil {
		return nil, err
	}
	if !f.IsFolder {
		return nil, folderNotFound()
	}
	return c.folderResource(w, l, f, rest)
}

// folderByID serves getFolderById('guid').
func (c *call) folderByID(w *storage.Web, seg odata.Segment, rest []odata.Segment) (*response, error) {
	l, f, err := c.fileByID(w, seg, folderNotFound)
	if err != nil {
		return nil, err
	}
	if !f.IsFolder {
		return nil, folderNotFound()
	}
	return c.folderResource(w, l, f, rest)
}

// fileByID finds the file or folder getFileById/getFolderById names in
// web w, with its library.
func (c *call) fileByID(w *storage.Web, seg odata.Segment, notFound func() error) (*storage.List, *storage.File, error) {
	v, ok := seg.Single()
	id, okID := canonicalID(v)
	if !ok || !okID {
		return nil, nil, odata.InvalidQuery(seg.Name + " needs a guid as its argument.")
	}
	f, err := c.tx.Files().GetByID(c.ctx, w.ID, id)
	if errors.Is(err, storage.ErrNotFound) {
		return nil, nil, notFound()
	}
	if err != nil {
		return nil, nil, err
	}
	l, err := c.tx.Lists().Get(c.ctx, w.ID, f.ListID)
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

// libraryRoot is the root folder of library l.
func (c *call) libraryRoot(l *storage.List) (*storage.File, error) {
	return c.tx.Files().Get(c.ctx, l.ID, l.RootFolderURL)
}

// folderResource serves a folder of library l and what hangs below it.
func (c *call) folderResource(w *storage.Web, l *storage.List, f *storage.File, rest []odata.Segment) (*response, error) {
	if len(rest) == 0 {
		return c.serveLeaf(leaf{
			get: func() (*response, error) { return c.folderResponse(f), nil },
			del: func() (*response, error) { return c.deleteFile(l, f) },
		})
	}
	seg, rest := rest[0], rest[1:]
	switch {
	case seg.Is("files"):
		return c.filesResource(w, l, f, seg, rest)
	case seg.Is("folders"):
		return c.foldersResource(w, l, f, seg, rest)
	case seg.Is("listitemallfields"):
		if f.ItemID == 0 {
			// The root folder is no item: SharePoint answers odata.null.
			if err := c.allow(http.MethodGet); err != nil {
				return nil, err
			}
			return c.null(), nil
		}
		return c.itemResource(w, l, f.ItemID, rest)
	case seg.Is("parentfolder") && len(rest) == 0:
		if f.ItemID == 0 {
			return c.entity(c.folderEntity(w.ServerRelativeURL, "", w.Title), "SP.ApiData.Folders/@Element"), nil
		}
		p, err := c.tx.Files().Get(c.ctx, l.ID, f.DirURL)
		if err != nil {
			return nil, err
		}
		return c.folderResource(w, l, p, nil)
	case seg.Is("properties") && len(rest) == 0:
		if err := c.allow(http.MethodGet); err != nil {
			return nil, err
		}
		return c.entity(&odata.Entity{Type: "SP.PropertyValues", Props: []odata.Prop{
			{Name: "vti_x005f_timecreated", Value: f.Created},
			{Name: "vti_x005f_timelastmodified", Value: f.Modified},
		}}, ""), nil
	case isMoveCopy(seg) && len(rest) == 0:
		return c.fileMoveCopy(f, seg)
	case seg.Is("storagemetrics") && len(rest) == 0:
		if err := c.allow(http.MethodGet); err != nil {
			return nil, err
		}
		return c.storageMetrics(l, f)
	case seg.Is("recycle") && len(rest) == 0:
		return c.recycleFile(l, f)
	case seg.Is("deletewithparameters") && len(rest) == 0:
		if err := c.allow(http.MethodPost); err != nil {
			return nil, err
		}
		return c.deleteFile(l, f)
	}
	return nil, notFound(seg)
}

// foldersResource serves folder.folders: the subfolders, and adding one.
func (c *call) foldersResource(w *storage.Web, l *storage.List, parent *storage.File, seg odata.Segment, rest []odata.Segment) (*response, error) {
	if seg.Call { // folders('name')
		return c.childFolder(w, l, parent, seg, rest)
	}
	if len(rest) == 0 {
		return c.serveLeaf(leaf{
			get:  func() (*response, error) { return c.childFolders(l, parent) },
			post: func() (*response, error) { return c.addFolderFromBody(w, l, parent) },
		})
	}
	next, rest := rest[0], rest[1:]
	switch {
	case (next.Is("addusingpath") || next.Is("add")) && len(rest) == 0:
		if err := c.allow(http.MethodPost); err != nil {
			return nil, err
		}
		raw, err := pathArg(next, "decodedurl", "url")
		if err != nil {
			return nil, err
		}
		overwrite, err := boolArg(next, "overwrite")
		if err != nil {
			return nil, err
		}
		if overwrite {
			if f, err := c.tx.Files().Get(c.ctx, l.ID, below(parent.URL, raw)); err == nil && f.IsFolder {
				return c.folderResponse(f), nil // it is there already
			}
		}
		return c.addFolder(w, l, parent, raw)
	case next.Is("getbyname") || next.Is("getbyurl"):
		return c.childFolder(w, l, parent, next, rest)
	}
	return nil, notFound(next)
}

func (c *call) childFolders(l *storage.List, parent *storage.File) (*response, error) {
	fs, err := c.tx.Files().Children(c.ctx, l.ID, parent.URL, true)
	if err == nil {
		fs, err = c.visibleFiles(l, fs)
	}
	if err != nil {
		return nil, err
	}
	ents := make([]*odata.Entity, len(fs))
	for i, f := range fs {
		ents[i] = c.folderOf(f)
	}
	return c.filteredCollection(ents, "SP.ApiData.Folders")
}

// childFolder is folders('name') or folders/getByName('name').
func (c *call) childFolder(w *storage.Web, l *storage.List, parent *storage.File, seg odata.Segment, rest []odata.Segment) (*response, error) {
	raw, err := pathArg(seg, "decodedurl", "url")
	if err != nil {
		return nil, err
	}
	f, err := c.tx.Files().Get(c.ctx, l.ID, below(parent.URL, raw))
	if errors.Is(err, storage.ErrNotFound) || (err == nil && !f.IsFolder) {
		return nil, folderNotFound()
	}
	if err == nil {
		err = c.checkChild(l, f, folderNotFound)
	}
	if err != nil {
		return nil, err
	}
	return c.folderResource(w, l, f, rest)
}

// below resolves raw, a name or a relative path, against folder dir; a
// server-relative raw stands for itself.
func below(dir, raw string) string {
	if strings.HasPrefix(raw, "/") {
		return strings.TrimSuffix(raw, "/")
	}
	return strings.TrimSuffix(dir, "/") + "/" + strings.TrimSuffix(raw, "/")
}

// addFolderFromBody is POST folders with {"ServerRelativeUrl": "…"}, the
// older REST form.
func (c *call) addFolderFromBody(w *storage.Web, l *storage.List, parent *storage.File) (*response, error) {
	m, err := c.object("SP.Folder")
	if err != nil {
		return nil, err
	}
	u, err := propString(m, "ServerRelativeUrl", "SP.Folder")
	if err != nil {
		return nil, err
	}
	if u == nil || *u == "" {
		return nil, odata.InvalidQuery("A new folder needs its ServerRelativeUrl.")
	}
	return c.addFolder(w, l, parent, *u)
}

// addFolder creates the folder raw names (relative to parent, or
// server-relative) and answers it.
func (c *call) addFolder(w *storage.Web, l *storage.List, parent *storage.File, raw string) (*response, error) {
	target, err := inWeb(w, below(parent.URL, raw))
	if errors.Is(err, errPathOutside) {
		return nil, folderNotFound()
	}
	if err != nil {
		return nil, err
	}
	if !underPath(target, l.RootFolderURL) || strings.EqualFold(target, l.RootFolderURL) {
		return nil, folderNotFound()
	}
	dir, name := splitURL(target)
	if err := storage.CheckLeafName(name); err != nil {
		return nil, badName(err)
	}
	u, err := c.currentUser()
	if err != nil {
		return nil, err
	}
	if err := c.ensureFolders(l, dir, u); err != nil {
		return nil, err
	}
	f, err := c.tx.Files().AddFolder(c.ctx, l.ID, storage.FolderInput{ParentURL: dir, Name: name, By: u.ID})
	switch {
	case errors.Is(err, storage.ErrConflict):
		return nil, odata.NewError(http.StatusBadRequest, "-2130575257, Microsoft.SharePoint.SPException",
			"A file or folder with this name already exists in the folder.")
	case errors.Is(err, storage.ErrNotFound):
		return nil, folderNotFound()
	case errors.Is(err, storage.ErrInvalid):
		return nil, badName(err)
	case err != nil:
		return nil, err
	}
	return c.folderResponse(f), nil
}

// ensureFolders creates the folders of library l on the way to dir that
// do not exist yet, as SharePoint's folders.add("a/b/c") does.
func (c *call) ensureFolders(l *storage.List, dir string, u *storage.User) error {
	if !underPath(dir, l.RootFolderURL) || strings.EqualFold(dir, l.RootFolderURL) {
		return nil
	}
	cur := l.RootFolderURL
	for _, name := range strings.Split(dir[len(l.RootFolderURL)+1:], "/") {
		next := cur + "/" + name
		f, err := c.tx.Files().Get(c.ctx, l.ID, next)
		switch {
		case err == nil && !f.IsFolder:
			return odata.NewError(http.StatusBadRequest, "-2130575257, Microsoft.SharePoint.SPException",
				"A file with this name already exists where a folder of the path should be.")
		case errors.Is(err, storage.ErrNotFound):
			if err := storage.CheckLeafName(name); err != nil {
				return badName(err)
			}
			if _, err := c.tx.Files().AddFolder(c.ctx, l.ID, storage.FolderInput{ParentURL: cur, Name: name, By: u.ID}); err != nil {
				return err
			}
		case err != nil:
			return err
		}
		cur = next
	}
	return nil
}

// splitURL splits a server-relative URL into its folder and last name.
func splitURL(u string) (dir, name string) {
	i := strings.LastIndexByte(u, '/')
	if i <= 0 {
		return "/", u[i+1:]
	}
	return u[:i], u[i+1:]
}

// webFolders is web/folders: the root folders of the web's libraries,
// and adding a folder by a path relative to the web.
func (c *call) webFolders(w *storage.Web, seg odata.Segment, rest []odata.Segment) (*response, error) {
	if seg.Call {
		raw, err := pathArg(seg, "decodedurl", "url")
		if err != nil {
			return nil, err
		}
		return c.folderByPath(w, odata.Segment{Name: "folders", Call: true, Args: []odata.Arg{{Value: odata.String(raw)}}}, rest)
	}
	if len(rest) == 0 {
		if err := c.allow(http.MethodGet); err != nil {
			return nil, err
		}
		ls, err := c.tx.Lists().List(c.ctx, w.ID)
		if err != nil {
			return nil, err
		}
		var ents []*odata.Entity
		for _, l := range ls {
			if l.BaseType != storage.BaseTypeDocumentLibrary {
				continue
			}
			root, err := c.libraryRoot(l)
			if err != nil {
				return nil, err
			}
			ents = append(ents, c.folderOf(root))
		}
		return c.filteredCollection(ents, "SP.ApiData.Folders")
	}
	next := rest[0]
	if (next.Is("addusingpath") || next.Is("add")) && len(rest) == 1 {
		if err := c.allow(http.MethodPost); err != nil {
			return nil, err
		}
		raw, err := pathArg(next, "decodedurl", "url")
		if err != nil {
			return nil, err
		}
		target, err := inWeb(w, raw)
		if errors.Is(err, errPathOutside) {
			return nil, folderNotFound()
		}
		if err != nil {
			return nil, err
		}
		l, err := c.libraryFor(w, target, folderNotFound)
		if err != nil {
			return nil, err
		}
		root, err := c.libraryRoot(l)
		if err != nil {
			return nil, err
		}
		return c.addFolder(w, l, root, target)
	}
	return nil, notFound(next)
}

// storageMetrics is folder/storageMetrics (SP.StorageMetrics): the files
// below the folder, their bytes, and the latest change.
func (c *call) storageMetrics(l *storage.List, folder *storage.File) (*response, error) {
	var count, size int64
	last := folder.Modified
	pending := []string{folder.URL}
	for len(pending) > 0 {
		dir := pending[len(pending)-1]
		pending = pending[:len(pending)-1]
		files, err := c.tx.Files().Children(c.ctx, l.ID, dir, false)
		if err == nil {
			files, err = c.visibleFiles(l, files)
		}
		if err != nil {
			return nil, err
		}
		for _, f := range files {
			count++
			size += f.Length
			if f.Modified.After(last) {
				last = f.Modified
			}
		}
		subs, err := c.tx.Files().Children(c.ctx, l.ID, dir, true)
		if err == nil {
			subs, err = c.visibleFiles(l, subs)
		}
		if err != nil {
			return nil, err
		}
		for _, s := range subs {
			pending = append(pending, s.URL)
			if s.Modified.After(last) {
				last = s.Modified
			}
		}
	}
	return c.entity(&odata.Entity{Type: "SP.StorageMetrics", Props: []odata.Prop{
		{Name: "LastModified", Value: last},
		{Name: "TotalFileCount", Value: count},
		{Name: "TotalFileStreamSize", Value: strconv.FormatInt(size, 10)},
		{Name: "TotalSize", Value: strconv.FormatInt(size, 10)},
	}}, ""), nil
}
