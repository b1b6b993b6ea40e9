package caddymodule

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/caddyserver/caddy/v2"
	"github.com/caddyserver/caddy/v2/caddyconfig"
	"github.com/caddyserver/caddy/v2/caddyconfig/caddyfile"
	"github.com/caddyserver/caddy/v2/caddyconfig/httpcaddyfile"
)

func TestGlobalOptionParses(t *testing.T) {
	input := `cesivi {
		settings_dir /etc/cesivi
		cookie_name sp_session
		cookie_secure always
		session_cache_ttl 5s
		assertion_audience sp
		assertion_ttl 30s
		oidc {
			issuer https://idp.example.com/
			client_id web
			client_secret {env.SECRET}
			scopes openid email
			redirect_url https://sp.example.com/oauth2/callback
			post_logout_redirect_url https://sp.example.com/
			bearer_clients mobile cli
		}
	}`
	v, err := parseApp(caddyfile.NewTestDispenser(input), nil)
	if err != nil {
		t.Fatal(err)
	}
	var app App
	if err := json.Unmarshal(v.(httpcaddyfile.App).Value, &app); err != nil {
		t.Fatal(err)
	}
	if app.SettingsDir != "/etc/cesivi" || app.CookieName != "sp_session" || app.CookieSecure != "always" || time.Duration(app.SessionCacheTTL) != 5*time.Second ||
		app.AssertionAudience != "sp" || time.Duration(app.AssertionTTL) != 30*time.Second || app.OIDC == nil ||
		app.OIDC.Issuer != "https://idp.example.com/" || app.OIDC.ClientSecret != "{env.SECRET}" ||
		strings.Join(app.OIDC.Scopes, " ") != "openid email" || strings.Join(app.OIDC.BearerClients, " ") != "mobile cli" || app.OIDC.PostLogoutRedirectURL != "https://sp.example.com/" {
		t.Fatalf("parsed %+v (oidc %+v)", app, app.OIDC)
	}
}

func TestGlobalOptionErrorsNameTheProblem(t *testing.T) {
	cases := map[string]struct{ input, want string }{
		"unknown option":      {"cesivi {\n colour blue\n}", `unrecognized subdirective "colour"`},
		"unknown oidc option": {"cesivi {\n oidc {\n tenant x\n }\n}", `oidc: unrecognized subdirective "tenant"`},
		"two oidc blocks":     {"cesivi {\n oidc {\n }\n oidc {\n }\n}", "oidc may appear only once"},
		"bad duration":        {"cesivi {\n session_cache_ttl soon\n}", "session_cache_ttl"},
		"missing value":       {"cesivi {\n cookie_name\n}", "cookie_name takes exactly one value"},
		"two values":          {"cesivi {\n cookie_name a b\n}", "cookie_name takes exactly one value"},
		"scopes without any":  {"cesivi {\n oidc {\n scopes\n }\n}", "argument"},
		"an argument":         {"cesivi x", "argument"},
	}
	for name, c := range cases {
		_, err := parseApp(caddyfile.NewTestDispenser(c.input), nil)
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s: err = %v; want it to mention %q", name, err, c.want)
		}
	}
	if _, err := parseApp(caddyfile.NewTestDispenser("cesivi"), "existing"); err == nil {
		t.Error("a second cesivi global option was accepted")
	}
}

func TestSessionDirectiveParses(t *testing.T) {
	var s SessionGate
	if err := s.UnmarshalCaddyfile(caddyfile.NewTestDispenser("cesivi_session {\n anonymous /a /b*\n anonymous /c\n}")); err != nil {
		t.Fatal(err)
	}
	if strings.Join(s.Anonymous, " ") != "/a /b* /c" {
		t.Fatalf("anonymous = %v", s.Anonymous)
	}
	for input, want := range map[string]string{
		"cesivi_session {\n public /a\n}":  `unrecognized subdirective "public"`,
		"cesivi_session {\n anonymous\n}":  "argument",
		"cesivi_session /somewhere-else x": "argument",
	} {
		var s SessionGate
		if err := s.UnmarshalCaddyfile(caddyfile.NewTestDispenser(input)); err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("%q: err = %v; want %q", input, err, want)
		}
	}
	for _, bad := range []string{"relative", "/a*b", "/*/x"} {
		if err := (&SessionGate{Anonymous: []string{bad}}).Validate(); err == nil {
			t.Errorf("anonymous path %q was accepted", bad)
		}
	}
}

func TestAppValidateRefusesBadValues(t *testing.T) {
	for name, a := range map[string]App{
		"cookie name with a space": {CookieName: "a b", CookieSecure: "auto", AssertionTTL: caddy.Duration(time.Minute)},
		"assertion ttl too short":  {CookieName: "c", CookieSecure: "auto", AssertionTTL: caddy.Duration(time.Millisecond)},
		"assertion ttl too long":   {CookieName: "c", CookieSecure: "auto", AssertionTTL: caddy.Duration(2 * time.Hour)},
		"cookie_secure sometimes":  {CookieName: "c", CookieSecure: "sometimes", AssertionTTL: caddy.Duration(time.Minute)},
	} {
		if err := a.Validate(); err == nil {
			t.Errorf("%s: accepted", name)
		}
	}
}

// TestCaddyfileExampleAdapts: the shipped edge configuration adapts, holds
// the cesivi app and the session handler, and carries no secret (they are
// runtime placeholders).
func TestCaddyfileExampleAdapts(t *testing.T) {
	src, err := os.ReadFile(filepath.Join("..", "Caddyfile.example"))
	if err != nil {
		t.Fatal(err)
	}
	t.Setenv("CESIVI_OIDC_CLIENT_SECRET", "never-in-the-config")
	cfg, warnings, err := caddyconfig.GetAdapter("caddyfile").Adapt(src, map[string]any{"filename": "Caddyfile.example"})
	if err != nil {
		t.Fatal(err)
	}
	for _, w := range warnings {
		t.Errorf("warning: %s", w.String())
	}
	s := string(cfg)
	for _, want := range []string{`"cesivi":{`, `"handler":"cesivi_session"`, `"client_secret":"{env.CESIVI_OIDC_CLIENT_SECRET}"`, `"uri":"/health/ready"`} {
		if !strings.Contains(s, want) {
			t.Errorf("adapted config lacks %s", want)
		}
	}
	if strings.Contains(s, "never-in-the-config") {
		t.Error("the client secret was written into the JSON config")
	}
	if strings.Index(s, `"handler":"cesivi_session"`) > strings.Index(s, `"handler":"reverse_proxy"`) {
		t.Error("cesivi_session does not run before reverse_proxy")
	}
}
