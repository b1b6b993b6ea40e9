package permissions

import "testing"

// The built-in levels must carry exactly the halves SharePoint Online
// reports for them: scripts compare these numbers.
func TestDefaultRolesMatchSharePoint(t *testing.T) {
	want := map[string][2]uint32{
		"Full Control": {2147483647, 4294967295},
		"Design":       {432, 1012866047},
		"Edit":         {432, 1011030767},
		"Contribute":   {432, 1011028719},
		"Read":         {176, 138612833},
	}
	seen := map[int64]bool{}
	for _, r := range DefaultRoles() {
		if seen[r.ID] {
			t.Fatalf("role id %d used twice", r.ID)
		}
		seen[r.ID] = true
		w, ok := want[r.Name]
		if !ok {
			continue
		}
		if r.Mask.High() != w[0] || r.Mask.Low() != w[1] {
			t.Errorf("%s: High %d Low %d, want %d %d", r.Name, r.Mask.High(), r.Mask.Low(), w[0], w[1])
		}
		delete(want, r.Name)
	}
	if len(want) != 0 {
		t.Fatalf("levels missing: %v", want)
	}
}

func TestHasAsPnPjs(t *testing.T) {
	read := FromHighLow(176, 138612833)
	cases := []struct {
		m    Mask
		k    Kind
		want bool
	}{
		{read, ViewListItems, true},
		{read, EmptyMask, true},
		{read, AddListItems, false},
		{read, CreateAlerts, true}, // a High bit
		{read, ManagePermissions, false},
		{read, FullMask, false},
		{Full, FullMask, true},
		{Full, EnumeratePermissions, true},
		{Full, Kind(64), false}, // SharePoint's full mask leaves the top bit clear
		{Full, Kind(66), false},
		{0, ViewListItems, false},
	}
	for _, c := range cases {
		if got := c.m.Has(c.k); got != c.want {
			t.Errorf("%#x Has(%d) = %v, want %v", uint64(c.m), c.k, got, c.want)
		}
	}
}

func TestOfAndKinds(t *testing.T) {
	m := Of(ViewListItems, ManageWeb, CreateAlerts)
	ks := m.Kinds()
	if len(ks) != 3 || ks[0] != ViewListItems || ks[1] != ManageWeb || ks[2] != CreateAlerts {
		t.Fatalf("Kinds = %v", ks)
	}
	if Of(FullMask) != Full || Of(EmptyMask) != 0 || Of(Kind(99)) != 0 {
		t.Fatal("Of of the special kinds")
	}
}

func TestParseHighLow(t *testing.T) {
	m, err := ParseHighLow("432", "1011030767")
	if err != nil || m.High() != 432 || m.Low() != 1011030767 {
		t.Fatalf("ParseHighLow: %v %v", m, err)
	}
	for _, bad := range [][2]string{{"-1", "0"}, {"0", "4294967296"}, {"x", "0"}, {"0", ""}} {
		if _, err := ParseHighLow(bad[0], bad[1]); err == nil {
			t.Errorf("ParseHighLow(%q, %q) accepted", bad[0], bad[1])
		}
	}
}

func TestEffective(t *testing.T) {
	roles := map[int64]Mask{}
	for _, r := range DefaultRoles() {
		roles[r.ID] = r.Mask
	}
	as := []Assignment{
		{PrincipalID: 3, RoleIDs: []int64{ReadID}},
		{PrincipalID: 7, RoleIDs: []int64{ContributeID, 999}}, // 999: a level deleted meanwhile
		{PrincipalID: 9, RoleIDs: []int64{FullControlID}},
	}
	if m := Effective(as, []int64{1, 3}, roles); !m.Has(ViewListItems) || m.Has(AddListItems) {
		t.Fatalf("reader: %#x", uint64(m))
	}
	if m := Effective(as, []int64{3, 7}, roles); !m.Has(AddListItems) || m.Has(ManageLists) {
		t.Fatalf("reader and contributor: %#x", uint64(m))
	}
	if m := Effective(as, []int64{2}, roles); m != 0 {
		t.Fatalf("no assignment: %#x", uint64(m))
	}
	if m := Effective(as, []int64{9}, roles); !m.Has(FullMask) {
		t.Fatalf("full control: %#x", uint64(m))
	}
}

func TestGroupClaimLogin(t *testing.T) {
	if g := GroupClaimLogin(" Engineering "); g != "c:0-.f|rolemanager|engineering" {
		t.Fatal(g)
	}
}
