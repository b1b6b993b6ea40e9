package oidclogin

import (
	"net/url"
	"strings"
	"unicode"
	"unicode/utf8"
)

// maxReturnTo bounds the return path: it travels in the state record, and
// a longer one is more likely an attack than a page.
const maxReturnTo = 2048

// SafeReturnTo returns s if it is a same-site relative path that every
// browser resolves against the current origin, and false otherwise (it is
// never an open redirect). It accepts only strings that:
//
//   - start with "/" and whose second character is neither "/" nor "\"
//     ("//evil" and "/\evil" are protocol-relative URLs to another host);
//   - contain no backslash at all (browsers read it as "/");
//   - contain no control, space or invisible formatting character
//     (browsers drop tabs and newlines, so "/\t/evil" becomes "//evil");
//   - are valid UTF-8 of at most 2048 bytes;
//   - parse with url.Parse to no scheme, no host and no user.
//
// Path, query and fragment are kept as given, not normalised: the caller
// must send the result as it is (cleaning "/..//evil" with path.Clean,
// for instance, would produce "//evil"). Percent-encoded slashes
// ("/%2F%2Fevil") are harmless: they stay in the path.
func SafeReturnTo(s string) (string, bool) {
	if len(s) == 0 || len(s) > maxReturnTo || s[0] != '/' {
		return "", false
	}
	if len(s) > 1 && (s[1] == '/' || s[1] == '\\') {
		return "", false
	}
	if !utf8.ValidString(s) || strings.ContainsRune(s, '\\') {
		return "", false
	}
	for _, r := range s {
		if unsafeRune(r) {
			return "", false
		}
	}
	u, err := url.Parse(s)
	if err != nil || u.Scheme != "" || u.Host != "" || u.User != nil || u.Opaque != "" {
		return "", false
	}
	return s, true
}

// unsafeRune reports characters a URL must not carry unencoded here:
// controls, spaces (including the Unicode ones) and format characters such
// as bidirectional overrides, which can disguise a URL.
func unsafeRune(r rune) bool {
	return r <= ' ' || r == 0x7f || unicode.IsControl(r) || unicode.IsSpace(r) || unicode.Is(unicode.Cf, r) || r == utf8.RuneError
}

// sanitize makes text from outside (a provider's error description, an
// error message) safe for a log line or a page: control and formatting
// characters become spaces, runs of spaces collapse, and the result is cut
// to max runes.
func sanitize(s string, max int) string {
	var b strings.Builder
	n, space := 0, false
	for _, r := range strings.ToValidUTF8(s, "\uFFFD") {
		if unicode.IsControl(r) || unicode.Is(unicode.Cf, r) || unicode.IsSpace(r) {
			space = b.Len() > 0
			continue
		}
		if n >= max {
			break
		}
		if space {
			if n+1 >= max {
				break
			}
			b.WriteByte(' ')
			n++
			space = false
		}
		b.WriteRune(r)
		n++
	}
	return b.String()
}

// redact replaces every occurrence of each non-empty secret in s.
func redact(s string, secrets ...string) string {
	for _, v := range secrets {
		if v != "" {
			s = strings.ReplaceAll(s, v, "[redacted]")
		}
	}
	return s
}
