package sharepoint

import (
	"errors"
	"net/http"
	"strconv"
	"strings"

	"github.com/cesivi/cesivi/internal/odata"
	"github.com/cesivi/cesivi/internal/storage"
)

// Version histories: file/versions (SP.FileVersion, the earlier versions
// only, as SharePoint lists them), an earlier version's content
// (versions(512)/$value), restoreByLabel and the deletes; and
// item/versions (SP.ListItemVersion, the current one included).

// versionLabel is "major.minor" of a version id.
func versionLabel(id int) string { return strconv.Itoa(id/512) + "." + strconv.Itoa(id%512) }

// fileVersionEntity is SP.FileVersion.
func (c *call) fileVersionEntity(f *storage.File, v *storage.FileVersion) *odata.Entity {
	link := "Web/GetFileByServerRelativePath(decodedurl=" + quoteArg(f.URL) + ")/Versions(" + strconv.Itoa(v.ID) + ")"
	return &odata.Entity{Type: "SP.FileVersion", ID: c.enc.APIURL(link), EditLink: link, Props: []odata.Prop{
		{Name: "CheckInComment", Value: v.CheckInComment},
		{Name: "Created", Value: v.Created},
		{Name: "ID", Value: v.ID},
		{Name: "IsCurrentVersion", Value: false},
		{Name: "Length", Value: strconv.FormatInt(v.Length, 10)},
		{Name: "Size", Value: v.Length},
		{Name: "Url", Value: "_vti_history/" + strconv.Itoa(v.ID) + strings.TrimPrefix(f.URL, c.web.ServerRelativeURL)},
		{Name: "VersionLabel", Value: v.Label},
	}}
}

// fileVersions serves file/versions and what hangs below it.
func (c *call) fileVersions(l *storage.List, f *storage.File, seg odata.Segment, rest []odata.Segment) (*response, error) {
	if seg.Call { // versions(512)
		return c.fileVersionByID(l, f, seg, rest)
	}
	if len(rest) == 0 {
		if err := c.allow(http.MethodGet); err != nil {
			return nil, err
		}
		vs, err := c.tx.Versions().Files(c.ctx, l.ID, f.URL)
		if err != nil {
			return nil, err
		}
		ents := make([]*odata.Entity, len(vs))
		for i, v := range vs {
			ents[i] = c.fileVersionEntity(f, v)
		}
		return c.filteredCollection(ents, "SP.ApiData.FileVersions")
	}
	next, rest := rest[0], rest[1:]
	if len(rest) > 0 {
		return nil, notFound(rest[0])
	}
	if next.Is("getbyid") && next.Call {
		return c.fileVersionByID(l, f, next, nil)
	}
	if err := c.allow(http.MethodPost); err != nil {
		return nil, err
	}
	u, err := c.currentUser()
	if err != nil {
		return nil, err
	}
	if err := c.checkWritable(f, u); err != nil {
		return nil, err
	}
	switch {
	case next.Is("restorebylabel") && next.Call:
		label, err := stringArg(next, "versionlabel")
		if err != nil {
			return nil, err
		}
		if _, err := c.tx.Versions().Restore(c.ctx, l.ID, f.URL, label, u.ID); err != nil {
			return nil, c.versionMissing(err)
		}
	case (next.Is("deletebyid") || next.Is("recyclebyid")) && next.Call:
		v, ok := next.Named("vid")
		if !ok {
			v, ok = next.Single()
		}
		if !ok || v.Kind != odata.KindInt {
			return nil, odata.InvalidQuery(next.Name + " needs vid, a version id such as 512.")
		}
		if err := c.tx.Versions().Delete(c.ctx, l.ID, f.URL, int(v.Int)); err != nil {
			return nil, c.versionMissing(err)
		}
	case (next.Is("deletebylabel") || next.Is("recyclebylabel")) && next.Call:
		label, err := stringArg(next, "versionlabel")
		if err != nil {
			return nil, err
		}
		id, ok := versionID(label)
		if !ok {
			return nil, odata.InvalidQuery("A version label is major.minor, such as 1.0.")
		}
		if err := c.tx.Versions().Delete(c.ctx, l.ID, f.URL, id); err != nil {
			return nil, c.versionMissing(err)
		}
	case next.Is("deleteall"), next.Is("recycleall"):
		if err := c.tx.Versions().DeleteAll(c.ctx, l.ID, f.URL); err != nil {
			return nil, err
		}
	default:
		return nil, notFound(next)
	}
	return noContent(""), nil
}

// fileVersionByID serves versions(512): GET, its $value, DELETE.
func (c *call) fileVersionByID(l *storage.List, f *storage.File, seg odata.Segment, rest []odata.Segment) (*response, error) {
	v, ok := seg.Single()
	if !ok || v.Kind != odata.KindInt {
		return nil, odata.InvalidQuery("A version is named by its id, such as versions(512).")
	}
	vs, err := c.tx.Versions().Files(c.ctx, l.ID, f.URL)
	if err != nil {
		return nil, err
	}
	var ver *storage.FileVersion
	for _, x := range vs {
		if x.ID == int(v.Int) {
			ver = x
		}
	}
	if ver == nil {
		return nil, c.versionMissing(storage.ErrNotFound)
	}
	if len(rest) == 1 && (rest[0].Is("$value") || rest[0].Is("openbinarystream")) {
		if err := c.allow(http.MethodGet); err != nil {
			return nil, err
		}
		old := *f
		old.Blob, old.Length, old.Modified = ver.Blob, ver.Length, ver.Created
		old.MajorVersion, old.MinorVersion = ver.ID/512, ver.ID%512
		old.Version = -ver.ID // an ETag of its own, never the current one's
		return c.download(&old), nil
	}
	if len(rest) > 0 {
		return nil, notFound(rest[0])
	}
	return c.serveLeaf(leaf{
		get: func() (*response, error) {
			return c.entity(c.fileVersionEntity(f, ver), "SP.ApiData.FileVersions/@Element"), nil
		},
		del: func() (*response, error) {
			if err := c.tx.Versions().Delete(c.ctx, l.ID, f.URL, ver.ID); err != nil {
				return nil, c.versionMissing(err)
			}
			return deleted(), nil
		},
	})
}

// versionMissing is the 404 for a version that does not exist.
func (c *call) versionMissing(err error) error {
	if errors.Is(err, storage.ErrNotFound) {
		return odata.NewError(http.StatusNotFound, "-2147024809, System.ArgumentException", "The version does not exist.")
	}
	return err
}

// versionID parses a label such as "2.1" into 2 × 512 + 1.
func versionID(label string) (int, bool) {
	major, minor, ok := strings.Cut(label, ".")
	a, err1 := strconv.Atoi(major)
	b, err2 := strconv.Atoi(minor)
	if !ok || err1 != nil || err2 != nil || a < 0 || b < 0 || b >= 512 {
		return 0, false
	}
	return a*512 + b, true
}

// stringArg is a named (or the only) string argument.
func stringArg(seg odata.Segment, name string) (string, error) {
	v, ok := seg.Named(name)
	if !ok {
		v, ok = seg.Single()
	}
	if !ok || v.Kind != odata.KindString {
		return "", odata.InvalidQuery(seg.Name + " needs " + name + ", a string.")
	}
	return v.Str, nil
}

// itemVersions serves item/versions and versions(n) of any list whose
// versioning is on: SP.ListItemVersion with the item's values then.
func (c *call) itemVersions(l *storage.List, id int64, seg odata.Segment, rest []odata.Segment) (*response, error) {
	if err := c.allow(http.MethodGet); err != nil {
		return nil, err
	}
	if len(rest) > 1 || (len(rest) == 1 && !(rest[0].Is("getbyid") && rest[0].Call)) {
		return nil, notFound(rest[len(rest)-1])
	}
	vs, err := c.tx.Versions().Items(c.ctx, l.ID, id)
	if err != nil {
		return nil, c.itemMissing(err)
	}
	s, err := c.listSchema(l)
	if err != nil {
		return nil, err
	}
	proj, err := newProjection(s, c.query.Select, nil)
	if err != nil {
		return nil, err
	}
	ents := make([]*odata.Entity, 0, len(vs))
	for i := len(vs) - 1; i >= 0; i-- { // newest first, as SharePoint lists them
		v := vs[i]
		it := &storage.Item{ID: id, ListID: l.ID, Version: i + 1, Values: v.Values, Modified: v.Created, Created: v.Created, EditorID: v.EditorID}
		one, err := c.itemEntities(l, s, proj, []*storage.Item{it})
		if err != nil {
			return nil, err
		}
		link := "Web/Lists(guid'" + l.ID + "')/Items(" + strconv.FormatInt(id, 10) + ")/Versions(" + strconv.Itoa(v.ID) + ")"
		ent := &odata.Entity{Type: "SP.ListItemVersion", ID: c.enc.APIURL(link), EditLink: link, Props: append([]odata.Prop{
			{Name: "IsCurrentVersion", Value: v.IsCurrent},
			{Name: "VersionId", Value: v.ID},
			{Name: "VersionLabel", Value: v.Label},
		}, one[0].Props...)}
		ents = append(ents, ent)
	}
	pick := seg
	if len(rest) == 1 {
		pick = rest[0]
	}
	if pick.Call {
		want, ok := pick.Single()
		if !ok || want.Kind != odata.KindInt {
			return nil, odata.InvalidQuery("A version is named by its id, such as versions(512).")
		}
		for i := range vs {
			if vs[len(vs)-1-i].ID == int(want.Int) {
				return c.entity(ents[i], "SP.ApiData.ListItemVersions/@Element"), nil
			}
		}
		return nil, c.versionMissing(storage.ErrNotFound)
	}
	return c.filteredCollection(ents, "SP.ApiData.ListItemVersions")
}
