package storage

import (
	"crypto/rand"
	"fmt"
	"strings"
	"unicode/utf8"
)

// NewGUID returns a random (version 4) guid in lower case.
func NewGUID() string {
	var b [16]byte
	rand.Read(b[:])
	b[6] = b[6]&0x0f | 0x40
	b[8] = b[8]&0x3f | 0x80
	return fmt.Sprintf("%x-%x-%x-%x-%x", b[0:4], b[4:6], b[6:8], b[8:10], b[10:16])
}

// urlForbidden are the characters SharePoint refuses in a URL name.
const urlForbidden = "~\"#%&*:<>?/\\{|}\t\r\n"

// cleanURLName removes what a URL name cannot hold, as SharePoint does
// when it derives a list's URL from its title.
func cleanURLName(s string) string {
	s = strings.Map(func(r rune) rune {
		if strings.ContainsRune(urlForbidden, r) || r < 0x20 {
			return -1
		}
		return r
	}, s)
	return strings.Trim(s, " .")
}

// checkURLName refuses a URL segment with forbidden characters.
func checkURLName(what, s string) error {
	switch {
	case s == "":
		return Invalid("%s is empty", what)
	case len(s) > 128:
		return Invalid("%s is longer than 128 bytes", what)
	case strings.ContainsAny(s, urlForbidden), strings.Trim(s, " .") != s, !utf8.ValidString(s):
		return Invalid("%s holds a character a URL segment cannot (one of %s, or a leading or trailing space or dot)", what, "~\"#%&*:<>?/\\{|}")
	}
	return nil
}

// XMLName escapes s the way SharePoint builds entity and internal names:
// letters, digits and '_' are kept (a digit not first), every other
// character becomes _xHHHH_ (UTF-16 code units, lower-case hex).
func XMLName(s string) string {
	var b strings.Builder
	for i, r := range s {
		switch {
		case r == '_', r >= 'a' && r <= 'z', r >= 'A' && r <= 'Z', i > 0 && r >= '0' && r <= '9':
			b.WriteRune(r)
		case r > 0xffff:
			r -= 0x10000
			fmt.Fprintf(&b, "_x%04x__x%04x_", 0xd800+(r>>10), 0xdc00+(r&0x3ff))
		default:
			fmt.Fprintf(&b, "_x%04x_", r)
		}
	}
	return b.String()
}

// EntityTypeName is a list's EntityTypeName, from its URL name at
// creation: the last segment, escaped (XMLName), first letter upper-cased,
// with "List" appended for lists (not libraries): "TasksList",
// "Shared_x0020_Documents".
func EntityTypeName(urlName string, baseTemplate int) string {
	if baseTemplate == TemplateUserInformation {
		return "UserInfo"
	}
	seg := urlName[strings.LastIndexByte(urlName, '/')+1:]
	name := XMLName(seg)
	if name != "" && name[0] >= 'a' && name[0] <= 'z' {
		name = strings.ToUpper(name[:1]) + name[1:]
	}
	if BaseTypeOf(baseTemplate) != BaseTypeDocumentLibrary {
		name += "List"
	}
	return name
}

// ListItemEntityTypeFullName is "SP.Data.<EntityTypeName>Item".
func ListItemEntityTypeFullName(entityTypeName string) string {
	return "SP.Data." + entityTypeName + "Item"
}

// BaseTypeOf is the base type of a template: libraries are 1, the rest 0.
func BaseTypeOf(baseTemplate int) int {
	switch baseTemplate {
	case TemplateDocumentLibrary, TemplatePictureLibrary, TemplateWebPageLibrary:
		return BaseTypeDocumentLibrary
	}
	return BaseTypeGenericList
}

// ClaimsPrefix is the claims prefix of a membership (Entra ID) user.
const ClaimsPrefix = "i:0#.f|membership|"

// ClaimsLogin returns login in the claims form the Users table keys on, in
// lower case: a claims login name is kept, an e-mail address or UPN gets
// ClaimsPrefix.
func ClaimsLogin(login string) (string, error) {
	login = strings.ToLower(strings.TrimSpace(login))
	switch {
	case login == "" || len(login) > 512:
		return "", Invalid("a login name must have 1 to 512 characters")
	case strings.Contains(login, "|"):
		if parts := strings.Split(login, "|"); len(parts) < 2 || parts[0] == "" || parts[len(parts)-1] == "" {
			return "", Invalid("a claims login name must look like %sname@example.com", ClaimsPrefix)
		}
		return login, nil
	case strings.Count(login, "@") == 1 && !strings.ContainsAny(login, " \t"):
		return ClaimsPrefix + login, nil
	}
	return "", Invalid("a login name must be a claims login name (%s…) or an e-mail address", ClaimsPrefix)
}
