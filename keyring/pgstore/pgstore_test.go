package pgstore_test

import (
	"context"
	"testing"

	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/cesivi/cesivi/internal/testenv"
	"github.com/cesivi/cesivi/keyring"
	"github.com/cesivi/cesivi/keyring/keyringtest"
	"github.com/cesivi/cesivi/keyring/pgstore"
)

func TestMain(m *testing.M) { testenv.Main(m) }

func pool(t *testing.T, url string) *pgxpool.Pool {
	t.Helper()
	p, err := pgxpool.New(context.Background(), url)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(p.Close)
	return p
}

func newStore(t *testing.T) keyring.Store {
	s, err := pgstore.New(context.Background(), pool(t, testenv.Postgres(t)))
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func TestExercise(t *testing.T) { keyringtest.Exercise(t, newStore) }

// Eight nodes, each with its own pool, migrating and starting together on
// an empty database end with one key.
func TestEightNodesOwnPools(t *testing.T) {
	url := testenv.Postgres(t)
	pools := make([]*pgxpool.Pool, keyringtest.Concurrency)
	for i := range pools {
		pools[i] = pool(t, url)
	}
	ids := keyringtest.StartTogether(t, len(pools), func(i int) (keyring.Store, error) {
		return pgstore.New(context.Background(), pools[i])
	})
	var n int
	if err := pools[0].QueryRow(context.Background(), "SELECT count(*) FROM cesivi_keyring_keys").Scan(&n); err != nil {
		t.Fatal(err)
	}
	if n != 1 || len(ids) != 1 {
		t.Fatalf("%d keys in the table, %d distinct current keys; want 1 and 1", n, len(ids))
	}
}
