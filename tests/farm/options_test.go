package farm

import (
	"context"
	"strings"
	"testing"
)

// A farm whose storage cannot work is refused before any process starts.
func TestStartRefusesStorageThatCannotWork(t *testing.T) {
	for _, c := range []struct {
		opt  Options
		want string
	}{
		{Options{Storage: StorageInMemory, Servers: 3}, "InMemory storage is not shared by servers; it needs Servers: 1, not 3"},
		{Options{Storage: StorageInMemory}, "needs Servers: 1, not 3"}, // the default count
		{Options{Storage: "SqlServer", Servers: 1}, `Storage "SqlServer": want PostgreSQL or InMemory`},
	} {
		f, err := Start(context.Background(), c.opt)
		if err == nil {
			_ = f.Stop()
			t.Fatalf("Start(%+v) started a farm; want an error", c.opt)
		}
		if !strings.Contains(err.Error(), c.want) {
			t.Errorf("Start(%+v) = %v; want it to say %q", c.opt, err, c.want)
		}
	}
}
