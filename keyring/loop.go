package keyring

import (
	"context"
	"fmt"
	mrand "math/rand/v2"
	"time"
)

// Kick asks the background loop to refresh now (a change notice).
func (r *Ring) Kick() {
	select {
	case r.kick <- struct{}{}:
	default:
	}
}

// subscribe starts receiving change notices unless stop says it already
// does; it returns the stop function (nil when notices are unavailable; the
// loop tries again every refreshRetry). Once subscribed, the ring refreshes
// once, for anything announced before the subscription was active.
func (r *Ring) subscribe(ctx context.Context, stop func()) func() {
	if r.notify == nil || stop != nil {
		return stop
	}
	stop, err := r.notify.Subscribe(ctx, r.Kick)
	if err != nil {
		if ctx.Err() == nil {
			r.log.Warn("key ring change notices unavailable; retrying, and the periodic refresh still applies", "error", err, "retry_in", refreshRetry)
		}
		return nil
	}
	r.Kick()
	return stop
}

func (r *Ring) loop(ctx context.Context, stop func()) {
	defer close(r.done)
	defer func() {
		if stop != nil {
			stop()
		}
	}()
	delay := r.nextDelay()
	for {
		if r.notify != nil && stop == nil {
			delay = min(delay, refreshRetry)
		}
		t := time.NewTimer(delay)
		reason := "periodic"
		select {
		case <-ctx.Done():
			t.Stop()
			return
		case <-t.C:
		case <-r.kick:
			t.Stop()
			reason = "notice"
		}
		stop = r.subscribe(ctx, stop)
		if err := r.refresh(ctx, reason); err != nil {
			if ctx.Err() != nil {
				return
			}
			r.log.Error("key ring refresh failed; keeping the previous keys", "error", err, "retry_in", refreshRetry)
			delay = refreshRetry
			continue
		}
		delay = r.nextDelay()
	}
}

// nextDelay is the refresh period minus up to 20 % jitter, shortened so the
// ring refreshes when the current key expires or needs its successor.
func (r *Ring) nextDelay() time.Duration {
	d := r.opt.RefreshPeriod - time.Duration(mrand.Int64N(int64(r.opt.RefreshPeriod)/5+1))
	now := r.now()
	if cur := r.snap.Load().current(now, r.opt.ClockSkew); cur != nil {
		for _, at := range []time.Time{cur.Expiration.Add(-r.opt.PropagationWindow - r.opt.RefreshPeriod), cur.Expiration} {
			if until := at.Sub(now); until > 0 && until < d {
				d = until
			}
		}
	}
	return max(d, time.Second)
}

// Refresh re-reads the store now and, unless ReadOnly, creates the key the
// rotation policy asks for.
func (r *Ring) Refresh(ctx context.Context) error { return r.refresh(ctx, "explicit") }

func (r *Ring) refresh(ctx context.Context, reason string) error {
	r.refreshMu.Lock()
	defer r.refreshMu.Unlock()
	err := r.refreshLocked(ctx)
	r.metrics.refreshed(reason, err)
	return err
}

func (r *Ring) refreshLocked(ctx context.Context) error {
	for attempt := 0; ; attempt++ {
		recs, err := r.store.Load(ctx)
		if err != nil {
			return fmt.Errorf("keyring: read the key store: %w", err)
		}
		snap, err := r.build(recs)
		if err != nil {
			return err
		}
		r.snap.Store(snap)
		if r.opt.ReadOnly {
			return nil
		}
		now := r.now()
		slot, activation, ok := r.needKey(snap, now)
		if !ok {
			return nil
		}
		if attempt >= 5 {
			return fmt.Errorf("keyring: could not settle on a key for slot %q after %d attempts", slot, attempt)
		}
		created := now
		if !snap.maxBefore.IsZero() && created.Before(snap.maxBefore) {
			created = snap.maxBefore.Add(time.Microsecond)
		}
		rec, err := r.newRecord(slot, created, activation)
		if err != nil {
			return err
		}
		inserted, err := r.store.InsertKey(ctx, rec)
		if err != nil {
			return fmt.Errorf("keyring: store a new key: %w", err)
		}
		if inserted {
			r.log.Info("key ring: created key", "key_id", rec.ID, "slot", slot,
				"activation", rec.Activation.Format(time.RFC3339), "expiration", rec.Expiration.Format(time.RFC3339))
			r.notifyChange(ctx)
		}
		// Re-read either way: another node may have won the slot, and
		// then its key is visible now (the Store contract), so the next
		// pass finds it and stops. The attempt bound is only reached when
		// the store keeps changing under the ring or ids keep colliding.
	}
}

func (r *Ring) notifyChange(ctx context.Context) {
	if r.notify == nil {
		return
	}
	if err := r.notify.Notify(ctx); err != nil {
		r.log.Warn("key ring: could not publish the change notice; other nodes see it at their next refresh", "error", err)
	}
}
