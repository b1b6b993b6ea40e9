package memstate

import (
	"testing"
	"time"

	"github.com/cesivi/cesivi/internal/state"
)

func TestIdempotencyKeysAreForgottenAfterTheirWindow(t *testing.T) {
	q := &memQueue{dedup: map[string]time.Time{}}
	start := time.Now()
	q.remember("a", start)
	q.remember("b", start.Add(time.Hour))
	q.remember("a", start.Add(2*time.Hour)) // re-enqueued: its window starts again
	q.remember("c", start.Add(state.DedupWindow+90*time.Minute))
	if _, ok := q.dedup["b"]; ok {
		t.Error(`"b" is still remembered after its window`)
	}
	if got, ok := q.dedup["a"]; !ok || !got.Equal(start.Add(2*time.Hour)) {
		t.Errorf(`"a" = %v, %v; want it remembered from its second enqueue`, got, ok)
	}
	if len(q.dedup) != 2 || len(q.dedupOrder) != 2 {
		t.Errorf("dedup %d entries, order %d; want 2 and 2", len(q.dedup), len(q.dedupOrder))
	}
}
