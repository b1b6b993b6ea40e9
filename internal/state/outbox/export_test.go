package outbox

import "context"

// SetAfterEnqueue installs a crash point between a batch's enqueues and
// the deletion of its rows; an error returned abandons the batch there.
func SetAfterEnqueue(r *Relay, f func(ctx context.Context, ids []int64) error) { r.afterEnqueue = f }

// SetOnListen installs a function called each time the relay's listening
// connection has subscribed.
func SetOnListen(r *Relay, f func()) { r.onListen = f }
