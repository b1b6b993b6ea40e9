// Package logging gives every component a log/slog logger named by a
// category ("Cesivi.Server.Authorization.DistributedUserContextCache") whose
// minimum level comes from configuration, with ASP.NET Core's rule: the
// longest configured prefix of the category (on dot boundaries) wins, then
// "Default".
package logging

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"strings"
)

// Levels beyond slog's four, named as ASP.NET Core names them.
const (
	LevelTrace    = slog.LevelDebug - 4
	LevelCritical = slog.LevelError + 4
	// LevelNone disables a category.
	LevelNone = slog.Level(1 << 20)
)

// ParseLevel reads an ASP.NET Core level name (Trace, Debug, Information,
// Warning, Error, Critical, None) or a Serilog one (Verbose, Fatal),
// case-insensitive; slog's names work too.
func ParseLevel(name string) (slog.Level, error) {
	switch strings.ToLower(strings.TrimSpace(name)) {
	case "trace", "verbose":
		return LevelTrace, nil
	case "debug":
		return slog.LevelDebug, nil
	case "information", "info":
		return slog.LevelInfo, nil
	case "warning", "warn":
		return slog.LevelWarn, nil
	case "error":
		return slog.LevelError, nil
	case "critical", "fatal":
		return LevelCritical, nil
	case "none":
		return LevelNone, nil
	}
	return 0, fmt.Errorf("%q is not a log level (Trace, Debug, Information, Warning, Error, Critical, None; Serilog's Verbose and Fatal)", name)
}

// Factory makes category loggers that share one output.
type Factory struct {
	out    slog.Handler
	levels map[string]slog.Level // lower-cased category prefix -> level
	def    slog.Level
}

// New returns a factory writing to w as text ("simple") or JSON ("json"),
// with levels keyed by category prefix ("Default" is the fallback). Invalid
// level names are an error.
func New(w io.Writer, format string, levels map[string]string) (*Factory, error) {
	// The output handler accepts everything; each category handler filters.
	opts := &slog.HandlerOptions{Level: LevelTrace, ReplaceAttr: levelNames}
	if strings.EqualFold(format, "json") {
		return NewHandler(slog.NewJSONHandler(w, opts), levels)
	}
	return NewHandler(slog.NewTextHandler(w, opts), levels)
}

// NewHandler returns a factory writing to out (which must accept every
// level: the category loggers filter), with levels as in New. The edge
// writes through Caddy's logger this way.
func NewHandler(out slog.Handler, levels map[string]string) (*Factory, error) {
	f := &Factory{levels: map[string]slog.Level{}, def: slog.LevelInfo, out: out}
	for category, name := range levels {
		lvl, err := ParseLevel(name)
		if err != nil {
			return nil, fmt.Errorf("Logging:LogLevel:%s: %w", category, err)
		}
		if strings.EqualFold(category, "Default") {
			f.def = lvl
			continue
		}
		f.levels[strings.ToLower(category)] = lvl
	}
	return f, nil
}

// levelNames prints the extra levels by name instead of "DEBUG-4".
func levelNames(_ []string, a slog.Attr) slog.Attr {
	if a.Key != slog.LevelKey {
		return a
	}
	switch lvl, _ := a.Value.Any().(slog.Level); lvl {
	case LevelTrace:
		a.Value = slog.StringValue("TRACE")
	case LevelCritical:
		a.Value = slog.StringValue("CRITICAL")
	}
	return a
}

// Level returns the minimum level that applies to category.
func (f *Factory) Level(category string) slog.Level {
	c := strings.ToLower(category)
	for {
		if lvl, ok := f.levels[c]; ok {
			return lvl
		}
		i := strings.LastIndexByte(c, '.')
		if i < 0 {
			return f.def
		}
		c = c[:i]
	}
}

// Logger returns the logger for category; every record carries the category.
func (f *Factory) Logger(category string) *slog.Logger {
	h := &categoryHandler{next: f.out.WithAttrs([]slog.Attr{slog.String("category", category)}), min: f.Level(category)}
	return slog.New(h)
}

type categoryHandler struct {
	next slog.Handler
	min  slog.Level
}

func (h *categoryHandler) Enabled(_ context.Context, l slog.Level) bool {
	return h.min != LevelNone && l >= h.min
}

func (h *categoryHandler) Handle(ctx context.Context, r slog.Record) error {
	return h.next.Handle(ctx, r)
}

func (h *categoryHandler) WithAttrs(as []slog.Attr) slog.Handler {
	return &categoryHandler{next: h.next.WithAttrs(as), min: h.min}
}

func (h *categoryHandler) WithGroup(name string) slog.Handler {
	return &categoryHandler{next: h.next.WithGroup(name), min: h.min}
}

// PrintfLogger adapts a category logger to libraries that log through a
// Printf method (go-redis's redis.SetLogger), at one level.
type PrintfLogger struct {
	Logger *slog.Logger
	Level  slog.Level
}

// Printf logs the formatted message when the level is enabled.
func (p PrintfLogger) Printf(ctx context.Context, format string, v ...any) {
	if p.Logger.Enabled(ctx, p.Level) {
		p.Logger.Log(ctx, p.Level, fmt.Sprintf(format, v...))
	}
}
