package logging

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"log/slog"
	"strings"
	"testing"
	"time"
)

// seedTemplate is the seed's Console outputTemplate.
const seedTemplate = "[{Timestamp:HH:mm:ss} {Level:u3}] {SourceContext} {Message:lj}{NewLine}{Exception}"

var at = time.Date(2026, 12, 1, 9, 5, 7, 123456789, time.FixedZone("CET", 3600))

func render(t *testing.T, tmpl string, e event) string {
	t.Helper()
	return string(ParseTemplate(tmpl).render(nil, &e))
}

func TestSeedTemplateRendersLikeSerilog(t *testing.T) {
	e := event{t: at, level: slog.LevelInfo, msg: "key ring refreshed", category: "Cesivi.Server.DataProtection",
		attrs: []field{{"keys", slog.IntValue(3)}, {"server", slog.StringValue("spm-server-1")}, {"why", slog.StringValue("two words")}}}
	got := render(t, seedTemplate, e)
	want := "[09:05:07 INF] Cesivi.Server.DataProtection key ring refreshed keys=3 server=spm-server-1 why=\"two words\"\n"
	if got != want {
		t.Errorf("got  %q\nwant %q", got, want)
	}

	e.level, e.exc = slog.LevelError, "dial tcp 10.0.0.1:6379: connection refused"
	got = render(t, seedTemplate, e)
	if !strings.HasPrefix(got, "[09:05:07 ERR] ") || !strings.HasSuffix(got, "\ndial tcp 10.0.0.1:6379: connection refused\n") {
		t.Errorf("with an error: %q", got)
	}
}

func TestLevelFormats(t *testing.T) {
	cases := []struct {
		l      slog.Level
		format string
		want   string
	}{
		{LevelTrace, "u3", "VRB"}, {slog.LevelDebug, "u3", "DBG"}, {slog.LevelInfo, "u3", "INF"},
		{slog.LevelWarn, "u3", "WRN"}, {slog.LevelError, "u3", "ERR"}, {LevelCritical, "u3", "FTL"},
		{slog.LevelInfo, "w3", "inf"}, {slog.LevelInfo, "t3", "Inf"}, {slog.LevelWarn, "u4", "WARN"},
		{slog.LevelInfo, "", "Information"}, {slog.LevelWarn, "u", "WARNING"}, {slog.LevelError, "u1", "E"},
	}
	for _, c := range cases {
		if got := levelText(c.l, c.format); got != c.want {
			t.Errorf("levelText(%v, %q) = %q, want %q", c.l, c.format, got, c.want)
		}
	}
}

func TestTimestampFormats(t *testing.T) {
	cases := map[string]string{
		"{Timestamp:HH:mm:ss}":                    "09:05:07",
		"{Timestamp:yyyy-MM-dd HH:mm:ss.fff zzz}": "2026-12-01 09:05:07.123 +01:00",
		"{Timestamp}":                             "2026-12-01 09:05:07.123 +01:00",
		"{Timestamp:o}":                           "2026-12-01T09:05:07.1234567+01:00",
		"{Timestamp:dd/MM/yy h:mm tt}":            "01/12/26 9:05 AM",
		"{Timestamp:yyyyMMdd'T'HHmm}":             "20261201T0905",
		"{Timestamp:MMM ddd}":                     "Dec Tue",
	}
	for tmpl, want := range cases {
		if got := render(t, tmpl, event{t: at}); got != want {
			t.Errorf("%s = %q, want %q", tmpl, got, want)
		}
	}
}

func TestTemplateTokensEscapesAndUnknownNames(t *testing.T) {
	e := event{t: at, level: slog.LevelWarn, msg: "m", category: "C",
		attrs: []field{{"ServerId", slog.StringValue("s1")}, {"n", slog.IntValue(2)}}}
	cases := map[string]string{
		"{{literal}} {Level,-8}|":       "{literal} Warning |",
		"{Level,9}|":                    "  Warning|",
		"{ServerId} {Message}":          "\"s1\" m n=2", // a named attribute is not repeated after the message
		"{Message} {Properties}":        "m {ServerId=\"s1\", n=2}",
		"{NoSuchThing} {Message:l}":     "{NoSuchThing} m ServerId=s1 n=2",
		"{Unclosed {Level:u3}":          "{Unclosed WRN",
		"{Bad Name} {SourceContext}":    "{Bad Name} C",
		"{Message}{NewLine}{Exception}": "m ServerId=\"s1\" n=2\n",
	}
	for tmpl, want := range cases {
		if got := render(t, tmpl, e); got != want {
			t.Errorf("%q rendered %q, want %q", tmpl, got, want)
		}
	}
}

func TestConsoleSinkThroughTheFactory(t *testing.T) {
	var buf bytes.Buffer
	f, err := NewSinks([]Sink{{Key: "Serilog:WriteTo:0", Name: SinkConsole, OutputTemplate: seedTemplate}},
		Options{Console: &buf}, map[string]string{"Default": "Information", "Cesivi.Server.Noisy": "Error"})
	if err != nil {
		t.Fatal(err)
	}
	log := f.Logger("Cesivi.Server").With("server", "s1").WithGroup("req")
	log.Info("served", "status", 200)
	log.Debug("dropped-debug")
	f.Logger("Cesivi.Server.Noisy").Warn("dropped-warn")
	f.Logger("Cesivi.Server").Error("failed", "error", errors.New("boom"))
	out := buf.String()
	lines := strings.Split(strings.TrimSuffix(out, "\n"), "\n")
	if len(lines) != 3 || strings.Contains(out, "dropped") {
		t.Fatalf("output:\n%s", out)
	}
	if !strings.HasSuffix(lines[0], " INF] Cesivi.Server served server=s1 req.status=200") {
		t.Errorf("line 1 %q", lines[0])
	}
	if !strings.HasSuffix(lines[1], " ERR] Cesivi.Server failed") || lines[2] != "boom" {
		t.Errorf("error lines %q %q", lines[1], lines[2])
	}
}

func TestCompactJSONForLogShippers(t *testing.T) {
	var buf bytes.Buffer
	f, err := NewSinks([]Sink{{Name: SinkConsole, JSON: true}}, Options{Console: &buf}, map[string]string{"Default": "Trace"})
	if err != nil {
		t.Fatal(err)
	}
	f.Logger("Cesivi.Server.Storage").Warn("slow \"query\"", "ms", 1200, "@t", "clash", "error", errors.New("timeout"), "tags", []string{"a", "b"})
	f.Logger("Cesivi").Log(context.Background(), LevelTrace, "deep")
	lines := strings.Split(strings.TrimSuffix(buf.String(), "\n"), "\n")
	if len(lines) != 2 {
		t.Fatalf("want one JSON object a line:\n%s", buf.String())
	}
	var rec map[string]any
	if err := json.Unmarshal([]byte(lines[0]), &rec); err != nil {
		t.Fatalf("not JSON: %v\n%s", err, lines[0])
	}
	want := map[string]any{"@m": `slow "query"`, "@l": "Warning", "@x": "timeout", "SourceContext": "Cesivi.Server.Storage",
		"ms": 1200.0, "@@t": "clash"}
	for k, v := range want {
		if rec[k] != v {
			t.Errorf("%s = %v, want %v (%s)", k, rec[k], v, lines[0])
		}
	}
	if tags, _ := rec["tags"].([]any); len(tags) != 2 {
		t.Errorf("tags = %v", rec["tags"])
	}
	if ts, _ := rec["@t"].(string); !strings.HasSuffix(ts, "Z") {
		t.Errorf("@t = %v, want UTC", rec["@t"])
	} else if _, err := time.Parse(time.RFC3339Nano, ts); err != nil {
		t.Errorf("@t %q: %v", ts, err)
	}
	if !strings.Contains(lines[1], `"@l":"Verbose"`) {
		t.Errorf("trace line %s", lines[1])
	}
}

func TestRestrictedToMinimumLevelPerSink(t *testing.T) {
	var all, errs bytes.Buffer
	f, err := NewSinks([]Sink{{Name: SinkConsole, OutputTemplate: "{Message}{NewLine}"}}, Options{Console: &all}, nil)
	if err != nil {
		t.Fatal(err)
	}
	g, err := NewSinks([]Sink{{Name: SinkConsole, OutputTemplate: "{Message}{NewLine}", RestrictedToMinimumLevel: "Error"}}, Options{Console: &errs}, nil)
	if err != nil {
		t.Fatal(err)
	}
	for _, fac := range []*Factory{f, g} {
		fac.Logger("X").Info("info")
		fac.Logger("X").Error("error")
	}
	if all.String() != "info\nerror\n" || errs.String() != "error\n" {
		t.Errorf("all %q errs %q", all.String(), errs.String())
	}
}

func TestJSONFormatterNames(t *testing.T) {
	for _, name := range []string{"Serilog.Formatting.Compact.CompactJsonFormatter, Serilog.Formatting.Compact",
		"Serilog.Formatting.Compact.RenderedCompactJsonFormatter, Serilog.Formatting.Compact",
		"Serilog.Formatting.Json.JsonFormatter, Serilog", "json", "Compact"} {
		if !JSONFormatter(name) {
			t.Errorf("%q not taken as JSON", name)
		}
	}
	for _, name := range []string{"", "Serilog.Formatting.Display.MessageTemplateTextFormatter, Serilog", "xml"} {
		if JSONFormatter(name) {
			t.Errorf("%q taken as JSON", name)
		}
	}
}

func TestSetLevelsChangesLoggersAlreadyMade(t *testing.T) {
	var buf bytes.Buffer
	f, err := New(&buf, "simple", map[string]string{"Default": "Warning"})
	if err != nil {
		t.Fatal(err)
	}
	log := f.Logger("Cesivi.Server.Authorization.DistributedUserContextCache").With("k", "v")
	log.Debug("before")
	if err := f.SetLevels(map[string]string{"Default": "Warning", "Cesivi.Server.Authorization": "Debug"}); err != nil {
		t.Fatal(err)
	}
	log.Debug("after")
	if err := f.SetLevels(map[string]string{"Default": "Loud"}); err == nil {
		t.Error("a bad level name must be refused")
	}
	log.Debug("still")
	out := buf.String()
	if strings.Contains(out, "before") || !strings.Contains(out, "after") || !strings.Contains(out, "still") {
		t.Errorf("output:\n%s", out)
	}
}
