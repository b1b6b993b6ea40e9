// Package statekit is what the state providers share and nobody else
// needs: the two-layer user-context and token cache over a provider's
// shared layer, the job worker loop over a provider's queue backend, the
// lease renewal loop, and the session store wrapper that publishes
// revocation notices.
//
// It sits under internal/state/internal so that only packages inside
// internal/state (memstate, redisstate, the suite) can import it: callers
// depend on the contract in package state, never on how the providers are
// built. Anything a caller outside internal/state needs belongs in state.
package statekit
