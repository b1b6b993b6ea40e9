package tests

import (
	"encoding/json"
	"os/exec"
	"strings"
	"testing"
	"time"

	"github.com/cesivi/cesivi/tests/farm"
)

// currentKeyIDs asks every server which key it mints with.
func currentKeyIDs(t *testing.T, f *farm.Farm) map[string]bool {
	t.Helper()
	ids := map[string]bool{}
	for _, s := range f.Servers {
		_, body := get(t, s+"/health/ready")
		var h healthBody
		if err := json.Unmarshal(body, &h); err != nil {
			t.Fatal(err)
		}
		id, _ := h.Entries["DataProtection"].Data["currentKeyId"].(string)
		ids[id] = true
	}
	return ids
}

func admin(t *testing.T, f *farm.Farm, args ...string) string {
	t.Helper()
	cmd := exec.Command(f.ServerBinary(), args...)
	cmd.Env = f.AdminEnv()
	cmd.Dir = t.TempDir()
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("cesivi-server %s: %v\n%s", strings.Join(args, " "), err, out)
	}
	return string(out)
}

func within(t *testing.T, d time.Duration, what string, ok func() bool) {
	t.Helper()
	deadline := time.Now().Add(d)
	for !ok() {
		if time.Now().After(deadline) {
			t.Fatalf("%s: not within %v", what, d)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// TestKeyRingChangesReachEveryServerWithinASecond: the servers of a farm
// share one key; `keyring rotate` run by an operator switches every server
// to the new key, and `keyring revoke` reaches every server, within a
// second (Redis pub/sub notices; the periodic refresh is only a backstop).
func TestKeyRingChangesReachEveryServerWithinASecond(t *testing.T) {
	f := startFarm(t, farm.Options{})
	before := currentKeyIDs(t, f)
	if len(before) != 1 || before[""] {
		t.Fatalf("servers mint with keys %v; want one shared key", before)
	}
	var oldID string
	for id := range before {
		oldID = id
	}

	admin(t, f, "keyring", "rotate")
	start := time.Now()
	within(t, time.Second, "every server on the rotated key", func() bool {
		ids := currentKeyIDs(t, f)
		return len(ids) == 1 && !ids[oldID]
	})
	t.Logf("rotation seen by all %d servers after %v", len(f.Servers), time.Since(start).Round(time.Millisecond))

	list := admin(t, f, "keyring", "list")
	if !strings.Contains(list, oldID) {
		t.Fatalf("keyring list does not show the old key %s:\n%s", oldID, list)
	}

	admin(t, f, "keyring", "revoke", oldID, "--reason", "farm test")
	start = time.Now()
	within(t, time.Second, "every server counting the old key as revoked", func() bool {
		for _, s := range f.Servers {
			_, body := get(t, s+"/metrics")
			if !strings.Contains(string(body), `cesivi_keyring_keys{state="revoked"} 1`) {
				return false
			}
		}
		return true
	})
	t.Logf("revocation seen by all %d servers after %v", len(f.Servers), time.Since(start).Round(time.Millisecond))
}
