package benchsmoke

import (
	"bytes"
	"encoding/binary"
	"errors"
	"io"
	"slices"
	"testing"
)

// msg is one typed frontend message.
func msg(typ byte, body ...[]byte) []byte {
	b := bytes.Join(body, nil)
	out := []byte{typ, 0, 0, 0, 0}
	binary.BigEndian.PutUint32(out[1:], uint32(len(b)+4))
	return append(out, b...)
}

func cstr(s string) []byte { return append([]byte(s), 0) }

func startup(code uint32, rest []byte) []byte {
	out := make([]byte, 8)
	binary.BigEndian.PutUint32(out, uint32(8+len(rest)))
	binary.BigEndian.PutUint32(out[4:], code)
	return append(out, rest...)
}

func read(t *testing.T, stream []byte) ([]string, error) {
	t.Helper()
	f := newFrontend(bytes.NewReader(stream))
	var texts []string
	for {
		s, _, err := f.next()
		if err != nil {
			if errors.Is(err, io.EOF) {
				return texts, nil
			}
			return texts, err
		}
		if s != nil {
			texts = append(texts, s.Text)
		}
	}
}

func TestTheFrontendCountsSimpleQueriesAndExecutes(t *testing.T) {
	var s []byte
	s = append(s, startup(196608, append(cstr("user"), append(cstr("cesivi"), 0)...))...)
	s = append(s, msg('Q', cstr("BEGIN"))...)
	// pgx's cached statement: Parse once, then Bind+Execute each time.
	s = append(s, msg('P', cstr("stmt_1"), cstr("SELECT 1"), []byte{0, 0})...)
	s = append(s, msg('D', []byte{'S'}, cstr("stmt_1"))...)
	s = append(s, msg('S')...)
	for range 2 {
		s = append(s, msg('B', cstr(""), cstr("stmt_1"), []byte{0, 0, 0, 0, 0, 0})...)
		s = append(s, msg('E', cstr(""), []byte{0, 0, 0, 0})...)
		s = append(s, msg('S')...)
	}
	// The unnamed statement, parsed each time.
	s = append(s, msg('P', cstr(""), cstr("SELECT 2"), []byte{0, 0})...)
	s = append(s, msg('B', cstr("p1"), cstr(""), []byte{0, 0, 0, 0, 0, 0})...)
	s = append(s, msg('E', cstr("p1"), []byte{0, 0, 0, 0})...)
	s = append(s, msg('C', []byte{'S'}, cstr("stmt_1"))...)
	s = append(s, msg('Q', cstr("COMMIT"))...)
	s = append(s, msg('X')...)
	texts, err := read(t, s)
	if err != nil {
		t.Fatal(err)
	}
	want := []string{"BEGIN", "SELECT 1", "SELECT 1", "SELECT 2", "COMMIT"}
	if !slices.Equal(texts, want) {
		t.Fatalf("statements %q; want %q", texts, want)
	}
}

func TestTheFrontendRefusesToCountAnEncryptedSession(t *testing.T) {
	if _, err := read(t, startup(sslRequestCode, nil)); !errors.Is(err, errEncrypted) {
		t.Fatalf("an SSLRequest: %v; want errEncrypted", err)
	}
	if _, err := read(t, append(startup(196608, nil), 'Q', 0, 0, 0, 1)); err == nil {
		t.Fatal("a message of negative length was accepted")
	}
}

func TestBackgroundTransactionsAreLeftOutWhole(t *testing.T) {
	poll := []string{"BEGIN ISOLATION LEVEL repeatable read read only", "SET LOCAL statement_timeout = 5000", "SELECT due", "COMMIT"}
	background := BackgroundTexts(stmts(9, poll...))
	if len(background) != 1 || !background["SELECT due"] {
		t.Fatalf("background texts %v; want only the poll's query", background)
	}
	var all []Statement
	all = append(all, stmts(1, poll[:2]...)...) // a poll that began before the window
	from := len(all)
	all = append(all, stmts(2, "BEGIN ISOLATION LEVEL read committed", "SELECT item")...)
	all = append(all, stmts(1, poll[2:]...)...) // ... and ends inside it
	all = append(all, stmts(2, "COMMIT")...)
	all = append(all, stmts(3, "-- ping")...)
	all = append(all, stmts(1, poll...)...) // a whole poll inside the window
	all = append(all, stmts(3, "BEGIN", "SELECT due", "SELECT item", "COMMIT")...)
	mine, left := Attribute(all, from, background)
	var texts []string
	for _, s := range mine {
		texts = append(texts, s.Text)
	}
	want := []string{"BEGIN ISOLATION LEVEL read committed", "SELECT item", "COMMIT", "BEGIN", "SELECT due", "SELECT item", "COMMIT"}
	if !slices.Equal(texts, want) || left != 5 {
		t.Fatalf("requests' statements %q, %d left out; want %q, 5", texts, left, want)
	}
	if n := OpenTransactions(all); n != 0 {
		t.Fatalf("%d open transactions; want 0", n)
	}
	if n := OpenTransactions(append(all, stmts(4, "BEGIN", "SELECT item")...)); n != 1 {
		t.Fatalf("%d open transactions; want 1, the one without its COMMIT", n)
	}
}

func stmts(conn int, texts ...string) []Statement {
	out := make([]Statement, len(texts))
	for i, t := range texts {
		out[i] = Statement{Conn: conn, Text: t}
	}
	return out
}
