package logging

import (
	"path/filepath"
	"strings"
	"time"
)

// DailyFilePath is the file a Serilog-style File sink with
// rollingInterval Day writes on day t: the date (yyyyMMdd) goes right before
// the extension, so "/var/log/spm/log-.txt" becomes
// "/var/log/spm/log-20261201.txt", as operators of Serilog expect to find it.
// A path with no extension gets the date at its end.
func DailyFilePath(path string, t time.Time) string {
	ext := filepath.Ext(path)
	base := strings.TrimSuffix(path, ext)
	return base + t.Format("20060102") + ext
}
