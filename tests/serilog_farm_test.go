package tests

import (
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/cesivi/cesivi/internal/testenv"
	"github.com/cesivi/cesivi/tests/farm"
)

// seedSerilog is the seed's "Serilog" section as its deployment guide
// writes it, character for character in its values.
const seedSerilog = `{
  "Serilog": {
    "MinimumLevel": {
      "Default": "Information",
      "Override": {
        "Microsoft": "Warning",
        "Cesivi.Server.Services.DistributedSessionStateStore": "Debug",
        "Cesivi.Server.Authentication.DistributedTokenCache": "Debug",
        "Cesivi.Server.Authorization.DistributedUserContextCache": "Debug"
      }
    },
    "WriteTo": [
      {"Name": "Console", "Args": {"outputTemplate": "[{Timestamp:HH:mm:ss} {Level:u3}] {SourceContext} {Message:lj}{NewLine}{Exception}"}},
      {"Name": "File", "Args": {"path": "/var/log/spm/log-.txt", "rollingInterval": "Day", "retainedFileCountLimit": 7}}
    ]
  }
}`

// A farm whose servers run the seed's Serilog configuration (make farm
// FARM_SETTINGS=…) writes each server's daily file, and the seed's debug
// category of the user-context cache shows the pub/sub messages that
// keep the farm's caches consistent, on every server: a permission
// change made through one server is logged by each as it drops its copy.
// (Keeping 7 days is internal/logging's TestAFileSinkKeepsRetainedFileCountLimitFiles,
// on a fake clock.)
func TestFarmWithTheSeedsSerilogWritesDailyFilesAndTheCacheDebugCategory(t *testing.T) {
	settings := filepath.Join(t.TempDir(), "appsettings.json")
	if err := os.WriteFile(settings, []byte(seedSerilog), 0o600); err != nil {
		t.Fatal(err)
	}
	f := startFarm(t, farm.Options{Servers: 2, Edges: 1, ServerSettings: settings})
	grantBobRead(t, f)
	waitForCacheDebugLines(t, f, true)
}

// The seed's troubleshooting turns the same debug category on with one
// variable, without any Serilog section.
func TestTheSeedsTroubleshootingVariableShowsTheCachesPubSubMessages(t *testing.T) {
	f := startFarm(t, farm.Options{Servers: 2, Edges: 1,
		ServerEnv: []string{"Cesivi__Logging__LogLevel__Cesivi.Server.Authorization.DistributedUserContextCache=Debug"}})
	grantBobRead(t, f)
	waitForCacheDebugLines(t, f, false)
}

// grantBobRead gives the second development user Read on the site through
// the farm's edge: his user context is then stale on every server.
func grantBobRead(t *testing.T, f *farm.Farm) {
	t.Helper()
	edge := f.Edges[0]
	c := newAPIClient(t, f)
	bob := testenv.DevUsers()[1]
	var user struct {
		ID int64 `json:"Id"`
	}
	decodeJSON(t, c.must(t, http.StatusOK, http.MethodPost, edge+"/_api/web/ensureUser", map[string]any{"logonName": "i:0#.f|membership|" + bob.Email}), &user)
	c.must(t, http.StatusOK, http.MethodPost, edge+fmt.Sprintf("/_api/web/roleAssignments/addRoleAssignment(principalid=%d,roledefid=1073741826)", user.ID), nil)
}

// waitForCacheDebugLines waits until every server's console shows the
// cache's invalidation at debug level with its category, and with
// dailyFiles its daily file in logs/<server>/ too.
func waitForCacheDebugLines(t *testing.T, f *farm.Farm, dailyFiles bool) {
	t.Helper()
	daily := regexp.MustCompile(`^log-\d{8}\.txt$`)
	const category = "Cesivi.Server.Authorization.DistributedUserContextCache"
	deadline := time.Now().Add(30 * time.Second)
	for _, name := range []string{"server-1", "server-2"} {
		var file, console string
		for {
			file, console = "", ""
			dir := filepath.Join(f.Dir(), "logs", name)
			entries, _ := os.ReadDir(dir)
			for _, e := range entries {
				if !daily.MatchString(e.Name()) {
					t.Fatalf("%s holds %s, not a daily file of log-.txt", dir, e.Name())
				}
				b, _ := os.ReadFile(filepath.Join(dir, e.Name()))
				file += string(b)
			}
			b, _ := os.ReadFile(filepath.Join(f.Dir(), "logs", name+".log"))
			console = string(b)
			// The seed's template writes "[HH:mm:ss DBG] <category> <message>";
			// Cesivi's default text format names the category as an attribute.
			inConsole := strings.Contains(console, "DBG] "+category+" cache entry invalidated") ||
				strings.Contains(console, `level=DEBUG msg="cache entry invalidated"`) && strings.Contains(console, "category="+category)
			if inConsole && (!dailyFiles || strings.Contains(file, "[DBG] cache entry invalidated")) {
				break
			}
			if time.Now().After(deadline) {
				t.Fatalf("%s: no debug line of the cache's invalidation within 30 s\n--- daily files (%d entries):\n%s\n--- console:\n%s",
					name, len(entries), tail(file, 2000), tail(console, 2000))
			}
			time.Sleep(100 * time.Millisecond)
		}
		if dailyFiles && !strings.Contains(file, "[INF]") {
			t.Errorf("%s's daily file holds no information line: %s", name, tail(file, 1000))
		}
	}
}

func tail(s string, n int) string {
	if len(s) > n {
		return s[len(s)-n:]
	}
	return s
}
