package bench

import (
	"context"
	"io"
	"net"
	"net/http"
	"sync/atomic"
	"time"
)

// ByteCounter is an HTTP server that answers 200 to everything and
// counts the bytes it reads off its sockets: put behind an edge, what the
// edge sends upstream for a request; sent to directly, the request
// itself.
type ByteCounter struct {
	Addr string
	n    atomic.Int64
	srv  *http.Server
}

type countingListener struct {
	net.Listener
	n *atomic.Int64
}

func (l countingListener) Accept() (net.Conn, error) {
	c, err := l.Listener.Accept()
	if err != nil {
		return nil, err
	}
	return countingConn{Conn: c, n: l.n}, nil
}

type countingConn struct {
	net.Conn
	n *atomic.Int64
}

func (c countingConn) Read(p []byte) (int, error) {
	n, err := c.Conn.Read(p)
	c.n.Add(int64(n))
	return n, err
}

// StartByteCounter listens on a free loopback port.
func StartByteCounter() (*ByteCounter, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, err
	}
	b := &ByteCounter{Addr: ln.Addr().String()}
	b.srv = &http.Server{ReadHeaderTimeout: 10 * time.Second, Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, _ = io.Copy(io.Discard, r.Body)
		_, _ = io.WriteString(w, "ok")
	})}
	go b.srv.Serve(countingListener{Listener: ln, n: &b.n})
	return b, nil
}

// Measure returns the bytes the server read while one GET url went
// through with header (url may reach the server through an edge).
func (b *ByteCounter) Measure(ctx context.Context, url string, header http.Header) (int, error) {
	transport := &http.Transport{DisableCompression: true}
	defer transport.CloseIdleConnections()
	client := &http.Client{Transport: transport, Timeout: 10 * time.Second}
	before := b.n.Load()
	if err := once(ctx, client, url, header); err != nil {
		return 0, err
	}
	return int(b.n.Load() - before), nil
}

// Close stops the server.
func (b *ByteCounter) Close() error { return b.srv.Close() }
