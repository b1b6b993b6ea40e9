package pgstorage

import (
	"context"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgtype"
	"github.com/jackc/pgx/v5/pgxpool"
)

// session is one transaction on one pooled connection, cheaper in round
// trips than pgx.Tx: its BEGIN (and SET LOCAL statement_timeout) travel
// in one batch with its first statement, and a read-only transaction's
// COMMIT is sent after the caller has its answer. A request that reads
// one row thus waits for one round trip, not three.
type session struct {
	conn *pgxpool.Conn
	// begin are the statements sent ahead of the first one.
	begin []string
	begun bool
}

// querier is what the aggregates use of a transaction.
type querier interface {
	Exec(ctx context.Context, sql string, args ...any) (pgconn.CommandTag, error)
	Query(ctx context.Context, sql string, args ...any) (pgx.Rows, error)
	QueryRow(ctx context.Context, sql string, args ...any) pgx.Row
}

var _ querier = (*session)(nil)

// first sends the BEGIN statements and sql in one batch; the caller
// reads sql's result from the batch and closes it.
func (s *session) first(ctx context.Context, sql string, args ...any) (pgx.BatchResults, error) {
	b := &pgx.Batch{}
	for _, stmt := range s.begin {
		b.Queue(stmt)
	}
	b.Queue(sql, args...)
	br := s.conn.SendBatch(ctx, b)
	s.begun = true
	for range s.begin {
		if _, err := br.Exec(); err != nil {
			br.Close()
			return nil, err
		}
	}
	return br, nil
}

func (s *session) Exec(ctx context.Context, sql string, args ...any) (pgconn.CommandTag, error) {
	if s.begun {
		return s.conn.Exec(ctx, sql, args...)
	}
	br, err := s.first(ctx, sql, args...)
	if err != nil {
		return pgconn.CommandTag{}, err
	}
	tag, err := br.Exec()
	if cerr := br.Close(); err == nil {
		err = cerr
	}
	return tag, err
}

func (s *session) Query(ctx context.Context, sql string, args ...any) (pgx.Rows, error) {
	if s.begun {
		return s.conn.Query(ctx, sql, args...)
	}
	br, err := s.first(ctx, sql, args...)
	if err != nil {
		return errRows{err}, err
	}
	rows, err := br.Query()
	return &batchRows{Rows: rows, br: br}, err
}

func (s *session) QueryRow(ctx context.Context, sql string, args ...any) pgx.Row {
	rows, _ := s.Query(ctx, sql, args...)
	return (*connRow)(&rowOf{rows: rows})
}

// commit ends the transaction. A read-only one's COMMIT is not waited
// for: the connection goes back to the pool once it has answered.
func (s *session) commit(ctx context.Context, readOnly bool) error {
	if !s.begun {
		s.conn.Release()
		return nil
	}
	if readOnly {
		conn := s.conn
		go func() {
			cctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 10*time.Second)
			defer cancel()
			if _, err := conn.Exec(cctx, "COMMIT"); err != nil {
				// A connection whose COMMIT failed is not reused.
				_ = conn.Conn().Close(cctx)
			}
			conn.Release()
		}()
		return nil
	}
	defer s.conn.Release()
	tag, err := s.conn.Exec(ctx, "COMMIT")
	if err != nil {
		return err
	}
	if tag.String() == "ROLLBACK" { // the transaction had failed
		return pgx.ErrTxCommitRollback
	}
	return nil
}

// rollback ends the transaction without keeping anything.
func (s *session) rollback(ctx context.Context) {
	defer s.conn.Release()
	if !s.begun || s.conn.Conn().IsClosed() {
		return
	}
	rctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 10*time.Second)
	defer cancel()
	if _, err := s.conn.Exec(rctx, "ROLLBACK"); err != nil {
		_ = s.conn.Conn().Close(rctx)
	}
}

// batchRows closes the batch with the rows.
type batchRows struct {
	pgx.Rows
	br     pgx.BatchResults
	closed bool
}

func (r *batchRows) Close() {
	r.Rows.Close()
	if !r.closed {
		r.closed = true
		r.br.Close()
	}
}

func (r *batchRows) Next() bool {
	if r.Rows.Next() {
		return true
	}
	r.Close()
	return false
}

func (r *batchRows) Err() error {
	if err := r.Rows.Err(); err != nil {
		return err
	}
	return nil
}

// errRows is the rows of a statement that could not be sent.
type errRows struct{ err error }

func (e errRows) Close()                                       {}
func (e errRows) Err() error                                   { return e.err }
func (e errRows) CommandTag() pgconn.CommandTag                { return pgconn.CommandTag{} }
func (e errRows) FieldDescriptions() []pgconn.FieldDescription { return nil }
func (e errRows) Next() bool                                   { return false }
func (e errRows) Scan(...any) error                            { return e.err }
func (e errRows) Values() ([]any, error)                       { return nil, e.err }
func (e errRows) RawValues() [][]byte                          { return nil }
func (e errRows) Conn() *pgx.Conn                              { return nil }
func (e errRows) TypeMap() *pgtype.Map                         { return nil }

// rowOf is QueryRow over Query: one row, ErrNoRows for none.
type rowOf struct{ rows pgx.Rows }

type connRow rowOf

func (r *connRow) Scan(dest ...any) error {
	rows := r.rows
	defer rows.Close()
	if !rows.Next() {
		if err := rows.Err(); err != nil {
			return err
		}
		return pgx.ErrNoRows
	}
	if err := rows.Scan(dest...); err != nil {
		return err
	}
	rows.Close()
	return rows.Err()
}
