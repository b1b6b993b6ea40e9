package connstr

import (
	"os"
	"testing"
)

// TestMain isolates the tests from the machine: pgx fills unset settings
// from PG* variables and reads ~/.pgpass and ~/.postgresql.
func TestMain(m *testing.M) {
	for _, name := range []string{
		"PGHOST", "PGPORT", "PGDATABASE", "PGUSER", "PGPASSWORD", "PGPASSFILE", "PGAPPNAME",
		"PGCONNECT_TIMEOUT", "PGSSLMODE", "PGSSLKEY", "PGSSLCERT", "PGSSLCERTMODE", "PGSSLSNI",
		"PGSSLROOTCERT", "PGSSLPASSWORD", "PGSSLNEGOTIATION", "PGTARGETSESSIONATTRS", "PGSERVICE",
		"PGSERVICEFILE", "PGTZ", "PGOPTIONS", "PGMINPROTOCOLVERSION", "PGMAXPROTOCOLVERSION",
		"PGCHANNELBINDING", "PGREQUIREAUTH",
	} {
		os.Unsetenv(name)
	}
	home, err := os.MkdirTemp("", "connstr-home")
	if err != nil {
		panic(err)
	}
	os.Setenv("HOME", home)
	os.Setenv("PGUSER", "tester") // so pgx need not look up the OS account
	code := m.Run()
	os.RemoveAll(home)
	os.Exit(code)
}
