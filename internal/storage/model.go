package storage

import (
	"time"

	"github.com/cesivi/cesivi/internal/odata"
)

// Site is a site collection, at "/" or "/sites/<name>".
type Site struct {
	ID        string // guid, lower case
	URL       string // server-relative: "/" or "/sites/dev"
	RootWebID string
	Created   time.Time
}

// SiteInput creates a site collection and its root web.
type SiteInput struct {
	URL         string
	Title       string
	Description string
	WebTemplate string // default "STS#3"
	Language    int    // default 1033
}

// Web is a site or subsite.
type Web struct {
	ID                   string
	SiteID               string
	ParentID             string // "" for a site's root web
	ServerRelativeURL    string // "/sites/dev", "/sites/dev/team"
	Title                string
	Description          string
	Language             int
	WebTemplate          string
	Created              time.Time
	LastItemModifiedDate time.Time
	// ScopeID is the web's effective permission scope: its own ID when
	// its inheritance is broken (always for a site's root web), else its
	// parent's ScopeID.
	ScopeID string
}

// ListRef names a list of a web by title (case-insensitively) or by id;
// the zero value names none.
type ListRef struct {
	Title string
	ID    string
}

// Prefetch names what a caller of Webs.Locate reads next, which a provider
// may read in the same step (PostgreSQL does): a hint, never a change of
// what the later reads answer.
type Prefetch struct {
	// Item is the list's item the caller gets next (Items.Get); 0 for
	// none. PostgreSQL reads it ahead in read-only transactions only.
	Item int64
	// Login is the user the caller looks up next in the web's site
	// (Users.GetByLogin or Users.Ensure), as the caller passes it.
	Login string
}

// IsZero reports whether the reference names no list.
func (r ListRef) IsZero() bool { return r.Title == "" && r.ID == "" }

// Location is what Webs.Locate found: the web, and the list asked for
// with its fields in creation order (nil when none was asked or found).
type Location struct {
	Web    *Web
	List   *List
	Fields []*Field
}

// WebInput creates a subweb.
type WebInput struct {
	ParentID string
	// URLName is the new web's last URL segment ("team").
	URLName     string
	Title       string
	Description string
	WebTemplate string // default "STS#3"
	Language    int    // default 1033
}

// WebUpdate names what changes; nil fields are kept.
type WebUpdate struct {
	Title       *string
	Description *string
}

// List base templates (SPListTemplateType) and base types.
const (
	TemplateGenericList       = 100
	TemplateDocumentLibrary   = 101
	TemplateSurvey            = 102
	TemplateLinks             = 103
	TemplateAnnouncements     = 104
	TemplateContacts          = 105
	TemplateEvents            = 106
	TemplateTasks             = 107
	TemplateDiscussion        = 108
	TemplatePictureLibrary    = 109
	TemplateUserInformation   = 112
	TemplateWebPageLibrary    = 119
	TemplateTasksWithTimeline = 171

	BaseTypeGenericList     = 0
	BaseTypeDocumentLibrary = 1
)

// List is a list or a document library.
type List struct {
	ID           string
	WebID        string
	Title        string
	Description  string
	BaseTemplate int
	BaseType     int
	// URLName is the web-relative URL fixed at creation: "Lists/Tasks"
	// for a list, "Shared Documents" for a library.
	URLName string
	// RootFolderURL is the root folder's ServerRelativeUrl
	// ("/sites/dev/Lists/Tasks").
	RootFolderURL string
	// EntityTypeName ("TasksList", "Shared_x0020_Documents") and
	// ListItemEntityTypeFullName ("SP.Data.TasksListItem") come from the
	// URL name at creation and survive renames.
	EntityTypeName             string
	ListItemEntityTypeFullName string
	ItemCount                  int64
	Hidden                     bool
	// EnableVersioning keeps earlier versions of items and files (on by
	// default for libraries, off for lists); MajorVersionLimit is how
	// many a file or item keeps (default 500, as SharePoint Online).
	EnableVersioning     bool
	MajorVersionLimit    int
	Created              time.Time
	LastItemModifiedDate time.Time
	// ScopeID is the list's effective permission scope: its own ID when
	// its inheritance is broken, else its web's ScopeID.
	ScopeID string
}

// ListInput creates a list.
type ListInput struct {
	Title        string
	Description  string
	BaseTemplate int // default 100
	// URLName is the last URL segment; empty means derived from the title
	// (characters a URL cannot hold removed). Lists live under "Lists/",
	// libraries at the web's root.
	URLName string
	Hidden  bool
}

// ListUpdate names what changes; nil fields are kept.
type ListUpdate struct {
	Title             *string
	Description       *string
	Hidden            *bool
	EnableVersioning  *bool
	MajorVersionLimit *int // 1 to 50,000
}

// FieldType is a field's TypeAsString.
type FieldType string

// The field types Cesivi stores.
const (
	TypeText          FieldType = "Text"
	TypeNote          FieldType = "Note"
	TypeInteger       FieldType = "Integer"
	TypeNumber        FieldType = "Number"
	TypeCurrency      FieldType = "Currency"
	TypeBoolean       FieldType = "Boolean"
	TypeDateTime      FieldType = "DateTime"
	TypeChoice        FieldType = "Choice"
	TypeMultiChoice   FieldType = "MultiChoice"
	TypeURL           FieldType = "URL"
	TypeUser          FieldType = "User"
	TypeLookup        FieldType = "Lookup"
	TypeCounter       FieldType = "Counter"
	TypeGuid          FieldType = "Guid"
	TypeComputed      FieldType = "Computed"
	TypeAttachments   FieldType = "Attachments"
	TypeContentTypeID FieldType = "ContentTypeId"
	// TypeFile is a library's FileLeafRef: the name of the item's file
	// or folder, a string the provider keeps.
	TypeFile FieldType = "File"
)

// Field is a list column.
type Field struct {
	ID           string
	ListID       string
	InternalName string // fixed at creation; also the static name
	Title        string
	Description  string
	Type         FieldType
	Required     bool // metadata: SharePoint enforces it in forms, not in the API
	Indexed      bool
	ReadOnly     bool
	Hidden       bool
	// System marks the fields every list gets (ID, Title, Created…);
	// they cannot be deleted.
	System       bool
	Choices      []string // Choice, MultiChoice
	LookupList   string   // Lookup: the target list's id; User: "UserInfo"
	LookupField  string   // Lookup: the target field's internal name
	DefaultValue string   // as text, parsed by Type when an item omits the field
	// MaxLength is the most characters a Text field holds (1 to 255; 0,
	// for fields stored before it existed, means 255).
	MaxLength int
}

// TypeKind is the field's FieldTypeKind (SP.FieldType).
func (f *Field) TypeKind() int { return typeKinds[f.Type] }

// FieldInput creates a field.
type FieldInput struct {
	Title        string
	InternalName string // optional; derived from Title
	Description  string
	Type         FieldType
	Required     bool
	Indexed      bool
	Hidden       bool
	Choices      []string
	LookupList   string
	LookupField  string
	DefaultValue string
	MaxLength    int // Text: 1 to 255, default 255
}

// FieldUpdate names what changes; nil fields are kept. The type and
// internal name never change.
type FieldUpdate struct {
	Title        *string
	Description  *string
	Required     *bool
	Indexed      *bool
	Hidden       *bool
	Choices      *[]string
	DefaultValue *string
	MaxLength    *int
}

// View is a list view.
type View struct {
	ID          string
	ListID      string
	Title       string
	DefaultView bool
	Hidden      bool
	RowLimit    int
	ViewQuery   string // CAML, as the client sent it
	ViewFields  []string
}

// ViewInput creates a view.
type ViewInput struct {
	Title       string
	DefaultView bool
	Hidden      bool
	RowLimit    int // default 30
	ViewQuery   string
	ViewFields  []string // default LinkTitle
}

// ViewUpdate names what changes; nil fields are kept.
type ViewUpdate struct {
	Title       *string
	DefaultView *bool
	Hidden      *bool
	RowLimit    *int
	ViewQuery   *string
	ViewFields  *[]string
}

// Item is a list item.
type Item struct {
	ID     int64
	ListID string
	GUID   string
	// Version is the ETag: 1 at creation, one more per update.
	Version  int
	Created  time.Time
	Modified time.Time
	AuthorID int64
	EditorID int64
	// Values holds the non-system fields and Title, by internal name,
	// typed by the field (see FieldType.Kind); a missing entry is null.
	// A lookup or user field holds the target's id (KindInt).
	Values map[string]odata.Value
	// ScopeID is "" when the item inherits its list's scope, else its
	// own scope (ItemScopeID) or a folder's above it.
	ScopeID string
}

// ItemInput creates an item. Values are keyed by internal name (or, for a
// lookup or user field, also "<Name>Id" as REST clients send it).
type ItemInput struct {
	Values map[string]odata.Value
	// By is the site user id recorded as author and editor.
	By int64
}

// ItemUpdate changes an item.
type ItemUpdate struct {
	Values map[string]odata.Value
	By     int64
	// IfVersion is the version the caller last saw (If-Match); 0 is "*".
	IfVersion int
}

// ItemQuery selects items.
type ItemQuery struct {
	// Filter is the parsed $filter; nil matches every item.
	Filter odata.Node
	// OrderBy keys; ID ascending breaks ties and is the default order.
	OrderBy []odata.OrderKey
	// Top is the page size; 0 means odata.DefaultTop.
	Top int
	// After resumes after the row the token names (by its ordered values,
	// then ID); nil starts at the beginning.
	After *odata.SkipToken
	// Select restricts Item.Values to these fields; nil means all.
	Select []string
	// Viewer, when set, keeps only the items it may see (in the query,
	// so pages and tokens stay correct); nil sees every item.
	Viewer *Viewer
}

// ItemPage is one page of a query.
type ItemPage struct {
	Items []*Item
	// Next resumes after the page's last item; nil on the last page.
	Next *odata.SkipToken
}

// Principal types.
const (
	PrincipalUser            = 1
	PrincipalSecurityGroup   = 4
	PrincipalSharePointGroup = 8
)

// User is a site collection's user.
type User struct {
	ID            int64
	SiteID        string
	LoginName     string // claims form: i:0#.f|membership|carol@contoso.com
	Title         string
	Email         string
	IsSiteAdmin   bool
	PrincipalType int
	Created       time.Time
}

// UserUpdate names what changes; nil fields are kept.
type UserUpdate struct {
	Title       *string
	Email       *string
	IsSiteAdmin *bool
}
