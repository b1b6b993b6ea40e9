package sharepoint

import (
	"errors"
	"net/http"

	"github.com/cesivi/cesivi/internal/odata"
	"github.com/cesivi/cesivi/internal/storage"
)

// fileByPath serves getFileByServerRelativePath(decodedUrl='…') and
// getFileByServerRelativeUrl('…') of web w.
func (c *call) fileByPath(w *storage.Web, seg odata.Segment, rest []odata.Segment) (*response, error) {
	raw, err := pathArg(seg, "decodedurl")
	if err != nil {
		return nil, err
	}
	l, f, err := c.locateFile(w, raw, fileNotFound)
	if err != nil {
		return nil, err
	}
	if f.IsFolder {
		return nil, fileNotFound()
	}
	return c.fileResource(w, l, f, rest)
}

// fileByUniqueID serves getFileById('guid').
func (c *call) fileByUniqueID(w *storage.Web, seg odata.Segment, rest []odata.Segment) (*response, error) {
	l, f, err := c.fileByID(w, seg, fileNotFound)
	if err != nil {
		return nil, err
	}
	if f.IsFolder {
		return nil, fileNotFound()
	}
	return c.fileResource(w, l, f, rest)
}

// filesResource serves folder.files: the folder's files, and adding one.
func (c *call) filesResource(w *storage.Web, l *storage.List, folder *storage.File, seg odata.Segment, rest []odata.Segment) (*response, error) {
	if seg.Call { // files('name')
		return c.childFile(w, l, folder, seg, rest)
	}
	if len(rest) == 0 {
		if err := c.allow(http.MethodGet); err != nil {
			return nil, err
		}
		fs, err := c.tx.Files().Children(c.ctx, l.ID, folder.URL, false)
		if err == nil {
			fs, err = c.visibleFiles(l, fs)
		}
		if err != nil {
			return nil, err
		}
		ents := make([]*odata.Entity, len(fs))
		for i, f := range fs {
			ents[i] = c.fileEntity(f)
		}
		return c.filteredCollection(ents, "SP.ApiData.Files12")
	}
	next, rest := rest[0], rest[1:]
	switch {
	case (next.Is("add") || next.Is("addusingpath")) && len(rest) == 0:
		if err := c.allow(http.MethodPost); err != nil {
			return nil, err
		}
		return c.addFile(w, l, folder, next)
	case next.Is("getbyname") || next.Is("getbyurl"):
		return c.childFile(w, l, folder, next, rest)
	}
	return nil, notFound(next)
}

// childFile is files('name') or files/getByName('name').
func (c *call) childFile(w *storage.Web, l *storage.List, folder *storage.File, seg odata.Segment, rest []odata.Segment) (*response, error) {
	raw, err := pathArg(seg, "decodedurl", "url")
	if err != nil {
		return nil, err
	}
	f, err := c.tx.Files().Get(c.ctx, l.ID, below(folder.URL, raw))
	if errors.Is(err, storage.ErrNotFound) || (err == nil && f.IsFolder) {
		return nil, fileNotFound()
	}
	if err == nil {
		err = c.checkChild(l, f, fileNotFound)
	}
	if err != nil {
		return nil, err
	}
	return c.fileResource(w, l, f, rest)
}

// fileResource serves a file of library l and what hangs below it.
func (c *call) fileResource(w *storage.Web, l *storage.List, f *storage.File, rest []odata.Segment) (*response, error) {
	if len(rest) == 0 {
		return c.serveLeaf(leaf{
			get: func() (*response, error) { return c.fileResponse(f), nil },
			del: func() (*response, error) { return c.deleteFile(l, f) },
		})
	}
	seg, rest := rest[0], rest[1:]
	switch {
	case (seg.Is("$value") || seg.Is("openbinarystream")) && len(rest) == 0:
		switch {
		case c.method == http.MethodGet || c.method == http.MethodHead:
			return c.download(f), nil
		case c.method == http.MethodPut && seg.Is("$value"):
			return c.replaceContent(l, f)
		}
		return nil, c.notAllowed()
	case seg.Is("listitemallfields"):
		return c.itemResource(w, l, f.ItemID, rest)
	case seg.Is("parentfolder") && len(rest) == 0:
		p, err := c.tx.Files().Get(c.ctx, l.ID, f.DirURL)
		if err != nil {
			return nil, err
		}
		return c.folderResource(w, l, p, nil)
	case seg.Is("exists") && len(rest) == 0:
		return c.primitive("Exists", true), nil
	case isMoveCopy(seg) && len(rest) == 0:
		return c.fileMoveCopy(f, seg)
	case isChunk(seg) && len(rest) == 0:
		return c.chunk(l, f, seg)
	case seg.Is("cancelupload") && seg.Call && len(rest) == 0:
		return c.cancelUpload(l, f, seg)
	case isCheckOut(seg) && len(rest) == 0:
		return c.checkOutResource(l, f, seg)
	case (seg.Is("checkedoutbyuser") || seg.Is("lockedbyuser")) && len(rest) == 0:
		return c.checkedOutBy(f)
	case seg.Is("versions"):
		return c.fileVersions(l, f, seg, rest)
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

// fileIfMatch checks If-Match against a file's version and returns the
// version the write must still find (0 for *).
func (c *call) fileIfMatch(f *storage.File) (int, error) {
	h := c.r.Header.Get("If-Match")
	m, err := odata.ParseIfMatch(h)
	if err != nil || (!m.Any && !m.Matches(int64(f.Version))) {
		return 0, odata.VersionConflict(h, fileETag(f))
	}
	if m.Any {
		return 0, nil
	}
	return f.Version, nil
}

// deleteFile deletes a file, or a folder with everything in it.
func (c *call) deleteFile(l *storage.List, f *storage.File) (*response, error) {
	if f.ItemID == 0 {
		return nil, odata.InvalidQuery("A library's root folder cannot be deleted; delete the library.")
	}
	ifVersion, err := c.fileIfMatch(f)
	if err != nil {
		return nil, err
	}
	if err := c.tx.Files().Delete(c.ctx, l.ID, f.URL, ifVersion); err != nil {
		if errors.Is(err, storage.ErrConflict) {
			return nil, odata.VersionConflict(c.r.Header.Get("If-Match"), "")
		}
		return nil, err
	}
	return deleted(), nil
}

// errAlreadyExists is SharePoint's 400 for an add without Overwrite.
func errAlreadyExists() error {
	return odata.NewError(http.StatusBadRequest, "-2130575257, Microsoft.SharePoint.SPException",
		"A file with this name already exists in the folder. Send Overwrite=true to replace it.")
}

// addFile is files/add(url='…',overwrite=…) and
// files/addUsingPath(decodedurl='…',Overwrite=…): the content is c.blob,
// stored before the transaction.
func (c *call) addFile(w *storage.Web, l *storage.List, folder *storage.File, seg odata.Segment) (*response, error) {
	raw, err := pathArg(seg, "decodedurl", "url")
	if err != nil {
		return nil, err
	}
	overwrite, err := boolArg(seg, "overwrite")
	if err != nil {
		return nil, err
	}
	target, err := inWeb(w, below(folder.URL, raw))
	if errors.Is(err, errPathOutside) {
		return nil, folderNotFound()
	}
	if err != nil {
		return nil, err
	}
	dir, name := splitURL(target)
	if !underPath(dir, l.RootFolderURL) {
		return nil, folderNotFound()
	}
	if err := storage.CheckLeafName(name); err != nil {
		return nil, badName(err)
	}
	if c.blob == nil {
		return nil, odata.InvalidQuery("The file's content is missing.")
	}
	ifVersion := 0
	cur, err := c.tx.Files().Get(c.ctx, l.ID, target)
	switch {
	case errors.Is(err, storage.ErrNotFound):
	case err != nil:
		return nil, err
	case cur.IsFolder:
		return nil, odata.NewError(http.StatusBadRequest, "-2130575257, Microsoft.SharePoint.SPException",
			"A folder with this name already exists in the folder.")
	case !overwrite:
		return nil, errAlreadyExists()
	default:
		if ifVersion, err = c.fileIfMatch(cur); err != nil {
			return nil, err
		}
	}
	u, err := c.currentUser()
	if err != nil {
		return nil, err
	}
	f, err := c.tx.Files().Put(c.ctx, l.ID, storage.FileInput{FolderURL: dir, Name: name, Overwrite: overwrite,
		IfVersion: ifVersion, Blob: c.blob.Key, Length: c.blob.Size, By: u.ID})
	switch {
	case errors.Is(err, storage.ErrConflict) && ifVersion > 0:
		return nil, odata.VersionConflict(c.r.Header.Get("If-Match"), "")
	case errors.Is(err, storage.ErrConflict):
		return nil, errAlreadyExists()
	case errors.Is(err, storage.ErrNotFound):
		return nil, folderNotFound()
	case errors.Is(err, storage.ErrInvalid):
		return nil, badName(err)
	case err != nil:
		return nil, err
	}
	return c.fileResponse(f), nil
}

// replaceContent is PUT $value: the file's new content (a new major
// version), 204 as SharePoint answers.
func (c *call) replaceContent(l *storage.List, f *storage.File) (*response, error) {
	ifVersion, err := c.fileIfMatch(f)
	if err != nil {
		return nil, err
	}
	if c.blob == nil {
		return nil, odata.InvalidQuery("The file's content is missing.")
	}
	u, err := c.currentUser()
	if err != nil {
		return nil, err
	}
	nf, err := c.tx.Files().Put(c.ctx, l.ID, storage.FileInput{FolderURL: f.DirURL, Name: f.Name, Overwrite: true,
		IfVersion: ifVersion, Blob: c.blob.Key, Length: c.blob.Size, By: u.ID})
	if errors.Is(err, storage.ErrConflict) {
		return nil, odata.VersionConflict(c.r.Header.Get("If-Match"), "")
	}
	if err != nil {
		return nil, err
	}
	return noContent(fileETag(nf)), nil
}

// isLibrary reports whether l holds files.
func isLibrary(l *storage.List) bool { return l.BaseType == storage.BaseTypeDocumentLibrary }
