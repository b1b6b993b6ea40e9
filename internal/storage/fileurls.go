package storage

import (
	"strings"
	"unicode/utf8"
)

// ResolveFileURL finds a server-relative URL inside the library whose
// root folder is at root and returns its segments below the root (none
// for the root folder itself). URLs reach storage decoded and cleaned,
// but this does not rely on it: an empty ("//"), "." or ".." segment or
// a backslash is ErrInvalid, and a URL outside root (another library,
// web or site, or no server-relative URL at all) is ErrNotFound, so no
// path can climb out of its library. One trailing slash is allowed, as
// clients write folder URLs with it. Segments compare ignoring case.
func ResolveFileURL(root, url string) ([]string, error) {
	if err := CheckFileURL(url); err != nil {
		return nil, err
	}
	if len(url) > 1 {
		url = strings.TrimSuffix(url, "/")
	}
	if !strings.HasPrefix(url, "/") || len(url) == 1 {
		return nil, NotFound("the URL is not a server-relative URL inside the library")
	}
	segs := strings.Split(url[1:], "/")
	rootSegs := strings.Split(strings.TrimPrefix(root, "/"), "/")
	if len(segs) < len(rootSegs) {
		return nil, NotFound("the URL is not inside the library")
	}
	for i, r := range rootSegs {
		if !sameURL(segs[i], r) {
			return nil, NotFound("the URL is not inside the library")
		}
	}
	return segs[len(rootSegs):], nil
}

// CheckFileURL refuses a URL that could climb out of where it is
// resolved: one with a backslash, or an empty ("//"), "." or ".."
// segment (one trailing slash aside).
func CheckFileURL(url string) error {
	if strings.Contains(url, `\`) {
		return Invalid(`a file or folder URL cannot contain a backslash`)
	}
	if len(url) > 1 {
		url = strings.TrimSuffix(url, "/")
	}
	for _, s := range strings.Split(strings.TrimPrefix(url, "/"), "/") {
		switch s {
		case "":
			if url != "/" && url != "" {
				return Invalid("a file or folder URL cannot have an empty segment (//)")
			}
		case ".", "..":
			return Invalid("a file or folder URL cannot have a '.' or '..' segment")
		}
	}
	return nil
}

// FolderChain is the URLs of the folders that rel (ResolveFileURL's
// segments below root) passes through, root excluded, the deepest last.
func FolderChain(root string, rel []string) []string {
	out := make([]string, len(rel))
	u := root
	for i, s := range rel {
		u += "/" + s
		out[i] = u
	}
	return out
}

// CheckURLLength refuses a URL longer than MaxURLLength characters.
func CheckURLLength(url string) error {
	if utf8.RuneCountInString(url) > MaxURLLength {
		return Invalid("a file or folder URL is at most %d characters", MaxURLLength)
	}
	return nil
}

// sameURL compares URLs (or segments) ignoring case, as SharePoint does.
func sameURL(a, b string) bool { return strings.ToLower(a) == strings.ToLower(b) }

// IsBelowURL reports whether url lies inside the folder at dir (not dir
// itself), ignoring case.
func IsBelowURL(url, dir string) bool {
	return strings.HasPrefix(strings.ToLower(url), strings.ToLower(dir)+"/")
}

// RebaseURL is url, which is from or lies below it, moved to to: the
// segments below from are kept as they are.
func RebaseURL(url, from, to string) string {
	n := strings.Count(from, "/")
	segs := strings.Split(url, "/")
	if len(segs) <= n+1 {
		return to
	}
	return to + "/" + strings.Join(segs[n+1:], "/")
}

// ParentURL is the URL of the folder holding url ("/" for a top-level
// one).
func ParentURL(url string) string {
	i := strings.LastIndexByte(url, '/')
	if i <= 0 {
		return "/"
	}
	return url[:i]
}

// LeafName is the last segment of url.
func LeafName(url string) string { return url[strings.LastIndexByte(url, '/')+1:] }
