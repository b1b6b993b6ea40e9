package sharepoint

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strings"

	"github.com/cesivi/cesivi/internal/odata"
)

// What handlers answer with. Every body is in the call's format; every
// status is SharePoint's for the operation (research §1).

// entity answers 200 with one entity, $select applied.
func (c *call) entity(ent *odata.Entity, metadata string) *response {
	return c.entityStatus(http.StatusOK, ent, metadata)
}

func (c *call) entityStatus(status int, ent *odata.Entity, metadata string) *response {
	ent = c.selectProps(ent)
	resp := &response{status: status, header: http.Header{}, body: c.enc.Entity(ent, metadata), format: c.format}
	if ent.ETag != "" {
		resp.header.Set("ETag", ent.ETag)
	}
	return resp
}

// collection answers 200 with entities, $select applied to each.
func (c *call) collection(ents []*odata.Entity, metadata, next string) *response {
	for i, e := range ents {
		ents[i] = c.selectProps(e)
	}
	return &response{status: http.StatusOK, header: http.Header{}, body: c.enc.Collection(ents, metadata, next), format: c.format}
}

// result answers a function's result entity (contextinfo).
func (c *call) result(function string, ent *odata.Entity, metadata string) *response {
	return &response{status: http.StatusOK, header: http.Header{}, body: c.enc.Result(function, ent, metadata), format: c.format}
}

// primitive answers a function's primitive result: {"value": v} in JSON
// light (which PnPjs unwraps), {"d":{"<Function>": v}} in verbose.
func (c *call) primitive(function string, v any) *response {
	return c.primitiveOf(function, v, "Edm.String")
}

// primitiveOf is primitive with the value's EDM type named in
// odata.metadata (Edm.Guid, Edm.Int64…).
func (c *call) primitiveOf(function string, v any, edmType string) *response {
	var body []byte
	if c.format == odata.Verbose {
		body, _ = json.Marshal(map[string]any{"d": map[string]any{function: v}})
	} else {
		m := map[string]any{"value": v}
		if c.format == odata.Minimal {
			m["odata.metadata"] = c.enc.APIURL("$metadata#" + edmType)
		}
		body, _ = json.Marshal(m)
	}
	return &response{status: http.StatusOK, header: http.Header{}, body: body, format: c.format}
}

// null answers a navigation property with no target (a library root
// folder's listItemAllFields, a file's lockedByUser when none):
// {"odata.null":true}, {"d":null} in verbose.
func (c *call) null() *response {
	body := []byte(`{"odata.null":true}`)
	if c.format == odata.Verbose {
		body = []byte(`{"d":null}`)
	}
	return &response{status: http.StatusOK, header: http.Header{}, body: body, format: c.format}
}

// noContent answers 204, with the new ETag when there is one (PnPjs's
// update() returns it to its caller).
func noContent(etag string) *response {
	r := &response{status: http.StatusNoContent, header: http.Header{}}
	if etag != "" {
		r.header.Set("ETag", etag)
	}
	return r
}

// deleted answers a DELETE: 200 with an empty body, as SharePoint does.
func deleted() *response { return &response{status: http.StatusOK, header: http.Header{}} }

// selectProps keeps the properties $select names (ignoring case), in the
// entity's order; "*" and no $select keep all. Names the entity does not
// have are left out rather than refused: clients select navigation
// properties (RootFolder/ServerRelativeUrl) this API expands where it
// can.
func (c *call) selectProps(ent *odata.Entity) *odata.Entity {
	sel := c.query.Select
	if len(sel) == 0 || ent == nil {
		return ent
	}
	want := map[string][]string{}
	for _, s := range sel {
		if s == "*" {
			return ent
		}
		head, tail, _ := strings.Cut(s, "/")
		want[strings.ToLower(head)] = append(want[strings.ToLower(head)], tail)
	}
	out := *ent
	out.Props = nil
	for _, p := range ent.Props {
		tails, ok := want[strings.ToLower(p.Name)]
		if !ok {
			continue
		}
		if sub, isEnt := p.Value.(*odata.Entity); isEnt && sub != nil && tails[0] != "" {
			sub = pick(sub, tails)
			out.Props = append(out.Props, odata.Prop{Name: p.Name, Value: sub})
			continue
		}
		out.Props = append(out.Props, p)
	}
	return &out
}

// pick keeps the named properties of a nested entity.
func pick(ent *odata.Entity, names []string) *odata.Entity {
	out := *ent
	out.Props = nil
	for _, p := range ent.Props {
		for _, n := range names {
			if n == "*" || strings.EqualFold(n, p.Name) {
				out.Props = append(out.Props, p)
				break
			}
		}
	}
	return &out
}

// notAllowed is the 405 for a method a resource does not take.
func (c *call) notAllowed() error {
	return odata.NewError(http.StatusMethodNotAllowed, odata.CodeInvalidQuery,
		fmt.Sprintf("The HTTP method '%s' cannot be used on this resource.", c.method))
}

// notFound is the 404 for a path segment this API does not serve.
func notFound(seg odata.Segment) error { return odata.ResourceNotFound(seg.Name) }

// isWrite reports whether the method changes the resource in place.
func (c *call) isUpdate() bool {
	return c.method == "MERGE" || c.method == http.MethodPatch || c.method == http.MethodPut
}

// object decodes the body as one JSON object. The verbose wrapper
// {"__metadata":{"type":T}} is checked against want (when want is not
// empty) and removed; so is the {"parameters":{…}} wrapper functions
// such as AddField take. Keys keep their case.
func (c *call) object(want string) (map[string]json.RawMessage, error) {
	body := bytes.TrimSpace(c.body)
	if len(body) == 0 {
		return map[string]json.RawMessage{}, nil
	}
	if body[0] != '{' {
		return nil, odata.InvalidQuery("The request body must be a JSON object.")
	}
	var m map[string]json.RawMessage
	dec := json.NewDecoder(bytes.NewReader(body))
	if err := dec.Decode(&m); err != nil {
		return nil, odata.InvalidQuery("The request body is not valid JSON: " + jsonProblem(err))
	}
	if dec.More() {
		return nil, odata.InvalidQuery("The request body must hold one JSON object and nothing after it.")
	}
	if m == nil {
		return nil, odata.InvalidQuery("The request body must be a JSON object.")
	}
	if err := checkMetadata(m, want); err != nil {
		return nil, err
	}
	return m, nil
}

// checkMetadata removes and checks a verbose __metadata member.
func checkMetadata(m map[string]json.RawMessage, want string) error {
	raw, ok := m["__metadata"]
	if !ok {
		return nil
	}
	delete(m, "__metadata")
	var md struct {
		Type string `json:"type"`
	}
	if err := json.Unmarshal(raw, &md); err != nil {
		return odata.InvalidQuery("__metadata must be an object with a string type.")
	}
	if want != "" && md.Type != "" && !strings.EqualFold(md.Type, want) {
		return odata.TypeNotResolved(md.Type)
	}
	return nil
}

// parameters unwraps {"parameters":{…}} when the body has that shape.
func parameters(m map[string]json.RawMessage, want string) (map[string]json.RawMessage, error) {
	raw, ok := m["parameters"]
	if !ok || len(m) != 1 {
		return m, nil
	}
	var inner map[string]json.RawMessage
	if err := json.Unmarshal(raw, &inner); err != nil || inner == nil {
		return nil, odata.InvalidQuery("parameters must be a JSON object.")
	}
	if err := checkMetadata(inner, want); err != nil {
		return nil, err
	}
	return inner, nil
}

// jsonProblem describes a decoding error without echoing the input.
func jsonProblem(err error) string {
	var se *json.SyntaxError
	if errors.As(err, &se) {
		return fmt.Sprintf("syntax error at byte %d.", se.Offset)
	}
	var te *json.UnmarshalTypeError
	if errors.As(err, &te) {
		return fmt.Sprintf("a %s where %s was expected.", te.Value, te.Type)
	}
	return "it ends too early."
}

// Property readers for request bodies: each refuses a value of the
// wrong JSON type with a message naming the property and the type.

func propString(m map[string]json.RawMessage, name, typeName string) (*string, error) {
	raw, ok := lookup(m, name)
	if !ok || string(raw) == "null" {
		return nil, nil
	}
	var s string
	if err := json.Unmarshal(raw, &s); err != nil {
		return nil, wrongType(name, typeName, "a string")
	}
	return &s, nil
}

func propBool(m map[string]json.RawMessage, name, typeName string) (*bool, error) {
	raw, ok := lookup(m, name)
	if !ok || string(raw) == "null" {
		return nil, nil
	}
	var b bool
	if err := json.Unmarshal(raw, &b); err != nil {
		return nil, wrongType(name, typeName, "true or false")
	}
	return &b, nil
}

func propInt(m map[string]json.RawMessage, name, typeName string) (*int, error) {
	raw, ok := lookup(m, name)
	if !ok || string(raw) == "null" {
		return nil, nil
	}
	var i int
	if err := json.Unmarshal(raw, &i); err != nil {
		// Verbose clients send Edm.Int64 values as strings.
		var s string
		if json.Unmarshal(raw, &s) == nil {
			if _, err := fmt.Sscanf(s, "%d", &i); err == nil && fmt.Sprint(i) == s {
				return &i, nil
			}
		}
		return nil, wrongType(name, typeName, "an integer")
	}
	return &i, nil
}

// propStrings reads a string collection: a JSON array, or verbose's
// {"results":[…]}.
func propStrings(m map[string]json.RawMessage, name, typeName string) (*[]string, error) {
	raw, ok := lookup(m, name)
	if !ok || string(raw) == "null" {
		return nil, nil
	}
	var list []string
	if err := json.Unmarshal(raw, &list); err == nil {
		return &list, nil
	}
	var wrapped struct {
		Results  []string        `json:"results"`
		Metadata json.RawMessage `json:"__metadata"`
	}
	if err := json.Unmarshal(raw, &wrapped); err == nil && wrapped.Results != nil {
		return &wrapped.Results, nil
	}
	return nil, wrongType(name, typeName, "a collection of strings")
}

// lookup finds a member by name, ignoring case.
func lookup(m map[string]json.RawMessage, name string) (json.RawMessage, bool) {
	if v, ok := m[name]; ok {
		return v, true
	}
	for k, v := range m {
		if strings.EqualFold(k, name) {
			return v, true
		}
	}
	return nil, false
}

func wrongType(name, typeName, want string) error {
	return odata.InvalidQuery(fmt.Sprintf("The property '%s' of type '%s' must be %s.", name, typeName, want))
}

// unknownProperty is SharePoint's refusal of a body member the type
// does not have.
func unknownProperty(name, typeName string) error {
	return odata.InvalidQuery(fmt.Sprintf("The property '%s' does not exist on type '%s'. Make sure to only use property names that are defined by the type.", name, typeName))
}

// onlyKnown refuses members outside known (compared ignoring case).
func onlyKnown(m map[string]json.RawMessage, typeName string, known ...string) error {
	for k := range m {
		ok := false
		for _, n := range known {
			if strings.EqualFold(k, n) {
				ok = true
				break
			}
		}
		if !ok {
			return unknownProperty(k, typeName)
		}
	}
	return nil
}

type jsonRaw = json.RawMessage
