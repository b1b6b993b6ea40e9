package sharepoint

import (
	"net/http"
	"strings"

	"github.com/cesivi/cesivi/internal/odata"
	"github.com/cesivi/cesivi/internal/storage"
)

// siteResource is _api/site: the site collection, and site/rootweb.
func (c *call) siteResource(rest []odata.Segment) (*response, error) {
	if len(rest) == 0 {
		if err := c.allow(http.MethodGet); err != nil {
			return nil, err
		}
		s, err := c.siteOf()
		if err != nil {
			return nil, err
		}
		return c.entity(c.siteEntity(s), "SP.ApiData.Sites/@Element"), nil
	}
	seg := rest[0]
	switch {
	case seg.Is("recyclebin"):
		return c.recycleBinResource("", seg, rest[1:])
	case seg.Is("rootweb"):
		root, err := c.rootWeb()
		if err != nil {
			return nil, err
		}
		return c.webResource(root, rest[1:])
	case seg.Is("openwebbyid") && seg.Call:
		v, ok := seg.Single()
		if !ok {
			return nil, odata.InvalidQuery("openWebById takes the web's id.")
		}
		w, err := c.tx.Webs().Get(c.ctx, strings.ToLower(v.Str))
		if err != nil || w.SiteID != c.web.SiteID {
			return nil, odata.ResourceNotFound(seg.Name)
		}
		return c.webResource(w, rest[1:])
	case seg.Is("features") && len(rest) == 1, seg.Is("usercustomactions") && len(rest) == 1:
		return c.emptyCollection(seg)
	}
	return nil, notFound(seg)
}

func (c *call) siteEntity(s *storage.Site) *odata.Entity {
	api := c.absURL(s.URL) + "/_api/"
	return &odata.Entity{
		Type: "SP.Site", ID: api + "site", EditLink: "site",
		Props: []odata.Prop{
			{Name: "AllowCreateDeclarativeWorkflow", Value: false},
			{Name: "Id", Value: s.ID},
			{Name: "ReadOnly", Value: false},
			{Name: "RootWebId", Value: s.RootWebID},
			{Name: "ServerRelativeUrl", Value: s.URL},
			{Name: "Url", Value: c.absURL(s.URL)},
		},
	}
}
