package testenv

import (
	"fmt"
	"sync"
	"testing"
	"time"
)

func TestLogBufferConcurrentWriters(t *testing.T) {
	var l LogBuffer
	var wg sync.WaitGroup
	for i := range 4 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for j := range 100 {
				fmt.Fprintf(&l, "w%d-%d\n", i, j)
			}
		}()
	}
	l.WaitContains(t, "w3-99\n", time.Minute)
	wg.Wait()
	if n := len(l.String()); n < 4*100*len("w0-0\n") {
		t.Fatalf("%d bytes logged", n)
	}
}
