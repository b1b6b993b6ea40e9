package websession

import (
	"encoding/json"
	"fmt"
	"strconv"
	"time"

	"github.com/cesivi/cesivi/internal/state"
	"github.com/cesivi/cesivi/keyring"
)

// TokensPurpose is the key ring purpose that seals the provider's tokens
// kept in a session (state.Session.Tokens).
const TokensPurpose = "session-tokens"

// DataTokenExpiry is the session data entry with the access token's expiry
// (Unix seconds, not secret), present only when the session holds a
// refresh token: reading it costs nothing per request, while the tokens
// themselves stay sealed.
const DataTokenExpiry = "tokexp"

// Tokens are the identity provider's tokens of a signed-in session. They
// are kept server-side only, sealed with the key ring, so neither the
// browser nor the store ever holds a usable token.
type Tokens struct {
	IDToken      string    `json:"id_token,omitempty"`
	AccessToken  string    `json:"access_token,omitempty"`
	RefreshToken string    `json:"refresh_token,omitempty"`
	Expiry       time.Time `json:"expiry,omitzero"`
}

// SealTokens encrypts t with the key ring for state.Session.Tokens.
func SealTokens(ring *keyring.Ring, t Tokens) ([]byte, error) {
	b, err := json.Marshal(t)
	if err != nil {
		return nil, fmt.Errorf("websession: encoding the tokens: %w", err)
	}
	sealed, err := ring.Protect(TokensPurpose, b)
	if err != nil {
		return nil, fmt.Errorf("websession: sealing the tokens: %w", err)
	}
	return sealed, nil
}

// OpenTokens decrypts what SealTokens sealed.
func OpenTokens(ring *keyring.Ring, sealed []byte) (Tokens, error) {
	var t Tokens
	plain, err := ring.Unprotect(TokensPurpose, sealed)
	if err != nil {
		return t, fmt.Errorf("websession: opening the tokens: %w", err)
	}
	if err := json.Unmarshal(plain, &t); err != nil {
		return t, fmt.Errorf("websession: decoding the tokens: %w", err)
	}
	return t, nil
}

// tokenExpiry is the access token's expiry kept in the session's data, and
// whether there is one (only sessions with a refresh token have it).
func tokenExpiry(s *state.Session) (time.Time, bool) {
	v, ok := s.Data[DataTokenExpiry]
	if !ok {
		return time.Time{}, false
	}
	secs, err := strconv.ParseInt(v, 10, 64)
	if err != nil {
		return time.Time{}, false
	}
	return time.Unix(secs, 0), true
}
