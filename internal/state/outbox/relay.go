package outbox

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strconv"
	"sync"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/prometheus/client_golang/prometheus"

	"github.com/cesivi/cesivi/internal/state"
)

// LogCategory is the logger category of the relay.
const LogCategory = "Cesivi.Server.State.Outbox"

// Options tune a Relay. The zero value is useful.
type Options struct {
	// BatchSize is how many rows one transaction claims (default 100).
	BatchSize int
	// PollInterval is how often the relay looks for rows without being
	// woken up (default 1 s). It is also the pause after a failed batch.
	PollInterval time.Duration
	// BatchTimeout bounds one batch: claiming, enqueueing, deleting
	// (default 30 s). PostgreSQL also ends the batch's session if it stays
	// idle in its transaction for BatchTimeout + 10 s (a relay frozen or
	// cut off), releasing its rows to the other relays.
	BatchTimeout time.Duration
	// NoListen turns off the wake-up by LISTEN/NOTIFY: the relay then
	// only polls.
	NoListen bool
	// Registerer receives outbox_pending, outbox_relayed_total,
	// outbox_deduplicated_total and outbox_relay_errors_total; nil
	// registers nothing. Give each relay its own registerer (or
	// none): a second registration of the same names is an error.
	Registerer prometheus.Registerer
	// Log defaults to a discarding logger.
	Log *slog.Logger
	// Durable, if set, runs after a batch's jobs are in the queue and
	// before their rows are deleted. With Redis Sentinel it should wait
	// for a replica to hold the jobs (redisstate.WaitReplicas): otherwise
	// a failover right after the delete loses jobs the outbox has already
	// forgotten. An error abandons the batch: the rows stay and are relayed
	// again (the queue's idempotency keys drop the duplicates).
	Durable func(ctx context.Context) error
}

// WithDefaults fills in the zero fields.
func (o Options) WithDefaults() Options {
	if o.BatchSize <= 0 {
		o.BatchSize = 100
	}
	if o.PollInterval <= 0 {
		o.PollInterval = time.Second
	}
	if o.BatchTimeout <= 0 {
		o.BatchTimeout = 30 * time.Second
	}
	if o.Log == nil {
		o.Log = slog.New(slog.DiscardHandler)
	}
	return o
}

// Relay moves committed outbox rows to a job queue. Any number of relays,
// on any number of servers, may run on the same database: each batch
// claims its rows with FOR UPDATE SKIP LOCKED, so they share the work
// instead of repeating it.
type Relay struct {
	pool *pgxpool.Pool
	q    state.Queue
	opt  Options

	relayed, deduplicated, failures prometheus.Counter

	pendingMu   sync.Mutex
	lastPending float64

	// Test hooks, set only by export_test.go.
	//
	// afterEnqueue runs once a batch's jobs are in the queue and before
	// their rows are deleted; an error abandons the batch there, as the
	// death of the relay would (its transaction rolls back, the rows stay
	// and are relayed again).
	afterEnqueue func(ctx context.Context, ids []int64) error
	// onListen runs each time the listening connection has subscribed.
	onListen func()
}

// NewRelay returns a relay from the outbox on pool (Migrate must have run)
// to q. The caller owns pool and q.
func NewRelay(pool *pgxpool.Pool, q state.Queue, opt Options) (*Relay, error) {
	opt = opt.WithDefaults()
	r := &Relay{pool: pool, q: q, opt: opt,
		relayed: prometheus.NewCounter(prometheus.CounterOpts{Name: "outbox_relayed_total",
			Help: "Outbox rows handed to the job queue and deleted by this server."}),
		deduplicated: prometheus.NewCounter(prometheus.CounterOpts{Name: "outbox_deduplicated_total",
			Help: "Outbox rows the job queue already had under their idempotency key (relayed again after a relay died)."}),
		failures: prometheus.NewCounter(prometheus.CounterOpts{Name: "outbox_relay_errors_total",
			Help: "Outbox batches that failed (queue or database unavailable); their rows stay and are retried."}),
	}
	if reg := opt.Registerer; reg != nil {
		pending := prometheus.NewGaugeFunc(prometheus.GaugeOpts{Name: "outbox_pending",
			Help: "Jobs committed to the PostgreSQL outbox and not yet in the job queue (database-wide)."}, r.pending)
		for _, c := range []prometheus.Collector{pending, r.relayed, r.deduplicated, r.failures} {
			if err := reg.Register(c); err != nil {
				return nil, fmt.Errorf("outbox: metrics: %w", err)
			}
		}
	}
	return r, nil
}

// pending counts the outbox rows; on a database error the last figure is
// reported again.
func (r *Relay) pending() float64 {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	var n int64
	err := r.pool.QueryRow(ctx, "SELECT count(*) FROM cesivi_outbox").Scan(&n)
	r.pendingMu.Lock()
	defer r.pendingMu.Unlock()
	if err == nil {
		r.lastPending = float64(n)
	}
	return r.lastPending
}

// Run relays until ctx ends: a batch at once, then another whenever a
// NOTIFY arrives or PollInterval passes, and back to back while batches
// come back full. A failed batch (the queue unavailable, say) leaves its
// rows in the table and is retried after PollInterval. When ctx ends, the
// batch under way finishes (within BatchTimeout) and Run returns nil.
func (r *Relay) Run(ctx context.Context) error {
	wake := make(chan struct{}, 1)
	var wg sync.WaitGroup
	if !r.opt.NoListen {
		wg.Go(func() { r.listen(ctx, wake) })
	}
	defer wg.Wait()
	for ctx.Err() == nil {
		n, err := r.RelayOnce(context.WithoutCancel(ctx))
		if err != nil {
			r.opt.Log.Warn("outbox: relay failed; the jobs stay in the outbox and are retried",
				"error", err, "retry_in", r.opt.PollInterval)
		}
		if err == nil && n == r.opt.BatchSize {
			continue
		}
		t := time.NewTimer(r.opt.PollInterval)
		if err != nil {
			// Wake-ups come from new rows; they do not make a failing
			// queue answer sooner.
			select {
			case <-ctx.Done():
			case <-t.C:
			}
		} else {
			select {
			case <-ctx.Done():
			case <-t.C:
			case <-wake:
			}
		}
		t.Stop()
	}
	return nil
}

// RelayOnce relays one batch of at most BatchSize rows and reports how
// many it took out of the outbox. It returns early, with the rows
// relayed so far deleted and the others left, on the first error of the
// queue; the error then says why.
func (r *Relay) RelayOnce(ctx context.Context) (int, error) {
	ctx, cancel := context.WithTimeout(ctx, r.opt.BatchTimeout)
	defer cancel()
	n, err := r.batch(ctx)
	if err != nil {
		r.failures.Inc()
	}
	return n, err
}

type outboxRow struct {
	id      int64
	jobType string
	key     string
	payload []byte
}

func (r *Relay) batch(ctx context.Context) (int, error) {
	tx, err := r.pool.Begin(ctx)
	if err != nil {
		return 0, fmt.Errorf("outbox: relay: %w", err)
	}
	defer tx.Rollback(context.WithoutCancel(ctx))
	idle := strconv.FormatInt((r.opt.BatchTimeout + 10*time.Second).Milliseconds(), 10)
	if _, err := tx.Exec(ctx, "SELECT set_config('idle_in_transaction_session_timeout', $1, true)", idle); err != nil {
		return 0, fmt.Errorf("outbox: relay: %w", err)
	}
	rows, err := tx.Query(ctx, `SELECT id, job_type, idempotency_key, payload FROM cesivi_outbox
		ORDER BY id LIMIT $1 FOR UPDATE SKIP LOCKED`, r.opt.BatchSize)
	if err != nil {
		return 0, fmt.Errorf("outbox: relay: claim: %w", err)
	}
	claimed, err := pgx.CollectRows(rows, func(row pgx.CollectableRow) (outboxRow, error) {
		var x outboxRow
		err := row.Scan(&x.id, &x.jobType, &x.key, &x.payload)
		return x, err
	})
	if err != nil {
		return 0, fmt.Errorf("outbox: relay: claim: %w", err)
	}
	if len(claimed) == 0 {
		return 0, nil
	}
	done := make([]int64, 0, len(claimed))
	var dups int
	var qerr error
	for _, x := range claimed {
		added, err := r.q.Enqueue(ctx, x.jobType, x.key, x.payload)
		if err != nil {
			qerr = fmt.Errorf("outbox: relay: enqueue %s job %d: %w", x.jobType, x.id, err)
			break
		}
		if !added {
			dups++
		}
		done = append(done, x.id)
	}
	if len(done) == 0 {
		return 0, qerr
	}
	if r.afterEnqueue != nil {
		if err := r.afterEnqueue(ctx, done); err != nil {
			return 0, err
		}
	}
	if r.opt.Durable != nil {
		if err := r.opt.Durable(ctx); err != nil {
			return 0, errors.Join(qerr, fmt.Errorf("outbox: relay: jobs not durable yet, rows kept: %w", err))
		}
	}
	if _, err := tx.Exec(ctx, "DELETE FROM cesivi_outbox WHERE id = ANY($1)", done); err != nil {
		return 0, errors.Join(qerr, fmt.Errorf("outbox: relay: delete: %w", err))
	}
	if err := tx.Commit(ctx); err != nil {
		return 0, errors.Join(qerr, fmt.Errorf("outbox: relay: commit: %w", err))
	}
	r.relayed.Add(float64(len(done)))
	r.deduplicated.Add(float64(dups))
	return len(done), qerr
}

// listen keeps a connection of its own subscribed to Channel and turns
// each notification into a wake-up, reconnecting with backoff when the
// connection fails. Notifications sent while it was not listening are
// lost, so every (re)subscription wakes the relay once too; the poll
// covers the rest.
func (r *Relay) listen(ctx context.Context, wake chan<- struct{}) {
	backoff := 100 * time.Millisecond
	for ctx.Err() == nil {
		subscribed, err := r.listenOnce(ctx, wake)
		if ctx.Err() != nil {
			return
		}
		if subscribed {
			backoff = 100 * time.Millisecond
		}
		r.opt.Log.Warn("outbox: listening connection lost; reconnecting", "error", err, "in", backoff)
		select {
		case <-ctx.Done():
			return
		case <-time.After(backoff):
		}
		backoff = min(2*backoff, 30*time.Second)
	}
}

func (r *Relay) listenOnce(ctx context.Context, wake chan<- struct{}) (subscribed bool, err error) {
	cfg := r.pool.Config().ConnConfig.Copy()
	if cfg.RuntimeParams == nil {
		cfg.RuntimeParams = map[string]string{}
	}
	cfg.RuntimeParams["application_name"] = ListenerApplicationName
	conn, err := pgx.ConnectConfig(ctx, cfg)
	if err != nil {
		return false, err
	}
	defer func() {
		c, cancel := context.WithTimeout(context.Background(), time.Second)
		defer cancel()
		conn.Close(c)
	}()
	if _, err := conn.Exec(ctx, "LISTEN "+Channel); err != nil {
		return false, err
	}
	signal(wake)
	if r.onListen != nil {
		r.onListen()
	}
	for {
		if _, err := conn.WaitForNotification(ctx); err != nil {
			return true, err
		}
		signal(wake)
	}
}

// ListenerApplicationName is the application_name of a relay's listening
// connection (as seen in pg_stat_activity).
const ListenerApplicationName = "cesivi-outbox-relay"

func signal(c chan<- struct{}) {
	select {
	case c <- struct{}{}:
	default:
	}
}
