package memstate_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/cesivi/cesivi/internal/fakeclock"
	"github.com/cesivi/cesivi/internal/state"
	"github.com/cesivi/cesivi/internal/state/internal/statekit"
	"github.com/cesivi/cesivi/internal/state/memstate"
)

// TestTheLocalTokenCacheStaysBounded: an edge that sees a new bearer
// token on every request (30,000 over three simulated hours, each trusted
// for a minute) keeps at most MaxLocalEntries of them in memory, and the
// live ones at least until they expire.
func TestTheLocalTokenCacheStaysBounded(t *testing.T) {
	clock := fakeclock.New(time.Now())
	p, err := memstate.New(state.Options{Now: clock.Now, TokenCacheMaxTTL: time.Minute})
	if err != nil {
		t.Fatal(err)
	}
	defer p.Close()
	local, ok := p.Tokens.(interface{ LocalLen() int })
	if !ok {
		t.Fatal("the token cache does not report its local size")
	}
	ctx := context.Background()
	const tokens = 30_000
	step := 3 * time.Hour / tokens
	load := func(context.Context) ([]byte, error) { return []byte("alice"), nil }
	most := 0
	for i := range tokens {
		if _, err := p.Tokens.Get(ctx, fmt.Sprintf("token-%d", i), load); err != nil {
			t.Fatal(err)
		}
		most = max(most, local.LocalLen())
		clock.Advance(step)
	}
	if most > statekit.MaxLocalEntries {
		t.Fatalf("the local layer held %d entries; want at most %d", most, statekit.MaxLocalEntries)
	}
	// About a minute's worth of tokens is live at any time (167 here):
	// those stay cached.
	n := local.LocalLen()
	if n < int(time.Minute/step)/2 {
		t.Fatalf("only %d entries left; the live ones must stay", n)
	}
	calls := 0
	if _, err := p.Tokens.Get(ctx, fmt.Sprintf("token-%d", tokens-1), func(context.Context) ([]byte, error) { calls++; return nil, nil }); err != nil || calls != 0 {
		t.Fatalf("the newest token was validated again (%d calls, %v)", calls, err)
	}
}
