// Package caml reads the two kinds of SharePoint CAML that REST clients
// send, turning them into Cesivi's own query and schema types so that
// nothing downstream knows CAML:
//
//   - ParseView reads a CamlQuery's ViewXml (the body of getItems) into
//     a View: its <Where> becomes an odata.Node, the same AST $filter
//     parses to, so a CAML query runs through the same storage plan,
//     in-memory evaluation (odata.Eval) and SQL as a $filter does; its
//     <OrderBy> becomes odata.OrderKeys, and <ViewFields>, <RowLimit> and
//     the Scope attribute are handed over as they are.
//   - ParseField reads createFieldAsXml's SchemaXml into a
//     storage.FieldInput; WithAddFieldOptions applies the request's
//     Options as SharePoint does.
//
// The package is pure: no I/O, no clock of its own (Options.Now), no
// schema (the caller validates field names against the list, as it does
// for $filter, through storage.Schema.Plan).
//
// # Mapping
//
//	<Eq> <Neq> <Gt> <Geq> <Lt> <Leq>   *odata.Compare eq ne gt ge lt le
//	<Contains> <BeginsWith>            *odata.Func substringof, startswith
//	<IsNull> <IsNotNull>               Compare eq null, ne null
//	<In> … <Values>v1 v2…</Values>     F eq v1 or F eq v2 or … (no In node)
//	<And> <Or>                         *odata.Logical; chains left-associated,
//	                                   as ParseFilter builds "a or b or c"
//
// so CAML inherits $filter's semantics (see odata.Eval): text compares
// ignoring case, null is a value for eq and ne and makes ordering
// comparisons false.
//
// Values are typed by their Type attribute: Text, Note, Choice, URL,
// Computed, File and ContentTypeId are text (kept exactly, spaces
// included); Integer and Counter integers; Number and Currency decimals
// (invariant culture); Boolean 1, 0, TRUE or FALSE; Guid with or without
// braces; MultiChoice compares with Eq, Neq and Contains as "the
// item's choices include v" (a search for ";#v;#" in the stored value).
// A value that does not read as its Type is an error ("abc" as Integer).
//
// Lookups and users: <FieldRef Name="X" LookupId="TRUE"/> compares the
// id, written as the path "XId" that SharePoint REST uses for it
// (storage.Schema.Resolve maps it onto the lookup field, which holds the
// id). A Lookup or User value without LookupId compares the display text
// in SharePoint; Cesivi stores ids only, so that is refused with a hint
// to use LookupId. <UserID/> is Options.CurrentUserID and compares with
// the field as named (Author holds the id).
//
// Datetimes: ISO 8601 (2026-01-02, 2026-01-02T03:04:05Z, with
// fractions, to the minute, with an offset); a zone-less one is in
// Options.Location (the site's time zone), or UTC with StorageTZ="TRUE".
// <Today/> is midnight of the current day in that zone, moved by
// OffsetDays (or SharePoint 2010's Offset); <Now/> is Options.Now.
// Without IncludeTimeValue="TRUE", SharePoint ignores the time of day,
// and so does Cesivi: the comparison is with the whole day in the
// site's zone, so Eq 2026-01-02 is "ge that midnight and lt the next",
// Gt is "ge the next midnight", Neq also holds for a null field (as ne
// does). With IncludeTimeValue the instant is compared.
//
// # Strictness
//
// CAML is case-sensitive and so is this package: an element in another
// case (<eq>) is refused with the right spelling in the message. Every
// element it does not know is refused with its name and what is allowed
// there, and elements SharePoint knows but Cesivi does not support
// (GroupBy, Joins, ProjectedFields, Aggregations other than Value="Off",
// Membership, DateRangesOverlap, Includes, NotIncludes, ListProperty…)
// are refused with the reason, rather than ignored, because ignoring
// them would silently return other items. <And> and <Or> take exactly
// two conditions, as SharePoint requires, so that a query that works on
// Cesivi works on SharePoint. Unknown attributes are ignored (CAML has
// many that only affect rendering). Attribute booleans (TRUE, FALSE) are
// read in any case, as SharePoint reads them. An empty ViewXml or an
// empty <Where/> selects every item.
//
// # Limits
//
// The XML is read by encoding/xml in strict mode: no DTD is accepted
// (so no entity can be declared, and a billion-laughs document is
// refused at its <!DOCTYPE>), only the predefined entities and character
// references are expanded, and processing instructions other than the
// XML declaration are refused. Input beyond these limits is refused with
// an *odata.LimitError before it is interpreted:
//
//	ViewXml     MaxViewLength 64 KiB, MaxDepth 512 nested elements,
//	            odata.MaxFilterTerms 500 comparisons (an In value counts one),
//	            odata.MaxOrderKeys 16, odata.MaxSelectFields 256 ViewFields,
//	            RowLimit at most odata.MaxTop 5000
//	SchemaXml   MaxFieldLength 64 KiB, 16 nested elements
//
// Other errors are *odata.SyntaxError values naming ViewXml or SchemaXml
// and the byte offset of the element at fault; odata.ErrorOf turns both
// into SharePoint's 400 InvalidClientQueryException.
package caml
