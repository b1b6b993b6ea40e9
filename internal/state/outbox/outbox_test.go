package outbox_test

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/redis/go-redis/v9"

	"github.com/cesivi/cesivi/internal/state"
	"github.com/cesivi/cesivi/internal/state/memstate"
	"github.com/cesivi/cesivi/internal/state/outbox"
	"github.com/cesivi/cesivi/internal/state/redisstate"
	"github.com/cesivi/cesivi/internal/testenv"
)

func TestMain(m *testing.M) { testenv.Main(m) }

func ctx(t *testing.T) context.Context {
	c, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	t.Cleanup(cancel)
	return c
}

func newPool(t *testing.T, url string) *pgxpool.Pool {
	t.Helper()
	p, err := pgxpool.New(context.Background(), url)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(p.Close)
	return p
}

// database returns the URL of a fresh database with the outbox migrated.
func database(t *testing.T) string {
	t.Helper()
	url := testenv.Postgres(t)
	if err := outbox.Migrate(ctx(t), newPool(t, url)); err != nil {
		t.Fatal(err)
	}
	return url
}

func openRedis(t *testing.T, connStr string) *state.Provider {
	t.Helper()
	c, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	p, err := redisstate.Open(c, connStr, "", state.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { p.Close() })
	return p
}

// redisQueue is the Redis provider's queue on a private logical database.
func redisQueue(t *testing.T) state.Queue {
	addr, db := testenv.RedisDB(t)
	return openRedis(t, fmt.Sprintf("%s,defaultDatabase=%d", addr, db)).Queue
}

// inTx runs f in a transaction and commits it, or rolls it back if commit
// is false.
func inTx(t *testing.T, pool *pgxpool.Pool, commit bool, f func(tx pgx.Tx)) {
	t.Helper()
	tx, err := pool.Begin(ctx(t))
	if err != nil {
		t.Fatal(err)
	}
	f(tx)
	if commit {
		err = tx.Commit(ctx(t))
	} else {
		err = tx.Rollback(ctx(t))
	}
	if err != nil {
		t.Fatal(err)
	}
}

// addCommitted adds the jobs of type jobType with keys keys (and the key as
// payload), all in one committed transaction.
func addCommitted(t *testing.T, pool *pgxpool.Pool, jobType string, keys ...string) {
	t.Helper()
	if err := add(ctx(t), pool, jobType, keys...); err != nil {
		t.Fatal(err)
	}
}

// add is addCommitted for goroutines other than the test's.
func add(ctx context.Context, pool *pgxpool.Pool, jobType string, keys ...string) error {
	return pgx.BeginFunc(ctx, pool, func(tx pgx.Tx) error {
		for _, k := range keys {
			if err := outbox.Add(ctx, tx, jobType, k, []byte(k)); err != nil {
				return err
			}
		}
		return nil
	})
}

func keys(prefix string, n int) []string {
	out := make([]string, n)
	for i := range out {
		out[i] = fmt.Sprintf("%s%d", prefix, i)
	}
	return out
}

func pendingRows(t *testing.T, pool *pgxpool.Pool) int {
	t.Helper()
	var n int
	if err := pool.QueryRow(ctx(t), "SELECT count(*) FROM cesivi_outbox").Scan(&n); err != nil {
		t.Fatal(err)
	}
	return n
}

func newRelay(t *testing.T, pool *pgxpool.Pool, q state.Queue, opt outbox.Options) *outbox.Relay {
	t.Helper()
	r, err := outbox.NewRelay(pool, q, opt)
	if err != nil {
		t.Fatal(err)
	}
	return r
}

// run runs r until the test ends or stop is called; stop checks that Run
// returns promptly and without error once its context ends.
func run(t *testing.T, r *outbox.Relay) (stop func()) {
	c, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- r.Run(c) }()
	var once sync.Once
	stop = func() {
		once.Do(func() {
			cancel()
			select {
			case err := <-done:
				if err != nil {
					t.Errorf("Run: %v", err)
				}
			case <-time.After(10 * time.Second):
				t.Errorf("Run did not return 10 s after its context ended")
			}
		})
	}
	t.Cleanup(stop)
	return stop
}

// deliveries records the jobs a worker ran, by key.
type deliveries struct {
	mu   sync.Mutex
	runs map[string]int
	jobs map[string]state.Job
}

// work runs a worker for jobType on q until the test ends.
func work(t *testing.T, q state.Queue, jobType string) *deliveries {
	d := &deliveries{runs: map[string]int{}, jobs: map[string]state.Job{}}
	c, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() {
		defer close(done)
		err := q.Work(c, jobType, func(_ context.Context, j state.Job) error {
			d.mu.Lock()
			defer d.mu.Unlock()
			d.runs[j.Key]++
			d.jobs[j.Key] = j
			return nil
		}, state.WorkerOptions{Concurrency: 8, DrainTimeout: 5 * time.Second})
		if err != nil {
			t.Errorf("Work: %v", err)
		}
	}()
	t.Cleanup(func() { cancel(); <-done })
	return d
}

// waitExactlyOnce waits until every key in want has run, then a little
// longer, and checks that each ran exactly once and nothing else ran.
func (d *deliveries) waitExactlyOnce(t *testing.T, want []string, within time.Duration) {
	t.Helper()
	deadline := time.Now().Add(within)
	for {
		d.mu.Lock()
		n := 0
		for _, k := range want {
			if d.runs[k] > 0 {
				n++
			}
		}
		d.mu.Unlock()
		if n == len(want) {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("%d of %d jobs delivered within %v", n, len(want), within)
		}
		time.Sleep(10 * time.Millisecond)
	}
	time.Sleep(300 * time.Millisecond) // room for a duplicate to show up
	d.mu.Lock()
	defer d.mu.Unlock()
	for _, k := range want {
		if d.runs[k] != 1 {
			t.Errorf("job %q ran %d times, want once", k, d.runs[k])
		}
	}
	if len(d.runs) != len(want) {
		t.Errorf("%d distinct jobs ran, want %d: %v", len(d.runs), len(want), d.runs)
	}
}

func (d *deliveries) job(key string) (state.Job, bool) {
	d.mu.Lock()
	defer d.mu.Unlock()
	j, ok := d.jobs[key]
	return j, ok
}

func waitUntil(t *testing.T, what string, within time.Duration, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(within)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out after %v waiting until %s", within, what)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

func TestAJobAddedInARolledBackTransactionIsNeverDelivered(t *testing.T) {
	pool := newPool(t, database(t))
	q := redisQueue(t)
	inTx(t, pool, false, func(tx pgx.Tx) {
		if err := outbox.Add(ctx(t), tx, "mail", "rolled-back", []byte("x")); err != nil {
			t.Fatal(err)
		}
	})
	addCommitted(t, pool, "mail", "committed")
	run(t, newRelay(t, pool, q, outbox.Options{PollInterval: 20 * time.Millisecond}))
	d := work(t, q, "mail")
	// The committed job, added after the rolled-back one, arrives; the
	// rolled-back one never does.
	d.waitExactlyOnce(t, []string{"committed"}, 10*time.Second)
	if n := pendingRows(t, pool); n != 0 {
		t.Errorf("%d rows left in the outbox", n)
	}
}

func TestACommittedJobIsDeliveredExactlyOnceWithTwoRelaysRunningConcurrentlyOnTheSameDatabase(t *testing.T) {
	url := database(t)
	addr, db := testenv.RedisDB(t)
	connStr := fmt.Sprintf("%s,defaultDatabase=%d", addr, db)
	// Two servers: each its own pool, Redis client, relay and worker.
	type server struct {
		pool *pgxpool.Pool
		q    state.Queue
		reg  *prometheus.Registry
	}
	var servers [2]server
	for i := range servers {
		servers[i] = server{pool: newPool(t, url), q: openRedis(t, connStr).Queue, reg: prometheus.NewRegistry()}
	}
	want := keys("job-", 300)
	var wg sync.WaitGroup
	// Jobs are committed while both relays run, in many small transactions.
	for i := range servers {
		s := servers[i]
		run(t, newRelay(t, s.pool, s.q, outbox.Options{BatchSize: 7, PollInterval: 10 * time.Millisecond, Registerer: s.reg}))
	}
	for w := range 3 {
		wg.Go(func() {
			for i := w; i < len(want); i += 3 {
				if err := add(ctx(t), servers[i%2].pool, "index", want[i]); err != nil {
					t.Error(err)
					return
				}
			}
		})
	}
	ds := [2]*deliveries{work(t, servers[0].q, "index"), work(t, servers[1].q, "index")}
	wg.Wait()
	waitUntil(t, "the outbox is empty", 20*time.Second, func() bool { return pendingRows(t, servers[0].pool) == 0 })
	// Merge what both workers ran.
	all := &deliveries{runs: map[string]int{}, jobs: map[string]state.Job{}}
	waitUntil(t, "every job ran", 20*time.Second, func() bool {
		n := 0
		for _, d := range ds {
			d.mu.Lock()
			n += len(d.runs)
			d.mu.Unlock()
		}
		return n >= len(want)
	})
	for _, d := range ds {
		d.mu.Lock()
		for k, n := range d.runs {
			all.runs[k] += n
		}
		d.mu.Unlock()
	}
	all.waitExactlyOnce(t, want, time.Second)
	// SKIP LOCKED kept the relays apart: each row was relayed by one of
	// them, and none had to be deduplicated by the queue.
	var relayed, dups float64
	for i, s := range servers {
		n := counter(t, s.reg, "outbox_relayed_total")
		if n == 0 {
			t.Errorf("relay %d relayed nothing: the test did not run two relays at once", i)
		}
		t.Logf("relay %d relayed %v rows", i, n)
		relayed += n
		dups += counter(t, s.reg, "outbox_deduplicated_total")
	}
	if relayed != float64(len(want)) || dups != 0 {
		t.Errorf("relayed %v rows with %v deduplicated, want %d and 0", relayed, dups, len(want))
	}
}

func counter(t *testing.T, reg *prometheus.Registry, name string) float64 {
	t.Helper()
	mfs, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	for _, mf := range mfs {
		if mf.GetName() == name {
			m := mf.GetMetric()[0]
			if m.GetCounter() != nil {
				return m.GetCounter().GetValue()
			}
			return m.GetGauge().GetValue()
		}
	}
	t.Fatalf("metric %s not registered", name)
	return 0
}

func TestARelayKilledBetweenEnqueueAndDeleteCausesNoDuplicate(t *testing.T) {
	url := database(t)
	pool := newPool(t, url)
	q := redisQueue(t)
	want := keys("report-", 25)
	addCommitted(t, pool, "report", want...)

	// The first relay dies once its jobs are in the queue and before it
	// deletes their rows: its transaction is rolled back.
	crashed := errors.New("relay died")
	dying := newRelay(t, newPool(t, url), q, outbox.Options{BatchSize: 10})
	var enqueued []int64
	outbox.SetAfterEnqueue(dying, func(_ context.Context, ids []int64) error {
		enqueued = ids
		return crashed
	})
	if n, err := dying.RelayOnce(ctx(t)); !errors.Is(err, crashed) || n != 0 {
		t.Fatalf("RelayOnce = %d, %v; want 0, the crash", n, err)
	}
	if len(enqueued) != 10 {
		t.Fatalf("the dying relay enqueued %d jobs, want a batch of 10", len(enqueued))
	}
	if n := pendingRows(t, pool); n != len(want) {
		t.Fatalf("%d rows in the outbox after the crash, want all %d", n, len(want))
	}

	// Another relay takes the rows over; the ten already enqueued are
	// deduplicated by their keys.
	reg := prometheus.NewRegistry()
	run(t, newRelay(t, pool, q, outbox.Options{BatchSize: 10, PollInterval: 20 * time.Millisecond, Registerer: reg}))
	d := work(t, q, "report")
	d.waitExactlyOnce(t, want, 10*time.Second)
	if n := pendingRows(t, pool); n != 0 {
		t.Errorf("%d rows left in the outbox", n)
	}
	if got := counter(t, reg, "outbox_deduplicated_total"); got != 10 {
		t.Errorf("outbox_deduplicated_total = %v, want the 10 jobs enqueued before the crash", got)
	}
}

func TestWhileRedisIsDownRowsStayAndAreDeliveredAfterItComesBack(t *testing.T) {
	pool := newPool(t, database(t))
	r := testenv.RedisPrivate(t, testenv.RedisOptions{AppendOnly: true})
	p := openRedis(t, r.Addr)
	before := keys("before-", 5)
	addCommitted(t, pool, "thumb", before...)
	if err := r.Kill(); err != nil {
		t.Fatal(err)
	}
	if _, err := p.Queue.Enqueue(ctx(t), "thumb", "probe", nil); !errors.Is(err, state.ErrStoreUnavailable) {
		t.Fatalf("Enqueue with Redis down: %v, want state.ErrStoreUnavailable", err)
	}

	reg := prometheus.NewRegistry()
	run(t, newRelay(t, pool, p.Queue, outbox.Options{PollInterval: 20 * time.Millisecond, Registerer: reg}))
	during := keys("during-", 5)
	addCommitted(t, pool, "thumb", during...)
	waitUntil(t, "the relay has failed a few times", 10*time.Second, func() bool {
		return counter(t, reg, "outbox_relay_errors_total") >= 3
	})
	if n := pendingRows(t, pool); n != 10 {
		t.Fatalf("%d rows in the outbox while Redis is down, want 10", n)
	}
	if g := counter(t, reg, "outbox_pending"); g != 10 {
		t.Errorf("outbox_pending = %v, want 10", g)
	}

	if err := r.Restart(ctx(t)); err != nil {
		t.Fatal(err)
	}
	waitUntil(t, "the outbox is empty", 20*time.Second, func() bool { return pendingRows(t, pool) == 0 })
	d := work(t, p.Queue, "thumb")
	d.waitExactlyOnce(t, append(before, during...), 20*time.Second)
}

func TestMigrateTwiceAndConcurrentlyIsFine(t *testing.T) {
	url := testenv.Postgres(t)
	var wg sync.WaitGroup
	errs := make(chan error, 8)
	for range 8 {
		pool := newPool(t, url)
		wg.Go(func() { errs <- outbox.Migrate(ctx(t), pool) })
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Fatalf("concurrent Migrate: %v", err)
		}
	}
	pool := newPool(t, url)
	addCommitted(t, pool, "kept", "row-from-before")
	if err := outbox.Migrate(ctx(t), pool); err != nil {
		t.Fatalf("Migrate again: %v", err)
	}
	if n := pendingRows(t, pool); n != 1 {
		t.Errorf("Migrate again lost rows: %d left, want 1", n)
	}
	var triggers int
	err := pool.QueryRow(ctx(t), `SELECT count(*) FROM pg_trigger
		WHERE tgrelid = 'cesivi_outbox'::regclass AND NOT tgisinternal`).Scan(&triggers)
	if err != nil || triggers != 1 {
		t.Errorf("%d triggers on the outbox (%v), want 1", triggers, err)
	}
}

func TestAJobReachesTheInMemoryQueueWithItsTypeKeyAndPayload(t *testing.T) {
	pool := newPool(t, database(t))
	p, err := memstate.New(state.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { p.Close() })
	inTx(t, pool, true, func(tx pgx.Tx) {
		if err := outbox.Add(ctx(t), tx, "notify", "own-key", []byte("payload")); err != nil {
			t.Fatal(err)
		}
		if err := outbox.Add(ctx(t), tx, "notify", "", []byte("keyless")); err != nil {
			t.Fatal(err)
		}
	})
	var keyless string
	if err := pool.QueryRow(ctx(t), "SELECT idempotency_key FROM cesivi_outbox WHERE payload = 'keyless'").Scan(&keyless); err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(keyless, outbox.KeyPrefix) || len(keyless) < len(outbox.KeyPrefix)+20 {
		t.Fatalf("a job added without a key is stored under %q, want %q and a random id", keyless, outbox.KeyPrefix)
	}
	run(t, newRelay(t, pool, p.Queue, outbox.Options{PollInterval: 20 * time.Millisecond}))
	d := work(t, p.Queue, "notify")
	d.waitExactlyOnce(t, []string{"own-key", keyless}, 10*time.Second)
	if j, _ := d.job("own-key"); j.Type != "notify" || string(j.Payload) != "payload" {
		t.Errorf("job = %+v, want type notify and payload %q", j, "payload")
	}
	if j, _ := d.job(keyless); string(j.Payload) != "keyless" {
		t.Errorf("job = %+v, want payload %q", j, "keyless")
	}
}

func TestRowsInsertedBySQLGetAKeyAndAreRelayedToo(t *testing.T) {
	pool := newPool(t, database(t))
	q := redisQueue(t)
	if _, err := pool.Exec(ctx(t), "INSERT INTO cesivi_outbox (job_type) VALUES ('audit'), ('audit')"); err != nil {
		t.Fatal(err)
	}
	rows, _ := pool.Query(ctx(t), "SELECT idempotency_key FROM cesivi_outbox ORDER BY id")
	stored, err := pgx.CollectRows(rows, pgx.RowTo[string])
	if err != nil {
		t.Fatal(err)
	}
	run(t, newRelay(t, pool, q, outbox.Options{PollInterval: 20 * time.Millisecond}))
	work(t, q, "audit").waitExactlyOnce(t, stored, 10*time.Second)
}

// With an hour-long poll, only NOTIFY can bring a job to the queue within
// seconds; and the listening connection comes back after it is killed.
func TestACommitWakesTheRelayAtOnceEvenAfterItsListeningConnectionWasKilled(t *testing.T) {
	pool := newPool(t, database(t))
	p, err := memstate.New(state.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { p.Close() })
	r := newRelay(t, pool, p.Queue, outbox.Options{PollInterval: time.Hour})
	listening := make(chan struct{}, 10)
	outbox.SetOnListen(r, func() { listening <- struct{}{} })
	run(t, r)
	d := work(t, p.Queue, "wake")
	waitListening := func() {
		t.Helper()
		select {
		case <-listening:
		case <-time.After(10 * time.Second):
			t.Fatal("the relay is not listening")
		}
	}
	waitListening()
	time.Sleep(100 * time.Millisecond) // let the first sweep (of nothing) pass
	addCommitted(t, pool, "wake", "first")
	d.waitExactlyOnce(t, []string{"first"}, 5*time.Second)

	var killed int
	err = pool.QueryRow(ctx(t), `SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity
		WHERE application_name = $1 AND datname = current_database()`, outbox.ListenerApplicationName).Scan(&killed)
	if err != nil || killed != 1 {
		t.Fatalf("killed %d listening connections (%v), want 1", killed, err)
	}
	waitListening()
	time.Sleep(100 * time.Millisecond)
	addCommitted(t, pool, "wake", "second")
	d.waitExactlyOnce(t, []string{"first", "second"}, 5*time.Second)
}

// With Durable waiting for a replica, rows stay in the outbox until a
// replica holds their jobs: a failover can then not lose a job the outbox
// has already forgotten. Real Redis, a real replica attached midway.
func TestRowsStayUntilAReplicaHoldsTheirJobs(t *testing.T) {
	pool := newPool(t, database(t))
	// No 5 s wait before the full sync a new replica asks for.
	master := testenv.RedisPrivate(t, testenv.RedisOptions{ExtraConfig: []string{"repl-diskless-sync-delay 0"}})
	p := openRedis(t, master.Addr)
	rdb := redis.NewClient(&redis.Options{Addr: master.Addr})
	t.Cleanup(func() { rdb.Close() })
	durable := func(ctx context.Context) error {
		n, err := redisstate.WaitReplicas(ctx, rdb, "", 1, 200*time.Millisecond)
		if err == nil && n < 1 {
			err = fmt.Errorf("%d replicas acknowledged", n)
		}
		return err
	}
	reg := prometheus.NewRegistry()
	run(t, newRelay(t, pool, p.Queue, outbox.Options{PollInterval: 20 * time.Millisecond, Registerer: reg, Durable: durable}))
	jobs := keys("replicated-", 5)
	addCommitted(t, pool, "thumb", jobs...)
	waitUntil(t, "the relay has refused to forget unreplicated jobs", 10*time.Second, func() bool {
		return counter(t, reg, "outbox_relay_errors_total") >= 2
	})
	if n := pendingRows(t, pool); n != 5 {
		t.Fatalf("%d rows in the outbox without a replica, want 5", n)
	}

	replica := testenv.RedisPrivate(t, testenv.RedisOptions{})
	host, port, _ := strings.Cut(master.Addr, ":")
	rc := redis.NewClient(&redis.Options{Addr: replica.Addr})
	t.Cleanup(func() { rc.Close() })
	if err := rc.Do(ctx(t), "REPLICAOF", host, port).Err(); err != nil {
		t.Fatal(err)
	}
	waitUntil(t, "the outbox is empty once a replica acknowledges", 20*time.Second, func() bool { return pendingRows(t, pool) == 0 })
	d := work(t, p.Queue, "thumb")
	d.waitExactlyOnce(t, jobs, 20*time.Second)
}
