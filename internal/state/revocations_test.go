package state

import "testing"

func TestParseSessionRevocation(t *testing.T) {
	for _, c := range []struct {
		payload string
		want    SessionRevocation
		ok      bool
	}{
		{"session abc", SessionRevocation{RevokedSession, "abc"}, true},
		{"user u 1", SessionRevocation{RevokedUser, "u 1"}, true}, // only the first space separates
		{"sid x", SessionRevocation{RevokedSID, "x"}, true},
		{"session", SessionRevocation{}, false},
		{"session ", SessionRevocation{}, false},
		{"cookie abc", SessionRevocation{}, false},
		{"", SessionRevocation{}, false},
	} {
		got, err := ParseSessionRevocation(c.payload)
		if (err == nil) != c.ok || got != c.want {
			t.Errorf("ParseSessionRevocation(%q) = %v, %v; want %v, ok %v", c.payload, got, err, c.want, c.ok)
		}
		if c.ok && got.String() != c.payload {
			t.Errorf("String() = %q, want the payload %q back", got.String(), c.payload)
		}
	}
}
