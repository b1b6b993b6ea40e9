package odata

import (
	"net/http"
	"strconv"
	"strings"
)

// Format is a response's JSON shape.
type Format uint8

// The formats Cesivi answers in.
const (
	// Minimal is JSON light with minimal metadata: odata.metadata,
	// odata.type, odata.id, odata.etag, odata.editLink, value,
	// odata.nextLink. A bare application/json, odata=fullmetadata, */*
	// and a missing Accept all get it (real SharePoint answers a missing
	// Accept with Atom; Cesivi deliberately does not).
	Minimal Format = iota
	// NoMetadata is JSON light without annotations (value and
	// odata.nextLink remain).
	NoMetadata
	// Verbose is the d/__metadata/results/__next shape of
	// application/json;odata=verbose.
	Verbose
)

// ContentType returns the response Content-Type exactly as SharePoint
// Online sends it for f.
func (f Format) ContentType() string {
	switch f {
	case NoMetadata:
		return "application/json;odata=nometadata;streaming=true;charset=utf-8"
	case Verbose:
		return "application/json;odata=verbose;charset=utf-8"
	}
	return "application/json;odata=minimalmetadata;streaming=true;charset=utf-8"
}

// String names the format as the odata parameter does.
func (f Format) String() string {
	switch f {
	case NoMetadata:
		return "nometadata"
	case Verbose:
		return "verbose"
	}
	return "minimalmetadata"
}

// MaxAcceptLength bounds the Accept header Negotiate reads.
const MaxAcceptLength = 4 << 10

// Negotiate picks the response format from the Accept header and the
// $format option (which wins when present: json, or a media type such as
// application/json;odata=verbose). Parameters are read tolerantly
// ("application/json; odata=verbose"); among several media ranges the
// highest q wins, then the first. A request that accepts only Atom, XML
// or other non-JSON types gets a 406 *Error: Cesivi answers JSON only.
func Negotiate(accept, format string) (Format, error) {
	if f := strings.TrimSpace(format); f != "" {
		if strings.EqualFold(f, "json") {
			return Minimal, nil
		}
		if fm, ok := mediaFormat(f); ok {
			return fm, nil
		}
		return Minimal, notAcceptable()
	}
	if len(accept) > MaxAcceptLength {
		accept = accept[:MaxAcceptLength]
	}
	if strings.TrimSpace(accept) == "" {
		return Minimal, nil
	}
	best, bestQ, found := Minimal, -1.0, false
	for _, r := range strings.Split(accept, ",") {
		f, ok := mediaFormat(r)
		if !ok {
			continue
		}
		if q := quality(r); q > bestQ && q > 0 {
			best, bestQ, found = f, q, true
		}
	}
	if !found {
		return Minimal, notAcceptable()
	}
	return best, nil
}

func notAcceptable() *Error {
	return NewError(http.StatusNotAcceptable, CodeNotAcceptable,
		"Cesivi answers JSON only: ask for application/json (odata=minimalmetadata, nometadata or verbose). Atom and XML are not supported.")
}

// mediaFormat maps one media range to a format.
func mediaFormat(r string) (Format, bool) {
	parts := strings.Split(r, ";")
	switch strings.ToLower(strings.TrimSpace(parts[0])) {
	case "*/*", "application/*":
		return Minimal, true
	case "application/json":
	default:
		return Minimal, false
	}
	for _, p := range parts[1:] {
		k, v, _ := strings.Cut(p, "=")
		if !strings.EqualFold(strings.TrimSpace(k), "odata") {
			continue
		}
		switch strings.ToLower(strings.Trim(strings.TrimSpace(v), `"`)) {
		case "verbose":
			return Verbose, true
		case "nometadata":
			return NoMetadata, true
		}
	}
	return Minimal, true
}

// quality returns a media range's q parameter (1 when absent or bad).
func quality(r string) float64 {
	parts := strings.Split(r, ";")
	for _, p := range parts[1:] {
		k, v, _ := strings.Cut(p, "=")
		if strings.EqualFold(strings.TrimSpace(k), "q") {
			if q, err := strconv.ParseFloat(strings.TrimSpace(v), 64); err == nil && q >= 0 && q <= 1 {
				return q
			}
		}
	}
	return 1
}
