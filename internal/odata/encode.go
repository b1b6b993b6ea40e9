package odata

import (
	"bytes"
	"encoding/json"
	"strings"
	"time"
)

// Entity is the generic representation of one SharePoint object the
// encoders write: its annotations and its properties in order (the order
// they appear on the wire).
type Entity struct {
	// Type is the entity type: SP.Web, SP.List, SP.Data.TasksListItem.
	Type string
	// ID is odata.id: an absolute URL (https://host/sites/dev/_api/Web)
	// or, for list items, the item's GUID, as SharePoint writes them.
	ID string
	// EditLink is relative to the API root: Web/Lists(guid'…')/Items(1).
	EditLink string
	// ETag is as on the wire, quotes included: "\"1\"". Empty for none.
	ETag string
	// Props are the properties in order.
	Props []Prop
}

// Prop is one property. Value is written with encoding/json (a Value as
// its MarshalJSON says, a time.Time as TimeLayout, as SharePoint does),
// except for *Entity (an expanded lookup or a nested object), []*Entity
// (a nested collection) and Values (a multi-valued field), which follow
// the format's shape.
type Prop struct {
	Name  string
	Value any
}

// Values is a collection of primitive values: a plain JSON array in JSON
// light, {"__metadata":{"type":Type},"results":[…]} in verbose.
type Values struct {
	// Type is the verbose collection type, e.g. Collection(Edm.String).
	Type  string
	Items []any
}

// Encoder writes response bodies in one format, with absolute URLs built
// from the site's public address.
type Encoder struct {
	Format Format
	// Web is the absolute public URL of the site, without a trailing
	// slash: https://cesivi.example.com/sites/dev. Never the internal
	// listener address: clients follow these links verbatim.
	Web string
}

// APIURL returns the absolute URL of rel (an escaped path after /_api/).
func (e Encoder) APIURL(rel string) string {
	return strings.TrimSuffix(e.Web, "/") + "/_api/" + rel
}

// metadataURL is odata.metadata for a fragment such as
// SP.ListData.TasksListItems or SP.ApiData.Webs/@Element.
func (e Encoder) metadataURL(fragment string) string {
	return e.APIURL("$metadata#" + fragment)
}

// Entity returns the body for a single entity. metadata is the
// odata.metadata fragment (SP.ListData.TasksListItems/@Element); empty
// leaves odata.metadata out. A single entity must not have a top-level
// property named value: PnPjs would unwrap it.
func (e Encoder) Entity(ent *Entity, metadata string) []byte {
	var w jsonWriter
	if e.Format == Verbose {
		w.open('{')
		w.key("d")
		e.entity(&w, ent)
		w.close('}')
		return w.bytes()
	}
	w.open('{')
	if e.Format == Minimal && metadata != "" {
		w.member("odata.metadata", e.metadataURL(metadata))
	}
	e.members(&w, ent)
	w.close('}')
	return w.bytes()
}

// Result returns the body for an entity that a function returns, such
// as contextinfo: verbose wraps it in the function's name
// ({"d":{"GetContextWebInformation":{…}}}); JSON light writes it as
// Entity does, at the top level, where PnPjs's digest code reads it.
func (e Encoder) Result(function string, ent *Entity, metadata string) []byte {
	if e.Format != Verbose {
		return e.Entity(ent, metadata)
	}
	var w jsonWriter
	w.open('{')
	w.key("d")
	w.open('{')
	w.key(function)
	e.entity(&w, ent)
	w.close('}')
	w.close('}')
	return w.bytes()
}

// Collection returns the body for a collection. nextLink, when not
// empty, is the absolute URL of the next page (Query.NextLink).
func (e Encoder) Collection(items []*Entity, metadata, nextLink string) []byte {
	var w jsonWriter
	w.open('{')
	if e.Format == Verbose {
		w.key("d")
		w.open('{')
		w.key("results")
		e.entities(&w, items)
		if nextLink != "" {
			w.member("__next", nextLink)
		}
		w.close('}')
		w.close('}')
		return w.bytes()
	}
	if e.Format == Minimal && metadata != "" {
		w.member("odata.metadata", e.metadataURL(metadata))
	}
	w.key("value")
	e.entities(&w, items)
	if nextLink != "" {
		w.member("odata.nextLink", nextLink)
	}
	w.close('}')
	return w.bytes()
}

// Error returns the odata.error body for err: {"odata.error":{…}} in
// JSON light, {"error":{…}} in verbose, each with code and
// message {lang, value}.
func (e Encoder) Error(err *Error) []byte {
	var w jsonWriter
	w.open('{')
	if e.Format == Verbose {
		w.key("error")
	} else {
		w.key("odata.error")
	}
	w.open('{')
	w.member("code", err.Code)
	w.key("message")
	w.open('{')
	w.member("lang", "en-US")
	w.member("value", err.Message)
	w.close('}')
	w.close('}')
	w.close('}')
	return w.bytes()
}

func (e Encoder) entities(w *jsonWriter, items []*Entity) {
	w.open('[')
	for _, it := range items {
		w.comma()
		e.entity(w, it)
	}
	w.close(']')
}

// entity writes one object, with the format's annotations.
func (e Encoder) entity(w *jsonWriter, ent *Entity) {
	w.open('{')
	e.members(w, ent)
	w.close('}')
}

// members writes an entity's annotations and properties.
func (e Encoder) members(w *jsonWriter, ent *Entity) {
	switch e.Format {
	case Verbose:
		w.key("__metadata")
		w.open('{')
		// SharePoint's verbose id is the absolute URL when odata.id is
		// one (webs, lists) and the edit link otherwise (items, whose
		// odata.id is a GUID).
		id := ent.ID
		if !strings.HasPrefix(id, "http://") && !strings.HasPrefix(id, "https://") && ent.EditLink != "" {
			id = ent.EditLink
		}
		w.optional("id", id)
		if ent.EditLink != "" {
			w.member("uri", e.APIURL(ent.EditLink))
		}
		w.optional("etag", ent.ETag)
		w.optional("type", ent.Type)
		w.close('}')
	case Minimal:
		w.optional("odata.type", ent.Type)
		w.optional("odata.id", ent.ID)
		w.optional("odata.etag", ent.ETag)
		w.optional("odata.editLink", ent.EditLink)
	}
	for _, p := range ent.Props {
		w.key(p.Name)
		e.value(w, p.Value)
	}
}

func (e Encoder) value(w *jsonWriter, v any) {
	switch v := v.(type) {
	case *Entity:
		if v == nil {
			w.raw("null")
			return
		}
		e.entity(w, v)
	case []*Entity:
		if e.Format == Verbose {
			w.open('{')
			w.key("results")
			e.entities(w, v)
			w.close('}')
			return
		}
		e.entities(w, v)
	case Values:
		if e.Format == Verbose {
			w.open('{')
			w.key("__metadata")
			w.open('{')
			w.member("type", v.Type)
			w.close('}')
			w.key("results")
			w.value(v.Items)
			w.close('}')
			return
		}
		w.value(v.Items)
	case time.Time:
		w.value(v.UTC().Format(TimeLayout))
	default:
		w.value(v)
	}
}

// jsonWriter writes JSON with members in the order given, commas placed
// for the caller.
type jsonWriter struct {
	buf   bytes.Buffer
	first bool // no member yet in the innermost object or array
}

func (w *jsonWriter) bytes() []byte { return w.buf.Bytes() }

func (w *jsonWriter) open(c byte) {
	w.buf.WriteByte(c)
	w.first = true
}

func (w *jsonWriter) close(c byte) {
	w.buf.WriteByte(c)
	w.first = false
}

// comma separates an element from the previous one.
func (w *jsonWriter) comma() {
	if !w.first {
		w.buf.WriteByte(',')
	}
	w.first = false
}

func (w *jsonWriter) key(k string) {
	w.comma()
	w.value(k)
	w.buf.WriteByte(':')
	w.first = true // the value that follows needs no comma
}

func (w *jsonWriter) member(k, v string) {
	w.key(k)
	w.value(v)
	w.first = false
}

func (w *jsonWriter) optional(k, v string) {
	if v != "" {
		w.member(k, v)
	}
}

func (w *jsonWriter) raw(s string) {
	w.buf.WriteString(s)
	w.first = false
}

// value writes v with encoding/json, HTML characters unescaped (URLs
// with & stay readable). A value json cannot encode becomes null.
func (w *jsonWriter) value(v any) {
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		w.raw("null")
		return
	}
	w.raw(strings.TrimSuffix(b.String(), "\n"))
}
