// Package cesivi is the module root. Importing it registers the Cesivi edge
// modules with Caddy, so the module works as an ordinary Caddy plugin:
//
//	xcaddy build --with github.com/cesivi/cesivi@v0.0.0=<checkout>
//
// (xcaddy imports the path given to --with). The programs are in cmd/.
package cesivi

import _ "github.com/cesivi/cesivi/caddymodule"
