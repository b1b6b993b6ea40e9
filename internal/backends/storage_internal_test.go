package backends

import (
	"testing"
	"time"

	"github.com/cesivi/cesivi/internal/connstr"
)

func TestTheStatementTimeoutComesFromTheConnectionString(t *testing.T) {
	for _, c := range []struct {
		conn string
		want time.Duration
	}{
		{"Host=h;Command Timeout=7", 7 * time.Second},
		{"Host=h;CommandTimeout=0", -1}, // Npgsql's "no limit"
		{"Host=h", 0},                   // pgstorage's default
		{"postgres://u@h/d?statement_timeout=30000", -1},
		{"host=h dbname=d options='-c x=y'", 0},
		{"postgres://u@h/d", 0},
	} {
		o, err := connstr.ParsePostgresOptions(c.conn)
		if err != nil {
			t.Fatalf("%s: %v", c.conn, err)
		}
		if got := statementTimeout(o); got != c.want {
			t.Errorf("%s: statement timeout %v, want %v", c.conn, got, c.want)
		}
	}
}
