// Package permissions is SharePoint's permission model as data: the
// permission kinds (SP.PermissionKind), the 64-bit base-permission masks
// that role definitions carry (SP.BasePermissions, sent as High and Low
// 32-bit halves), and the role definitions every new site starts with.
// It is pure logic: no storage, no HTTP.
package permissions

import (
	"fmt"
	"strconv"
)

// Kind is a SharePoint permission kind: the 1-based number of its bit in
// a Mask (ViewListItems is 1, the lowest bit), as SP.PermissionKind
// numbers them. EmptyMask (0) and FullMask (65) are not bits.
type Kind int

// The permission kinds, with SharePoint's numbers.
const (
	EmptyMask                     Kind = 0
	ViewListItems                 Kind = 1
	AddListItems                  Kind = 2
	EditListItems                 Kind = 3
	DeleteListItems               Kind = 4
	ApproveItems                  Kind = 5
	OpenItems                     Kind = 6
	ViewVersions                  Kind = 7
	DeleteVersions                Kind = 8
	CancelCheckout                Kind = 9
	ManagePersonalViews           Kind = 10
	ManageLists                   Kind = 12
	ViewFormPages                 Kind = 13
	AnonymousSearchAccessList     Kind = 14
	Open                          Kind = 17
	ViewPages                     Kind = 18
	AddAndCustomizePages          Kind = 19
	ApplyThemeAndBorder           Kind = 20
	ApplyStyleSheets              Kind = 21
	ViewUsageData                 Kind = 22
	CreateSSCSite                 Kind = 23
	ManageSubwebs                 Kind = 24
	CreateGroups                  Kind = 25
	ManagePermissions             Kind = 26
	BrowseDirectories             Kind = 27
	BrowseUserInfo                Kind = 28
	AddDelPrivateWebParts         Kind = 29
	UpdatePersonalWebParts        Kind = 30
	ManageWeb                     Kind = 31
	AnonymousSearchAccessWebLists Kind = 32
	UseClientIntegration          Kind = 37
	UseRemoteAPIs                 Kind = 38
	ManageAlerts                  Kind = 39
	CreateAlerts                  Kind = 40
	EditMyUserInfo                Kind = 41
	EnumeratePermissions          Kind = 63
	FullMask                      Kind = 65
)

// Mask is a set of permission kinds: bit k-1 holds kind k. SharePoint's
// Full Control is High 0x7FFFFFFF, Low 0xFFFFFFFF (Full).
type Mask uint64

// Full is every permission (the FullMask of Full Control and of site
// collection administrators).
const Full Mask = 0x7FFFFFFF_FFFFFFFF

// Of is the mask holding the kinds given; FullMask gives Full and
// EmptyMask nothing.
func Of(kinds ...Kind) Mask {
	var m Mask
	for _, k := range kinds {
		switch {
		case k == FullMask:
			m |= Full
		case k >= 1 && k <= 64:
			m |= 1 << (k - 1)
		}
	}
	return m
}

// Has reports whether m holds kind k, as SharePoint's hasPermissions
// does: EmptyMask is always held, FullMask only by a full mask, a kind
// outside 1–64 never.
func (m Mask) Has(k Kind) bool {
	switch {
	case k == EmptyMask:
		return true
	case k == FullMask:
		return m&Full == Full
	case k < 1 || k > 64:
		return false
	}
	return m&(1<<(k-1)) != 0
}

// High and Low are the mask's 32-bit halves, as SP.BasePermissions
// carries them.
func (m Mask) High() uint32 { return uint32(m >> 32) }
func (m Mask) Low() uint32  { return uint32(m) }

// FromHighLow builds a mask from SP.BasePermissions' halves.
func FromHighLow(high, low uint32) Mask { return Mask(high)<<32 | Mask(low) }

// ParseHighLow reads the halves as clients send them: decimal strings
// (PnPjs's roleDefinitions.add sends {"High":"432","Low":"1011030767"})
// or numbers. Each must fit in 32 bits.
func ParseHighLow(high, low string) (Mask, error) {
	h, err := strconv.ParseUint(high, 10, 32)
	if err != nil {
		return 0, fmt.Errorf("BasePermissions.High must be a whole number from 0 to 4294967295")
	}
	l, err := strconv.ParseUint(low, 10, 32)
	if err != nil {
		return 0, fmt.Errorf("BasePermissions.Low must be a whole number from 0 to 4294967295")
	}
	return FromHighLow(uint32(h), uint32(l)), nil
}

// Kinds lists the kinds m holds, lowest first (FullMask not included).
func (m Mask) Kinds() []Kind {
	var ks []Kind
	for k := Kind(1); k <= 64; k++ {
		if m.Has(k) {
			ks = append(ks, k)
		}
	}
	return ks
}

var kindNames = map[Kind]string{
	EmptyMask:                     "EmptyMask",
	ViewListItems:                 "ViewListItems",
	AddListItems:                  "AddListItems",
	EditListItems:                 "EditListItems",
	DeleteListItems:               "DeleteListItems",
	ApproveItems:                  "ApproveItems",
	OpenItems:                     "OpenItems",
	ViewVersions:                  "ViewVersions",
	DeleteVersions:                "DeleteVersions",
	CancelCheckout:                "CancelCheckout",
	ManagePersonalViews:           "ManagePersonalViews",
	ManageLists:                   "ManageLists",
	ViewFormPages:                 "ViewFormPages",
	AnonymousSearchAccessList:     "AnonymousSearchAccessList",
	Open:                          "Open",
	ViewPages:                     "ViewPages",
	AddAndCustomizePages:          "AddAndCustomizePages",
	ApplyThemeAndBorder:           "ApplyThemeAndBorder",
	ApplyStyleSheets:              "ApplyStyleSheets",
	ViewUsageData:                 "ViewUsageData",
	CreateSSCSite:                 "CreateSSCSite",
	ManageSubwebs:                 "ManageSubwebs",
	CreateGroups:                  "CreateGroups",
	ManagePermissions:             "ManagePermissions",
	BrowseDirectories:             "BrowseDirectories",
	BrowseUserInfo:                "BrowseUserInfo",
	AddDelPrivateWebParts:         "AddDelPrivateWebParts",
	UpdatePersonalWebParts:        "UpdatePersonalWebParts",
	ManageWeb:                     "ManageWeb",
	AnonymousSearchAccessWebLists: "AnonymousSearchAccessWebLists",
	UseClientIntegration:          "UseClientIntegration",
	UseRemoteAPIs:                 "UseRemoteAPIs",
	ManageAlerts:                  "ManageAlerts",
	CreateAlerts:                  "CreateAlerts",
	EditMyUserInfo:                "EditMyUserInfo",
	EnumeratePermissions:          "EnumeratePermissions",
	FullMask:                      "FullMask",
}

// String is SharePoint's name of the kind ("ManageLists").
func (k Kind) String() string {
	if n, ok := kindNames[k]; ok {
		return n
	}
	return "Kind(" + strconv.Itoa(int(k)) + ")"
}
