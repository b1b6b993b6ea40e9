package sharepoint

import (
	"net/http"
	"strings"

	"github.com/cesivi/cesivi/internal/odata"
)

// routeNames are the path segment names the API serves. Metrics label a
// request by these names only, so a client cannot create label values
// at will: any other segment counts as "*".
var routeNames = map[string]bool{}

func init() {
	for _, n := range strings.Fields(`web site lists getbytitle getbyid getlist defaultdocumentlibrary webs add webinfos
		parentweb currentuser siteusers getuserbyid ensureuser siteuserinfolist fields availablefields contenttypes
		availablecontenttypes allproperties regionalsettings timezone features usercustomactions sitegroups roleassignments
		roledefinitions effectivebasepermissions rootfolder items getitembyid getitembystringid getitems renderlistdataasstream
		views defaultview getview recycle subscriptions fieldvaluesastext fieldvaluesashtml fieldvaluesforedit attachmentfiles
		parentlist getbyinternalnameortitle addfield createfieldasxml viewfields addviewfield removeviewfield removeallviewfields
		moveviewfieldto getbyemail getbyloginname removebyid removebyloginname groups contextinfo $batch spsitemanager create
		status delete rootweb openwebbyid ensuresiteassetslibrary ensuresitepageslibrary
		getfolderbyserverrelativepath getfolderbyserverrelativeurl getfilebyserverrelativepath getfilebyserverrelativeurl
		getfilebyurl getfilebyid getfolderbyid folders files addusingpath getbyname getbyurl $value openbinarystream
		listitemallfields parentfolder properties exists file folder copyto moveto copytousingpath movetousingpath
		sp.movecopyutil.copyfilebypath sp.movecopyutil.movefilebypath sp.movecopyutil.copyfolderbypath sp.movecopyutil.movefolderbypath
		sp.movecopyutil.copyfile sp.movecopyutil.movefile sp.movecopyutil.copyfolder sp.movecopyutil.movefolder
		startupload continueupload finishupload cancelupload checkout checkin undocheckout checkedoutbyuser lockedbyuser
		versions restorebylabel deletebyid recyclebyid deletebylabel recyclebylabel deleteall recycleall recyclebin
		restore deleteobject restoreall getbyfilename getbyfilenameaspath recycleobject deletewithparameters storagemetrics`) {
		routeNames[n] = true
	}
}

// maxLabelDepth bounds how many segments a label has.
const maxLabelDepth = 6

// RouteLabel names an API request's route for metrics: "/_api/" and
// the known segment names without their arguments
// ("/_api/web/lists/getbytitle/items"); unknown names are "*", deeper
// paths are cut. Sites are not named: every web shares one label.
func RouteLabel(r *http.Request) string {
	_, rest, ok := odata.SplitAPIPath(r.URL.EscapedPath())
	if !ok {
		return ""
	}
	path, err := odata.ParsePath(rest)
	if err != nil {
		return "/_api/*"
	}
	var b strings.Builder
	b.WriteString("/_api")
	for i, s := range path {
		if i == maxLabelDepth {
			b.WriteString("/…")
			break
		}
		b.WriteByte('/')
		n := strings.ToLower(s.Name)
		if !routeNames[n] {
			n = "*"
		}
		b.WriteString(n)
	}
	return b.String()
}

// IsAPIPath reports whether a request is for the API (/_api or
// /<web>/_api).
func IsAPIPath(r *http.Request) bool {
	_, _, ok := odata.SplitAPIPath(r.URL.EscapedPath())
	return ok
}
