package logging

import (
	"path/filepath"
	"strings"
	"time"
)

// rollingLayouts are the dates Serilog puts in a rolling file's name, by
// rollingInterval; Infinite has none.
var rollingLayouts = map[string]string{
	"Infinite": "",
	"Year":     "2006",
	"Month":    "200601",
	"Day":      "20060102",
	"Hour":     "2006010215",
	"Minute":   "200601021504",
}

// DailyFilePath is the file a Serilog-style File sink with
// rollingInterval Day writes on day t: the date (yyyyMMdd) goes right before
// the extension, so "/var/log/spm/log-.txt" becomes
// "/var/log/spm/log-20261201.txt", as operators of Serilog expect to find it.
// A path with no extension gets the date at its end.
func DailyFilePath(path string, t time.Time) string { return RollingFilePath(path, "Day", t) }

// RollingFilePath is DailyFilePath for every rollingInterval (Infinite,
// Year, Month, Day, Hour, Minute): the period's start as yyyy[MM[dd[HH[mm]]]].
func RollingFilePath(path, interval string, t time.Time) string {
	layout := rollingLayouts[interval]
	if layout == "" {
		return path
	}
	ext := filepath.Ext(path)
	base := strings.TrimSuffix(path, ext)
	return base + t.Format(layout) + ext
}
