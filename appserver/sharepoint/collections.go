package sharepoint

import (
	"strings"

	"github.com/cesivi/cesivi/internal/odata"
)

// filteredCollection applies $filter and $top to entities the API holds
// in memory (fields, users, views): their properties are the columns.
func (c *call) filteredCollection(ents []*odata.Entity, metadata string) (*response, error) {
	if c.query.Filter != nil {
		kept := ents[:0:0]
		for _, e := range ents {
			ok, err := odata.Eval(c.query.Filter, entityGetter(e))
			if err != nil {
				return nil, odata.InvalidQuery("The $filter cannot be applied here: " + err.Error())
			}
			if ok {
				kept = append(kept, e)
			}
		}
		ents = kept
	}
	if c.query.HasTop && c.query.Top < len(ents) {
		ents = ents[:c.query.Top]
	}
	return c.collection(ents, metadata, ""), nil
}

// entityGetter reads an entity's primitive properties as filter values.
func entityGetter(e *odata.Entity) odata.Getter {
	return func(path string) (odata.Value, bool) {
		for _, p := range e.Props {
			if !strings.EqualFold(p.Name, path) {
				continue
			}
			switch v := p.Value.(type) {
			case string:
				return odata.String(v), true
			case bool:
				return odata.Bool(v), true
			case int:
				return odata.Int(int64(v)), true
			case int64:
				return odata.Int(v), true
			case nil:
				return odata.Null(), true
			case odata.Value:
				return v, true
			}
			return odata.Value{}, false
		}
		return odata.Value{}, false
	}
}
