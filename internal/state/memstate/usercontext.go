package memstate

import (
	"context"
	"strings"
	"time"
)

type ucEntry struct {
	val      []byte
	ver, epo uint64
	exp      time.Time
}

// ucShared is the shared layer of the user-context and token caches
// (statekit.UserContextShared); statekit puts each server's local layer in
// front of it.
type ucShared struct {
	s   *Store
	ns  string // namespace: "usercontext" or "token"
	now func() time.Time
}

type ucVersion struct{ ver, epo uint64 }

func (u *ucShared) key(id string) string { return u.ns + "\x00" + id }

func (u *ucShared) Read(ctx context.Context, userID string) ([]byte, time.Time, bool, any, error) {
	u.s.mu.Lock()
	defer u.s.mu.Unlock()
	k := u.key(userID)
	v := ucVersion{u.s.ucVer[k], u.s.ucEpoch[u.ns]}
	e, ok := u.s.uc[k]
	if ok && e.ver == v.ver && e.epo == v.epo && u.now().Before(e.exp) {
		return append([]byte(nil), e.val...), e.exp, true, v, nil
	}
	return nil, time.Time{}, false, v, nil
}

func (u *ucShared) Write(ctx context.Context, userID string, version any, val []byte, ttl time.Duration) (bool, error) {
	v := version.(ucVersion)
	u.s.mu.Lock()
	defer u.s.mu.Unlock()
	k := u.key(userID)
	if u.s.ucVer[k] != v.ver || u.s.ucEpoch[u.ns] != v.epo {
		return false, nil // invalidated while loading: do not store
	}
	u.s.uc[k] = ucEntry{val: append([]byte(nil), val...), ver: v.ver, epo: v.epo, exp: u.now().Add(ttl)}
	return true, nil
}

func (u *ucShared) Invalidate(ctx context.Context, userID string) error {
	u.s.mu.Lock()
	defer u.s.mu.Unlock()
	if userID == "*" {
		u.s.ucEpoch[u.ns]++
		for k := range u.s.uc {
			if strings.HasPrefix(k, u.ns+"\x00") {
				delete(u.s.uc, k)
			}
		}
		return nil
	}
	k := u.key(userID)
	u.s.ucVer[k]++
	delete(u.s.uc, k)
	return nil
}
