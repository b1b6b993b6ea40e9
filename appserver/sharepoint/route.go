package sharepoint

import (
	"net/http"
	"strings"

	"github.com/cesivi/cesivi/internal/odata"
)

// route walks the resource path, one segment at a time, from the API
// root: each resource family's function takes the segments left and
// either answers (no segments left) or hands the next segment to a
// child. Names are matched ignoring case, as SharePoint does.
func (c *call) route() (*response, error) {
	if len(c.path) == 0 {
		return nil, odata.ResourceNotFound("_api")
	}
	seg, rest := c.path[0], c.path[1:]
	switch {
	case seg.Is("web") && !seg.Call:
		return c.webResource(c.web, rest)
	case seg.Is("site") && !seg.Call:
		return c.siteResource(rest)
	case seg.Is("lists"):
		// _api/lists/… is an alias of _api/web/lists/….
		return c.webResource(c.web, c.path)
	case seg.Is("contextinfo") && len(rest) == 0:
		return c.contextInfo()
	case seg.Is("SPSiteManager"):
		return c.siteManager(rest)
	case len(seg.Name) > len("sp.movecopyutil.") && strings.EqualFold(seg.Name[:len("sp.movecopyutil.")], "sp.movecopyutil."):
		return c.moveCopyUtil(seg, rest)
	}
	return nil, notFound(seg)
}

// allow refuses a method outside methods with 405.
func (c *call) allow(methods ...string) error {
	for _, m := range methods {
		if c.method == m || (m == http.MethodGet && c.method == http.MethodHead) {
			return nil
		}
	}
	return c.notAllowed()
}

// leaf is the common shape of a resource at the end of the path: GET
// reads, MERGE/PATCH/PUT update, DELETE deletes. A nil function means
// the method is not allowed.
type leaf struct {
	get    func() (*response, error)
	update func() (*response, error)
	del    func() (*response, error)
	post   func() (*response, error)
}

func (c *call) serveLeaf(l leaf) (*response, error) {
	var fn func() (*response, error)
	switch {
	case c.method == http.MethodGet || c.method == http.MethodHead:
		fn = l.get
	case c.isUpdate():
		fn = l.update
	case c.method == http.MethodDelete:
		fn = l.del
	case c.method == http.MethodPost:
		fn = l.post
	}
	if fn == nil {
		return nil, c.notAllowed()
	}
	return fn()
}
