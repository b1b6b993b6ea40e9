package oidclogin_test

import (
	"testing"

	"github.com/cesivi/cesivi/internal/testenv"
)

// TestMain stops the shared Redis that testenv.RedisDB starts.
func TestMain(m *testing.M) { testenv.Main(m) }
