package sharepoint

import (
	"bytes"
	"encoding/json"
	"strconv"
	"strings"

	"github.com/cesivi/cesivi/internal/odata"
	"github.com/cesivi/cesivi/internal/storage"
)

// itemValues decodes an item body into values keyed by internal name.
// The verbose __metadata.type must be the list's item type. Unknown
// properties, values of the wrong JSON type and read-only fields are
// refused with the property's name.
func (c *call) itemValues(l *storage.List, s *storage.Schema) (map[string]odata.Value, error) {
	typ := l.ListItemEntityTypeFullName
	m, err := c.object(typ)
	if err != nil {
		return nil, err
	}
	out := make(map[string]odata.Value, len(m))
	for name, raw := range m {
		f, ok := s.Resolve(name)
		if !ok {
			// PnPjs and verbose clients write lookups as <Name>Id; the
			// schema resolves those. OData__ names stand for '_' ones.
			if strings.HasPrefix(name, "OData_") {
				f, ok = s.Resolve(strings.TrimPrefix(name, "OData_"))
			}
			if !ok {
				return nil, unknownProperty(name, typ)
			}
		}
		v, err := decodeValue(f, raw)
		if err != nil {
			return nil, err
		}
		out[f.InternalName] = v
	}
	return out, nil
}

// decodeValue turns one JSON member into the value of field f.
func decodeValue(f *storage.Field, raw json.RawMessage) (odata.Value, error) {
	raw = bytes.TrimSpace(raw)
	bad := func(want string) (odata.Value, error) {
		return odata.Value{}, odata.InvalidQuery("The value of '" + f.InternalName + "' must be " + want + " (the field is of type " + string(f.Type) + ").")
	}
	if len(raw) == 0 || string(raw) == "null" {
		return odata.Null(), nil
	}
	switch raw[0] {
	case '"':
		var s string
		if err := json.Unmarshal(raw, &s); err != nil {
			return bad("a string")
		}
		if f.Type == storage.TypeMultiChoice {
			return storage.MultiChoiceValue(strings.Split(strings.Trim(s, ";#"), ";#")), nil
		}
		if isRef(f) || f.Type == storage.TypeNumber || f.Type == storage.TypeCurrency || f.Type == storage.TypeInteger {
			// Verbose clients send numbers and ids as strings.
			if v, err := storage.ParseText(f, s); err == nil {
				return v, nil
			}
			return bad("a number")
		}
		return odata.String(s), nil
	case 't', 'f':
		var b bool
		if err := json.Unmarshal(raw, &b); err != nil {
			return bad("true or false")
		}
		return odata.Bool(b), nil
	case '[':
		var list []string
		if err := json.Unmarshal(raw, &list); err != nil || f.Type != storage.TypeMultiChoice {
			return bad("a single value")
		}
		return storage.MultiChoiceValue(list), nil
	case '{':
		return decodeObject(f, raw, bad)
	}
	// A number: an integer when it has no fraction or exponent.
	var n json.Number
	if err := json.Unmarshal(raw, &n); err != nil {
		return bad("a value")
	}
	if i, err := strconv.ParseInt(n.String(), 10, 64); err == nil {
		return odata.Int(i), nil
	}
	fl, err := n.Float64()
	if err != nil {
		return bad("a number in range")
	}
	return odata.Decimal(fl), nil
}

// decodeObject reads the object-valued shapes: a hyperlink
// ({"Url","Description"}, verbose with __metadata SP.FieldUrlValue) and
// verbose collections ({"results":[…]}) of choices.
func decodeObject(f *storage.Field, raw json.RawMessage, bad func(string) (odata.Value, error)) (odata.Value, error) {
	var m map[string]json.RawMessage
	if err := json.Unmarshal(raw, &m); err != nil {
		return bad("a value")
	}
	switch f.Type {
	case storage.TypeURL:
		if err := checkMetadata(m, "SP.FieldUrlValue"); err != nil {
			return odata.Value{}, err
		}
		if err := onlyKnown(m, "SP.FieldUrlValue", "Url", "Description"); err != nil {
			return odata.Value{}, err
		}
		u, err := propString(m, "Url", "SP.FieldUrlValue")
		if err != nil {
			return odata.Value{}, err
		}
		d, err := propString(m, "Description", "SP.FieldUrlValue")
		if err != nil {
			return odata.Value{}, err
		}
		if u == nil || *u == "" {
			return odata.Null(), nil
		}
		desc := ""
		if d != nil {
			desc = *d
		}
		return storage.URLValue(*u, desc), nil
	case storage.TypeMultiChoice:
		var w struct {
			Results []string `json:"results"`
		}
		if err := json.Unmarshal(raw, &w); err != nil || w.Results == nil {
			return bad("a collection of strings")
		}
		return storage.MultiChoiceValue(w.Results), nil
	}
	return bad("a single value")
}
