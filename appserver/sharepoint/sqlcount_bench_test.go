package sharepoint_test

import (
	"context"
	"sync/atomic"

	"github.com/jackc/pgx/v5"
)

// sqlCounter is a pgx tracer that counts what a benchmark sends to
// PostgreSQL: each statement, and each round trip (a Query or Exec is
// one, a batch of statements sent together is one). The counts are the
// storage half of the "SQL statements per request": they do not
// drift with the machine's load, unlike the times beside them.
type sqlCounter struct {
	statements, roundTrips atomic.Int64
}

type sqlCount struct{ statements, roundTrips int64 }

func (c *sqlCounter) read() sqlCount {
	return sqlCount{statements: c.statements.Load(), roundTrips: c.roundTrips.Load()}
}

func (a sqlCount) minus(b sqlCount) sqlCount {
	return sqlCount{statements: a.statements - b.statements, roundTrips: a.roundTrips - b.roundTrips}
}

func (c *sqlCounter) TraceQueryStart(ctx context.Context, _ *pgx.Conn, _ pgx.TraceQueryStartData) context.Context {
	c.statements.Add(1)
	c.roundTrips.Add(1)
	return ctx
}

func (c *sqlCounter) TraceQueryEnd(context.Context, *pgx.Conn, pgx.TraceQueryEndData) {}

func (c *sqlCounter) TraceBatchStart(ctx context.Context, _ *pgx.Conn, _ pgx.TraceBatchStartData) context.Context {
	c.roundTrips.Add(1)
	return ctx
}

func (c *sqlCounter) TraceBatchQuery(context.Context, *pgx.Conn, pgx.TraceBatchQueryData) {
	c.statements.Add(1)
}

func (c *sqlCounter) TraceBatchEnd(context.Context, *pgx.Conn, pgx.TraceBatchEndData) {}
