package docker

import (
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/cesivi/cesivi/internal/connstr"
)

// The deployment guides are checked as the recipes are: every variable
// they set is read, every file they name exists, no password is written,
// and the connection strings they show parse as the server parses them.

var (
	docSetting  = regexp.MustCompile(`\bCesivi__[A-Za-z0-9_.]*[A-Za-z0-9]`)
	docEdgeVar  = regexp.MustCompile(`\bCESIVI_[A-Z0-9_]*[A-Z0-9]`)
	docRepoPath = regexp.MustCompile("(?:^|[\\s`(])((?:docker|docs|cmd|internal)/[A-Za-z0-9._/-]+[A-Za-z0-9])")
	docPassword = regexp.MustCompile("(?i)(?:password|pwd)=([^;,\"'`\\s]+)")
)

func deployDocs(t *testing.T) map[string]string {
	t.Helper()
	docs := map[string]string{}
	for _, name := range []string{"azure-app-service.md", "aws-ecs.md"} {
		docs[name] = read(t, filepath.Join("../docs/deploy", name))
	}
	return docs
}

func TestDeployDocs(t *testing.T) {
	env := newEnvChecker(t)
	example := caddyfileVars(t, "../Caddyfile.example")
	for name, doc := range deployDocs(t) {
		for _, v := range docSetting.FindAllString(doc, -1) {
			if !env.server(v) {
				t.Errorf("%s: %s is read by no one (misspelt?)", name, v)
			}
		}
		for _, v := range docEdgeVar.FindAllString(doc, -1) {
			if _, ok := example[v]; !ok && !env.edgeVar(v) {
				t.Errorf("%s: %s is read by no one (misspelt?)", name, v)
			}
		}
		for _, m := range docRepoPath.FindAllStringSubmatch(doc, -1) {
			if _, err := os.Stat(filepath.Join("..", m[1])); err != nil {
				t.Errorf("%s names %s, which does not exist", name, m[1])
			}
		}
		for _, m := range docPassword.FindAllStringSubmatch(doc, -1) {
			if v := m[1]; !strings.HasPrefix(v, "$") && v != "…" && !strings.HasPrefix(v, "<") {
				t.Errorf("%s writes a password: %s", name, m[0])
			}
		}
	}
}

// Strings between quotes after --value (az keyvault) or in backticks that
// look like a connection string of the given kind.
func docConnectionStrings(doc string, kind *regexp.Regexp) []string {
	var out []string
	var found []string
	for _, m := range regexp.MustCompile(`--value "([^"]+)"`).FindAllStringSubmatch(doc, -1) {
		found = append(found, m[1])
	}
	for _, m := range regexp.MustCompile("`([^`\n]+)`").FindAllStringSubmatch(doc, -1) {
		found = append(found, m[1])
	}
	for _, s := range found {
		if kind.MatchString(s) {
			out = append(out, strings.NewReplacer("$REDIS_KEY", "k", "$PG_PASSWORD", "p", "…", "x").Replace(s))
		}
	}
	return out
}

var (
	redisString = regexp.MustCompile(`^[a-z0-9.-]+:\d+,`)
	pgString    = regexp.MustCompile(`^Host=`)
)

func TestDeployDocsConnectionStrings(t *testing.T) {
	docs := deployDocs(t)
	azure := docs["azure-app-service.md"]
	// The seed's commands, kept.
	for _, want := range []string{
		"az webapp config appsettings set -n spm-app -g spm-rg --settings",
		"az monitor autoscale create -n spm-autoscale -g spm-rg",
		"--min-count 2", "--max-count 10", "--count 3",
		"Cesivi__DistributedState__Provider=Redis",
	} {
		if !strings.Contains(azure, want) {
			t.Errorf("azure-app-service.md lacks the seed's %q", want)
		}
	}
	for name, want := range map[string]struct{ redis, pg int }{"azure-app-service.md": {1, 1}, "aws-ecs.md": {1, 1}} {
		doc := docs[name]
		redisStrings := docConnectionStrings(doc, redisString)
		if len(redisStrings) < want.redis {
			t.Errorf("%s shows no Redis connection string", name)
		}
		for _, s := range redisStrings {
			o, err := connstr.ParseRedis(s)
			if err != nil {
				t.Errorf("%s: a Redis connection string does not parse: %v", name, err)
				continue
			}
			if !o.TLS {
				t.Errorf("%s: the Redis connection %s does not use TLS", name, o)
			}
			if name == "azure-app-service.md" && !strings.Contains(s, ".redis.cache.windows.net:6380,") {
				t.Errorf("%s: Azure Cache for Redis takes TLS on 6380, not %s", name, o)
			}
		}
		pgStrings := docConnectionStrings(doc, pgString)
		if len(pgStrings) < want.pg {
			t.Errorf("%s shows no PostgreSQL connection string", name)
		}
		for _, s := range pgStrings {
			c, err := connstr.ParsePostgres(s)
			if err != nil {
				t.Errorf("%s: a PostgreSQL connection string does not parse: %v", name, err)
				continue
			}
			if c.ConnConfig.TLSConfig == nil || len(c.ConnConfig.Fallbacks) > 0 {
				t.Errorf("%s: the PostgreSQL connection may fall back to plain text (SSL Mode=Require)", name)
			}
		}
	}
}
