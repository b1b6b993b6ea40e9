package memstorage

import (
	"context"
	"testing"

	"github.com/cesivi/cesivi/internal/storage"
	"github.com/cesivi/cesivi/internal/storage/storagetest"
)

// The blob probes are not in the contract (Files.BlobsInUse asks them),
// so they are checked here, through the suite's shared checks.

func TestTheUploadProbeNamesTheBlobsOfUploadsInProgress(t *testing.T) {
	storagetest.UploadBlobsInUse(t, New(Options{}), func(ctx context.Context, stx storage.Tx, keys []string) (map[string]bool, error) {
		return stx.(*tx).uploadBlobs(ctx, keys)
	})
}

func TestTheAttachmentProbeNamesTheBlobsOfAttachmentsThatExist(t *testing.T) {
	storagetest.AttachmentBlobsInUse(t, New(Options{}), func(ctx context.Context, stx storage.Tx, keys []string) (map[string]bool, error) {
		return stx.(*tx).attachmentBlobs(ctx, keys)
	})
}
