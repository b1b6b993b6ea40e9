package logging

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"strconv"
	"strings"
	"sync"
	"time"
)

// event is a record flattened for the Serilog-style formats: group
// attributes become dotted keys, the category (SourceContext) and the error
// (Exception) are taken out.
type event struct {
	t        time.Time
	level    slog.Level
	msg      string
	category string
	exc      string
	attrs    []field
}

type field struct {
	key string
	val slog.Value
}

// exceptionKeys are the attribute names rendered by {Exception} (and "@x"):
// Cesivi logs errors as "error".
func exceptionKey(k string) bool { return k == "error" || k == "err" || k == "exception" }

// encoder appends one formatted event, with its line end, to buf.
type encoder interface {
	encode(buf []byte, e *event) []byte
}

func (t *Template) encode(buf []byte, e *event) []byte { return t.render(buf, e) }

// syncWriter serialises writes of whole lines to one output.
type syncWriter struct {
	mu sync.Mutex
	w  io.Writer
}

func (s *syncWriter) write(p []byte) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	_, err := s.w.Write(p)
	return err
}

// formatHandler is the slog.Handler of a Serilog-style sink. It accepts
// every level: the category handlers in front of it filter.
type formatHandler struct {
	out      *syncWriter
	enc      encoder
	category string
	attrs    []field
	group    string // "a.b." for attributes added under WithGroup("a").WithGroup("b")
}

func newFormatHandler(w io.Writer, enc encoder) *formatHandler {
	return &formatHandler{out: &syncWriter{w: w}, enc: enc}
}

func (h *formatHandler) Enabled(context.Context, slog.Level) bool { return true }

func (h *formatHandler) Handle(_ context.Context, r slog.Record) error {
	e := event{t: r.Time, level: r.Level, msg: r.Message, category: h.category}
	e.attrs = make([]field, 0, len(h.attrs)+r.NumAttrs())
	e.attrs = append(e.attrs, h.attrs...)
	r.Attrs(func(a slog.Attr) bool {
		e.attrs = appendAttr(e.attrs, h.group, a)
		return true
	})
	for i, f := range e.attrs {
		if exceptionKey(f.key) {
			e.exc = valueText(f.val)
			e.attrs = append(e.attrs[:i:i], e.attrs[i+1:]...)
			break
		}
	}
	return h.out.write(h.enc.encode(make([]byte, 0, 256), &e))
}

func appendAttr(fs []field, prefix string, a slog.Attr) []field {
	a.Value = a.Value.Resolve()
	if a.Equal(slog.Attr{}) {
		return fs
	}
	if a.Value.Kind() == slog.KindGroup {
		p := prefix
		if a.Key != "" {
			p += a.Key + "."
		}
		for _, g := range a.Value.Group() {
			fs = appendAttr(fs, p, g)
		}
		return fs
	}
	return append(fs, field{key: prefix + a.Key, val: a.Value})
}

func (h *formatHandler) WithAttrs(as []slog.Attr) slog.Handler {
	c := *h
	c.attrs = append([]field(nil), h.attrs...)
	for _, a := range as {
		// The factory names every logger with a top-level "category"
		// attribute: that is Serilog's SourceContext.
		if h.group == "" && a.Key == "category" {
			c.category = a.Value.String()
			continue
		}
		c.attrs = appendAttr(c.attrs, h.group, a)
	}
	return &c
}

func (h *formatHandler) WithGroup(name string) slog.Handler {
	if name == "" {
		return h
	}
	c := *h
	c.group += name + "."
	return &c
}

// clef is Serilog's compact JSON format (CLEF), one object a line, which
// Seq, Fluent Bit, Vector and the like read: "@t" the time (UTC, RFC 3339),
// "@m" the message, "@l" the level (Serilog's name, always written),
// "@x" the error, "SourceContext" the category, then the attributes.
type clef struct{}

func (clef) encode(buf []byte, e *event) []byte {
	buf = append(buf, `{"@t":"`...)
	buf = e.t.UTC().AppendFormat(buf, "2006-01-02T15:04:05.0000000Z")
	buf = append(buf, `","@m":`...)
	buf = appendJSONString(buf, e.msg)
	buf = append(buf, `,"@l":"`...)
	buf = append(buf, serilogLevelNames[levelIndex(e.level)]...)
	buf = append(buf, '"')
	if e.exc != "" {
		buf = append(buf, `,"@x":`...)
		buf = appendJSONString(buf, e.exc)
	}
	if e.category != "" {
		buf = append(buf, `,"SourceContext":`...)
		buf = appendJSONString(buf, e.category)
	}
	for _, f := range e.attrs {
		key := f.key
		// CLEF reserves names starting with @; it escapes them by doubling.
		if strings.HasPrefix(key, "@") {
			key = "@" + key
		}
		buf = append(buf, ',')
		buf = appendJSONString(buf, key)
		buf = append(buf, ':')
		buf = appendJSONValue(buf, f.val)
	}
	return append(buf, "}\n"...)
}

func appendJSONString(buf []byte, s string) []byte {
	b, _ := json.Marshal(s) // a string always marshals
	return append(buf, b...)
}

func appendJSONValue(buf []byte, v slog.Value) []byte {
	switch v.Kind() {
	case slog.KindInt64:
		return strconv.AppendInt(buf, v.Int64(), 10)
	case slog.KindUint64:
		return strconv.AppendUint(buf, v.Uint64(), 10)
	case slog.KindBool:
		return strconv.AppendBool(buf, v.Bool())
	case slog.KindFloat64:
		if b, err := json.Marshal(v.Float64()); err == nil {
			return append(buf, b...)
		}
	case slog.KindAny:
		x := v.Any()
		if err, ok := x.(error); ok {
			return appendJSONString(buf, err.Error())
		}
		if _, ok := x.(fmt.Stringer); !ok {
			if b, err := json.Marshal(x); err == nil {
				return append(buf, b...)
			}
		}
	}
	return appendJSONString(buf, valueText(v))
}
