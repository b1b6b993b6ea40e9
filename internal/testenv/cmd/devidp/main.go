// Command devidp runs the test OpenID provider of package testenv as a
// process, for a local farm: a loopback-only zitadel/oidc example OP with one
// confidential client and one user.
//
// When it is ready it prints one JSON line to stdout:
//
//	{"issuer":"http://127.0.0.1:9998/","client_id":"web","client_secret":"…","username":"alice","password":"alice-password",…}
//
// It logs to stderr and stops on SIGTERM or SIGINT.
package main

import (
	"encoding/json"
	"flag"
	"fmt"
	"log/slog"
	"os"
	"os/signal"
	"strings"
	"syscall"

	"github.com/cesivi/cesivi/internal/testenv"
)

func main() {
	addr := flag.String("addr", "127.0.0.1:9998", "loopback address to listen on")
	redirects := flag.String("redirect-uris", "", "comma-separated redirect URIs of the client")
	postLogout := flag.String("post-logout-uris", "", "comma-separated post_logout_redirect_uris of the client")
	clientID := flag.String("client-id", "web", "client ID")
	clientSecret := flag.String("client-secret", "", "client secret (empty: random)")
	flag.Parse()

	logger := slog.New(slog.NewTextHandler(os.Stderr, nil))
	p, err := testenv.StartIdentityProvider(testenv.IdPOptions{
		Addr:                   *addr,
		RedirectURIs:           split(*redirects),
		PostLogoutRedirectURIs: split(*postLogout),
		ClientID:               *clientID,
		ClientSecret:           *clientSecret,
		Logger:                 logger,
	})
	if err != nil {
		fmt.Fprintln(os.Stderr, "devidp:", err)
		os.Exit(1)
	}
	// Subscribe before announcing readiness, so a launcher that signals
	// right after reading the line is not lost.
	sig := make(chan os.Signal, 1)
	signal.Notify(sig, syscall.SIGTERM, syscall.SIGINT)

	// username/password are the administrator's; users lists everyone.
	ready, _ := json.Marshal(map[string]any{
		"issuer":        p.Issuer,
		"client_id":     p.ClientID,
		"client_secret": p.ClientSecret,
		"username":      p.Username,
		"password":      p.Password,
		"subject":       p.Subject,
		"email":         p.Email,
		"users":         p.Users,
	})
	fmt.Println(string(ready))

	s := <-sig
	logger.Info("stopping", "signal", s.String())
	if err := p.Close(); err != nil {
		fmt.Fprintln(os.Stderr, "devidp:", err)
		os.Exit(1)
	}
}

func split(s string) []string {
	var out []string
	for _, part := range strings.Split(s, ",") {
		if part = strings.TrimSpace(part); part != "" {
			out = append(out, part)
		}
	}
	return out
}
