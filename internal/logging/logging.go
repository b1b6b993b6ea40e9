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
	"sync/atomic"
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

// Factory makes category loggers that share one output. Its levels can be
// replaced while it runs (SetLevels): loggers already made follow.
type Factory struct {
	out     slog.Handler
	table   atomic.Pointer[levelTable]
	closers []io.Closer // the sinks' files
}

// levelTable is one configuration of levels; it is replaced whole.
type levelTable struct {
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
	f := &Factory{out: out}
	if err := f.SetLevels(levels); err != nil {
		return nil, err
	}
	return f, nil
}

// SetLevels replaces the levels (as in New) of every logger of the
// factory, those already made included; on an error nothing changes.
func (f *Factory) SetLevels(levels map[string]string) error {
	t := &levelTable{levels: map[string]slog.Level{}, def: slog.LevelInfo}
	for category, name := range levels {
		lvl, err := ParseLevel(name)
		if err != nil {
			return fmt.Errorf("Logging:LogLevel:%s: %w", category, err)
		}
		if strings.EqualFold(category, "Default") {
			t.def = lvl
			continue
		}
		t.levels[strings.ToLower(category)] = lvl
	}
	f.table.Store(t)
	return nil
}

// Close closes the files of the factory's sinks.
func (f *Factory) Close() error {
	var first error
	for _, c := range f.closers {
		if err := c.Close(); err != nil && first == nil {
			first = err
		}
	}
	return first
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
func (f *Factory) Level(category string) slog.Level { return f.table.Load().level(category) }

func (t *levelTable) level(category string) slog.Level {
	c := strings.ToLower(category)
	for {
		if lvl, ok := t.levels[c]; ok {
			return lvl
		}
		i := strings.LastIndexByte(c, '.')
		if i < 0 {
			return t.def
		}
		c = c[:i]
	}
}

// Logger returns the logger for category; every record carries the category.
func (f *Factory) Logger(category string) *slog.Logger {
	h := &categoryHandler{next: f.out.WithAttrs([]slog.Attr{slog.String("category", category)}),
		lc: &levelCache{f: f, category: category}}
	return slog.New(h)
}

// levelCache remembers a category's level for one level table, so that
// Enabled costs two atomic loads until SetLevels installs another table.
type levelCache struct {
	f        *Factory
	category string
	cached   atomic.Pointer[cachedLevel]
}

type cachedLevel struct {
	table *levelTable
	min   slog.Level
}

func (c *levelCache) min() slog.Level {
	t := c.f.table.Load()
	if got := c.cached.Load(); got != nil && got.table == t {
		return got.min
	}
	m := t.level(c.category)
	c.cached.Store(&cachedLevel{table: t, min: m})
	return m
}

type categoryHandler struct {
	next slog.Handler
	lc   *levelCache
}

func (h *categoryHandler) Enabled(_ context.Context, l slog.Level) bool {
	min := h.lc.min()
	return min != LevelNone && l >= min
}

func (h *categoryHandler) Handle(ctx context.Context, r slog.Record) error {
	return h.next.Handle(ctx, r)
}

func (h *categoryHandler) WithAttrs(as []slog.Attr) slog.Handler {
	return &categoryHandler{next: h.next.WithAttrs(as), lc: h.lc}
}

func (h *categoryHandler) WithGroup(name string) slog.Handler {
	return &categoryHandler{next: h.next.WithGroup(name), lc: h.lc}
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
