package memstate_test

import (
	"testing"

	"github.com/cesivi/cesivi/internal/state"
	"github.com/cesivi/cesivi/internal/state/memstate"
	"github.com/cesivi/cesivi/internal/state/statetest"
)

func TestContract(t *testing.T) {
	statetest.Exercise(t, func(t *testing.T) statetest.NewServer {
		st := memstate.NewStore()
		return func(opt state.Options) (*state.Provider, error) { return st.Provider(opt) }
	})
}

func BenchmarkProvider(b *testing.B) {
	p, err := memstate.New(state.Options{})
	if err != nil {
		b.Fatal(err)
	}
	defer p.Close()
	statetest.Benchmark(b, p)
}
