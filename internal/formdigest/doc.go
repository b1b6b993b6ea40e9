// Package formdigest is SharePoint's form digest (request digest) for the
// app server: the value POST {web}/_api/contextinfo answers as
// FormDigestValue, and that cookie-authenticated writes send back in the
// X-RequestDigest header (or the __REQUESTDIGEST form field) as proof that
// the request comes from a page or script that could read the site, not
// from another site's form (CSRF).
//
// # Format
//
// A digest looks like SharePoint's, character for character:
//
//	0x1F2B…(128 upper-case hex digits)…83,23 Nov 2026 19:35:09 -0000
//
// The date after the comma is the issue time in UTC, written as SharePoint
// Online and SharePoint Server write it: day, month, year, time and
// "-0000", without a weekday. (A weekday would put a second comma in the
// value, and code that takes what follows the first comma as the date,
// value.split(",")[1], would read "Mon".) The 64 bytes the hex spells are
// minted by the key ring (keyring.Ring.MintFormDigest, which holds the
// key material): a version byte, the key id, the issue time, keyed hints
// of the user and the scope, reserved zero bytes, and an HMAC-SHA256 tag,
// under a subkey derived for the purpose "form-digest", binding the user,
// the scope and the issue time. So the hex is authoritative; the date is
// there for clients, and a value whose date disagrees with its hex, or
// whose hex is not upper case, is refused as not minted by this farm: one
// digest has exactly one text, and no client rewrites it.
//
// # Stateless, and valid on every server
//
// Nothing is stored: any server holding the same key ring verifies a
// digest another one minted, also after restarts. That is what clients
// need. PnPjs caches one digest per web URL for FormDigestTimeoutSeconds,
// counted from when it received it, and never fetches a new one on a 403;
// after an explicit getContextInfo() it keeps sending the digest it had.
// So every digest must stay valid until it expires, whichever server
// minted it and however many were minted since (a server-side table of
// "the current digest" breaks exactly there). A digest is valid for
// Timeout (1800 s) from its issue time, which is rounded up to the second
// so the farm never counts from earlier than the client does, and is
// accepted up to keyring.AssertionLeeway in the future (another server's
// clock ahead). Rotating the key ring keeps older digests valid until they
// expire; revoking a key refuses its digests on every server that has
// heard of the revocation.
//
// # What the caller chooses
//
// The subject is the signed-in user's stable name (the login name, e.g.
// "i:0#.f|membership|ada@example.org"); Mint refuses an empty one. The
// scope is what the digest is good for, the site collection's
// server-relative URL such as "/sites/dev": pass it in one canonical
// spelling (as stored, not as the client typed it), since scopes are
// compared byte for byte and "/sites/Dev" is another scope.
//
// When to require a digest is the SharePoint layer's policy; as SharePoint
// does, require X-RequestDigest on writes authenticated by a cookie or
// session, accept bearer-authenticated writes without one (PnPjs never
// sends a digest with an Authorization header), and accept a valid digest
// whatever the authentication. PnPjs sends the literal "undefined" when it
// could not read FormDigestValue at the top level of the contextinfo
// answer (a verbose answer to a bare Accept: application/json); Verify
// names that case in its refusal.
//
// Refusals are counted by the key ring, in
// cesivi_keyring_verification_failures_total{format="form_digest"}.
package formdigest
