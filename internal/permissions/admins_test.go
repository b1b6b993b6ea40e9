package permissions

import "testing"

func TestAdministratorsMatch(t *testing.T) {
	a := ParseAdministrators([]string{" u-alice ", "Carol@Example.com", "GROUP:Site Admins", "", "group:"})
	cases := []struct {
		subject, email string
		groups         []string
		want           bool
	}{
		{"u-alice", "", nil, true},
		{"U-ALICE", "", nil, false}, // subjects are exact
		{"u-carol", "carol@example.COM", nil, true},
		{"carol@example.com", "", nil, false}, // an address matches as given or as e-mail
		{"u-dave", "dave@example.com", []string{"staff", "site admins"}, true},
		{"u-dave", "dave@example.com", []string{"staff"}, false},
		{"", "", []string{""}, false},
		{"group:site admins", "", nil, false}, // a subject is not a group
	}
	for _, c := range cases {
		if got := a.Match(c.subject, c.email, c.groups); got != c.want {
			t.Errorf("Match(%q, %q, %v) = %v, want %v", c.subject, c.email, c.groups, got, c.want)
		}
	}
	if a.Empty() || !ParseAdministrators([]string{" ", ""}).Empty() {
		t.Fatal("Empty")
	}
	if !ParseAdministrators([]string{"Carol@Example.com"}).Match("Carol@Example.com", "", nil) {
		t.Fatal("an address used as the subject")
	}
}
