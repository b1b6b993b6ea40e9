package redisstate_test

import (
	"context"
	"errors"
	"strings"
	"testing"

	"github.com/cesivi/cesivi/internal/state"
	"github.com/cesivi/cesivi/internal/testenv"
)

// A Redis under noeviction that is full refuses writes: Cesivi reports
// them as the store being unavailable (503 to clients, never "not
// found"), and reads keep working.
func TestAFullRedisUnderNoevictionRefusesWritesAsStoreUnavailable(t *testing.T) {
	r := testenv.RedisPrivate(t, testenv.RedisOptions{ExtraConfig: []string{"maxmemory 4mb", "maxmemory-policy noeviction"}})
	p := open(t, r.Addr, state.Options{})
	ctx := context.Background()
	first := &state.Session{UserID: "u", Tokens: make([]byte, 16<<10)}
	if err := p.Sessions.Create(ctx, first); err != nil {
		t.Fatal(err)
	}
	var err error
	for i := 0; i < 10000 && err == nil; i++ {
		err = p.Sessions.Create(ctx, &state.Session{UserID: "u", Tokens: make([]byte, 16<<10)})
	}
	if !errors.Is(err, state.ErrStoreUnavailable) || !strings.Contains(err.Error(), "OOM") {
		t.Fatalf("Create on a full Redis = %v; want ErrStoreUnavailable because of OOM", err)
	}
	if _, err := p.Sessions.Load(ctx, first.ID); err != nil {
		t.Fatalf("Load on a full Redis = %v; want the session", err)
	}
}
