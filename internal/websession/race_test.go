package websession_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/cesivi/cesivi/internal/state"
	"github.com/cesivi/cesivi/internal/state/memstate"
	"github.com/cesivi/cesivi/internal/websession"
	"github.com/cesivi/cesivi/keyring"
)

// pausedLoad holds Load after it has read the session, as a Redis round
// trip overtaken by a revocation notice would.
type pausedLoad struct {
	state.SessionStore
	loaded, resume chan struct{}
}

func (s *pausedLoad) Load(ctx context.Context, id string) (*state.Session, error) {
	se, err := s.SessionStore.Load(ctx, id)
	if s.loaded != nil {
		close(s.loaded)
		<-s.resume
		s.loaded = nil
	}
	return se, err
}

// A session revoked on another edge while this edge was loading it must not
// end up in this edge's cache (where it would live on for the cache TTL).
func TestARevocationOvertakingALoadIsNotCached(t *testing.T) {
	ring, err := keyring.New(context.Background(), keyring.Options{Store: keyring.NewMemoryStore(), NoBackground: true})
	if err != nil {
		t.Fatal(err)
	}
	defer ring.Close()
	store := memstate.NewStore()
	edgeA, _ := store.Provider(state.Options{})
	edgeB, _ := store.Provider(state.Options{})
	defer edgeA.Close()
	defer edgeB.Close()
	paused := &pausedLoad{SessionStore: edgeA.Sessions}
	r, err := websession.New(context.Background(), websession.Options{Ring: ring, Sessions: paused, PubSub: edgeA.PubSub, CacheTTL: time.Hour})
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	s, cookie, err := r.Create(context.Background(), &state.Session{UserID: "u"})
	if err != nil {
		t.Fatal(err)
	}
	paused.loaded, paused.resume = make(chan struct{}), make(chan struct{})
	done := make(chan error)
	go func() { _, err := r.Resolve(context.Background(), cookie); done <- err }()
	<-paused.loaded
	if err := edgeB.Sessions.Delete(context.Background(), s.ID); err != nil { // logout on edge B
		t.Fatal(err)
	}
	time.Sleep(50 * time.Millisecond) // the notice reaches edge A, which has nothing cached yet
	close(paused.resume)
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	if _, err := r.Resolve(context.Background(), cookie); !errors.Is(err, websession.ErrInvalid) {
		t.Fatalf("the revoked session resolves from the cache (err %v)", err)
	}
}
