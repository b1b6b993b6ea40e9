package chunks

import (
	"io"
	"testing"
)

func TestNewKeysAreRandomVersion4UUIDsThatIsKeyAccepts(t *testing.T) {
	seen := map[string]bool{}
	for range 1000 {
		k := NewKey()
		if !IsKey(k) || k[14] != '4' || !(k[19] == '8' || k[19] == '9' || k[19] == 'a' || k[19] == 'b') || seen[k] {
			t.Fatalf("NewKey() = %s", k)
		}
		seen[k] = true
	}
	for _, k := range []string{"", "0F8FAD5B-D9CB-469F-A165-70867728950E", "0f8fad5b-d9cb-469f-a165-70867728950", "0f8fad5bd-9cb-469f-a165-70867728950e",
		"../../../../../../../../../etc/passwd", "0f8fad5b-d9cb-469f-a165-70867728950g"} {
		if IsKey(k) {
			t.Errorf("IsKey(%q) = true", k)
		}
	}
}

func TestSeekFollowsIoSeeker(t *testing.T) {
	for _, c := range []struct {
		pos, offset int64
		whence      int
		want        int64
		fails       bool
	}{
		{5, 3, io.SeekStart, 3, false},
		{5, 3, io.SeekCurrent, 8, false},
		{5, -3, io.SeekEnd, 97, false},
		{5, 10, io.SeekEnd, 110, false},
		{5, -6, io.SeekCurrent, 5, true},
		{5, 0, 7, 5, true},
	} {
		got, err := Seek(c.pos, 100, c.offset, c.whence)
		if got != c.want || (err != nil) != c.fails {
			t.Errorf("Seek(pos %d, %d, %d) = %d, %v; want %d (error: %v)", c.pos, c.offset, c.whence, got, err, c.want, c.fails)
		}
	}
}
