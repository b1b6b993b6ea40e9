package formdigest

import (
	"errors"
	"fmt"
	"time"

	"github.com/cesivi/cesivi/keyring"
)

// Timeout is how long a digest is valid: SharePoint's default
// FormDigestTimeoutSeconds.
const Timeout = keyring.FormDigestTimeout

// TimeoutSeconds is Timeout as the contextinfo answer's
// FormDigestTimeoutSeconds.
const TimeoutSeconds = int(Timeout / time.Second)

// ErrInvalid is wrapped by every refusal of a digest: answer 403.
var ErrInvalid = errors.New("formdigest: invalid form digest")

// Refusal is the error Verify returns for a digest it refuses. It wraps
// ErrInvalid and the key ring's refusal reason (keyring.ErrExpired,
// keyring.ErrWrongUser, …), so keyring.Reason names it for logs.
type Refusal struct {
	// Why says, for people, why the digest was refused. It never holds the
	// value, which is a credential of its user.
	Why    string
	reason error
}

func (e *Refusal) Error() string { return "formdigest: digest refused: " + e.Why }

// Unwrap returns ErrInvalid and the key ring's reason.
func (e *Refusal) Unwrap() []error { return []error{ErrInvalid, e.reason} }

// errNoUser is the reason of a refusal for want of a user to check the
// digest against: a refusal the key ring never saw.
var errNoUser = errors.New("formdigest: no signed-in user")

// Minter mints and verifies digests with a key ring, so a digest minted on
// one server of the farm is valid on every other one holding the same ring.
type Minter struct {
	Ring *keyring.Ring
}

// Mint returns a new digest for subject (the user's login name, not empty)
// in scope (the site collection's URL), valid Timeout.
func (m Minter) Mint(subject, scope string) (string, error) {
	if m.Ring == nil {
		return "", errors.New("formdigest: no key ring")
	}
	if subject == "" {
		return "", errors.New("formdigest: mint: no user (a digest proves a user's page sent the request)")
	}
	v, err := m.Ring.MintFormDigest(subject, scope)
	if err != nil {
		return "", fmt.Errorf("formdigest: mint: %w", err)
	}
	return v, nil
}

// Verify checks value, as sent in X-RequestDigest, for subject and scope.
// Every refusal is a *Refusal, which wraps ErrInvalid; any other error is
// the caller's (no key ring).
func (m Minter) Verify(value, subject, scope string) error {
	if m.Ring == nil {
		return errors.New("formdigest: no key ring")
	}
	if subject == "" {
		return &Refusal{Why: "there is no signed-in user to check it against", reason: errNoUser}
	}
	err := m.Ring.VerifyFormDigest(value, subject, scope)
	if err == nil {
		return nil
	}
	return &Refusal{Why: explain(value, err), reason: err}
}

// explain says why err refused value, naming what a client developer can
// fix where there is something to fix.
func explain(value string, err error) string {
	switch {
	case value == "":
		return "no digest was sent (get one from POST /_api/contextinfo, FormDigestValue)"
	case value == "undefined":
		return "the client sent the placeholder PnPjs sends when it found no FormDigestValue " +
			"at the top level of the /_api/contextinfo answer (it got odata=verbose instead of JSON light)"
	case errors.Is(err, keyring.ErrWrongScope):
		return "it was minted for another site"
	case errors.Is(err, keyring.ErrWrongUser):
		return "it was minted for another user"
	case errors.Is(err, keyring.ErrExpired):
		return fmt.Sprintf("it has expired (a digest is valid %d s; get a new one from POST /_api/contextinfo)", TimeoutSeconds)
	case errors.Is(err, keyring.ErrMalformed), errors.Is(err, keyring.ErrBadVersion), errors.Is(err, keyring.ErrWrongPurpose):
		return "it is not a digest this farm minted (want the FormDigestValue of /_api/contextinfo exactly as received)"
	case errors.Is(err, keyring.ErrTruncated):
		return "it is cut short (want the FormDigestValue of /_api/contextinfo exactly as received)"
	}
	return keyring.Explain(err)
}
