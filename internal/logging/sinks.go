package logging

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"strings"
	"time"
)

// Sink is one entry of Serilog's WriteTo that Cesivi writes: the Console
// or a File, as text through an output template or as compact JSON.
type Sink struct {
	// Key is the configuration section it came from ("Serilog:WriteTo:1"),
	// for messages.
	Key string
	// Name is SinkConsole or SinkFile.
	Name string
	// OutputTemplate is the text format; "" is the sink's Serilog default.
	OutputTemplate string
	// JSON writes compact JSON (CLEF) instead of the template.
	JSON bool
	// RestrictedToMinimumLevel is a level name ("" for none): records
	// below it are not written to this sink (the category levels apply
	// first), as Serilog's argument of that name.
	RestrictedToMinimumLevel string

	// Path, RollingInterval and RetainedFileCountLimit are the File sink's:
	// the file name with the period's date put before the extension, the
	// period (one of RollingIntervals) and how many files to keep,
	// the current one included (0 keeps them all).
	Path                   string
	RollingInterval        string
	RetainedFileCountLimit int
}

// The sinks Cesivi writes.
const (
	SinkConsole = "Console"
	SinkFile    = "File"
)

// Options are the outputs and clock of NewSinks.
type Options struct {
	// Console is where the Console sink writes (the server's standard error).
	Console io.Writer
	// Now is the clock the File sink rolls by; default time.Now.
	Now func() time.Time
}

// NewSinks returns a factory writing every record to each sink, with levels
// as in New. A File sink's file is opened now, so a path the server cannot
// write is an error at start-up, naming the sink's key.
func NewSinks(sinks []Sink, opt Options, levels map[string]string) (*Factory, error) {
	if len(sinks) == 0 {
		return nil, errors.New("logging: no sink")
	}
	if opt.Now == nil {
		opt.Now = time.Now
	}
	var fan fanout
	var closers []io.Closer
	fail := func(err error) (*Factory, error) {
		for _, c := range closers {
			c.Close()
		}
		return nil, err
	}
	for _, s := range sinks {
		var w io.Writer
		def := DefaultConsoleTemplate
		switch s.Name {
		case SinkConsole:
			w = opt.Console
		case SinkFile:
			f, err := openRollingFile(s.Path, s.RollingInterval, s.RetainedFileCountLimit, opt.Now)
			if err != nil {
				return fail(fmt.Errorf("%s: %w", s.Key, err))
			}
			closers = append(closers, f)
			w, def = f, DefaultFileTemplate
		default:
			return fail(fmt.Errorf("%s: the %q sink is not one Cesivi writes (%s, %s)", s.Key, s.Name, SinkConsole, SinkFile))
		}
		min := LevelTrace
		if s.RestrictedToMinimumLevel != "" {
			l, err := ParseLevel(s.RestrictedToMinimumLevel)
			if err != nil {
				return fail(fmt.Errorf("%s: restrictedToMinimumLevel: %w", s.Key, err))
			}
			min = l
		}
		var enc encoder = clef{}
		if !s.JSON {
			tmpl := s.OutputTemplate
			if strings.TrimSpace(tmpl) == "" {
				tmpl = def
			}
			enc = ParseTemplate(tmpl)
		}
		fan = append(fan, sinkHandler{h: newFormatHandler(w, enc), min: min})
	}
	f, err := NewHandler(fan, levels)
	if err != nil {
		return fail(err)
	}
	f.closers = closers
	return f, nil
}

type sinkHandler struct {
	h   slog.Handler
	min slog.Level
}

// fanout hands each record to every sink whose own minimum it reaches.
type fanout []sinkHandler

func (fanout) Enabled(context.Context, slog.Level) bool { return true }

func (f fanout) Handle(ctx context.Context, r slog.Record) error {
	var errs []error
	for _, s := range f {
		if r.Level >= s.min {
			if err := s.h.Handle(ctx, r); err != nil {
				errs = append(errs, err)
			}
		}
	}
	return errors.Join(errs...)
}

func (f fanout) WithAttrs(as []slog.Attr) slog.Handler {
	out := make(fanout, len(f))
	for i, s := range f {
		out[i] = sinkHandler{h: s.h.WithAttrs(as), min: s.min}
	}
	return out
}

func (f fanout) WithGroup(name string) slog.Handler {
	out := make(fanout, len(f))
	for i, s := range f {
		out[i] = sinkHandler{h: s.h.WithGroup(name), min: s.min}
	}
	return out
}

// JSONFormatter reports whether a Serilog formatter name (as written in
// WriteTo Args "formatter": "Serilog.Formatting.Compact.CompactJsonFormatter,
// Serilog.Formatting.Compact") is one Cesivi writes as compact JSON.
// "json" and "compact" are Cesivi's short names.
func JSONFormatter(name string) bool {
	typ, _, _ := strings.Cut(name, ",")
	typ = strings.TrimSpace(typ)
	if i := strings.LastIndexByte(typ, '.'); i >= 0 {
		typ = typ[i+1:]
	}
	switch strings.ToLower(typ) {
	case "json", "compact", "compactjsonformatter", "renderedcompactjsonformatter", "jsonformatter":
		return true
	}
	return false
}
