package storage

import (
	"errors"
	"testing"
	"time"
)

// The suite cannot reach a library's item before Files makes them, so
// the library rule is checked here.
func TestTheItemsOfADocumentLibraryTakeNoAttachments(t *testing.T) {
	in := FileInput{Name: "a.txt", Blob: "b", Length: 1, By: 1}
	lib := &List{ID: NewGUID(), BaseType: BaseTypeDocumentLibrary, RootFolderURL: "/sites/dev/Shared Documents"}
	if _, err := PutAttachment(lib, 1, nil, in, time.Now()); !errors.Is(err, ErrInvalid) {
		t.Fatalf("an attachment on a library's item: %v, want ErrInvalid", err)
	}
	list := &List{ID: NewGUID(), BaseType: BaseTypeGenericList, RootFolderURL: "/sites/dev/Lists/Tasks"}
	f, err := PutAttachment(list, 3, nil, in, time.Now())
	if err != nil || f.URL != "/sites/dev/Lists/Tasks/Attachments/3/a.txt" || f.ListID != list.ID {
		t.Fatalf("an attachment on a list's item: %+v, %v", f, err)
	}
}
