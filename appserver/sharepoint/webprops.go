package sharepoint

import (
	"net/http"
	"strings"

	"github.com/cesivi/cesivi/internal/odata"
	"github.com/cesivi/cesivi/internal/storage"
)

// emptyCollection answers a collection this server has nothing in (yet):
// features, user custom actions. A correct empty answer, never a 404,
// so client code written for SharePoint carries on.
func (c *call) emptyCollection(seg odata.Segment) (*response, error) {
	if err := c.allow(http.MethodGet); err != nil {
		return nil, err
	}
	return c.collection(nil, "SP.ApiData."+seg.Name, ""), nil
}

// allProperties is web/allproperties: the property bag (empty).
func (c *call) allProperties(w *storage.Web) (*response, error) {
	if err := c.allow(http.MethodGet); err != nil {
		return nil, err
	}
	return c.entity(&odata.Entity{Type: "SP.PropertyValues", ID: c.enc.APIURL("Web/AllProperties"), EditLink: "Web/AllProperties"}, "SP.ApiData.PropertyValues/@Element"), nil
}

// regionalSettings is web/regionalsettings (and its timezone): US
// English in UTC, what a new site has.
func (c *call) regionalSettings(rest []odata.Segment) (*response, error) {
	if err := c.allow(http.MethodGet); err != nil {
		return nil, err
	}
	if len(rest) == 1 && rest[0].Is("timezone") {
		return c.entity(&odata.Entity{Type: "SP.TimeZone", ID: c.enc.APIURL("Web/RegionalSettings/TimeZone"), EditLink: "Web/RegionalSettings/TimeZone",
			Props: []odata.Prop{
				{Name: "Description", Value: "(UTC) Coordinated Universal Time"},
				{Name: "Id", Value: 39},
				{Name: "Information", Value: &odata.Entity{Type: "SP.TimeZoneInformation", Props: []odata.Prop{
					{Name: "Bias", Value: 0}, {Name: "DaylightBias", Value: 0}, {Name: "StandardBias", Value: 0}}}},
			}}, "SP.ApiData.TimeZones/@Element"), nil
	}
	if len(rest) > 0 {
		return nil, notFound(rest[0])
	}
	return c.entity(&odata.Entity{Type: "SP.RegionalSettings", ID: c.enc.APIURL("Web/RegionalSettings"), EditLink: "Web/RegionalSettings",
		Props: []odata.Prop{
			{Name: "AdjustHijriDays", Value: 0},
			{Name: "AlternateCalendarType", Value: 0},
			{Name: "AM", Value: "AM"},
			{Name: "CalendarType", Value: 1},
			{Name: "Collation", Value: 25},
			{Name: "CollationLCID", Value: 2070},
			{Name: "DateFormat", Value: 0},
			{Name: "DateSeparator", Value: "/"},
			{Name: "DecimalSeparator", Value: "."},
			{Name: "DigitGrouping", Value: "3;0"},
			{Name: "FirstDayOfWeek", Value: 0},
			{Name: "IsEastAsia", Value: false},
			{Name: "IsRightToLeft", Value: false},
			{Name: "IsUIRightToLeft", Value: false},
			{Name: "ListSeparator", Value: ","},
			{Name: "LocaleId", Value: 1033},
			{Name: "NegativeSign", Value: "-"},
			{Name: "NegNumberMode", Value: 1},
			{Name: "PM", Value: "PM"},
			{Name: "PositiveSign", Value: ""},
			{Name: "ShowWeeks", Value: false},
			{Name: "ThousandSeparator", Value: ","},
			{Name: "Time24", Value: false},
			{Name: "TimeMarkerPosition", Value: 0},
			{Name: "TimeSeparator", Value: ":"},
		}}, "SP.ApiData.RegionalSettings/@Element"), nil
}

// folderEntity is the minimal SP.Folder of a web or list root folder
// (files and folders have their own issue).
func (c *call) folderEntity(serverRelative, uniqueID, name string) *odata.Entity {
	id := c.enc.APIURL("Web/GetFolderByServerRelativePath(decodedurl='" + strings.ReplaceAll(serverRelative, "'", "''") + "')")
	return &odata.Entity{Type: "SP.Folder", ID: id, EditLink: strings.TrimPrefix(id, c.enc.APIURL("")),
		Props: []odata.Prop{
			{Name: "Exists", Value: true},
			{Name: "IsWOPIEnabled", Value: false},
			{Name: "ItemCount", Value: 0},
			{Name: "Name", Value: name},
			{Name: "ProgID", Value: nil},
			{Name: "ServerRelativeUrl", Value: serverRelative},
			{Name: "UniqueId", Value: uniqueID},
			{Name: "WelcomePage", Value: ""},
		}}
}
