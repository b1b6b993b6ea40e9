package memstorage

import (
	"context"
	"errors"

	"github.com/cesivi/cesivi/internal/storage"
)

// errDocumentsNotBuilt: versions, check-out and the recycle bin are
// being built (issue 9); until then every call refuses. Attachments and
// uploads are in attachments.go and uploads.go.
var errDocumentsNotBuilt = errors.New("memstorage: document management is not built yet")

type (
	versions   struct{ t *tx }
	checkOuts  struct{ t *tx }
	recycleBin struct{ t *tx }
)

func (t *tx) Versions() storage.Versions     { return versions{t} }
func (t *tx) CheckOuts() storage.CheckOuts   { return checkOuts{t} }
func (t *tx) RecycleBin() storage.RecycleBin { return recycleBin{t} }

func (versions) Files(context.Context, string, string) ([]*storage.FileVersion, error) {
	return nil, errDocumentsNotBuilt
}
func (versions) Restore(context.Context, string, string, string, int64) (*storage.File, error) {
	return nil, errDocumentsNotBuilt
}
func (versions) Delete(context.Context, string, string, int) error { return errDocumentsNotBuilt }
func (versions) DeleteAll(context.Context, string, string) error   { return errDocumentsNotBuilt }
func (versions) Items(context.Context, string, int64) ([]*storage.ItemVersion, error) {
	return nil, errDocumentsNotBuilt
}

func (checkOuts) CheckOut(context.Context, string, string, int64) (*storage.File, error) {
	return nil, errDocumentsNotBuilt
}
func (checkOuts) CheckIn(context.Context, string, string, int64, string, int) (*storage.File, error) {
	return nil, errDocumentsNotBuilt
}
func (checkOuts) Undo(context.Context, string, string, int64) (*storage.File, error) {
	return nil, errDocumentsNotBuilt
}

func (recycleBin) RecycleFile(context.Context, string, string, int64, int) (*storage.RecycleBinItem, error) {
	return nil, errDocumentsNotBuilt
}
func (recycleBin) RecycleItem(context.Context, string, int64, int64, int) (*storage.RecycleBinItem, error) {
	return nil, errDocumentsNotBuilt
}
func (recycleBin) RecycleList(context.Context, string, string, int64) (*storage.RecycleBinItem, error) {
	return nil, errDocumentsNotBuilt
}
func (recycleBin) RecycleAttachment(context.Context, string, int64, string, int64) (*storage.RecycleBinItem, error) {
	return nil, errDocumentsNotBuilt
}
func (recycleBin) List(context.Context, string, string) ([]*storage.RecycleBinItem, error) {
	return nil, errDocumentsNotBuilt
}
func (recycleBin) Get(context.Context, string, string) (*storage.RecycleBinItem, error) {
	return nil, errDocumentsNotBuilt
}
func (recycleBin) Restore(context.Context, string, string) error { return errDocumentsNotBuilt }
func (recycleBin) Delete(context.Context, string, string) error  { return errDocumentsNotBuilt }
func (recycleBin) Empty(context.Context, string, string) error   { return errDocumentsNotBuilt }
