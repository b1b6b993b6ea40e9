package redisstate

import (
	"context"
	"errors"
	"fmt"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/redis/go-redis/v9"

	"github.com/cesivi/cesivi/internal/state"
)

// Session hash fields: n creation nonce, u user, s sid, c created (ms), l
// last refresh (ms), f and fh the fence of the last fenced update (token,
// holder), d:<name> data. The sealed tokens are a string key of their own
// (keys.tokens) with the same expiry: every request without a session
// cache reads the whole hash, and the tokens, only needed to refresh or
// end a session, would be most of its bytes. A session written before
// they moved has them in hash field t instead; reads fall back to it and
// the next token write moves them.

// createScript stores a new session unless the key exists; a retry of a
// creation that already succeeded finds its own nonce and succeeds too.
var createScript = redis.NewScript(`
if redis.call('EXISTS', KEYS[1]) == 1 then
  if redis.call('HGET', KEYS[1], 'n') == ARGV[1] then return 1 end
  return 0
end
redis.call('HSET', KEYS[1], 'n', ARGV[1], 'u', ARGV[2], 's', ARGV[3], 'c', ARGV[5], 'l', ARGV[5])
for i = 7, #ARGV, 2 do redis.call('HSET', KEYS[1], 'd:' .. ARGV[i], ARGV[i+1]) end
redis.call('PEXPIRE', KEYS[1], ARGV[6])
redis.call('SET', KEYS[2], ARGV[4], 'PX', ARGV[6])
return 1
`)

// loadScript reads a session and slides its expiry (and its tokens') when
// the last refresh is at least idle/4 old, in one round trip. ARGV: now,
// idle, absolute (ms), and "1" to judge by Redis's own clock (TIME)
// instead of now: a node whose clock is off must neither delete a live
// session nor store a last-seen time in the future. The refresh time is
// appended as field '!r' when it happened.
var loadScript = redis.NewScript(`
local h = redis.call('HGETALL', KEYS[1])
if #h == 0 then return false end
local c, l
for i = 1, #h, 2 do
  if h[i] == 'c' then c = tonumber(h[i+1]) elseif h[i] == 'l' then l = tonumber(h[i+1]) end
end
local now, idle, abs = tonumber(ARGV[1]), tonumber(ARGV[2]), tonumber(ARGV[3])
if ARGV[4] == '1' then
  local t = redis.call('TIME')
  now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
end
if not c or not l then return false end
local exp = math.min(l + idle, c + abs)
if now >= exp then
  redis.call('DEL', KEYS[1], KEYS[2])
  return false
end
if now - l >= idle / 4 then
  redis.call('HSET', KEYS[1], 'l', now)
  exp = math.min(now + idle, c + abs)
  redis.call('PEXPIRE', KEYS[1], exp - now)
  redis.call('PEXPIRE', KEYS[2], exp - now)
  h[#h+1] = '!r'
  h[#h+1] = tostring(now)
end
return h
`)

// tokensScript reads a session's tokens: false for a missing or ended
// session (judged as loadScript does, ARGV: now, idle, absolute, "1" for
// Redis's clock; nothing is written), else the tokens key, or the hash
// field t of a session stored before the tokens moved, or "" (none, or
// the key lost to eviction).
var tokensScript = redis.NewScript(`
local f = redis.call('HMGET', KEYS[1], 'c', 'l', 't')
local c, l = tonumber(f[1]), tonumber(f[2])
if not c or not l then return false end
local now, idle, abs = tonumber(ARGV[1]), tonumber(ARGV[2]), tonumber(ARGV[3])
if ARGV[4] == '1' then
  local t = redis.call('TIME')
  now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
end
if now >= math.min(l + idle, c + abs) then return false end
local t = redis.call('GET', KEYS[2])
if t then return t end
return f[3] or ''
`)

// updateScript writes only the named fields. ARGV: hasTokens, tokens,
// hasIfTokens, ifTokens, hasFence, fence token, fence holder, number of
// set pairs, pairs..., names to delete... It returns 0 for a missing
// session, -2 when a newer fence has written it (state.Fence.Newer), -1
// when the stored tokens are not ifTokens (nothing written in either
// case), 1 when written. A fenced write records its fence in fields f
// (token) and fh (holder). Tokens are INCR counters, far below 2^53, so
// Lua's numbers compare them exactly. Tokens are written to their own key
// with the session's remaining life, and a hash field t left by an older
// version is dropped.
var updateScript = redis.NewScript(`
if redis.call('EXISTS', KEYS[1]) == 0 then return 0 end
if ARGV[5] == '1' then
  local f = redis.call('HMGET', KEYS[1], 'f', 'fh')
  local tok, mine = tonumber(f[1] or '0'), tonumber(ARGV[6])
  if tok > mine or (tok == mine and (f[2] or '') ~= ARGV[7]) then return -2 end
end
if ARGV[3] == '1' then
  local cur = redis.call('GET', KEYS[2]) or redis.call('HGET', KEYS[1], 't') or ''
  if cur ~= ARGV[4] then return -1 end
end
if ARGV[5] == '1' then redis.call('HSET', KEYS[1], 'f', ARGV[6], 'fh', ARGV[7]) end
if ARGV[1] == '1' then
  local ttl = redis.call('PTTL', KEYS[1])
  if ttl > 0 then
    redis.call('SET', KEYS[2], ARGV[2], 'PX', ttl)
  else
    redis.call('SET', KEYS[2], ARGV[2])
  end
  redis.call('HDEL', KEYS[1], 't')
end
local i = 9
for j = 1, tonumber(ARGV[8]) do
  redis.call('HSET', KEYS[1], 'd:' .. ARGV[i], ARGV[i+1])
  i = i + 2
end
while i <= #ARGV do
  redis.call('HDEL', KEYS[1], 'd:' .. ARGV[i])
  i = i + 1
end
return 1
`)

type sessions struct {
	c     redis.UniversalClient
	k     keys
	opt   state.Options
	clock *storeClock
	// batch sends Load's HGETALL. Loads are the hot path (one per
	// request that misses an edge's cache, every request without one), so
	// concurrent callers' loads go to Redis as one pipeline (see
	// loadBatcher): the per-request cost of a round trip mostly disappears
	// under load. HGETALL is safe to resend, which matters because a
	// pipeline is retried after a connection error.
	batch *loadBatcher

	mu         sync.Mutex
	lastActive float64
}

func (s *sessions) register(opt state.Options) error {
	if opt.Registerer == nil {
		return nil
	}
	g := prometheus.NewGaugeFunc(prometheus.GaugeOpts{Name: "redis_sessions_active",
		Help: "Sessions alive in the distributed state store (farm-wide)."}, s.activeCount)
	if err := opt.Registerer.Register(g); err != nil {
		return fmt.Errorf("redisstate: %w", err)
	}
	return nil
}

// activeCount counts unexpired entries of the active index; on a Redis
// error the last figure is reported again.
func (s *sessions) activeCount() float64 {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	n, err := s.c.ZCount(ctx, s.k.active(), strconv.FormatInt(s.clock.nowMS(), 10), "+inf").Result()
	s.mu.Lock()
	defer s.mu.Unlock()
	if err == nil {
		s.lastActive = float64(n)
	}
	return s.lastActive
}

func ms(t time.Time) int64 { return t.UnixMilli() }

func (s *sessions) expiry(created, seen int64) int64 {
	return min(seen+s.opt.IdleTimeout.Milliseconds(), created+s.opt.AbsoluteLifetime.Milliseconds())
}

// indexAdd records id in the indexes with its expiry score, pruning what
// has expired. Index entries are written before the session they name.
func (s *sessions) indexAdd(p redis.Pipeliner, id, user, sid string, exp, now int64) {
	z := redis.Z{Score: float64(exp), Member: id}
	keep := s.opt.AbsoluteLifetime + s.opt.IdleTimeout
	nowS := strconv.FormatInt(now, 10)
	for _, key := range []string{s.k.userIndex(user), s.k.sidIndex(sid), s.k.active()} {
		if key == s.k.sidIndex("") || key == s.k.userIndex("") {
			continue
		}
		p.ZAdd(context.Background(), key, z)
		p.ZRemRangeByScore(context.Background(), key, "-inf", "("+nowS)
		if key != s.k.active() {
			p.PExpire(context.Background(), key, keep)
		}
	}
}

func (s *sessions) Create(ctx context.Context, se *state.Session) error {
	if se.ID == "" {
		se.ID = state.NewID()
	}
	created := s.clock.nowMS()
	now := time.UnixMilli(created)
	exp := s.expiry(created, created)
	p := s.c.Pipeline()
	s.indexAdd(p, se.ID, se.UserID, se.SID, exp, created)
	if _, err := p.Exec(ctx); err != nil {
		return unavailable("create session", err)
	}
	args := []any{state.NewID(), se.UserID, se.SID, se.Tokens, created, exp - created}
	for k, v := range se.Data {
		args = append(args, k, v)
	}
	ok, err := createScript.Run(ctx, s.c, []string{s.k.session(se.ID), s.k.tokens(se.ID)}, args...).Int()
	if err != nil {
		return unavailable("create session", err)
	}
	if ok == 0 {
		return fmt.Errorf("redisstate: create session: %w", state.ErrConflict)
	}
	se.Created, se.LastSeen = now, now
	se.Expires = time.UnixMilli(exp)
	return nil
}

func (s *sessions) Load(ctx context.Context, id string) (*state.Session, error) {
	now := s.clock.nowMS()
	// The common case is one HGETALL, the cheapest read Redis has: the
	// key's TTL already ends the session on time. Only when the TTL must
	// slide (at most every IdleTimeout/4) or this clock says the session
	// has ended does the script run, which does either atomically.
	fields, err := s.batch.hgetall(ctx, s.k.session(id))
	if err != nil {
		return nil, unavailable("load session", err)
	}
	if len(fields) == 0 {
		return nil, fmt.Errorf("redisstate: load session: %w", state.ErrNotFound)
	}
	if c, l, ok := times(fields); ok && now < s.expiry(c, l) && float64(now-l) < float64(s.opt.IdleTimeout.Milliseconds())/4 {
		return s.decodeFields(id, fields, c, l), nil
	}
	// Rare (the slide), so on its own. The script only re-reads and
	// re-slides the TTL, so a retry is harmless.
	var res []string
	err = s.batch.aside(ctx, func(ctx context.Context) (err error) {
		res, err = loadScript.Run(ctx, s.c, []string{s.k.session(id), s.k.tokens(id)}, now,
			s.opt.IdleTimeout.Milliseconds(), s.opt.AbsoluteLifetime.Milliseconds(), s.clock.serverFlag()).StringSlice()
		return err
	})
	if errors.Is(err, redis.Nil) {
		return nil, fmt.Errorf("redisstate: load session: %w", state.ErrNotFound)
	}
	if err != nil {
		return nil, unavailable("load session", err)
	}
	se, refreshed := s.decode(id, res)
	if refreshed {
		// At most every IdleTimeout/4: move the index scores along.
		p := s.c.Pipeline()
		s.indexAdd(p, id, se.UserID, se.SID, ms(se.Expires), now)
		if _, err := p.Exec(ctx); err != nil {
			s.opt.SessionLog.Warn("session index not refreshed", "error", err)
		}
	}
	return se, nil
}

// times reads the created and last-seen times of a session's fields.
func times(f map[string]string) (c, l int64, ok bool) {
	c, errC := strconv.ParseInt(f["c"], 10, 64)
	l, errL := strconv.ParseInt(f["l"], 10, 64)
	return c, l, errC == nil && errL == nil
}

// decodeFields builds a session from HGETALL's map (the common path of
// Load, so it allocates only the session and its data map).
func (s *sessions) decodeFields(id string, f map[string]string, c, l int64) *state.Session {
	// Sized to the data fields alone: a map of up to 8 entries is one
	// small allocation, one sized to every field of the hash is several.
	n := 0
	for k := range f {
		if strings.HasPrefix(k, "d:") {
			n++
		}
	}
	se := &state.Session{ID: id, UserID: f["u"], SID: f["s"], Data: make(map[string]string, n)}
	for k, v := range f {
		if name, ok := strings.CutPrefix(k, "d:"); ok {
			se.Data[name] = v
		}
	}
	se.Created, se.LastSeen = time.UnixMilli(c), time.UnixMilli(l)
	se.Expires = time.UnixMilli(s.expiry(c, l))
	return se
}

// decode turns the pairs the load script returns (or an HGETALL array)
// into a session; a "!r" pair is the last-seen time the script just wrote.
func (s *sessions) decode(id string, h []string) (*state.Session, bool) {
	f := make(map[string]string, len(h)/2)
	for i := 0; i+1 < len(h); i += 2 {
		f[h[i]] = h[i+1]
	}
	c, _ := strconv.ParseInt(f["c"], 10, 64)
	l, _ := strconv.ParseInt(f["l"], 10, 64)
	r, refreshed := f["!r"]
	if refreshed {
		l, _ = strconv.ParseInt(r, 10, 64)
	}
	return s.decodeFields(id, f, c, l), refreshed
}

func (s *sessions) Tokens(ctx context.Context, id string) ([]byte, error) {
	t, err := tokensScript.Run(ctx, s.c, []string{s.k.session(id), s.k.tokens(id)}, s.clock.nowMS(),
		s.opt.IdleTimeout.Milliseconds(), s.opt.AbsoluteLifetime.Milliseconds(), s.clock.serverFlag()).Text()
	if errors.Is(err, redis.Nil) {
		return nil, fmt.Errorf("redisstate: session tokens: %w", state.ErrNotFound)
	}
	if err != nil {
		return nil, unavailable("session tokens", err)
	}
	return []byte(t), nil
}

func (s *sessions) Update(ctx context.Context, id string, upd state.SessionUpdate) error {
	args := []any{"0", ""}
	if upd.Tokens != nil {
		args = []any{"1", *upd.Tokens}
	}
	if upd.IfTokens != nil {
		args = append(args, "1", *upd.IfTokens)
	} else {
		args = append(args, "0", "")
	}
	if f := upd.Fence; f != nil {
		args = append(args, "1", strconv.FormatUint(f.Token, 10), f.Holder)
	} else {
		args = append(args, "0", "0", "")
	}
	args = append(args, len(upd.Set))
	for k, v := range upd.Set {
		args = append(args, k, v)
	}
	for _, k := range upd.Delete {
		args = append(args, k)
	}
	ok, err := updateScript.Run(ctx, s.c, []string{s.k.session(id), s.k.tokens(id)}, args...).Int()
	if err != nil {
		return unavailable("update session", err)
	}
	switch ok {
	case 0:
		return fmt.Errorf("redisstate: update session: %w", state.ErrNotFound)
	case -2:
		return fmt.Errorf("redisstate: update session: %w", state.ErrFenced)
	case -1:
		return fmt.Errorf("redisstate: update session: the tokens changed meanwhile: %w", state.ErrConflict)
	}
	return nil
}

func (s *sessions) Delete(ctx context.Context, id string) error {
	who, err := s.c.HMGet(ctx, s.k.session(id), "u", "s").Result()
	if err != nil {
		return unavailable("delete session", err)
	}
	p := s.c.Pipeline()
	p.Del(ctx, s.k.session(id))
	p.Del(ctx, s.k.tokens(id))
	p.ZRem(ctx, s.k.active(), id)
	if u, _ := who[0].(string); u != "" {
		p.ZRem(ctx, s.k.userIndex(u), id)
	}
	if sid, _ := who[1].(string); sid != "" {
		p.ZRem(ctx, s.k.sidIndex(sid), id)
	}
	if _, err := p.Exec(ctx); err != nil {
		return unavailable("delete session", err)
	}
	return nil
}

// indexed reads the live sessions an index names, pruning dead entries.
// Only sessions for which belongs is true are returned: an index is a hint
// and a session id reused by a failed Create must not show up under the
// wrong user.
func (s *sessions) indexed(ctx context.Context, index string, belongs func(*state.Session) bool) ([]*state.Session, error) {
	now := s.clock.nowMS()
	ids, err := s.c.ZRangeByScore(ctx, index, &redis.ZRangeBy{Min: "(" + strconv.FormatInt(now, 10), Max: "+inf"}).Result()
	if err != nil {
		return nil, unavailable("list sessions", err)
	}
	p := s.c.Pipeline()
	p.ZRemRangeByScore(ctx, index, "-inf", strconv.FormatInt(now, 10))
	cmds := make([]*redis.MapStringStringCmd, len(ids))
	for i, id := range ids {
		cmds[i] = p.HGetAll(ctx, s.k.session(id))
	}
	if _, err := p.Exec(ctx); err != nil && !errors.Is(err, redis.Nil) {
		return nil, unavailable("list sessions", err)
	}
	var out []*state.Session
	var dead []any
	for i, id := range ids {
		m := cmds[i].Val()
		if len(m) == 0 {
			dead = append(dead, id)
			continue
		}
		h := make([]string, 0, 2*len(m))
		for k, v := range m {
			h = append(h, k, v)
		}
		se, _ := s.decode(id, h)
		if !belongs(se) {
			dead = append(dead, id)
			continue
		}
		if se.Expires.UnixMilli() <= now {
			continue
		}
		out = append(out, se)
	}
	if len(dead) > 0 {
		if err := s.c.ZRem(ctx, index, dead...).Err(); err != nil {
			s.opt.SessionLog.Warn("dead session ids left in the index", "error", err)
		}
	}
	sort.Slice(out, func(i, j int) bool {
		return out[i].Created.Before(out[j].Created) || out[i].Created.Equal(out[j].Created) && out[i].ID < out[j].ID
	})
	return out, nil
}

func (s *sessions) ListUser(ctx context.Context, userID string) ([]*state.Session, error) {
	return s.indexed(ctx, s.k.userIndex(userID), func(se *state.Session) bool { return se.UserID == userID })
}

func (s *sessions) revoke(ctx context.Context, index string, belongs func(*state.Session) bool) (int, error) {
	live, err := s.indexed(ctx, index, belongs)
	if err != nil {
		return 0, err
	}
	p := s.c.Pipeline()
	dels := make([]*redis.IntCmd, len(live))
	for i, se := range live {
		dels[i] = p.Del(ctx, s.k.session(se.ID))
		p.Del(ctx, s.k.tokens(se.ID))
		p.ZRem(ctx, s.k.active(), se.ID)
		p.ZRem(ctx, s.k.userIndex(se.UserID), se.ID)
		if se.SID != "" {
			p.ZRem(ctx, s.k.sidIndex(se.SID), se.ID)
		}
	}
	if len(live) == 0 {
		return 0, nil
	}
	if _, err := p.Exec(ctx); err != nil {
		return 0, unavailable("revoke sessions", err)
	}
	n := 0
	for _, d := range dels {
		n += int(d.Val())
	}
	return n, nil
}

func (s *sessions) RevokeUser(ctx context.Context, userID string) (int, error) {
	return s.revoke(ctx, s.k.userIndex(userID), func(se *state.Session) bool { return se.UserID == userID })
}

func (s *sessions) RevokeSID(ctx context.Context, sid string) (int, error) {
	if sid == "" {
		return 0, nil
	}
	return s.revoke(ctx, s.k.sidIndex(sid), func(se *state.Session) bool { return se.SID == sid })
}
