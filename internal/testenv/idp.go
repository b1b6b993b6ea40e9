package testenv

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/zitadel/oidc/v3/example/server/exampleop"
	"github.com/zitadel/oidc/v3/example/server/storage"
	"github.com/zitadel/oidc/v3/pkg/op"
	"golang.org/x/net/html"
	"golang.org/x/text/language"
)

// The users every IdentityProvider knows: alice, the development
// administrator (Username, Password… of the provider are hers), and bob,
// who starts with no rights, so both sides of a permission can be tried.
const (
	idpUsername = "alice"
	idpPassword = "alice-password"
	idpSubject  = "u-alice"
	idpEmail    = "alice@example.com"
	idpFirst    = "Alice"
	idpLast     = "Example"
)

// IdPUser is one user of the provider. Admin marks the development
// administrator (Cesivi:Sites:Administrators of make run and the farm).
type IdPUser struct {
	Username string `json:"username"`
	Password string `json:"password"`
	Subject  string `json:"subject"`
	Email    string `json:"email"`
	Name     string `json:"name"`
	Admin    bool   `json:"admin"`
}

// DevUsers are the provider's users, the administrator first.
func DevUsers() []IdPUser {
	return []IdPUser{
		{Username: idpUsername, Password: idpPassword, Subject: idpSubject, Email: idpEmail, Name: idpFirst + " " + idpLast, Admin: true},
		{Username: "bob", Password: "bob-password", Subject: "u-bob", Email: "bob@example.com", Name: "Bob Example"},
	}
}

// ErrLoginRefused is returned (wrapped) by Login when the provider shows its
// login form again instead of accepting the credentials.
var ErrLoginRefused = errors.New("testenv: identity provider refused the login")

// IdPOptions configures StartIdentityProvider.
type IdPOptions struct {
	// RedirectURIs the client may use; more can be added later with
	// AddRedirectURIs (a test often learns its callback URL after the
	// provider's issuer).
	RedirectURIs []string
	// PostLogoutRedirectURIs accepted by the end_session endpoint.
	PostLogoutRedirectURIs []string
	// Addr to listen on; it must be a loopback address. Empty means
	// 127.0.0.1 and a free port.
	Addr string
	// ClientID of the confidential client; empty means "web".
	ClientID string
	// ClientSecret; empty means a random one.
	ClientSecret string
	// ExtraClients are more confidential clients (id → secret), sharing the
	// redirect URIs: another application of the same provider.
	ExtraClients map[string]string
	// Logger, if set, receives the provider's logs. The upstream example
	// server can only log through the process-wide default slog, so a
	// non-nil Logger replaces slog.Default for the whole process: fine for
	// a command, not for a test binary. With nil the default is left
	// alone and the provider's request lines go to it.
	Logger *slog.Logger
}

// IdentityProvider is an OpenID provider served in-process on loopback: the
// zitadel/oidc example OP (authorization code flow with PKCE S256, refresh
// tokens, RP-initiated logout; no back-channel logout, no sid claim, no login
// session, so every authorization shows the login form). It has one
// confidential client (ClientID, ClientSecret, client_secret_basic or
// client_secret_post) and one user.
type IdentityProvider struct {
	Issuer       string // http://127.0.0.1:port/
	ClientID     string
	ClientSecret string
	Username     string
	Password     string
	Subject      string
	Email        string
	Name         string
	// Users are every user the provider knows (DevUsers).
	Users []IdPUser

	srv     *http.Server
	served  chan struct{}
	clients *clientURIs
	storage op.Storage
	// requests counts the requests served, by path.
	requests struct {
		sync.Mutex
		n map[string]int
	}
}

// Requests returns how many requests the provider served on path (for
// example "/oauth/introspect" or "/keys"), so a test can check that a
// client does not call it more than it should.
func (p *IdentityProvider) Requests(path string) int {
	p.requests.Lock()
	defer p.requests.Unlock()
	return p.requests.n[path]
}

// StartIdentityProvider starts the provider and returns once it listens.
func StartIdentityProvider(opt IdPOptions) (*IdentityProvider, error) {
	addr := opt.Addr
	if addr == "" {
		addr = "127.0.0.1:0"
	}
	if err := checkLoopback(addr); err != nil {
		return nil, err
	}
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return nil, err
	}
	p := &IdentityProvider{
		Issuer:       "http://" + ln.Addr().String() + "/",
		ClientID:     opt.ClientID,
		ClientSecret: opt.ClientSecret,
		Username:     idpUsername,
		Password:     idpPassword,
		Subject:      idpSubject,
		Email:        idpEmail,
		Name:         idpFirst + " " + idpLast,
		Users:        DevUsers(),
		served:       make(chan struct{}),
		clients:      &clientURIs{},
	}
	if p.ClientID == "" {
		p.ClientID = "web"
	}
	if p.ClientSecret == "" {
		p.ClientSecret = randomHex(16)
	}
	p.AddRedirectURIs(opt.RedirectURIs...)
	p.AddPostLogoutRedirectURIs(opt.PostLogoutRedirectURIs...)

	var users userStore
	for _, u := range p.Users {
		first, last, _ := strings.Cut(u.Name, " ")
		users = append(users, &storage.User{
			ID: u.Subject, Username: u.Username, Password: u.Password, FirstName: first, LastName: last,
			Email: u.Email, EmailVerified: true, PreferredLanguage: language.English,
		})
	}
	// NewStorageWithClients gives this provider a client map of its own;
	// storage.RegisterClients would write a package-global one shared by
	// every provider in the process.
	clients := map[string]*storage.Client{
		p.ClientID: storage.WebClient(p.ClientID, p.ClientSecret, opt.RedirectURIs...),
	}
	for id, secret := range opt.ExtraClients {
		clients[id] = storage.WebClient(id, secret, opt.RedirectURIs...)
	}
	st := providerStorage{Storage: storage.NewStorageWithClients(users, clients), uris: p.clients}
	handler := exampleop.SetupServer(p.Issuer, st, opt.Logger, false)
	p.storage = st

	counted := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		p.requests.Lock()
		if p.requests.n == nil {
			p.requests.n = map[string]int{}
		}
		p.requests.n[r.URL.Path]++
		p.requests.Unlock()
		handler.ServeHTTP(w, r)
	})
	p.srv = &http.Server{Handler: counted, ReadHeaderTimeout: 10 * time.Second}
	go func() {
		defer close(p.served)
		p.srv.Serve(ln)
	}()
	return p, nil
}

// IdentityProviderT starts a provider for this test, closed at cleanup.
func IdentityProviderT(t testing.TB, opt IdPOptions) *IdentityProvider {
	t.Helper()
	p, err := StartIdentityProvider(opt)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { p.Close() })
	return p
}

// Close stops serving and closes open connections.
func (p *IdentityProvider) Close() error {
	err := p.srv.Close()
	<-p.served
	return err
}

// AddRedirectURIs allows more redirect URIs for the client.
func (p *IdentityProvider) AddRedirectURIs(uris ...string) {
	p.clients.mu.Lock()
	defer p.clients.mu.Unlock()
	p.clients.redirect = append(p.clients.redirect, uris...)
}

// AddPostLogoutRedirectURIs allows more post_logout_redirect_uris.
func (p *IdentityProvider) AddPostLogoutRedirectURIs(uris ...string) {
	p.clients.mu.Lock()
	defer p.clients.mu.Unlock()
	p.clients.postLogout = append(p.clients.postLogout, uris...)
}

func checkLoopback(addr string) error {
	host, _, err := net.SplitHostPort(addr)
	if err != nil {
		return err
	}
	if ip := net.ParseIP(host); host != "localhost" && (ip == nil || !ip.IsLoopback()) {
		return fmt.Errorf("testenv: identity provider address %q is not a loopback address", addr)
	}
	return nil
}

// clientURIs are the client's redirect URIs, which can grow after start.
type clientURIs struct {
	mu         sync.Mutex
	redirect   []string
	postLogout []string
}

// providerStorage is the upstream example storage with clients whose
// redirect URIs come from clientURIs. The upstream clients answer
// PostLogoutRedirectURIs with an empty list, so without this wrapper
// end_session would refuse every post_logout_redirect_uri.
type providerStorage struct {
	*storage.Storage
	uris *clientURIs
}

// GetClientByClientID implements op.Storage.
func (s providerStorage) GetClientByClientID(ctx context.Context, id string) (op.Client, error) {
	c, err := s.Storage.GetClientByClientID(ctx, id)
	if err != nil {
		return nil, err
	}
	return providerClient{Client: c, uris: s.uris}, nil
}

type providerClient struct {
	op.Client
	uris *clientURIs
}

// RedirectURIs implements op.Client.
func (c providerClient) RedirectURIs() []string {
	c.uris.mu.Lock()
	defer c.uris.mu.Unlock()
	return slices.Clone(c.uris.redirect)
}

// PostLogoutRedirectURIs implements op.Client.
func (c providerClient) PostLogoutRedirectURIs() []string {
	c.uris.mu.Lock()
	defer c.uris.mu.Unlock()
	return slices.Clone(c.uris.postLogout)
}

// userStore implements storage.UserStore with the provider's users.
type userStore []*storage.User

func (us userStore) GetUserByID(id string) *storage.User {
	for _, u := range us {
		if u.ID == id {
			return u
		}
	}
	return nil
}

func (us userStore) GetUserByUsername(name string) *storage.User {
	for _, u := range us {
		if u.Username == name {
			return u
		}
	}
	return nil
}

// ExampleClientID names the upstream example's JWT-profile service user.
func (us userStore) ExampleClientID() string { return storage.ServiceUserID }

// Login logs the provider's user in without a browser. It GETs startURL (an
// authorization URL, or any URL that redirects to one, such as a protected
// page behind the edge), follows redirects to the login form, posts the
// username and password, and follows the provider's own redirects. It
// returns the first response that points away from the provider, normally
// the unfollowed redirect to the client's redirect_uri with code and state,
// or else the provider's last response. The caller closes the body.
//
// client supplies the transport and cookie jar (nil means a fresh client
// with a jar); its redirect policy is not used. A refused login returns an
// error wrapping ErrLoginRefused.
func (p *IdentityProvider) Login(ctx context.Context, client *http.Client, startURL string) (*http.Response, error) {
	return p.LoginAs(ctx, client, startURL, p.Username, p.Password)
}

// LoginAs is Login with the given credentials.
func (p *IdentityProvider) LoginAs(ctx context.Context, client *http.Client, startURL, username, password string) (*http.Response, error) {
	c := http.Client{}
	if client != nil {
		c = *client
	} else {
		c.Jar, _ = cookiejar.New(nil)
	}
	// Redirects are followed here, one by one, to know where the provider
	// ends and the relying party begins.
	c.CheckRedirect = func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }
	issuer, err := url.Parse(p.Issuer)
	if err != nil {
		return nil, err
	}
	onProvider := func(u *url.URL) bool { return u.Scheme == issuer.Scheme && u.Host == issuer.Host }

	// Up to the login form, follow every redirect: the start may be the
	// relying party, which sends the browser to the provider.
	resp, err := follow(ctx, &c, startURL, func(*url.URL) bool { return true })
	if err != nil {
		return nil, err
	}
	page := resp.Request.URL
	body, err := io.ReadAll(resp.Body)
	resp.Body.Close()
	if err != nil {
		return nil, err
	}
	form, err := findPasswordForm(body)
	if err != nil {
		return nil, fmt.Errorf("testenv: no login form at %s (HTTP %d): %w\n%s", page, resp.StatusCode, err, tail(body, 1000))
	}
	action, err := page.Parse(form.action)
	if err != nil {
		return nil, err
	}
	values := url.Values{}
	for _, in := range form.inputs {
		switch in.typ {
		case "password":
			values.Set(in.name, password)
		case "hidden", "submit":
			values.Set(in.name, in.value)
		default: // the text field of the username
			values.Set(in.name, username)
		}
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, action.String(), strings.NewReader(values.Encode()))
	if err != nil {
		return nil, err
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	resp, err = c.Do(req)
	if err != nil {
		return nil, err
	}
	resp, err = followFrom(ctx, &c, resp, onProvider)
	if err != nil {
		return nil, err
	}
	if resp.StatusCode == http.StatusOK && onProvider(resp.Request.URL) {
		body, err := io.ReadAll(resp.Body)
		resp.Body.Close()
		if err != nil {
			return nil, err
		}
		if f, err := findPasswordForm(body); err == nil {
			return nil, fmt.Errorf("%w: %s", ErrLoginRefused, f.message)
		}
		resp.Body = io.NopCloser(strings.NewReader(string(body)))
	}
	return resp, nil
}

// follow GETs rawURL and follows redirects while keep(target) holds.
func follow(ctx context.Context, c *http.Client, rawURL string, keep func(*url.URL) bool) (*http.Response, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, rawURL, nil)
	if err != nil {
		return nil, err
	}
	resp, err := c.Do(req)
	if err != nil {
		return nil, err
	}
	return followFrom(ctx, c, resp, keep)
}

func followFrom(ctx context.Context, c *http.Client, resp *http.Response, keep func(*url.URL) bool) (*http.Response, error) {
	for hops := 0; ; hops++ {
		loc, err := resp.Location()
		if err != nil || resp.StatusCode < 300 || resp.StatusCode > 399 || !keep(loc) {
			return resp, nil
		}
		if hops == 20 {
			resp.Body.Close()
			return nil, fmt.Errorf("testenv: too many redirects, last to %s", loc)
		}
		io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		req, err := http.NewRequestWithContext(ctx, http.MethodGet, loc.String(), nil)
		if err != nil {
			return nil, err
		}
		if resp, err = c.Do(req); err != nil {
			return nil, err
		}
	}
}

// loginForm is the HTML form that has a password field.
type loginForm struct {
	action  string
	inputs  []formInput
	message string // text of the form's paragraphs: the error after a refusal
}

type formInput struct{ name, typ, value string }

func findPasswordForm(page []byte) (*loginForm, error) {
	doc, err := html.Parse(strings.NewReader(string(page)))
	if err != nil {
		return nil, err
	}
	for n := range doc.Descendants() {
		if n.Type != html.ElementNode || n.Data != "form" {
			continue
		}
		f := &loginForm{action: attr(n, "action")}
		hasPassword := false
		var msg []string
		for d := range n.Descendants() {
			if d.Type != html.ElementNode {
				continue
			}
			switch d.Data {
			case "input":
				in := formInput{name: attr(d, "name"), typ: strings.ToLower(attr(d, "type")), value: attr(d, "value")}
				if in.typ == "password" {
					hasPassword = true
				}
				if in.name != "" {
					f.inputs = append(f.inputs, in)
				}
			case "p":
				if s := strings.TrimSpace(text(d)); s != "" {
					msg = append(msg, s)
				}
			}
		}
		if hasPassword {
			f.message = strings.Join(msg, "; ")
			return f, nil
		}
	}
	return nil, errors.New("no form with a password field")
}

func attr(n *html.Node, key string) string {
	for _, a := range n.Attr {
		if a.Key == key {
			return a.Val
		}
	}
	return ""
}

func text(n *html.Node) string {
	var b strings.Builder
	for d := range n.Descendants() {
		if d.Type == html.TextNode {
			b.WriteString(d.Data)
		}
	}
	return b.String()
}

// BackChannelLogoutEvent is the events member of a logout token.
const BackChannelLogoutEvent = "http://schemas.openid.net/event/backchannel-logout"

// LogoutToken returns a back-channel logout token (OpenID Connect
// Back-Channel Logout 1.0) for the provider's client, naming sub and/or
// sid, signed with the provider's own key (the one its JWKS publishes).
// The example provider cannot send one itself; a test posts it to the
// relying party as the provider would. edit, if set, changes the claims
// before signing (to forge bad tokens).
func (p *IdentityProvider) LogoutToken(sub, sid string, edit func(claims map[string]any)) (string, error) {
	key, err := p.storage.SigningKey(context.Background())
	if err != nil {
		return "", err
	}
	signer, err := op.SignerFromKey(key)
	if err != nil {
		return "", err
	}
	now := time.Now()
	claims := map[string]any{
		"iss": p.Issuer, "aud": p.ClientID, "iat": now.Unix(), "exp": now.Add(2 * time.Minute).Unix(),
		"jti":    randomHex(16),
		"events": map[string]any{BackChannelLogoutEvent: map[string]any{}},
	}
	if sub != "" {
		claims["sub"] = sub
	}
	if sid != "" {
		claims["sid"] = sid
	}
	if edit != nil {
		edit(claims)
	}
	payload, err := json.Marshal(claims)
	if err != nil {
		return "", err
	}
	jws, err := signer.Sign(payload)
	if err != nil {
		return "", err
	}
	return jws.CompactSerialize()
}
