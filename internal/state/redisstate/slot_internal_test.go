package redisstate

import "testing"

// The expected slots are what CLUSTER KEYSLOT answers.
func TestSlotMatchesRedisClusterKeyslot(t *testing.T) {
	cases := map[string]uint16{
		"123456789":            12739, // the CRC16/XMODEM check value 0x31C3
		"foo":                  12182,
		"{user1000}.following": 3443,
		"{user1000}.followers": 3443,
		"foo{}{bar}":           8363, // an empty tag does not count: the whole key is hashed
	}
	for key, want := range cases {
		if got := slot(key); got != want {
			t.Errorf("slot(%q) = %d, want %d", key, got, want)
		}
	}
}
