package caddymodule

import (
	"context"
	"os"

	caddycmd "github.com/caddyserver/caddy/v2/cmd"
	"github.com/spf13/cobra"

	"github.com/cesivi/cesivi/internal/edgehealth"
)

// cesivi-edge health: the container health check of the edge image (no
// curl in it). The logic is package edgehealth's.
func init() {
	caddycmd.RegisterCommand(caddycmd.Command{
		Name:  "health",
		Usage: "[--url <url>] [--timeout <duration>]",
		Short: "Exits 0 when the edge answers its health URL with 200 (container health checks)",
		Long: `
Asks the URL once (default http://127.0.0.1:<CESIVI_HTTP_PORT, 8080>/health/live,
the edge's own HTTP listener) and exits 0 when it answers 200 within the
timeout, 1 otherwise, saying why on stderr. For Docker Swarm and ECS health
checks, which run a command in the container.`,
		CobraFunc: func(cmd *cobra.Command) {
			cmd.Flags().String("url", "", "health URL (default "+edgehealth.DefaultURL(func(string) string { return "" })+", the port from CESIVI_HTTP_PORT)")
			cmd.Flags().Duration("timeout", edgehealth.DefaultTimeout, "how long to wait for the answer")
			cmd.RunE = caddycmd.WrapCommandFuncForCobra(healthCommand)
		},
	})
}

func healthCommand(fl caddycmd.Flags) (int, error) {
	url := fl.String("url")
	if url == "" {
		url = edgehealth.DefaultURL(os.Getenv)
	}
	body, err := edgehealth.Check(context.Background(), url, fl.Duration("timeout"))
	if err != nil {
		return 1, err
	}
	os.Stdout.Write(body)
	return 0, nil
}
