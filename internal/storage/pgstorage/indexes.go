package pgstorage

import (
	"context"
	"errors"
	"strings"

	"github.com/cesivi/cesivi/internal/storage"
)

// syncIndexes brings the expression indexes of Indexed fields in line
// with the Fields table, after the transaction that changed them has
// committed: CREATE INDEX CONCURRENTLY cannot run in a transaction, and
// does not block writers while it builds. Every server may run it at
// once (IF NOT EXISTS, IF EXISTS). A failure is logged, not returned:
// the write it follows has committed, the index only makes queries
// faster, and the next change of any field's index retries.
func (s *Store) syncIndexes(ctx context.Context) {
	ctx = context.WithoutCancel(ctx)
	if err := s.syncIndexesErr(ctx); err != nil {
		s.log.Warn("storage: maintaining field indexes failed", "error", err)
	}
}

func (s *Store) syncIndexesErr(ctx context.Context) error {
	rows, err := s.pool.Query(ctx, `SELECT "Id"::text, "InternalName", "TypeAsString" FROM "Fields" WHERE "Indexed"`)
	if err != nil {
		return err
	}
	want := map[string]string{}
	for rows.Next() {
		var f storage.Field
		var typ string
		if err := rows.Scan(&f.ID, &f.InternalName, &typ); err != nil {
			rows.Close()
			return err
		}
		f.Type = storage.FieldType(typ)
		if !storage.Computed(&f) {
			// In the order pages walk (nulls first, then the id), so the
			// index serves $orderby and $skiptoken as well as $filter.
			want[indexName(f.ID)] = `CREATE INDEX CONCURRENTLY IF NOT EXISTS "` + indexName(f.ID) + `" ON "ListItems" ("ListId", ` + expr(&f) + ` NULLS FIRST, "Id")`
		}
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return err
	}
	rows, err = s.pool.Query(ctx, `SELECT indexname FROM pg_indexes WHERE schemaname = current_schema() AND tablename = 'ListItems' AND indexname LIKE 'IX\_ListItems\_F\_%'`)
	if err != nil {
		return err
	}
	have := map[string]bool{}
	for rows.Next() {
		var name string
		if err := rows.Scan(&name); err != nil {
			rows.Close()
			return err
		}
		have[name] = true
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return err
	}
	var errs []string
	for name, sql := range want {
		if !have[name] {
			if _, err := s.pool.Exec(ctx, sql); err != nil {
				errs = append(errs, name+": "+err.Error())
			}
		}
	}
	for name := range have {
		if _, ok := want[name]; !ok {
			if _, err := s.pool.Exec(ctx, `DROP INDEX CONCURRENTLY IF EXISTS "`+name+`"`); err != nil {
				errs = append(errs, name+": "+err.Error())
			}
		}
	}
	if errs != nil {
		return errors.New(strings.Join(errs, "; "))
	}
	return nil
}
