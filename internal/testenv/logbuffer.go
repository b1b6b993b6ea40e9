package testenv

import (
	"strings"
	"sync"
	"testing"
	"time"
)

// LogBuffer collects what a background writer logs (a logger, a child
// process's stderr copied by os/exec) while the test reads it.
type LogBuffer struct {
	mu sync.Mutex
	b  strings.Builder
}

func (l *LogBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *LogBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

// WaitContains waits until the log contains s, and fails the test with the
// log when it does not within bound (a bound, not a timing claim).
func (l *LogBuffer) WaitContains(t testing.TB, s string, bound time.Duration) {
	t.Helper()
	for deadline := time.Now().Add(bound); !strings.Contains(l.String(), s); {
		if time.Now().After(deadline) {
			t.Fatalf("%q not logged within %s: %s", s, bound, l.String())
		}
		time.Sleep(10 * time.Millisecond)
	}
}
