package logging

import (
	"bytes"
	"encoding/json"
	"log/slog"
	"strings"
	"testing"
)

func TestLongestCategoryPrefixWins(t *testing.T) {
	f, err := New(&bytes.Buffer{}, "simple", map[string]string{
		"Default": "Warning",
		"Cesivi":  "Information",
		"Cesivi.Server.Authorization.DistributedUserContextCache": "Debug",
		"cesivi.server.noisy": "None",
	})
	if err != nil {
		t.Fatal(err)
	}
	cases := map[string]slog.Level{
		"Other":         slog.LevelWarn,
		"Cesivi":        slog.LevelInfo,
		"Cesivi.Server": slog.LevelInfo,
		"Cesivi.Server.Authorization.DistributedUserContextCache":     slog.LevelDebug,
		"Cesivi.Server.Authorization.DistributedUserContextCache.Sub": slog.LevelDebug,
		"CesiviX":             slog.LevelWarn, // a prefix only on dot boundaries
		"Cesivi.Server.Noisy": LevelNone,      // categories are case-insensitive
	}
	for category, want := range cases {
		if got := f.Level(category); got != want {
			t.Errorf("Level(%q) = %v, want %v", category, got, want)
		}
	}
}

func TestLoggerFiltersByItsCategoryAndNamesIt(t *testing.T) {
	var buf bytes.Buffer
	f, err := New(&buf, "json", map[string]string{"Default": "Information", "Quiet": "Error", "Off": "None"})
	if err != nil {
		t.Fatal(err)
	}
	f.Logger("Loud").Info("kept")
	f.Logger("Loud").Debug("dropped-debug")
	f.Logger("Quiet").Warn("dropped-warn")
	f.Logger("Quiet").Error("kept-error")
	f.Logger("Off").Error("dropped-off")
	out := buf.String()
	for _, s := range []string{"dropped-debug", "dropped-warn", "dropped-off"} {
		if strings.Contains(out, s) {
			t.Errorf("%q was logged: %s", s, out)
		}
	}
	lines := strings.Split(strings.TrimSpace(out), "\n")
	if len(lines) != 2 {
		t.Fatalf("got %d lines, want 2: %s", len(lines), out)
	}
	var rec map[string]any
	if err := json.Unmarshal([]byte(lines[1]), &rec); err != nil {
		t.Fatal(err)
	}
	if rec["category"] != "Quiet" || rec["msg"] != "kept-error" {
		t.Errorf("record %v, want category Quiet and msg kept-error", rec)
	}
}

func TestTraceAndCriticalPrintTheirNames(t *testing.T) {
	var buf bytes.Buffer
	f, _ := New(&buf, "simple", map[string]string{"Default": "Trace"})
	l := f.Logger("x")
	l.Log(t.Context(), LevelTrace, "t")
	l.Log(t.Context(), LevelCritical, "c")
	if !strings.Contains(buf.String(), "level=TRACE") || !strings.Contains(buf.String(), "level=CRITICAL") {
		t.Errorf("output: %s", buf.String())
	}
}

func TestBadLevelIsAnError(t *testing.T) {
	if _, err := New(&bytes.Buffer{}, "simple", map[string]string{"Cesivi": "Loud"}); err == nil || !strings.Contains(err.Error(), "Logging:LogLevel:Cesivi") {
		t.Fatalf("err = %v, want one naming Logging:LogLevel:Cesivi", err)
	}
}

func TestPrintfLoggerRespectsTheCategoryLevel(t *testing.T) {
	var buf bytes.Buffer
	f, _ := New(&buf, "simple", map[string]string{"Default": "Information", "Lib.Quiet": "Error"})
	PrintfLogger{Logger: f.Logger("Lib"), Level: slog.LevelWarn}.Printf(t.Context(), "dial %s failed", "x")
	PrintfLogger{Logger: f.Logger("Lib.Quiet"), Level: slog.LevelWarn}.Printf(t.Context(), "hidden")
	if !strings.Contains(buf.String(), `msg="dial x failed"`) || strings.Contains(buf.String(), "hidden") {
		t.Errorf("output: %s", buf.String())
	}
}
