// Command cesivi-edge is Caddy with its standard modules plus the Cesivi
// modules. It is the same program xcaddy would generate; building it with
// plain `go build` needs nothing but the Go module proxy.
package main

import (
	caddycmd "github.com/caddyserver/caddy/v2/cmd"

	_ "github.com/caddyserver/caddy/v2/modules/standard"

	_ "github.com/cesivi/cesivi/caddymodule"
)

func main() { caddycmd.Main() }
