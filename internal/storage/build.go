package storage

import (
	"regexp"
	"slices"
	"strings"
	"time"

	"github.com/cesivi/cesivi/internal/permissions"
)

// The constructors below validate input and build the records a provider
// persists, so that every provider refuses the same input with the same
// message and derives the same names.

// Defaults for webs.
const (
	DefaultLanguage    = 1033
	DefaultWebTemplate = "STS#3"
	DefaultRowLimit    = 30
)

var siteURL = regexp.MustCompile(`^/((sites|teams)/[^/]+)?$`)

// NewSite checks in and builds the site and its root web.
func NewSite(in SiteInput, now time.Time) (*Site, *Web, error) {
	if !siteURL.MatchString(in.URL) {
		return nil, nil, Invalid(`a site URL is "/" or "/sites/<name>"`)
	}
	if in.URL != "/" {
		if err := checkURLName("the site's name", in.URL[strings.LastIndexByte(in.URL, '/')+1:]); err != nil {
			return nil, nil, err
		}
	}
	s := &Site{ID: NewGUID(), URL: in.URL, Created: now}
	w, err := newWeb(s.ID, "", in.URL, in.Title, in.Description, in.WebTemplate, in.Language, now)
	if err != nil {
		return nil, nil, err
	}
	s.RootWebID = w.ID
	w.ScopeID = w.ID // a root web always has its own scope
	return s, w, nil
}

// NewWeb checks in and builds a subweb of parent.
func NewWeb(parent *Web, in WebInput, now time.Time) (*Web, error) {
	if err := checkURLName("the web's URL name", in.URLName); err != nil {
		return nil, err
	}
	w, err := newWeb(parent.SiteID, parent.ID, strings.TrimSuffix(parent.ServerRelativeURL, "/")+"/"+in.URLName,
		in.Title, in.Description, in.WebTemplate, in.Language, now)
	if err == nil {
		w.ScopeID = parent.ScopeID // a new subweb inherits, as SharePoint's
	}
	return w, err
}

func newWeb(siteID, parentID, url, title, desc, template string, lang int, now time.Time) (*Web, error) {
	if err := checkTitle("web", title); err != nil {
		return nil, err
	}
	if template == "" {
		template = DefaultWebTemplate
	}
	if lang == 0 {
		lang = DefaultLanguage
	}
	return &Web{ID: NewGUID(), SiteID: siteID, ParentID: parentID, ServerRelativeURL: url, Title: title,
		Description: desc, Language: lang, WebTemplate: template, Created: now, LastItemModifiedDate: now}, nil
}

func checkTitle(what, title string) error {
	if strings.TrimSpace(title) == "" {
		return Invalid("a %s needs a title", what)
	}
	if len(title) > 255 {
		return Invalid("a %s title has at most 255 bytes", what)
	}
	return nil
}

// ApplyWebUpdate checks and applies upd to a copy of w.
func ApplyWebUpdate(w *Web, upd WebUpdate) (*Web, error) {
	c := *w
	if upd.Title != nil {
		if err := checkTitle("web", *upd.Title); err != nil {
			return nil, err
		}
		c.Title = *upd.Title
	}
	if upd.Description != nil {
		c.Description = *upd.Description
	}
	return &c, nil
}

// DefaultLists are the lists a new web gets: Documents, Site Assets and
// Site Pages, and on a site's root web the hidden User Information List.
func DefaultLists(root bool) []ListInput {
	ls := []ListInput{
		{Title: "Documents", BaseTemplate: TemplateDocumentLibrary, URLName: "Shared Documents"},
		{Title: "Site Assets", BaseTemplate: TemplateDocumentLibrary, URLName: "SiteAssets"},
		{Title: "Site Pages", BaseTemplate: TemplateWebPageLibrary, URLName: "SitePages"},
	}
	if root {
		ls = append(ls, ListInput{Title: "User Information List", BaseTemplate: TemplateUserInformation, URLName: "users", Hidden: true})
	}
	return ls
}

// NewList checks in and builds a list of web, with its system fields and
// default view.
func NewList(web *Web, in ListInput, now time.Time) (*List, []*Field, *View, error) {
	if err := checkTitle("list", in.Title); err != nil {
		return nil, nil, nil, err
	}
	if in.BaseTemplate == 0 {
		in.BaseTemplate = TemplateGenericList
	}
	if in.BaseTemplate < 0 || in.BaseTemplate > 10000 {
		return nil, nil, nil, Invalid("BaseTemplate %d is not a list template", in.BaseTemplate)
	}
	name := in.URLName
	if name == "" {
		if name = cleanURLName(in.Title); name == "" {
			return nil, nil, nil, Invalid("the list's title has no character a URL can hold")
		}
	}
	if err := checkURLName("the list's URL name", name); err != nil {
		return nil, nil, nil, err
	}
	url := name
	switch {
	case in.BaseTemplate == TemplateUserInformation:
		url = "_catalogs/" + name
	case BaseTypeOf(in.BaseTemplate) == BaseTypeGenericList:
		url = "Lists/" + name
	}
	etn := EntityTypeName(url, in.BaseTemplate)
	l := &List{
		ID: NewGUID(), WebID: web.ID, Title: in.Title, Description: in.Description,
		BaseTemplate: in.BaseTemplate, BaseType: BaseTypeOf(in.BaseTemplate), URLName: url,
		RootFolderURL:  strings.TrimSuffix(web.ServerRelativeURL, "/") + "/" + url,
		EntityTypeName: etn, ListItemEntityTypeFullName: ListItemEntityTypeFullName(etn),
		Hidden: in.Hidden, Created: now, LastItemModifiedDate: now,
		EnableVersioning: BaseTypeOf(in.BaseTemplate) == BaseTypeDocumentLibrary, MajorVersionLimit: DefaultMajorVersionLimit,
		ScopeID: web.ScopeID, // a new list inherits its web's permissions
	}
	fields := SystemFields(l.ID, in.BaseTemplate)
	view := DefaultView(l.ID, l.BaseType)
	return l, fields, view, nil
}

// ApplyListUpdate checks and applies upd to a copy of l.
func ApplyListUpdate(l *List, upd ListUpdate) (*List, error) {
	c := *l
	if upd.Title != nil {
		if err := checkTitle("list", *upd.Title); err != nil {
			return nil, err
		}
		c.Title = *upd.Title
	}
	if upd.Description != nil {
		c.Description = *upd.Description
	}
	if upd.Hidden != nil {
		c.Hidden = *upd.Hidden
	}
	if upd.EnableVersioning != nil {
		c.EnableVersioning = *upd.EnableVersioning
	}
	if upd.MajorVersionLimit != nil {
		if *upd.MajorVersionLimit < 1 || *upd.MajorVersionLimit > MaxMajorVersionLimit {
			return nil, Invalid("MajorVersionLimit is 1 to %d", MaxMajorVersionLimit)
		}
		c.MajorVersionLimit = *upd.MajorVersionLimit
	}
	return &c, nil
}

// DefaultMajorVersionLimit is how many versions a file or item keeps by
// default, and MaxMajorVersionLimit the most, as in SharePoint Online.
const (
	DefaultMajorVersionLimit = 500
	MaxMajorVersionLimit     = 50000
)

// SystemFields are the fields every list has.
func SystemFields(listID string, baseTemplate int) []*Field {
	ct := "0x0100"
	if BaseTypeOf(baseTemplate) == BaseTypeDocumentLibrary {
		ct = "0x0101"
	}
	sys := func(name, title string, t FieldType, readOnly, hidden bool, def string) *Field {
		return &Field{ID: NewGUID(), ListID: listID, InternalName: name, Title: title, Type: t,
			ReadOnly: readOnly, Hidden: hidden, System: true, DefaultValue: def}
	}
	title := sys(FieldTitle, "Title", TypeText, false, false, "")
	title.MaxLength = MaxTextLength
	title.Required = BaseTypeOf(baseTemplate) == BaseTypeGenericList
	author := sys(FieldAuthor, "Created By", TypeUser, true, false, "")
	editor := sys(FieldEditor, "Modified By", TypeUser, true, false, "")
	author.LookupList, editor.LookupList = "UserInfo", "UserInfo"
	author.LookupField, editor.LookupField = "Title", "Title"
	fs := []*Field{
		sys(FieldID, "ID", TypeCounter, true, false, ""),
		title,
		sys(FieldCreated, "Created", TypeDateTime, true, false, ""),
		sys(FieldModified, "Modified", TypeDateTime, true, false, ""),
		author,
		editor,
		sys(FieldGUID, "GUID", TypeGuid, true, true, ""),
		sys("ContentTypeId", "Content Type ID", TypeContentTypeID, true, true, ct),
		sys("Attachments", "Attachments", TypeAttachments, true, false, "0"),
		sys(FieldFileSystemObjectType, "Item Type", TypeInteger, true, true, "0"),
		sys(FieldUIVersion, "Version", TypeText, true, true, ""),
	}
	if BaseTypeOf(baseTemplate) == BaseTypeDocumentLibrary {
		// The provider keeps these (a client cannot write them): the
		// name, URL and folder of the item's file or folder.
		fileRef := sys(FieldFileRef, "URL Path", TypeText, true, true, "")
		dirRef := sys(FieldFileDirRef, "Path", TypeText, true, true, "")
		// A URL is longer than a Text field's 255 characters; the limit
		// matters where a value is parsed back (a $skiptoken).
		fileRef.MaxLength, dirRef.MaxLength = MaxURLLength, MaxURLLength
		fs = append(fs,
			sys(FieldFileLeafRef, "Name", TypeFile, true, false, ""),
			fileRef, dirRef,
			sys(FieldFSObjType, "Item Type", TypeInteger, true, true, ""))
	}
	return fs
}

// DefaultView is a new list's default view: "All Items", or "All
// Documents" for a library, as SharePoint names them.
func DefaultView(listID string, baseType int) *View {
	v := &View{ID: NewGUID(), ListID: listID, Title: "All Items", DefaultView: true, RowLimit: DefaultRowLimit,
		ViewQuery: `<OrderBy><FieldRef Name="ID" /></OrderBy>`, ViewFields: []string{"LinkTitle"}}
	if baseType == BaseTypeDocumentLibrary {
		v.Title = "All Documents"
		v.ViewQuery = `<OrderBy><FieldRef Name="FileLeafRef" /></OrderBy>`
		v.ViewFields = []string{"DocIcon", "LinkFilename", "Modified", "Editor"}
	}
	return v
}

// creatable are the types a client may give a new field.
var creatable = []FieldType{TypeText, TypeNote, TypeInteger, TypeNumber, TypeCurrency, TypeBoolean, TypeDateTime,
	TypeChoice, TypeMultiChoice, TypeURL, TypeUser, TypeLookup, TypeGuid}

// Name is the internal name a field made from in gets: the one given,
// or the one derived from its title.
func (in FieldInput) Name() string {
	if in.InternalName != "" {
		return in.InternalName
	}
	return XMLName(in.Title)
}

// NewField checks in and builds a field of list listID.
func NewField(listID string, in FieldInput) (*Field, error) {
	if err := checkTitle("field", in.Title); err != nil {
		return nil, err
	}
	if !slices.Contains(creatable, in.Type) {
		if in.Type.known() {
			return nil, Invalid("a field of type %s cannot be created", in.Type)
		}
		return nil, Invalid("field type %q is not one of %v", string(in.Type), creatable)
	}
	name := in.Name()
	if !validName(name) {
		return nil, Invalid("an internal name is a letter or '_' followed by up to 63 letters, digits or '_'")
	}
	if in.Type == TypeLookup && in.LookupList == "" {
		return nil, Invalid("a Lookup field needs LookupList")
	}
	f := &Field{ID: NewGUID(), ListID: listID, InternalName: name, Title: in.Title, Description: in.Description,
		Type: in.Type, Required: in.Required, Indexed: in.Indexed, Hidden: in.Hidden,
		Choices: slices.Clone(in.Choices), LookupList: in.LookupList, LookupField: in.LookupField,
		DefaultValue: in.DefaultValue, MaxLength: in.MaxLength}
	if err := checkMaxLength(f); err != nil {
		return nil, err
	}
	if f.Type == TypeUser && f.LookupList == "" {
		f.LookupList, f.LookupField = "UserInfo", "Title"
	}
	if f.Type == TypeLookup && f.LookupField == "" {
		f.LookupField = FieldTitle
	}
	if _, err := ParseText(f, f.DefaultValue); err != nil {
		return nil, Invalid("the default value of field %s is not a %s value", name, f.Type.Kind())
	}
	return f, nil
}

// MaxTextLength is the most characters a Text field may hold, as in
// SharePoint.
const MaxTextLength = 255

// checkMaxLength gives a Text field its MaxLength (default 255) and
// refuses one out of range or on another type.
func checkMaxLength(f *Field) error {
	if f.Type != TypeText {
		if f.MaxLength != 0 {
			return Invalid("only a Text field has a MaxLength")
		}
		return nil
	}
	if f.MaxLength == 0 {
		f.MaxLength = MaxTextLength
	}
	if f.MaxLength < 1 || f.MaxLength > MaxTextLength {
		return Invalid("the MaxLength of a Text field is 1 to %d", MaxTextLength)
	}
	return nil
}

func validName(s string) bool {
	if s == "" || len(s) > 64 {
		return false
	}
	for i, r := range s {
		if !(r == '_' || r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || i > 0 && r >= '0' && r <= '9') {
			return false
		}
	}
	return true
}

// ApplyFieldUpdate checks and applies upd to a copy of f.
func ApplyFieldUpdate(f *Field, upd FieldUpdate) (*Field, error) {
	c := *f
	if upd.Title != nil {
		if err := checkTitle("field", *upd.Title); err != nil {
			return nil, err
		}
		c.Title = *upd.Title
	}
	if upd.Description != nil {
		c.Description = *upd.Description
	}
	if c.ReadOnly && (upd.Required != nil || upd.DefaultValue != nil) {
		return nil, Invalid("field %s is read-only", f.InternalName)
	}
	set := func(dst *bool, src *bool) {
		if src != nil {
			*dst = *src
		}
	}
	set(&c.Required, upd.Required)
	set(&c.Indexed, upd.Indexed)
	set(&c.Hidden, upd.Hidden)
	if upd.Choices != nil {
		c.Choices = slices.Clone(*upd.Choices)
	}
	if upd.MaxLength != nil {
		c.MaxLength = *upd.MaxLength
		if err := checkMaxLength(&c); err != nil {
			return nil, err
		}
	}
	if upd.DefaultValue != nil {
		if _, err := ParseText(&c, *upd.DefaultValue); err != nil {
			return nil, Invalid("the default value of field %s is not a %s value", f.InternalName, f.Type.Kind())
		}
		c.DefaultValue = *upd.DefaultValue
	}
	return &c, nil
}

// NewView checks in and builds a view of list listID.
func NewView(listID string, in ViewInput) (*View, error) {
	if err := checkTitle("view", in.Title); err != nil {
		return nil, err
	}
	v := &View{ID: NewGUID(), ListID: listID, Title: in.Title, DefaultView: in.DefaultView, Hidden: in.Hidden,
		RowLimit: in.RowLimit, ViewQuery: in.ViewQuery, ViewFields: slices.Clone(in.ViewFields)}
	return v, checkView(v)
}

func checkView(v *View) error {
	if v.RowLimit == 0 {
		v.RowLimit = DefaultRowLimit
	}
	if v.RowLimit < 0 || v.RowLimit > 5000 {
		return Invalid("a view's RowLimit is between 1 and 5000")
	}
	if v.ViewFields == nil {
		v.ViewFields = []string{"LinkTitle"}
	}
	return nil
}

// ApplyViewUpdate checks and applies upd to a copy of v.
func ApplyViewUpdate(v *View, upd ViewUpdate) (*View, error) {
	c := *v
	if upd.Title != nil {
		if err := checkTitle("view", *upd.Title); err != nil {
			return nil, err
		}
		c.Title = *upd.Title
	}
	if upd.DefaultView != nil {
		if v.DefaultView && !*upd.DefaultView {
			return nil, Invalid("a list always has a default view: make another view the default instead")
		}
		c.DefaultView = *upd.DefaultView
	}
	if upd.Hidden != nil {
		c.Hidden = *upd.Hidden
	}
	if upd.RowLimit != nil {
		c.RowLimit = *upd.RowLimit
	}
	if upd.ViewQuery != nil {
		c.ViewQuery = *upd.ViewQuery
	}
	if upd.ViewFields != nil {
		c.ViewFields = slices.Clone(*upd.ViewFields)
	}
	return &c, checkView(&c)
}

// NewUser checks and builds a site user.
func NewUser(siteID, login, title, email string, now time.Time) (*User, error) {
	login, err := ClaimsLogin(login)
	if err != nil {
		return nil, err
	}
	if title == "" {
		title = login[strings.LastIndexByte(login, '|')+1:]
	}
	if len(title) > 255 || len(email) > 255 {
		return nil, Invalid("a user's title and e-mail have at most 255 bytes")
	}
	kind := PrincipalUser
	if strings.HasPrefix(login, permissions.GroupClaimPrefix) {
		kind = PrincipalSecurityGroup // an identity provider's group
	}
	return &User{SiteID: siteID, LoginName: login, Title: title, Email: email, PrincipalType: kind, Created: now}, nil
}

// ApplyUserUpdate applies upd to a copy of u.
func ApplyUserUpdate(u *User, upd UserUpdate) (*User, error) {
	c := *u
	if upd.Title != nil {
		if err := checkTitle("user", *upd.Title); err != nil {
			return nil, err
		}
		c.Title = *upd.Title
	}
	if upd.Email != nil {
		c.Email = *upd.Email
	}
	if upd.IsSiteAdmin != nil {
		c.IsSiteAdmin = *upd.IsSiteAdmin
	}
	return &c, nil
}

// Now is the default clock: UTC, to the microsecond (PostgreSQL's
// precision), so both providers return the same instants.
func Now() time.Time { return time.Now().UTC().Truncate(time.Microsecond) }
