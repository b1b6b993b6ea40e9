package bench

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"time"

	"github.com/cesivi/cesivi/internal/blobstore"
	"github.com/cesivi/cesivi/internal/testenv"
)

// plainHop is the second reference of the files benchmark: the same blob
// store behind the smallest HTTP server that can hold it (Put of the
// request body, Open and http.ServeContent for a download, as the app
// server does), behind plain Caddy reverse_proxy in the same cesivi-edge
// binary. Against it, the edge's figure is what Cesivi itself costs —
// sign-in, assertion, the SharePoint call, the metadata transaction — and
// not what two loopback HTTP hops on this machine cost anyway.
type plainHop struct {
	url    string
	srv    *http.Server
	edge   *testenv.Process
	client *http.Client
}

// plainCaddyfile proxies to the reference server with the transport
// settings of Caddyfile.example.
const plainCaddyfile = `{
	admin off
	auto_https off
	persist_config off
	storage file_system %s
	log default {
		level ERROR
	}
}
http://127.0.0.1:%d {
	reverse_proxy %s {
		transport http {
			keepalive 120s
			keepalive_idle_conns_per_host 64
		}
	}
}
`

func startPlainHop(ctx context.Context, edgeBin, dir string, store blobstore.Store) (*plainHop, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, err
	}
	mux := http.NewServeMux()
	mux.HandleFunc("POST /blob", func(w http.ResponseWriter, r *http.Request) {
		b, err := store.Put(r.Context(), r.Body, 0)
		if err != nil {
			http.Error(w, err.Error(), http.StatusInternalServerError)
			return
		}
		io.WriteString(w, b.Key)
	})
	mux.HandleFunc("GET /blob/{key}", func(w http.ResponseWriter, r *http.Request) {
		rd, err := store.Open(r.Context(), r.PathValue("key"))
		if err != nil {
			http.Error(w, err.Error(), http.StatusNotFound)
			return
		}
		defer rd.Close()
		http.ServeContent(w, r, "", time.Time{}, rd)
	})
	h := &plainHop{srv: &http.Server{Handler: mux}}
	go h.srv.Serve(ln)
	port, err := testenv.FreePort()
	if err != nil {
		h.close()
		return nil, err
	}
	config := filepath.Join(dir, "plain.Caddyfile")
	if err := os.WriteFile(config, fmt.Appendf(nil, plainCaddyfile, filepath.Join(dir, "caddy"), port, ln.Addr()), 0o644); err != nil {
		h.close()
		return nil, err
	}
	cmd := exec.Command(edgeBin, "run", "--config", config, "--adapter", "caddyfile")
	cmd.Env = []string{"PATH=" + os.Getenv("PATH"), "HOME=" + dir}
	cmd.Dir = dir
	if h.edge, err = testenv.StartProcess(cmd, false); err != nil {
		h.close()
		return nil, err
	}
	transport := http.DefaultTransport.(*http.Transport).Clone()
	h.client = &http.Client{Transport: transport, Timeout: 10 * time.Minute}
	h.url = fmt.Sprintf("http://127.0.0.1:%d", port)
	deadline := time.Now().Add(30 * time.Second)
	for {
		resp, err := h.client.Get(h.url + "/blob/none")
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusNotFound {
				return h, nil
			}
		}
		if time.Now().After(deadline) || !h.edge.Alive() || ctx.Err() != nil {
			h.close()
			return nil, errors.New("the plain Caddy edge in front of the reference server did not answer within 30 s")
		}
		time.Sleep(50 * time.Millisecond)
	}
}

func (h *plainHop) put(ctx context.Context, body io.Reader, size int64) (string, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, h.url+"/blob", body)
	if err != nil {
		return "", err
	}
	req.ContentLength = size
	resp, err := h.client.Do(req)
	if err != nil {
		return "", err
	}
	defer resp.Body.Close()
	key, err := io.ReadAll(resp.Body)
	if err != nil || resp.StatusCode != http.StatusOK {
		return "", fmt.Errorf("plain hop put: %d %s %v", resp.StatusCode, key, err)
	}
	return strings.TrimSpace(string(key)), nil
}

func (h *plainHop) get(ctx context.Context, key string) (int64, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, h.url+"/blob/"+key, nil)
	if err != nil {
		return 0, err
	}
	resp, err := h.client.Do(req)
	if err != nil {
		return 0, err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return 0, fmt.Errorf("plain hop get: %d", resp.StatusCode)
	}
	return io.Copy(io.Discard, resp.Body)
}

func (h *plainHop) close() {
	if h.edge != nil {
		_ = h.edge.Stop(syscall.SIGTERM, 10*time.Second)
	}
	if h.client != nil {
		h.client.CloseIdleConnections()
	}
	_ = h.srv.Close()
}
