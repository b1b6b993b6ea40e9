package odata

import (
	"errors"
	"testing"
)

func TestNegotiate(t *testing.T) {
	tests := []struct {
		name, accept, format string
		want                 Format
	}{
		{"PnPjs's bare application/json gets minimal metadata", "application/json", "", Minimal},
		{"minimalmetadata gets minimal metadata", "application/json;odata=minimalmetadata", "", Minimal},
		{"fullmetadata gets minimal metadata", "application/json;odata=fullmetadata", "", Minimal},
		{"nometadata gets no metadata", "application/json;odata=nometadata", "", NoMetadata},
		{"verbose gets verbose", "application/json;odata=verbose", "", Verbose},
		{"a space before the parameter is tolerated", "application/json; odata=verbose", "", Verbose},
		{"parameter and value ignore case", "Application/JSON; OData=Verbose", "", Verbose},
		{"jQuery's list picks its first choice", "application/json;odata=verbose, text/javascript, */*; q=0.01", "", Verbose},
		{"the highest quality wins", "application/json;odata=verbose;q=0.5, application/json;odata=nometadata", "", NoMetadata},
		{"a missing Accept gets minimal metadata", "", "", Minimal},
		{"anything gets minimal metadata", "*/*", "", Minimal},
		{"a browser's navigation gets minimal metadata", "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8", "", Minimal},
		{"$format=json gets minimal metadata", "application/json;odata=verbose", "json", Minimal},
		{"$format may name a media type", "application/json", "application/json;odata=nometadata", NoMetadata},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := Negotiate(tt.accept, tt.format)
			if err != nil || got != tt.want {
				t.Fatalf("Negotiate(%q, %q) = %v, %v; want %v", tt.accept, tt.format, got, err, tt.want)
			}
		})
	}
}

func TestNegotiateRefusesXML(t *testing.T) {
	for _, c := range []struct{ accept, format string }{
		{"application/atom+xml", ""}, {"application/xml, text/xml", ""}, {"application/json;q=0", ""}, {"", "atom"}, {"", "xml"},
	} {
		_, err := Negotiate(c.accept, c.format)
		var e *Error
		if !errors.As(err, &e) || e.Status != 406 || e.Code != CodeNotAcceptable {
			t.Errorf("Negotiate(%q, %q) = %v, want a 406", c.accept, c.format, err)
		}
	}
}

func TestContentTypesAreSharePoints(t *testing.T) {
	for f, want := range map[Format]string{
		Minimal:    "application/json;odata=minimalmetadata;streaming=true;charset=utf-8",
		NoMetadata: "application/json;odata=nometadata;streaming=true;charset=utf-8",
		Verbose:    "application/json;odata=verbose;charset=utf-8",
	} {
		if got := f.ContentType(); got != want {
			t.Errorf("%v.ContentType() = %q, want %q", f, got, want)
		}
	}
}
