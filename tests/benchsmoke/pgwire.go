// Package benchsmoke is the CI guard of the performance budget (`make
// bench-smoke`, run by `make test`): it counts round trips — Redis
// commands, SQL statements, provider introspections — per request on a
// real edge and app server, and fails when a count exceeds the budget.
// Counts, not times, so the guard holds on a noisy machine.
//
// This file is the SQL side: a TCP proxy in front of PostgreSQL that
// reads the frontend protocol and records every statement the app
// server executes, with its text, so statements can be attributed (the
// server's background pollers share its pool with the requests). It
// needs no server extension and sees every statement, prepared or not.
package benchsmoke

import (
	"bufio"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"net"
	"strings"
	"sync"
)

// Protocol codes of the untyped first messages (PostgreSQL protocol 3).
const (
	sslRequestCode    = 80877103
	gssEncRequestCode = 80877104
	cancelRequestCode = 80877102
)

// Statement is one statement the server ran: a simple query ('Q', which
// may hold several statements in one text; it counts as one round trip)
// or an Execute ('E') of a prepared statement.
type Statement struct {
	// Conn numbers the proxied connection it came on (from 1).
	Conn int
	Text string
}

// frontend reads one client's messages and reports each executed
// statement. Prepared statements and portals are named per connection,
// so it keeps their texts to name what an Execute runs.
type frontend struct {
	r          *bufio.Reader
	statements map[string]string // prepared statement name -> text
	portals    map[string]string // portal name -> text
	started    bool
}

func newFrontend(r io.Reader) *frontend {
	return &frontend{r: bufio.NewReader(r), statements: map[string]string{}, portals: map[string]string{}}
}

// errEncrypted: the client asked for TLS or GSS encryption and the
// stream may no longer be readable; the harness's PostgreSQL has
// neither, and its URL says sslmode=disable.
var errEncrypted = errors.New("pgwire: encrypted session requests are not counted")

// next reads one message and returns its bytes, as read, and the
// statement it executes, if any.
func (f *frontend) next() (*Statement, []byte, error) {
	if !f.started {
		var hdr [8]byte
		if _, err := io.ReadFull(f.r, hdr[:]); err != nil {
			return nil, nil, err
		}
		n := int(binary.BigEndian.Uint32(hdr[:4]))
		code := binary.BigEndian.Uint32(hdr[4:])
		if n < 8 {
			return nil, hdr[:], fmt.Errorf("pgwire: start-up message of %d bytes", n)
		}
		raw := make([]byte, n)
		copy(raw, hdr[:])
		if _, err := io.ReadFull(f.r, raw[8:]); err != nil {
			return nil, nil, err
		}
		switch code {
		case sslRequestCode, gssEncRequestCode:
			// The server answers one byte, which this side does not
			// see; the harness's URL says sslmode=disable.
			return nil, raw, errEncrypted
		case cancelRequestCode:
			return nil, raw, nil
		}
		f.started = true
		return nil, raw, nil
	}
	var hdr [5]byte
	if _, err := io.ReadFull(f.r, hdr[:]); err != nil {
		return nil, nil, err
	}
	typ := hdr[0]
	n := int(binary.BigEndian.Uint32(hdr[1:])) - 4
	if n < 0 {
		return nil, hdr[:], fmt.Errorf("pgwire: message %q of negative length", typ)
	}
	raw := make([]byte, 5+n)
	copy(raw, hdr[:])
	if _, err := io.ReadFull(f.r, raw[5:]); err != nil {
		return nil, nil, err
	}
	body := raw[5:]
	fields := cstrings(body, 2)
	switch typ {
	case 'Q':
		return &Statement{Text: fields[0]}, raw, nil
	case 'P': // Parse: statement name, query text, parameter types
		f.statements[fields[0]] = fields[1]
	case 'B': // Bind: portal name, statement name, ...
		f.portals[fields[0]] = f.statements[fields[1]]
	case 'E': // Execute: portal name, row limit
		return &Statement{Text: f.portals[fields[0]]}, raw, nil
	case 'C': // Close: 'S' statement or 'P' portal, then its name
		if len(body) > 0 {
			name := cstrings(body[1:], 1)[0]
			if body[0] == 'S' {
				delete(f.statements, name)
			} else {
				delete(f.portals, name)
			}
		}
	}
	return nil, raw, nil
}

// cstrings returns the first n NUL-terminated strings of b (empty ones
// for what is missing).
func cstrings(b []byte, n int) []string {
	out := make([]string, n)
	for i := range out {
		j := 0
		for j < len(b) && b[j] != 0 {
			j++
		}
		out[i] = string(b[:j])
		if j < len(b) {
			j++
		}
		b = b[j:]
	}
	return out
}

// PGCounter is the counting proxy: it listens on loopback, forwards each
// connection to the PostgreSQL server and records the statements its
// clients execute.
type PGCounter struct {
	ln     net.Listener
	target string

	mu         sync.Mutex
	statements []Statement
	errs       []error
	wg         sync.WaitGroup
	conns      map[net.Conn]struct{}
	accepted   int
}

// StartPGCounter listens on a free loopback port in front of target
// (host:port of PostgreSQL).
func StartPGCounter(target string) (*PGCounter, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, err
	}
	c := &PGCounter{ln: ln, target: target, conns: map[net.Conn]struct{}{}}
	c.wg.Add(1)
	go c.accept()
	return c, nil
}

// Addr is where clients connect instead of PostgreSQL.
func (c *PGCounter) Addr() string { return c.ln.Addr().String() }

// Statements returns a copy of every statement recorded so far, in the
// order they were read (per connection, in order; across connections,
// in the order the proxy read them).
func (c *PGCounter) Statements() []Statement {
	c.mu.Lock()
	defer c.mu.Unlock()
	return append([]Statement(nil), c.statements...)
}

// Count is len(Statements()).
func (c *PGCounter) Count() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return len(c.statements)
}

// Err reports the first protocol error the proxy met (nil if none): a
// count taken while it is set is not to be trusted.
func (c *PGCounter) Err() error {
	c.mu.Lock()
	defer c.mu.Unlock()
	return errors.Join(c.errs...)
}

// Close stops listening and closes every proxied connection.
func (c *PGCounter) Close() error {
	err := c.ln.Close()
	c.mu.Lock()
	for conn := range c.conns {
		conn.Close()
	}
	c.mu.Unlock()
	c.wg.Wait()
	return err
}

func (c *PGCounter) accept() {
	defer c.wg.Done()
	for {
		client, err := c.ln.Accept()
		if err != nil {
			return
		}
		server, err := net.Dial("tcp", c.target)
		if err != nil {
			client.Close()
			c.fail(err)
			continue
		}
		c.mu.Lock()
		c.conns[client], c.conns[server] = struct{}{}, struct{}{}
		c.accepted++
		id := c.accepted
		c.mu.Unlock()
		c.wg.Add(2)
		go func() {
			defer c.wg.Done()
			_, _ = io.Copy(client, server)
			client.Close()
		}()
		go func() {
			defer c.wg.Done()
			defer server.Close()
			// Each message is recorded before it is passed on, so a
			// statement is in the record before the server can answer it
			// (and before the request that sent it can be answered).
			f := newFrontend(client)
			for {
				s, raw, err := f.next()
				if s != nil {
					s.Conn = id
					c.mu.Lock()
					c.statements = append(c.statements, *s)
					c.mu.Unlock()
				}
				if len(raw) > 0 {
					if _, werr := server.Write(raw); werr != nil {
						break
					}
				}
				if err != nil {
					if !errors.Is(err, io.EOF) && !errors.Is(err, net.ErrClosed) && !errors.Is(err, io.ErrUnexpectedEOF) {
						c.fail(err)
					}
					// Whatever follows is passed on uncounted (and the
					// failure above, if any, says the count is off).
					_, _ = io.Copy(server, f.r)
					break
				}
			}
			c.mu.Lock()
			delete(c.conns, client)
			delete(c.conns, server)
			c.mu.Unlock()
		}()
	}
}

func (c *PGCounter) fail(err error) {
	c.mu.Lock()
	c.errs = append(c.errs, err)
	c.mu.Unlock()
}

// control reports whether a statement only frames others (a transaction's
// start and end, its settings) rather than doing work of its own.
func control(text string) bool {
	t := strings.ToUpper(strings.TrimSpace(text))
	for _, p := range []string{"BEGIN", "START TRANSACTION", "COMMIT", "END", "ROLLBACK", "SAVEPOINT", "RELEASE", "SET ", "RESET "} {
		if strings.HasPrefix(t, p) {
			return true
		}
	}
	return false
}

// unit is what a client ran as one piece of work: on one connection, a
// transaction from BEGIN to COMMIT or ROLLBACK, or one statement outside
// a transaction. first is the index of its first statement.
type unit struct {
	first      int
	statements []Statement
}

// OpenTransactions is how many connections are inside a transaction at
// the end of statements. The store sends a read-only transaction's
// COMMIT after its caller has the answer, so a request can be answered
// before its last statement is recorded: a window is read once none is
// open.
func OpenTransactions(statements []Statement) int {
	_, open := units(statements)
	return open
}

// units groups statements into units, in the order of their first
// statement, and counts the transactions still open at the end.
func units(statements []Statement) ([]unit, int) {
	var out []unit
	open := map[int]int{} // connection -> index in out of its open transaction
	for idx, s := range statements {
		t := strings.ToUpper(strings.TrimSpace(s.Text))
		i, inTx := open[s.Conn]
		switch {
		case inTx:
			out[i].statements = append(out[i].statements, s)
			if strings.HasPrefix(t, "COMMIT") || strings.HasPrefix(t, "END") ||
				strings.HasPrefix(t, "ROLLBACK") && !strings.HasPrefix(t, "ROLLBACK TO") {
				delete(open, s.Conn)
			}
		case strings.HasPrefix(t, "BEGIN") || strings.HasPrefix(t, "START TRANSACTION"):
			open[s.Conn] = len(out)
			out = append(out, unit{idx, []Statement{s}})
		default:
			out = append(out, unit{idx, []Statement{s}})
		}
	}
	return out, len(open)
}

// BackgroundTexts returns the texts of the statements that do work
// (transaction control left out): what a server ran by itself, when
// statements were recorded while no request was in flight.
func BackgroundTexts(statements []Statement) map[string]bool {
	out := map[string]bool{}
	for _, s := range statements {
		if !control(s.Text) {
			out[s.Text] = true
		}
	}
	return out
}

// pingText is what pgx sends for Ping. Its pool pings a connection
// that has been idle for over a second before handing it out, so how
// many pings a series of requests costs depends on their timing: the
// guard counts statements, not pings.
const pingText = "-- ping"

// Attribute returns the statements of the requests among those recorded
// from index from on: every unit that began there, except pings and the
// units whose work is all background texts (with their transaction
// control). A background transaction that began before from is left out
// whole.
func Attribute(statements []Statement, from int, background map[string]bool) (requests []Statement, left int) {
	all, _ := units(statements)
	for _, u := range all {
		if u.first < from {
			continue
		}
		if len(u.statements) == 1 && u.statements[0].Text == pingText {
			left++
			continue
		}
		work, known := 0, 0
		for _, s := range u.statements {
			if !control(s.Text) {
				work++
				if background[s.Text] {
					known++
				}
			}
		}
		if work > 0 && known == work {
			left += len(u.statements)
		} else {
			requests = append(requests, u.statements...)
		}
	}
	return requests, left
}
