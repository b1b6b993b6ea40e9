package logging

import (
	"testing"
	"time"
)

func TestDailyFilePathInsertsTheDateBeforeTheExtension(t *testing.T) {
	day := time.Date(2026, 12, 1, 23, 59, 0, 0, time.UTC)
	for in, want := range map[string]string{
		"/var/log/spm/log-.txt": "/var/log/spm/log-20261201.txt",
		"logs/app.log":          "logs/app20261201.log",
		"logs/app":              "logs/app20261201",
		"a.b/log-.txt":          "a.b/log-20261201.txt",
	} {
		if got := DailyFilePath(in, day); got != want {
			t.Errorf("DailyFilePath(%q) = %q, want %q", in, got, want)
		}
	}
}
