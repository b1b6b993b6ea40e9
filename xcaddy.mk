# The same edge built with xcaddy, for users who add other Caddy plugins:
#   make xcaddy XCADDY_WITH="--with github.com/mholt/caddy-ratelimit"
# xcaddy runs `go get` even for a replaced module, and the module proxy
# refuses an unpublished path, so the local module is pinned as @v0.0.0
# (a bare local path fails).
XCADDY_VERSION ?= v0.4.5
CADDY_VERSION  ?= $(shell $(GO) list -m -f '{{.Version}}' github.com/caddyserver/caddy/v2)
CESIVI_MODULE  := $(shell $(GO) list -m)
XCADDY_WITH    ?=

.PHONY: xcaddy
xcaddy:
	$(GO) run github.com/caddyserver/xcaddy/cmd/xcaddy@$(XCADDY_VERSION) build $(CADDY_VERSION) \
		--output bin/cesivi-edge-xcaddy \
		--with $(CESIVI_MODULE)@v0.0.0=$(CURDIR) $(XCADDY_WITH)
	bin/cesivi-edge-xcaddy list-modules | grep -q cesivi_strip_identity
	@echo "built bin/cesivi-edge-xcaddy"
