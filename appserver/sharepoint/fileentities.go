package sharepoint

import (
	"strconv"
	"strings"

	"github.com/cesivi/cesivi/internal/odata"
	"github.com/cesivi/cesivi/internal/storage"
)

// fileETag is SP.File's ETag: "{GUID},n", the guid upper case in
// braces as SharePoint writes it.
func fileETag(f *storage.File) string {
	return `"{` + strings.ToUpper(f.UniqueID) + `},` + strconv.Itoa(f.Version) + `"`
}

// uiVersion is SharePoint's UIVersion: major × 512 + minor.
func uiVersion(f *storage.File) int { return f.MajorVersion*512 + f.MinorVersion }

func uiVersionLabel(f *storage.File) string {
	return strconv.Itoa(f.MajorVersion) + "." + strconv.Itoa(f.MinorVersion)
}

// quoteArg writes s as an OData string literal, each quote doubled.
func quoteArg(s string) string { return "'" + strings.ReplaceAll(s, "'", "''") + "'" }

// fileEntity is SP.File.
func (c *call) fileEntity(f *storage.File) *odata.Entity {
	link := "Web/GetFileByServerRelativePath(decodedurl=" + quoteArg(f.URL) + ")"
	return &odata.Entity{Type: "SP.File", ID: c.enc.APIURL(link), EditLink: link, ETag: fileETag(f),
		Props: []odata.Prop{
			{Name: "CheckInComment", Value: ""},
			{Name: "CheckOutType", Value: f.CheckOutType},
			{Name: "ContentTag", Value: "{" + strings.ToUpper(f.UniqueID) + "}," + strconv.Itoa(f.Version) + "," + strconv.Itoa(f.Version)},
			{Name: "CustomizedPageStatus", Value: 0},
			{Name: "ETag", Value: fileETag(f)},
			{Name: "Exists", Value: true},
			{Name: "ExistsAllowThrowForPolicyFailures", Value: true},
			{Name: "ExistsWithException", Value: true},
			{Name: "IrmEnabled", Value: false},
			// Length is a string in SharePoint's JSON (an Int64 in OData
			// v3's JSON light).
			{Name: "Length", Value: strconv.FormatInt(f.Length, 10)},
			{Name: "Level", Value: 1},
			{Name: "LinkingUri", Value: nil},
			{Name: "LinkingUrl", Value: ""},
			{Name: "MajorVersion", Value: f.MajorVersion},
			{Name: "MinorVersion", Value: f.MinorVersion},
			{Name: "Name", Value: f.Name},
			{Name: "ServerRelativeUrl", Value: f.URL},
			{Name: "TimeCreated", Value: f.Created},
			{Name: "TimeLastModified", Value: f.Modified},
			{Name: "Title", Value: nil},
			{Name: "UIVersion", Value: uiVersion(f)},
			{Name: "UIVersionLabel", Value: uiVersionLabel(f)},
			{Name: "UniqueId", Value: f.UniqueID},
		}}
}

// folderOf is SP.Folder of a stored folder.
func (c *call) folderOf(f *storage.File) *odata.Entity {
	ent := c.folderEntity(f.URL, f.UniqueID, f.Name)
	for i, p := range ent.Props {
		if p.Name == "ItemCount" {
			ent.Props[i].Value = f.ItemCount
		}
	}
	ent.Props = append(ent.Props,
		odata.Prop{Name: "TimeCreated", Value: f.Created},
		odata.Prop{Name: "TimeLastModified", Value: f.Modified})
	return ent
}

// fileOrFolder is the entity of either.
func (c *call) fileOrFolder(f *storage.File) *odata.Entity {
	if f.IsFolder {
		return c.folderOf(f)
	}
	return c.fileEntity(f)
}

// fileResponse answers one file, with the comment its content was
// checked in with (collections leave it empty: one more read per file).
func (c *call) fileResponse(f *storage.File) *response {
	ent := c.fileEntity(f)
	if comment, err := c.tx.Versions().Comment(c.ctx, f.ListID, f.URL); err == nil && comment != "" {
		for i, p := range ent.Props {
			if p.Name == "CheckInComment" {
				ent.Props[i].Value = comment
			}
		}
	}
	return c.entity(ent, "SP.ApiData.Files12/@Element")
}

func (c *call) folderResponse(f *storage.File) *response {
	return c.entity(c.folderOf(f), "SP.ApiData.Folders/@Element")
}
