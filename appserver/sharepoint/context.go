package sharepoint

import (
	"encoding/json"
	"errors"
	"net/http"
	"net/url"
	"strings"

	"github.com/cesivi/cesivi/internal/odata"
	"github.com/cesivi/cesivi/internal/storage"
)

// contextInfo is POST /_api/contextinfo: the form digest and the web's
// addresses. JSON light puts FormDigestValue at the top level, where
// PnPjs reads it; verbose wraps it in GetContextWebInformation.
func (c *call) contextInfo() (*response, error) {
	if err := c.allow(http.MethodPost); err != nil {
		return nil, err
	}
	if c.h.Digests == nil {
		return nil, errors.New("sharepoint: no form digest minter configured")
	}
	digest, err := c.h.Digests.Mint(c.user.Subject, siteScope(c.webPath))
	if err != nil {
		return nil, err
	}
	site, err := c.siteOf()
	if err != nil {
		return nil, err
	}
	ent := &odata.Entity{Type: "SP.ContextWebInformation", Props: []odata.Prop{
		{Name: "FormDigestTimeoutSeconds", Value: int(DigestTimeout.Seconds())},
		{Name: "FormDigestValue", Value: digest},
		{Name: "LibraryVersion", Value: "16.0.0.0"},
		{Name: "SiteFullUrl", Value: c.absURL(site.URL)},
		{Name: "SupportedSchemaVersions", Value: odata.Values{Type: "Collection(Edm.String)", Items: []any{"14.0.0.0", "15.0.0.0"}}},
		{Name: "WebFullUrl", Value: c.absURL(c.web.ServerRelativeURL)},
	}}
	resp := c.result("GetContextWebInformation", ent, "SP.ContextWebInformation")
	resp.header.Set("Cache-Control", "no-store")
	return resp, nil
}

// siteManager is SPSiteManager: create, status and delete of site
// collections, as SharePoint Online's modern API has them.
func (c *call) siteManager(rest []odata.Segment) (*response, error) {
	if len(rest) != 1 {
		if len(rest) == 0 {
			return nil, odata.ResourceNotFound("SPSiteManager")
		}
		return nil, notFound(rest[1])
	}
	op := rest[0]
	switch {
	case op.Is("create"):
		if err := c.allow(http.MethodPost); err != nil {
			return nil, err
		}
		return c.createSite()
	case op.Is("status"):
		if err := c.allow(http.MethodGet); err != nil {
			return nil, err
		}
		u := c.r.URL.Query().Get("url")
		p, ok := sitePathOf(strings.Trim(u, "'"))
		if !ok {
			return nil, odata.InvalidQuery("status takes url, the site's absolute URL.")
		}
		s, err := c.tx.Sites().GetByURL(c.ctx, p)
		if errors.Is(err, storage.ErrNotFound) {
			return c.siteStatus("00000000-0000-0000-0000-000000000000", 0, ""), nil
		}
		if err != nil {
			return nil, err
		}
		return c.siteStatus(s.ID, 2, c.absURL(s.URL)), nil
	case op.Is("delete"):
		if err := c.allow(http.MethodPost); err != nil {
			return nil, err
		}
		m, err := c.object("")
		if err != nil {
			return nil, err
		}
		id, err := propString(m, "siteId", "SPSiteManager.Delete")
		if err != nil {
			return nil, err
		}
		if id == nil {
			return nil, odata.InvalidQuery("delete needs siteId.")
		}
		s, err := c.tx.Sites().Get(c.ctx, strings.ToLower(strings.Trim(*id, "{}")))
		if err != nil {
			return nil, err
		}
		if s.URL == "/" {
			return nil, odata.InvalidQuery("The root site collection cannot be deleted.")
		}
		if err := c.tx.Sites().Delete(c.ctx, s.ID); err != nil {
			return nil, err
		}
		return &response{status: http.StatusOK, header: http.Header{}}, nil
	}
	return nil, notFound(op)
}

// sitePathOf is the server-relative path of a site's absolute (or
// server-relative) URL: /sites/<name> or /teams/<name>.
func sitePathOf(u string) (string, bool) {
	if i := strings.Index(u, "://"); i >= 0 {
		pu, err := url.Parse(u)
		if err != nil {
			return "", false
		}
		u = pu.Path
	}
	u = cleanWebPath(u)
	if s := siteScope(u); s != "/" && strings.EqualFold(s, u) {
		return s, true
	}
	return "", false
}

// createSite is SPSiteManager/create with {"request":{Title, Url, Lcid,
// WebTemplate, Description, Owner…}}: SiteStatus 2 and the new site's
// id and URL, or SiteStatus 3 when the URL is taken, as SharePoint
// Online answers.
func (c *call) createSite() (*response, error) {
	m, err := c.object("")
	if err != nil {
		return nil, err
	}
	raw, ok := lookup(m, "request")
	if !ok || len(m) != 1 {
		return nil, odata.InvalidQuery("SPSiteManager/create takes {\"request\":{…}} with Title and Url.")
	}
	const typ = "Microsoft.SharePoint.Portal.SPSiteCreationRequest"
	var req map[string]jsonRaw
	if err := json.Unmarshal(raw, &req); err != nil || req == nil {
		return nil, odata.InvalidQuery("request must be a JSON object.")
	}
	if err := checkMetadata(req, typ); err != nil {
		return nil, err
	}
	if err := onlyKnown(req, typ, "Title", "Url", "Lcid", "WebTemplate", "Description", "Owner", "ShareByEmailEnabled",
		"Classification", "SiteDesignId", "HubSiteId", "SensitivityLabel", "WebTemplateExtensionId"); err != nil {
		return nil, err
	}
	title, err := propString(req, "Title", typ)
	if err != nil {
		return nil, err
	}
	u, err := propString(req, "Url", typ)
	if err != nil {
		return nil, err
	}
	if title == nil || u == nil {
		return nil, odata.InvalidQuery("A new site needs a Title and a Url.")
	}
	p, ok := sitePathOf(*u)
	if !ok {
		return nil, odata.InvalidQuery("A site collection's URL must be <origin>/sites/<name> or <origin>/teams/<name>.")
	}
	in := storage.SiteInput{URL: p, Title: *title}
	if d, err := propString(req, "Description", typ); err != nil {
		return nil, err
	} else if d != nil {
		in.Description = *d
	}
	if t, err := propString(req, "WebTemplate", typ); err != nil {
		return nil, err
	} else if t != nil {
		in.WebTemplate = *t
	}
	if l, err := propInt(req, "Lcid", typ); err != nil {
		return nil, err
	} else if l != nil {
		in.Language = *l
	}
	// A taken URL is SiteStatus 3, as SharePoint Online answers. It is
	// looked up first: a failed insert would abort the transaction.
	if _, err := c.tx.Sites().GetByURL(c.ctx, p); err == nil {
		return c.siteStatus("00000000-0000-0000-0000-000000000000", 3, ""), nil
	} else if !errors.Is(err, storage.ErrNotFound) {
		return nil, err
	}
	s, err := c.tx.Sites().Create(c.ctx, in)
	if err != nil {
		return nil, err
	}
	// Its creator is the new site's collection administrator, as in
	// SharePoint (else a user allowed to create sites could not open the
	// one it made).
	owner, err := c.tx.Users().Ensure(c.ctx, s.ID, c.login(), c.userTitle(), c.user.Email)
	if err != nil {
		return nil, err
	}
	admin := true
	if _, err := c.tx.Users().Update(c.ctx, s.ID, owner.ID, storage.UserUpdate{IsSiteAdmin: &admin}); err != nil {
		return nil, err
	}
	c.rightsChanged(owner.LoginName)
	return c.siteStatus(s.ID, 2, c.absURL(s.URL)), nil
}

func (c *call) siteStatus(id string, status int, siteURL string) *response {
	ent := &odata.Entity{Type: "Microsoft.SharePoint.Portal.SPSiteCreationResponse", Props: []odata.Prop{
		{Name: "SiteId", Value: id}, {Name: "SiteStatus", Value: status}, {Name: "SiteUrl", Value: siteURL}}}
	return c.result("Create", ent, "Microsoft.SharePoint.Portal.SPSiteCreationResponse")
}
