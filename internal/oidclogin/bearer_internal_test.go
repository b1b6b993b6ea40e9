package oidclogin

import "testing"

func TestIssuedFor(t *testing.T) {
	accepted := []string{"web", "mobile"}
	cases := []struct {
		name          string
		clientID, azp string
		aud           []string
		want          bool
	}{
		{"own client_id", "web", "", nil, true},
		{"listed client", "mobile", "", nil, true},
		{"azp", "", "web", nil, true},
		{"audience", "", "", []string{"api", "web"}, true},
		{"another client (a realm-wide active answer)", "intranet-tool", "intranet-tool", []string{"account"}, false},
		{"nothing said", "", "", nil, false},
		{"empty strings never match", "", "", []string{""}, false},
	}
	for _, c := range cases {
		if got := issuedFor(accepted, c.clientID, c.azp, c.aud); got != c.want {
			t.Errorf("%s: %v, want %v", c.name, got, c.want)
		}
	}
}

func TestWellFormedToken(t *testing.T) {
	for tok, want := range map[string]bool{
		"abcdefgh": true, "eyJhbGciOi.eyJzdWIi.c2ln": true, "abc-._~+/DEF12==": true,
		"short": false, "": false, "========": false, "has space x": false, "<script>x</script>": false,
		"tab\tinside": false, "ünïcode-token": false,
	} {
		if got := WellFormedToken(tok); got != want {
			t.Errorf("WellFormedToken(%q) = %v, want %v", tok, got, want)
		}
	}
}

func TestOnlyAccessTokensAreBearerTokens(t *testing.T) {
	for _, c := range []struct {
		tokenType, typ string
		want           bool
	}{
		{"", "", true},
		{"Bearer", "", true},
		{"bearer", "Bearer", true},
		{"", "Bearer", true},
		{"access_token", "", true},
		{"urn:ietf:params:oauth:token-type:access_token", "", true},
		{"", "at+jwt", true},
		// Keycloak introspects its other tokens as active, naming them.
		{"", "ID", false},
		{"", "Refresh", false},
		{"", "Offline", false},
		{"Bearer", "ID", false},
		{"refresh_token", "", false},
		{"id_token", "", false},
		{"urn:ietf:params:oauth:token-type:refresh_token", "", false},
		{"N_A", "", false},
	} {
		if got := isAccessToken(c.tokenType, c.typ); got != c.want {
			t.Errorf("token_type %q typ %q: access token = %v, want %v", c.tokenType, c.typ, got, c.want)
		}
	}
}
