package redisstate_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/cesivi/cesivi/internal/fakeclock"
	"github.com/cesivi/cesivi/internal/state"
	"github.com/cesivi/cesivi/internal/testenv"
)

// The request path reads a session's whole hash (HGETALL), so the sealed
// tokens, most of its bytes, live in a key of their own with the same
// expiry, which slides with the session's.
func TestSessionTokensLiveBesideTheHashAndSlideWithIt(t *testing.T) {
	addr, db := testenv.RedisDB(t)
	clock := fakeclock.New(time.Now().Truncate(time.Millisecond))
	p := open(t, fmt.Sprintf("%s,defaultDatabase=%d", addr, db), state.Options{Now: clock.Now, IdleTimeout: time.Hour})
	rc := rawClient(t, addr, db)
	ctx := context.Background()
	s := &state.Session{UserID: "u", Tokens: make([]byte, 4000)}
	if err := p.Sessions.Create(ctx, s); err != nil {
		t.Fatal(err)
	}
	hash, tokens := "session:"+s.ID, "{session:"+s.ID+"}:tokens"
	if has, err := rc.HExists(ctx, hash, "t").Result(); err != nil || has {
		t.Fatalf("the session hash holds the tokens (HEXISTS t = %v, %v)", has, err)
	}
	if n, err := rc.StrLen(ctx, tokens).Result(); err != nil || n != 4000 {
		t.Fatalf("STRLEN %s = %d, %v; want 4000", tokens, n, err)
	}
	// Shorten the tokens key's life, then let a load slide the session.
	if err := rc.PExpire(ctx, tokens, 10*time.Second).Err(); err != nil {
		t.Fatal(err)
	}
	clock.Advance(20 * time.Minute)
	if _, err := p.Sessions.Load(ctx, s.ID); err != nil {
		t.Fatal(err)
	}
	hashTTL, err1 := rc.PTTL(ctx, hash).Result()
	tokTTL, err2 := rc.PTTL(ctx, tokens).Result()
	if err1 != nil || err2 != nil || tokTTL < 59*time.Minute || hashTTL-tokTTL > time.Second || tokTTL-hashTTL > time.Second {
		t.Fatalf("after the slide: PTTL hash %v (%v), tokens %v (%v); want both about 1 h", hashTTL, err1, tokTTL, err2)
	}
	if err := p.Sessions.Delete(ctx, s.ID); err != nil {
		t.Fatal(err)
	}
	if n, err := rc.Exists(ctx, hash, tokens).Result(); err != nil || n != 0 {
		t.Fatalf("after Delete %d of the session's keys remain (%v)", n, err)
	}
}

// A session stored by an earlier version keeps its tokens in hash field
// t: they are still read, a conditional update compares against them,
// and the update moves them to their own key.
func TestTokensInTheHashOfAnOlderVersionAreReadAndMoved(t *testing.T) {
	addr, db := testenv.RedisDB(t)
	p := open(t, fmt.Sprintf("%s,defaultDatabase=%d", addr, db), state.Options{})
	rc := rawClient(t, addr, db)
	ctx := context.Background()
	now := time.Now().UnixMilli()
	hash, tokens := "session:old", "{session:old}:tokens"
	if err := rc.HSet(ctx, hash, "n", "x", "u", "u", "s", "", "t", "legacy", "c", now, "l", now, "d:name", "A").Err(); err != nil {
		t.Fatal(err)
	}
	if err := rc.PExpire(ctx, hash, 20*time.Minute).Err(); err != nil {
		t.Fatal(err)
	}
	got, err := p.Sessions.Tokens(ctx, "old")
	if err != nil || string(got) != "legacy" {
		t.Fatalf("Tokens = %q, %v; want the hash's", got, err)
	}
	if se, err := p.Sessions.Load(ctx, "old"); err != nil || se.Tokens != nil || se.Data["name"] != "A" {
		t.Fatalf("Load = %+v, %v", se, err)
	}
	stale, read, fresh := []byte("other"), []byte("legacy"), []byte("fresh")
	if err := p.Sessions.Update(ctx, "old", state.SessionUpdate{Tokens: &fresh, IfTokens: &stale}); err == nil {
		t.Fatal("an update conditional on tokens the session never had was applied")
	}
	if err := p.Sessions.Update(ctx, "old", state.SessionUpdate{Tokens: &fresh, IfTokens: &read}); err != nil {
		t.Fatal(err)
	}
	if has, _ := rc.HExists(ctx, hash, "t").Result(); has {
		t.Fatal("the update left the tokens in the hash")
	}
	if v, err := rc.Get(ctx, tokens).Result(); err != nil || v != "fresh" {
		t.Fatalf("GET %s = %q, %v", tokens, v, err)
	}
	if ttl, err := rc.PTTL(ctx, tokens).Result(); err != nil || ttl <= 19*time.Minute || ttl > 20*time.Minute {
		t.Fatalf("PTTL %s = %v, %v; want the session's (about 20 min)", tokens, ttl, err)
	}
	if got, err := p.Sessions.Tokens(ctx, "old"); err != nil || string(got) != "fresh" {
		t.Fatalf("Tokens after the update = %q, %v", got, err)
	}
}
