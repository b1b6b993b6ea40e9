package sharepoint

import (
	"net/url"
	"strings"

	"github.com/cesivi/cesivi/internal/odata"
)

// resolveAliases replaces parameter aliases in call arguments with
// their values from the query: PnPjs's getByLoginName sends
// siteUsers(@v)?@v='i:0#.f|membership|…', which keeps the login's
// characters out of the path. An alias without a value is refused.
func resolveAliases(escaped, rawQuery string) (string, error) {
	var b strings.Builder
	var values url.Values
	for i := 0; i < len(escaped); i++ {
		c := escaped[i]
		if c != '@' || i == 0 || !strings.ContainsRune("(,=", rune(escaped[i-1])) {
			b.WriteByte(c)
			continue
		}
		j := i + 1
		for j < len(escaped) && (escaped[j] == '_' || escaped[j] >= 'a' && escaped[j] <= 'z' || escaped[j] >= 'A' && escaped[j] <= 'Z' || escaped[j] >= '0' && escaped[j] <= '9') {
			j++
		}
		name := escaped[i:j]
		if values == nil {
			var err error
			if values, err = url.ParseQuery(rawQuery); err != nil {
				return "", odata.InvalidQuery("The query string is malformed.")
			}
		}
		v, ok := values[name]
		if !ok || len(v) != 1 {
			return "", odata.InvalidQuery("The parameter alias " + name + " has no value in the query string.")
		}
		if obj := strings.TrimSpace(v[0]); strings.HasPrefix(obj, "{") {
			// An object value, as doesUserHavePermissions(@v)?@v=
			// {'High':'…','Low':'…'} sends: the call's only argument,
			// whose members become named arguments.
			if escaped[i-1] != '(' || j >= len(escaped) || escaped[j] != ')' {
				return "", odata.InvalidQuery("The parameter alias " + name + " holds an object, which can only be a call's only argument.")
			}
			args, err := objectArgs(obj)
			if err != nil {
				return "", err
			}
			b.WriteString(args)
			i = j - 1
			continue
		}
		b.WriteString(url.PathEscape(v[0]))
		i = j - 1
	}
	return b.String(), nil
}

// objectArgs turns a flat object literal, {'High':'432','Low':'1011'}
// (single or double quotes; string or whole-number values), into named
// call arguments, High='432',Low='1011', escaped for a path.
func objectArgs(obj string) (string, error) {
	bad := odata.InvalidQuery("An object parameter must look like {'Name':'value','Other':123}.")
	body := strings.TrimSpace(strings.TrimSuffix(strings.TrimPrefix(obj, "{"), "}"))
	if !strings.HasSuffix(obj, "}") || body == "" {
		return "", bad
	}
	unquote := func(s string) (string, bool) {
		s = strings.TrimSpace(s)
		if len(s) >= 2 && (s[0] == '\'' || s[0] == '"') && s[len(s)-1] == s[0] {
			return s[1 : len(s)-1], true
		}
		return s, false
	}
	var parts []string
	for _, member := range strings.Split(body, ",") {
		k, v, ok := strings.Cut(member, ":")
		if !ok {
			return "", bad
		}
		key, quoted := unquote(k)
		if !quoted || key == "" || strings.IndexFunc(key, func(r rune) bool {
			return !(r == '_' || r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9')
		}) >= 0 {
			return "", bad
		}
		val, quoted := unquote(v)
		switch {
		case quoted:
			parts = append(parts, key+"="+url.PathEscape("'"+strings.ReplaceAll(val, "'", "''")+"'"))
		case val != "" && strings.Trim(val, "0123456789") == "":
			parts = append(parts, key+"="+val)
		default:
			return "", bad
		}
	}
	return strings.Join(parts, ","), nil
}

// cleanWebPath makes "", "/", "/sites/dev/" and "/sites/dev" the
// canonical "/" and "/sites/dev".
func cleanWebPath(p string) string {
	p = strings.TrimRight(p, "/")
	if p == "" {
		return "/"
	}
	if !strings.HasPrefix(p, "/") {
		p = "/" + p
	}
	return p
}

// siteScope is the site collection a web path belongs to, from the path
// alone: "/sites/<name>" (or "/teams/<name>") for what is below one, "/"
// otherwise. Digests are bound to it, so it must not need storage.
func siteScope(webPath string) string {
	parts := strings.SplitN(strings.TrimPrefix(webPath, "/"), "/", 3)
	if len(parts) >= 2 && (strings.EqualFold(parts[0], "sites") || strings.EqualFold(parts[0], "teams")) && parts[1] != "" {
		return "/" + strings.ToLower(parts[0]) + "/" + strings.ToLower(parts[1])
	}
	return "/"
}

// canonicalID is a GUID argument in the lower-case form storage keeps.
func canonicalID(v odata.Value) (string, bool) {
	if v.Kind == odata.KindGuid {
		return strings.ToLower(v.Str), true
	}
	g, ok := odata.Guid(strings.Trim(v.Str, "{}"))
	if !ok {
		return "", false
	}
	return strings.ToLower(g.Str), true
}

func lastSegment(s string) string { return s[strings.LastIndexByte(s, '/')+1:] }
