package pgstorage

import (
	"errors"
	"fmt"
	"io"
	"testing"

	"github.com/jackc/pgx/v5/pgconn"

	"github.com/cesivi/cesivi/internal/storage"
)

func TestDatabaseErrorsMapOntoTheSentinels(t *testing.T) {
	for _, c := range []struct {
		err  error
		want error
	}{
		{&pgconn.PgError{Code: "23505", ConstraintName: "UX_Lists_WebId_Title"}, storage.ErrConflict},
		{&pgconn.PgError{Code: "23503"}, storage.ErrNotFound},
		{&pgconn.PgError{Code: "57014", Message: "canceling statement due to statement timeout"}, storage.ErrThrottled},
		{&pgconn.PgError{Code: "57014", Message: "canceling statement due to user request"}, storage.ErrUnavailable},
		{&pgconn.PgError{Code: "40001"}, storage.ErrUnavailable},
		{&pgconn.PgError{Code: "40P01"}, storage.ErrUnavailable},
		{&pgconn.PgError{Code: "57P01"}, storage.ErrUnavailable},
		{&pgconn.PgError{Code: "22P02"}, storage.ErrInvalid},
		{&pgconn.PgError{Code: "25006"}, storage.ErrInvalid},
		{fmt.Errorf("read: %w", io.ErrUnexpectedEOF), storage.ErrUnavailable},
		{storage.Conflict("kept"), storage.ErrConflict},
	} {
		if got := interpretError(c.err); !errors.Is(got, c.want) {
			t.Errorf("%v became %v, want %v", c.err, got, c.want)
		}
	}
	if got := interpretError(&pgconn.PgError{Code: "23505", ConstraintName: "UX_Lists_WebId_Title"}); got.Error() != "storage: conflict: a list with this title exists in the web" {
		t.Errorf("message %q", got)
	}
}
