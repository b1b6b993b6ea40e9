package redisstate

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/cesivi/cesivi/internal/state"
	"github.com/cesivi/cesivi/internal/state/internal/statekit"
)

// Job queue keys, one hash tag per job type so each script stays in one
// slot:
//
//	P {queue:<type>}:jobs       stream; consumer group "workers"; fields k (key), p (base64 payload), a (attempt)
//	P {queue:<type>}:retry      zset of scheduled retries scored by due time (ms)
//	P {queue:<type>}:dead       list of dead jobs (JSON), newest first, trimmed to MaxDead
//	P {queue:<type>}:key:<key>  idempotency marker, TTL state.DedupWindow
const group = "workers"

var enqueueScript = redis.NewScript(`
if not redis.call('SET', KEYS[2], '1', 'NX', 'PX', ARGV[3]) then return 0 end
redis.call('XADD', KEYS[1], '*', 'k', ARGV[1], 'p', ARGV[2], 'a', '1')
return 1
`)

// A retry member is "attempt\nnonce\npayload\nkey" (the key last, so it
// may hold anything).
var retryScript = redis.NewScript(`
redis.call('XACK', KEYS[1], 'workers', ARGV[1])
redis.call('XDEL', KEYS[1], ARGV[1])
redis.call('ZADD', KEYS[2], ARGV[2], ARGV[3])
return 1
`)

var promoteScript = redis.NewScript(`
local due = redis.call('ZRANGEBYSCORE', KEYS[2], '-inf', ARGV[1], 'LIMIT', 0, tonumber(ARGV[2]))
for _, m in ipairs(due) do
  local a, n, p, k = string.match(m, '^(%d+)\n([^\n]*)\n([^\n]*)\n(.*)$')
  if a then redis.call('XADD', KEYS[1], '*', 'k', k, 'p', p, 'a', a) end
  redis.call('ZREM', KEYS[2], m)
end
return #due
`)

var deadScript = redis.NewScript(`
redis.call('XACK', KEYS[1], 'workers', ARGV[1])
redis.call('XDEL', KEYS[1], ARGV[1])
redis.call('LPUSH', KEYS[2], ARGV[2])
redis.call('LTRIM', KEYS[2], 0, tonumber(ARGV[3]) - 1)
return 1
`)

type queue struct {
	c redis.UniversalClient
	k keys

	mu     sync.Mutex
	groups map[string]bool
	last   map[string]time.Time // consumer -> last XAUTOCLAIM and promotion
}

func (k keys) queue(jobType, part string) string {
	return k.prefix + "{queue:" + jobType + "}:" + part
}

func (q *queue) Enqueue(ctx context.Context, jobType, key string, payload []byte) (bool, error) {
	if key == "" {
		key = state.NewID()
	}
	n, err := enqueueScript.Run(ctx, q.c, []string{q.k.queue(jobType, "jobs"), q.k.queue(jobType, "key:"+key)},
		key, base64.StdEncoding.EncodeToString(payload), state.DedupWindow.Milliseconds()).Int()
	if err != nil {
		return false, unavailable("enqueue", err)
	}
	return n == 1, nil
}

func (q *queue) Work(ctx context.Context, jobType string, h func(context.Context, state.Job) error, opt state.WorkerOptions) error {
	return statekit.RunWorker(ctx, q, jobType, h, opt)
}

func (q *queue) ensureGroup(ctx context.Context, jobType string) error {
	q.mu.Lock()
	done := q.groups[jobType]
	q.mu.Unlock()
	if done {
		return nil
	}
	err := q.c.XGroupCreateMkStream(ctx, q.k.queue(jobType, "jobs"), group, "0").Err()
	if err != nil && !strings.HasPrefix(err.Error(), "BUSYGROUP") {
		return unavailable("create consumer group", err)
	}
	q.mu.Lock()
	if q.groups == nil {
		q.groups = map[string]bool{}
	}
	q.groups[jobType] = true
	q.mu.Unlock()
	return nil
}

// due reports whether this consumer should look for abandoned jobs and
// promote retries now (every 100 ms at most).
func (q *queue) due(consumer string) bool {
	q.mu.Lock()
	defer q.mu.Unlock()
	if q.last == nil {
		q.last = map[string]time.Time{}
	}
	if time.Since(q.last[consumer]) < 100*time.Millisecond {
		return false
	}
	q.last[consumer] = time.Now()
	return true
}

func (q *queue) Fetch(ctx context.Context, jobType string, opt state.WorkerOptions) (*statekit.Delivery, error) {
	if err := q.ensureGroup(ctx, jobType); err != nil {
		return nil, err
	}
	stream := q.k.queue(jobType, "jobs")
	if q.due(opt.Consumer) {
		if err := promoteScript.Run(ctx, q.c, []string{stream, q.k.queue(jobType, "retry")},
			time.Now().UnixMilli(), 100).Err(); err != nil {
			return nil, unavailable("promote retries", err)
		}
		msgs, _, err := q.c.XAutoClaim(ctx, &redis.XAutoClaimArgs{Stream: stream, Group: group,
			MinIdle: opt.Visibility, Start: "0-0", Count: 1, Consumer: opt.Consumer}).Result()
		if err != nil {
			return nil, unavailable("claim abandoned jobs", err)
		}
		if len(msgs) > 0 && msgs[0].Values != nil {
			return q.takeOver(ctx, jobType, decodeJob(jobType, msgs[0]), opt)
		}
	}
	res, err := q.c.XReadGroup(ctx, &redis.XReadGroupArgs{Group: group, Consumer: opt.Consumer,
		Streams: []string{stream, ">"}, Count: 1, Block: 100 * time.Millisecond}).Result()
	if errors.Is(err, redis.Nil) || ctx.Err() != nil {
		return nil, nil
	}
	if err != nil {
		if strings.HasPrefix(err.Error(), "NOGROUP") {
			q.mu.Lock()
			delete(q.groups, jobType)
			q.mu.Unlock()
		}
		return nil, unavailable("read jobs", err)
	}
	if len(res) == 0 || len(res[0].Messages) == 0 {
		return nil, nil
	}
	return decodeJob(jobType, res[0].Messages[0]), nil
}

// takeOver counts a job taken from a worker that died or hung as a failed
// attempt: without that, a job that kills every worker that runs it would
// be retried forever and never reach the dead-letter set. The stream
// entry's delivery count (XPENDING) says how many workers got it; heartbeats
// claim with JUSTID, which does not count.
func (q *queue) takeOver(ctx context.Context, jobType string, d *statekit.Delivery, opt state.WorkerOptions) (*statekit.Delivery, error) {
	pend, err := q.c.XPendingExt(ctx, &redis.XPendingExtArgs{Stream: q.k.queue(jobType, "jobs"), Group: group,
		Start: d.Ref, End: d.Ref, Count: 1}).Result()
	if err != nil {
		return nil, unavailable("count deliveries", err)
	}
	if len(pend) == 1 && pend[0].RetryCount > 1 {
		d.Attempt += int(pend[0].RetryCount) - 1
	}
	if opt.MaxAttempts > 0 && d.Attempt > opt.MaxAttempts {
		d.Attempt--
		if err := q.Dead(ctx, jobType, d, state.AbandonedReason, opt.MaxDead); err != nil {
			return nil, err
		}
		return nil, nil
	}
	return d, nil
}

func decodeJob(jobType string, m redis.XMessage) *statekit.Delivery {
	str := func(k string) string { s, _ := m.Values[k].(string); return s }
	payload, _ := base64.StdEncoding.DecodeString(str("p"))
	a, _ := strconv.Atoi(str("a"))
	return &statekit.Delivery{Ref: m.ID, Job: state.Job{Type: jobType, Key: str("k"), Payload: payload, Attempt: max(a, 1)}}
}

func (q *queue) Heartbeat(ctx context.Context, jobType string, d *statekit.Delivery, opt state.WorkerOptions) error {
	ids, err := q.c.XClaimJustID(ctx, &redis.XClaimArgs{Stream: q.k.queue(jobType, "jobs"), Group: group,
		Consumer: opt.Consumer, MinIdle: 0, Messages: []string{d.Ref}}).Result()
	if err != nil {
		return unavailable("heartbeat", err)
	}
	if len(ids) == 0 {
		return fmt.Errorf("redisstate: job %s: %w", d.Key, state.ErrConflict)
	}
	return nil
}

func (q *queue) Ack(ctx context.Context, jobType string, d *statekit.Delivery) error {
	stream := q.k.queue(jobType, "jobs")
	_, err := q.c.TxPipelined(ctx, func(p redis.Pipeliner) error {
		p.XAck(ctx, stream, group, d.Ref)
		p.XDel(ctx, stream, d.Ref)
		return nil
	})
	if err != nil {
		return unavailable("ack job", err)
	}
	return nil
}

func (q *queue) Retry(ctx context.Context, jobType string, d *statekit.Delivery, due time.Time) error {
	member := fmt.Sprintf("%d\n%s\n%s\n%s", d.Attempt+1, state.NewID()[:8], base64.StdEncoding.EncodeToString(d.Payload), d.Key)
	err := retryScript.Run(ctx, q.c, []string{q.k.queue(jobType, "jobs"), q.k.queue(jobType, "retry")},
		d.Ref, due.UnixMilli(), member).Err()
	if err != nil {
		return unavailable("schedule retry", err)
	}
	return nil
}

type deadRecord struct {
	Key     string    `json:"key"`
	Payload []byte    `json:"payload"`
	Attempt int       `json:"attempt"`
	Error   string    `json:"error"`
	At      time.Time `json:"at"`
}

func (q *queue) Dead(ctx context.Context, jobType string, d *statekit.Delivery, reason string, maxDead int) error {
	rec, _ := json.Marshal(deadRecord{Key: d.Key, Payload: d.Payload, Attempt: d.Attempt, Error: reason, At: time.Now().UTC()})
	err := deadScript.Run(ctx, q.c, []string{q.k.queue(jobType, "jobs"), q.k.queue(jobType, "dead")},
		d.Ref, rec, maxDead).Err()
	if err != nil {
		return unavailable("dead-letter job", err)
	}
	return nil
}

func (q *queue) DeadLetters(ctx context.Context, jobType string) ([]state.DeadJob, error) {
	recs, err := q.c.LRange(ctx, q.k.queue(jobType, "dead"), 0, -1).Result()
	if err != nil {
		return nil, unavailable("list dead letters", err)
	}
	var out []state.DeadJob
	for _, r := range recs {
		var d deadRecord
		if json.Unmarshal([]byte(r), &d) != nil {
			continue
		}
		out = append(out, state.DeadJob{Job: state.Job{Type: jobType, Key: d.Key, Payload: d.Payload, Attempt: d.Attempt}, Error: d.Error, At: d.At})
	}
	return out, nil
}
