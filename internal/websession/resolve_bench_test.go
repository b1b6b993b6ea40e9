package websession_test

import (
	"context"
	"fmt"
	"runtime"
	"testing"

	"github.com/cesivi/cesivi/internal/state"
	"github.com/cesivi/cesivi/internal/state/redisstate"
	"github.com/cesivi/cesivi/internal/testenv"
	"github.com/cesivi/cesivi/internal/websession"
	"github.com/cesivi/cesivi/keyring"
)

// BenchmarkResolveStrict is an edge's strict path (no session cache): 64
// concurrent requests resolving their cookie (each a load from Redis)
// and reading the groups the assertion needs.
func BenchmarkResolveStrict(b *testing.B) {
	addr, db := testenv.RedisDB(b)
	ring, err := keyring.New(context.Background(), keyring.Options{Store: keyring.NewMemoryStore(), NoBackground: true})
	if err != nil {
		b.Fatal(err)
	}
	defer ring.Close()
	p, err := redisstate.Open(context.Background(), fmt.Sprintf("%s,defaultDatabase=%d", addr, db), "", state.Options{})
	if err != nil {
		b.Fatal(err)
	}
	defer p.Close()
	r, err := websession.New(context.Background(), websession.Options{Ring: ring, Sessions: p.Sessions, CacheTTL: -1})
	if err != nil {
		b.Fatal(err)
	}
	defer r.Close()
	_, cookie, err := r.Create(context.Background(), &state.Session{UserID: "u",
		Data: map[string]string{websession.DataName: "N", websession.DataGroups: `["staff","admins"]`}})
	if err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	b.SetParallelism(max(1, 64/runtime.GOMAXPROCS(0)))
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			s, err := r.Resolve(context.Background(), cookie)
			if err != nil {
				b.Error(err)
				return
			}
			if len(websession.Groups(s)) != 2 {
				b.Error("groups lost")
				return
			}
		}
	})
}
