package bench

// The files benchmark (issue 9's "Performance"): uploads and downloads
// through an edge of a PostgreSQL farm, against a baseline measured in
// the same run — the same bytes copied by this process straight into the
// same blob store — and the app servers' memory while several clients
// move large files at once.

import (
	"context"
	"encoding/binary"
	"fmt"
	"io"
	mrand "math/rand/v2"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/cesivi/cesivi/internal/blobstore"
	"github.com/cesivi/cesivi/internal/blobstore/dirblob"
	"github.com/cesivi/cesivi/internal/blobstore/pgblob"
	"github.com/cesivi/cesivi/tests/farm"
)

// FilesOptions shape the files benchmark. The zero value (with BinDir)
// is what make bench runs.
type FilesOptions struct {
	// BinDir holds the farm's programs (missing ones are built there).
	BinDir string
	// Providers are the blob providers measured (default Database and
	// SharedDirectory).
	Providers []string
	// Rounds per transfer (default 3); the ratio is their median.
	Rounds int
	// SmallSize and LargeSize are the files moved (default 1 MiB and
	// 100 MiB); SmallRepeats small files are moved one after another per
	// round (default 8), so a round lasts long enough to time.
	SmallSize, LargeSize int64
	SmallRepeats         int
	// Clients move a LargeSize file each at once while the servers'
	// memory is sampled (default 8).
	Clients int
	// Servers is the farm's app servers (default 3); with 1, every
	// client's transfer is on the one server whose memory is sampled.
	Servers int
	// Progress receives a line per step (nil: none).
	Progress io.Writer
}

func (o FilesOptions) withDefaults() FilesOptions {
	if len(o.Providers) == 0 {
		o.Providers = []string{"Database", "SharedDirectory"}
	}
	if o.Rounds <= 0 {
		o.Rounds = 3
	}
	if o.SmallSize <= 0 {
		o.SmallSize = 1 << 20
	}
	if o.LargeSize <= 0 {
		o.LargeSize = 100 << 20
	}
	if o.SmallRepeats <= 0 {
		o.SmallRepeats = 8
	}
	if o.Clients <= 0 {
		o.Clients = 8
	}
	if o.Servers <= 0 {
		o.Servers = 3
	}
	if o.Progress == nil {
		o.Progress = io.Discard
	}
	return o
}

// Transfer is one kind of transfer measured in rounds, in bytes per
// second: through the edge, the baseline (straight into the store), and
// the plain HTTP hop (the store behind a minimal server behind plain
// Caddy; filehop.go).
type Transfer struct {
	Upload         bool
	Size           int64
	Edge, Raw, Hop []float64
}

// Ratios are the edge's throughput over the baseline's, round by round.
func (t Transfer) Ratios() []float64 { return ratios(t.Edge, t.Raw) }

// HopRatios are the edge's throughput over the plain hop's.
func (t Transfer) HopRatios() []float64 { return ratios(t.Edge, t.Hop) }

func ratios(a, b []float64) []float64 {
	out := make([]float64, 0, len(a))
	for i := range min(len(a), len(b)) {
		out = append(out, a[i]/b[i])
	}
	return out
}

// ServerLoad is one app server's memory under the concurrent load.
type ServerLoad struct {
	Name string
	// Requests counts the load's transfers this server answered.
	Requests int
	ProcessRSS
}

// FilesResult is one provider's figures.
type FilesResult struct {
	Provider  string
	Transfers []Transfer
	// Clients moved LargeSize each at once in LoadElapsed.
	Clients     int
	LargeSize   int64
	LoadElapsed time.Duration
	Servers     []ServerLoad
}

// RunFiles runs the benchmark on a farm of its own per provider.
func RunFiles(ctx context.Context, opt FilesOptions) ([]FilesResult, error) {
	opt = opt.withDefaults()
	bin, err := filepath.Abs(opt.BinDir)
	if err != nil {
		return nil, err
	}
	opt.BinDir = bin
	// One buffer of random bytes for every file; each transfer makes its
	// copy unique by its first 8 bytes, so no store finds content twice.
	content := make([]byte, opt.LargeSize)
	_, _ = mrand.NewChaCha8([32]byte{'c', 'e', 's', 'i', 'v', 'i'}).Read(content)
	var out []FilesResult
	for _, provider := range opt.Providers {
		r, err := runProvider(ctx, opt, provider, content)
		if err != nil {
			return out, fmt.Errorf("files benchmark, %s: %w", provider, err)
		}
		out = append(out, r)
	}
	return out, nil
}

// filesRun is one provider's farm and stores.
type filesRun struct {
	opt     FilesOptions
	content []byte
	seq     uint64
	lib     *Library
	raw     blobstore.Store
	hop     *plainHop
}

// body is a file of size bytes: content's first bytes, made unique.
func (r *filesRun) body(size int64) io.Reader {
	r.seq++
	var prefix [8]byte
	binary.BigEndian.PutUint64(prefix[:], r.seq)
	return io.MultiReader(io.LimitReader(readerOf(prefix[:]), min(size, 8)), io.LimitReader(readerOf(r.content[min(size, 8):size]), max(size-8, 0)))
}

func readerOf(b []byte) io.Reader { return &sliceReader{b: b} }

// sliceReader reads a slice without bytes.Reader's WriterTo, so that
// both sides of the benchmark copy through the same buffers.
type sliceReader struct{ b []byte }

func (s *sliceReader) Read(p []byte) (int, error) {
	if len(s.b) == 0 {
		return 0, io.EOF
	}
	n := copy(p, s.b)
	s.b = s.b[n:]
	return n, nil
}

func runProvider(ctx context.Context, opt FilesOptions, provider string, content []byte) (FilesResult, error) {
	res := FilesResult{Provider: provider, Clients: opt.Clients, LargeSize: opt.LargeSize}
	env := []string{"Cesivi__Storage__Files__Provider=" + provider, "Logging__LogLevel__Default=Warning"}
	var dir string
	if provider == "SharedDirectory" {
		var err error
		if dir, err = os.MkdirTemp("", "cesivi-bench-files-"); err != nil {
			return res, err
		}
		defer os.RemoveAll(dir)
		env = append(env, "Cesivi__Storage__Files__Path="+dir)
	}
	fmt.Fprintf(opt.Progress, "files, %s: starting a farm of %d servers and 1 edge\n", provider, opt.Servers)
	f, err := startFarm(ctx, farm.Options{BinDir: opt.BinDir, FreePorts: true, Servers: opt.Servers, Edges: 1,
		Storage: farm.StoragePostgreSQL, ServerEnv: env})
	if err != nil {
		return res, err
	}
	defer f.Stop()
	transport := http.DefaultTransport.(*http.Transport).Clone()
	transport.MaxIdleConnsPerHost = opt.Clients
	defer transport.CloseIdleConnections()
	run := &filesRun{opt: opt, content: content, lib: &Library{Edge: f.Edges[0], Token: FarmToken(f, f.Edges[0]),
		Client: &http.Client{Transport: transport, Timeout: 10 * time.Minute}}}
	switch provider {
	case "Database":
		pool, err := pgxpool.New(ctx, f.Postgres)
		if err != nil {
			return res, err
		}
		defer pool.Close()
		run.raw = pgblob.New(pool, pgblob.Options{})
	case "SharedDirectory":
		if run.raw, err = dirblob.New(dir, dirblob.Options{}); err != nil {
			return res, err
		}
	default:
		return res, fmt.Errorf("unknown provider %q", provider)
	}

	hopDir, err := os.MkdirTemp("", "cesivi-bench-hop-")
	if err != nil {
		return res, err
	}
	defer os.RemoveAll(hopDir)
	if run.hop, err = startPlainHop(ctx, filepath.Join(opt.BinDir, "cesivi-edge"), hopDir, run.raw); err != nil {
		return res, err
	}
	defer run.hop.close()

	// A first transfer each way opens the servers' connections and
	// checks the content survives the trip.
	if err := run.warmUp(ctx); err != nil {
		return res, err
	}
	// The memory figures first, on servers that have moved nothing big
	// yet, so that no earlier transfer's heap hides the load's.
	if err := run.concurrentLoad(ctx, f, &res); err != nil {
		return res, err
	}
	sizes := []int64{opt.SmallSize, opt.LargeSize}
	for _, size := range sizes {
		up, down := Transfer{Upload: true, Size: size}, Transfer{Size: size}
		for round := range opt.Rounds {
			if err := run.round(ctx, size, round, &up, &down); err != nil {
				return res, err
			}
			fmt.Fprintf(opt.Progress, "files, %s, %s, round %d: upload %.0f / %.0f / %.0f MiB/s, download %.0f / %.0f / %.0f MiB/s (edge / plain hop / raw)\n",
				provider, sizeName(size), round+1, up.Edge[round]/(1<<20), up.Hop[round]/(1<<20), up.Raw[round]/(1<<20),
				down.Edge[round]/(1<<20), down.Hop[round]/(1<<20), down.Raw[round]/(1<<20))
		}
		res.Transfers = append(res.Transfers, up, down)
	}
	return res, nil
}

func (r *filesRun) warmUp(ctx context.Context) error {
	const name = "warm-up.bin"
	size := r.opt.SmallSize
	want := r.content[8:size]
	a, err := r.lib.Upload(ctx, libraryRoot, name, r.body(size), size)
	if err != nil || a.Status != http.StatusOK {
		return fmt.Errorf("warm-up upload: %v %v", a, err)
	}
	var got sliceWriter
	a, n, err := r.lib.Download(ctx, libraryRoot+"/"+name, &got, nil)
	if err != nil || a.Status != http.StatusOK || n != size || string(got.b[8:]) != string(want) {
		return fmt.Errorf("warm-up download: %v, %d bytes, %v; want 200 and the %d bytes uploaded", a, n, err, size)
	}
	return nil
}

type sliceWriter struct{ b []byte }

func (w *sliceWriter) Write(p []byte) (int, error) { w.b = append(w.b, p...); return len(p), nil }

// libraryRoot is the default library every web has.
const libraryRoot = "/Shared Documents"

// round measures one round of size's transfers: uploads through the
// edge, through the plain hop and straight into the store, then
// downloads of what each uploaded; the three take turns going first.
func (r *filesRun) round(ctx context.Context, size int64, round int, up, down *Transfer) error {
	repeats := 1
	if size == r.opt.SmallSize {
		repeats = r.opt.SmallRepeats
	}
	names := make([]string, repeats)
	hopKeys := make([]string, repeats)
	rawKeys := make([]string, repeats)
	edgeUp := func() error {
		for i := range names {
			names[i] = fmt.Sprintf("%s-r%d-%d.bin", sizeName(size), round, i)
			a, err := r.lib.Upload(ctx, libraryRoot, names[i], r.body(size), size)
			if err != nil {
				return err
			}
			if a.Status != http.StatusOK {
				return fmt.Errorf("upload of %s: %v", names[i], a)
			}
		}
		return nil
	}
	hopUp := func() (err error) {
		for i := range hopKeys {
			if hopKeys[i], err = r.hop.put(ctx, r.body(size), size); err != nil {
				return err
			}
		}
		return nil
	}
	rawUp := func() error {
		for i := range rawKeys {
			b, err := r.raw.Put(ctx, r.body(size), 0)
			if err != nil {
				return err
			}
			rawKeys[i] = b.Key
		}
		return nil
	}
	edgeDown := func() error {
		for _, name := range names {
			a, n, err := r.lib.Download(ctx, libraryRoot+"/"+name, io.Discard, nil)
			if err != nil {
				return err
			}
			if a.Status != http.StatusOK || n != size {
				return fmt.Errorf("download of %s: %v, %d bytes; want 200 and %d", name, a, n, size)
			}
		}
		return nil
	}
	hopDown := func() error {
		for _, key := range hopKeys {
			n, err := r.hop.get(ctx, key)
			if err != nil {
				return err
			}
			if n != size {
				return fmt.Errorf("plain hop download of %s: %d bytes; want %d", key, n, size)
			}
		}
		return nil
	}
	rawDown := func() error {
		for _, key := range rawKeys {
			rd, err := r.raw.Open(ctx, key)
			if err != nil {
				return err
			}
			n, err := io.Copy(io.Discard, rd)
			rd.Close()
			if err != nil {
				return err
			}
			if n != size {
				return fmt.Errorf("raw read of %s: %d bytes; want %d", key, n, size)
			}
		}
		return nil
	}
	bytes := float64(size) * float64(repeats)
	type step struct {
		f    func() error
		into *[]float64
	}
	for _, steps := range [][]step{
		{{edgeUp, &up.Edge}, {hopUp, &up.Hop}, {rawUp, &up.Raw}},
		{{edgeDown, &down.Edge}, {hopDown, &down.Hop}, {rawDown, &down.Raw}},
	} {
		for i := range steps {
			s := steps[(i+round)%len(steps)]
			start := time.Now()
			if err := s.f(); err != nil {
				return err
			}
			*s.into = append(*s.into, bytes/time.Since(start).Seconds())
		}
	}
	return nil
}

// concurrentLoad has every client upload a large file and then download
// it, all at once, while the servers' resident sets are sampled.
func (r *filesRun) concurrentLoad(ctx context.Context, f *farm.Farm, res *FilesResult) error {
	size := r.opt.LargeSize
	pids := make([]int, len(f.Servers))
	for i := range pids {
		if pids[i] = f.PIDs[fmt.Sprintf("server-%d", i+1)]; pids[i] == 0 {
			return fmt.Errorf("the farm recorded no PID for server-%d", i+1)
		}
	}
	bodies := make([]io.Reader, r.opt.Clients)
	for i := range bodies {
		bodies[i] = r.body(size)
	}
	fmt.Fprintf(r.opt.Progress, "files, %s: %d clients each upload and download %s at once\n", res.Provider, r.opt.Clients, sizeName(size))
	sampler, err := SampleRSS(pids, 10*time.Millisecond)
	if err != nil {
		return err
	}
	var (
		mu       sync.Mutex
		served   = map[string]int{}
		failures []error
		wg       sync.WaitGroup
	)
	record := func(a Answer, err error) bool {
		mu.Lock()
		defer mu.Unlock()
		if err != nil {
			failures = append(failures, err)
			return false
		}
		served[a.Server]++
		return true
	}
	start := time.Now()
	for i := range r.opt.Clients {
		wg.Go(func() {
			name := "load-" + strconv.Itoa(i) + ".bin"
			a, err := r.lib.Upload(ctx, libraryRoot, name, bodies[i], size)
			if err == nil && a.Status != http.StatusOK {
				err = fmt.Errorf("upload of %s: %v", name, a)
			}
			if !record(a, err) {
				return
			}
			a, n, err := r.lib.Download(ctx, libraryRoot+"/"+name, io.Discard, nil)
			if err == nil && (a.Status != http.StatusOK || n != size) {
				err = fmt.Errorf("download of %s: %v, %d bytes; want 200 and %d", name, a, n, size)
			}
			record(a, err)
		})
	}
	wg.Wait()
	res.LoadElapsed = time.Since(start)
	mem := sampler.Stop()
	if len(failures) > 0 {
		return fmt.Errorf("%d of the load's transfers failed, first: %w", len(failures), failures[0])
	}
	for i, m := range mem {
		name := fmt.Sprintf("server-%d", i+1)
		res.Servers = append(res.Servers, ServerLoad{Name: name, Requests: served[name], ProcessRSS: m})
	}
	return nil
}

func sizeName(size int64) string {
	if size%(1<<20) == 0 {
		return fmt.Sprintf("%d MiB", size>>20)
	}
	return fmt.Sprintf("%d bytes", size)
}

// startFarm starts a farm on free ports, again (up to 3 times) when one
// of its processes exits at start: a port free when the farm chose it can
// be taken by another program on a shared machine before the process
// binds it.
func startFarm(ctx context.Context, opt farm.Options) (*farm.Farm, error) {
	var err error
	for range 3 {
		var f *farm.Farm
		if f, err = farm.Start(ctx, opt); err == nil || !strings.Contains(err.Error(), "exited during start-up") {
			return f, err
		}
	}
	return nil, err
}
