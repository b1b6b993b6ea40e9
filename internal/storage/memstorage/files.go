package memstorage

import (
	"context"
	"errors"

	"github.com/cesivi/cesivi/internal/storage"
)

// errFilesNotBuilt: the files aggregate is being built (issue 9); until
// then every call refuses.
var errFilesNotBuilt = errors.New("memstorage: files and folders are not built yet")

type files struct{ t *tx }

func (t *tx) Files() storage.Files { return files{t} }

func (files) Get(context.Context, string, string) (*storage.File, error) {
	return nil, errFilesNotBuilt
}
func (files) GetByID(context.Context, string, string) (*storage.File, error) {
	return nil, errFilesNotBuilt
}
func (files) GetByItem(context.Context, string, int64) (*storage.File, error) {
	return nil, errFilesNotBuilt
}
func (files) Children(context.Context, string, string, bool) ([]*storage.File, error) {
	return nil, errFilesNotBuilt
}
func (files) AddFolder(context.Context, string, storage.FolderInput) (*storage.File, error) {
	return nil, errFilesNotBuilt
}
func (files) Put(context.Context, string, storage.FileInput) (*storage.File, error) {
	return nil, errFilesNotBuilt
}
func (files) Delete(context.Context, string, string, int) error { return errFilesNotBuilt }
func (files) Move(context.Context, storage.MoveInput) (*storage.File, error) {
	return nil, errFilesNotBuilt
}
func (files) Copy(context.Context, storage.MoveInput) (*storage.File, error) {
	return nil, errFilesNotBuilt
}
func (files) BlobsInUse(context.Context, []string) (map[string]bool, error) {
	return nil, errFilesNotBuilt
}
