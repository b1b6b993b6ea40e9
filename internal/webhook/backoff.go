package webhook

import (
	"math"
	"time"
)

// Backoff is the retry schedule of a delivery. Its zero value is
// SharePoint's: 5 retries, 5 minutes apart. Tests set a short Delay.
type Backoff struct {
	// Attempts is the number of retries after the first delivery (so a
	// notification is tried at most Attempts+1 times); 0 means 5, a
	// negative value no retry.
	Attempts int
	// Delay is the wait before the first retry; 0 means 5 minutes.
	Delay time.Duration
	// Factor multiplies the wait from one retry to the next; 0 (or less
	// than 1) means 1, a constant delay as SharePoint's.
	Factor float64
	// MaxDelay caps a single wait; 0 means no cap.
	MaxDelay time.Duration
}

// Default values of Backoff.
const (
	DefaultRetries    = 5
	DefaultRetryDelay = 5 * time.Minute
)

// Next says how long to wait after failed attempt number attempt (1 is the
// first delivery) before the next one, and false when the retries are used
// up (the notification goes to the dead letters).
func (b Backoff) Next(attempt int) (time.Duration, bool) {
	retries := b.Attempts
	if retries == 0 {
		retries = DefaultRetries
	}
	if attempt < 1 || attempt > retries {
		return 0, false
	}
	delay := b.Delay
	if delay <= 0 {
		delay = DefaultRetryDelay
	}
	factor := b.Factor
	if factor < 1 {
		factor = 1
	}
	d := float64(delay) * math.Pow(factor, float64(attempt-1))
	out := time.Duration(math.MaxInt64)
	if d < float64(math.MaxInt64) { // float64(MaxInt64) is 2^63: < keeps d convertible
		out = time.Duration(d)
	}
	if b.MaxDelay > 0 && out > b.MaxDelay {
		out = b.MaxDelay
	}
	return out, true
}
