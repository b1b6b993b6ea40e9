package keyring

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"sync"
	"sync/atomic"
	"time"

	"github.com/prometheus/client_golang/prometheus"
)

// Defaults, as ASP.NET Core DataProtection's (KeyManagementOptions).
const (
	DefaultKeyLifetime       = 90 * 24 * time.Hour
	DefaultPropagationWindow = 48 * time.Hour
	DefaultRefreshPeriod     = 24 * time.Hour
	DefaultClockSkew         = 5 * time.Minute
	// DefaultUnknownKeyRefreshInterval bounds the store reads a stream of
	// payloads naming unknown key ids can cause (DataProtection only does
	// this in the first 2 minutes after start; we do it at any time).
	DefaultUnknownKeyRefreshInterval = 2 * time.Second
	// refreshRetry is how soon a failed background refresh is retried; the
	// ring keeps serving its previous snapshot meanwhile.
	refreshRetry = time.Minute
	// initialSubscribeWait bounds New's wait for the change notices'
	// subscription.
	initialSubscribeWait = 3 * time.Second
)

// Options configure a Ring. Store is required; every other field has a
// default.
type Options struct {
	Store Store
	// Notifier carries change notices; when nil and Store implements
	// Notifier, the store is used.
	Notifier Notifier
	// MasterKey (32 bytes, see ParseMasterKey) encrypts key material at
	// rest. Without one the ring works and logs one warning.
	MasterKey []byte
	// ApplicationName is the root purpose (default "cesivi").
	ApplicationName string
	Logger          *slog.Logger
	// Registerer receives the ring's metrics (see metrics.go); nil: none.
	Registerer prometheus.Registerer
	// Now is the clock (default time.Now); tests inject theirs.
	Now func() time.Time

	KeyLifetime               time.Duration
	PropagationWindow         time.Duration
	RefreshPeriod             time.Duration
	ClockSkew                 time.Duration
	UnknownKeyRefreshInterval time.Duration

	// ReadOnly rings never create keys (the CLI's list).
	ReadOnly bool
	// NoBackground disables the refresh goroutine and the notice
	// subscription: the owner calls Refresh (tests with a fake clock, the
	// CLI).
	NoBackground bool
}

// Ring is a key ring. It is safe for concurrent use; minting and verifying
// read an immutable snapshot through an atomic pointer and take no lock.
type Ring struct {
	opt     Options
	store   Store
	notify  Notifier
	kek     *kek
	log     *slog.Logger
	now     func() time.Time
	metrics *metrics

	snap atomic.Pointer[snapshot]

	refreshMu        sync.Mutex // serialises refreshes
	lastUnknown      time.Time  // guarded by refreshMu
	warnedPlainKeys  map[KeyID]bool
	kick             chan struct{}
	cancel           context.CancelFunc
	done             chan struct{}
	stopSubscription func()
	closeOnce        sync.Once
}

// New opens a ring: it reads the store (a failure, a wrong master key or
// an encrypted store without a master key is an error), creates the first
// key when there is none (coordinated through the store), and, unless
// NoBackground, starts refreshing in the background until Close.
func New(ctx context.Context, opt Options) (*Ring, error) {
	if opt.Store == nil {
		return nil, errors.New("keyring: no store")
	}
	if opt.ApplicationName == "" {
		opt.ApplicationName = DefaultApplicationName
	}
	if opt.Logger == nil {
		opt.Logger = slog.New(slog.NewTextHandler(io.Discard, nil))
	}
	if opt.Now == nil {
		opt.Now = time.Now
	}
	def := func(d *time.Duration, v time.Duration) {
		if *d <= 0 {
			*d = v
		}
	}
	def(&opt.KeyLifetime, DefaultKeyLifetime)
	def(&opt.PropagationWindow, DefaultPropagationWindow)
	def(&opt.RefreshPeriod, DefaultRefreshPeriod)
	def(&opt.ClockSkew, DefaultClockSkew)
	def(&opt.UnknownKeyRefreshInterval, DefaultUnknownKeyRefreshInterval)
	if opt.KeyLifetime < 7*24*time.Hour {
		return nil, errors.New("keyring: the key lifetime must be at least 7 days")
	}
	k, err := newKEK(opt.MasterKey)
	if err != nil {
		return nil, err
	}
	r := &Ring{
		opt:             opt,
		store:           opt.Store,
		notify:          opt.Notifier,
		kek:             k,
		log:             opt.Logger,
		now:             opt.Now,
		warnedPlainKeys: map[KeyID]bool{},
		kick:            make(chan struct{}, 1),
	}
	if r.notify == nil {
		r.notify, _ = opt.Store.(Notifier)
	}
	r.metrics = newMetrics(opt.Registerer, r)
	if k == nil {
		r.log.Warn("no master key is configured: key ring material is stored UNENCRYPTED; set Cesivi:DataProtection:MasterKey to 32 random bytes in base64 (openssl rand -base64 32)")
	}
	if err := r.Refresh(ctx); err != nil {
		return nil, err
	}
	if !opt.NoBackground {
		bg, cancel := context.WithCancel(context.WithoutCancel(ctx))
		r.cancel = cancel
		r.done = make(chan struct{})
		// The first subscription is awaited for a bounded time only: a
		// notifier whose server is down (Redis restarting, or not up yet
		// when the farm starts) must not keep the process from serving.
		// A subscription that comes up later resets, which kicks a
		// refresh; one that failed is retried by the loop.
		subCtx, subCancel := context.WithTimeout(bg, initialSubscribeWait)
		stop := r.subscribe(subCtx, nil)
		subCancel()
		go r.loop(bg, stop)
	}
	return r, nil
}

// Close stops the background refresh and the notice subscription.
func (r *Ring) Close() error {
	r.closeOnce.Do(func() {
		if r.cancel != nil {
			r.cancel()
			<-r.done
		}
	})
	return nil
}
