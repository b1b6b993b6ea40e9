package sharepoint

import (
	"errors"
	"strings"

	"github.com/cesivi/cesivi/internal/odata"
	"github.com/cesivi/cesivi/internal/storage"
)

// A library's items expand to their file or folder:
// items?$select=FileLeafRef,File/Name,File/Length&$expand=File (and
// Folder), as PnPjs code asks. File and Folder are navigation properties,
// not fields: they are taken out of the query before the fields are
// projected and added to each item after.

// fileExpansion is what $expand and $select ask of File and Folder.
type fileExpansion struct {
	file, folder       bool
	fileSel, folderSel []string // nested $select (Name, Length…); nil means all
}

// splitFileExpansion removes File and Folder from sel and expand of a
// library's query.
func splitFileExpansion(l *storage.List, sel, expand []string) (keptSel, keptExpand []string, fx fileExpansion) {
	if !isLibrary(l) {
		return sel, expand, fx
	}
	for _, e := range expand {
		switch {
		case strings.EqualFold(e, "File"):
			fx.file = true
		case strings.EqualFold(e, "Folder"):
			fx.folder = true
		default:
			keptExpand = append(keptExpand, e)
		}
	}
	for _, s := range sel {
		head, tail, nested := strings.Cut(s, "/")
		switch {
		case strings.EqualFold(head, "File") && fx.file:
			if nested {
				fx.fileSel = append(fx.fileSel, tail)
			}
		case strings.EqualFold(head, "Folder") && fx.folder:
			if nested {
				fx.folderSel = append(fx.folderSel, tail)
			}
		default:
			keptSel = append(keptSel, s)
		}
	}
	if len(sel) > 0 && len(keptSel) == 0 {
		keptSel = []string{"Id"}
	}
	return keptSel, keptExpand, fx
}

// attach adds File or Folder to each item's entity: the entity, or null
// when the item is the other kind.
func (fx fileExpansion) attach(c *call, l *storage.List, items []*storage.Item, ents []*odata.Entity) error {
	if !fx.file && !fx.folder {
		return nil
	}
	for i, it := range items {
		f, err := c.tx.Files().GetByItem(c.ctx, l.ID, it.ID)
		if errors.Is(err, storage.ErrNotFound) {
			f = nil
		} else if err != nil {
			return err
		}
		if fx.file {
			var v any
			if f != nil && !f.IsFolder {
				v = pickNested(c.fileEntity(f), fx.fileSel)
			}
			ents[i].Props = append(ents[i].Props, odata.Prop{Name: "File", Value: v})
		}
		if fx.folder {
			var v any
			if f != nil && f.IsFolder {
				v = pickNested(c.folderOf(f), fx.folderSel)
			}
			ents[i].Props = append(ents[i].Props, odata.Prop{Name: "Folder", Value: v})
		}
	}
	return nil
}

// pickNested keeps the named properties of a nested entity (all when
// none are named).
func pickNested(ent *odata.Entity, names []string) *odata.Entity {
	if len(names) == 0 {
		return ent
	}
	return pick(ent, names)
}
