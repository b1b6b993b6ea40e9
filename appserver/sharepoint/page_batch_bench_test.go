package sharepoint_test

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/jackc/pgx/v5"
)

// The two hot paths BenchmarkPostgreSQLItemGet and ItemAdd leave out
// (issue 16 item 3): a $filter+$top page and a $batch of 20 adds, each
// against raw pgx doing the same work on the same database in the same
// run, and the HTTP floor between them.

// pageSQL is the raw page: the rows the API's page holds, in its order.
const pageSQL = `SELECT "Id", "Data" FROM "ListItems" WHERE "ListId" = $1 AND ("Data"->>'Priority')::float8 >= 50
	ORDER BY "Id" LIMIT 20`

func rawPage(ctx context.Context, pb *pgBench) ([]byte, error) {
	rows, err := pb.pool.Query(ctx, pageSQL, pb.list)
	if err != nil {
		return nil, err
	}
	type row struct {
		ID   int64           `json:"Id"`
		Data json.RawMessage `json:"Data"`
	}
	page, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (row, error) {
		var x row
		err := r.Scan(&x.ID, &x.Data)
		return x, err
	})
	if err != nil {
		return nil, err
	}
	return json.Marshal(map[string]any{"value": page})
}

func BenchmarkPostgreSQLItemPage(b *testing.B) {
	pb := newPGBench(b)
	ctx := context.Background()
	if out, err := rawPage(ctx, pb); err != nil || !strings.Contains(string(out), `"Id":51`) {
		b.Fatalf("raw page: %v %.200s", err, out)
	}
	api := pb.api.srv.URL + "/_api/web/lists/getByTitle('Bench')/items?" + url.Values{
		"$filter": {"Priority ge 50"}, "$top": {"20"}, "$select": {"Id,Title,Priority"}}.Encode()
	if status, body := httpDoAs(b, adminHeader, "GET", api, ""); status != 200 || strings.Count(string(body), `"Priority"`) != 20 {
		b.Fatalf("API page: %d %.300s", status, body)
	}
	timed := perOp{}
	defer timed.report(b)
	timed.runCounted(b, "raw pgx page of 20", pb.sql, func(b *testing.B) {
		b.RunParallel(func(p *testing.PB) {
			for p.Next() {
				if _, err := rawPage(ctx, pb); err != nil {
					b.Error(err)
					return
				}
			}
		})
	})
	floor := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		out, err := rawPage(r.Context(), pb)
		if err != nil {
			http.Error(w, err.Error(), http.StatusInternalServerError)
			return
		}
		w.Header().Set("Content-Type", "application/json")
		_, _ = w.Write(out)
	}))
	b.Cleanup(floor.Close)
	timed.runCounted(b, "HTTP floor: raw page behind the smallest HTTP server", pb.sql, func(b *testing.B) {
		b.RunParallel(func(p *testing.PB) {
			for p.Next() {
				pb.api.raw(b, "GET", floor.URL+"/page", "")
			}
		})
	})
	timed.runCounted(b, "API $filter+$top page of 20", pb.sql, func(b *testing.B) {
		b.RunParallel(func(p *testing.PB) {
			for p.Next() {
				pb.api.raw(b, "GET", api, "")
			}
		})
	})
}

// rawBatch20 adds 20 rows in one transaction, each as the API's add
// does: the list's counter hands out the id, the row goes in with it.
func rawBatch20(ctx context.Context, pb *pgBench, next *atomic.Int64) error {
	tx, err := pb.pool.Begin(ctx)
	if err != nil {
		return err
	}
	defer tx.Rollback(ctx)
	var batch pgx.Batch
	for range 20 {
		batch.Queue(`INSERT INTO "ListItems" ("ListId", "Id", "Guid", "Version", "Created", "Modified", "AuthorId", "EditorId", "Data")
			VALUES ($1, $2, gen_random_uuid(), 1, now(), now(), 1, 1, $3)`, pb.list, next.Add(1), `{"Title":"raw","Priority":1}`)
	}
	if err := tx.SendBatch(ctx, &batch).Close(); err != nil {
		return err
	}
	return tx.Commit(ctx)
}

func BenchmarkPostgreSQLBatch20Adds(b *testing.B) {
	pb := newPGBench(b)
	ctx := context.Background()
	var next atomic.Int64
	next.Store(1 << 30)
	items := "/_api/web/lists/getByTitle('Bench')/items"
	parts := make([]batchPart, 20)
	for i := range parts {
		parts[i] = batchPart{"POST", items, `{"Title":"batched","Priority":1}`}
	}
	ct, body := batchBody(pb.api.srv.URL, parts)
	send := func(b *testing.B) {
		status, answer := httpDoCT(b, "POST", pb.api.srv.URL+"/_api/$batch", ct, body)
		if status != 200 || strings.Count(string(answer), "HTTP/1.1 201") != 20 {
			b.Errorf("$batch: %d %.300s", status, answer)
		}
	}
	send(b)
	timed := perOp{}
	defer timed.report(b)
	timed.runCounted(b, "raw pgx transaction of 20 inserts", pb.sql, func(b *testing.B) {
		b.RunParallel(func(p *testing.PB) {
			for p.Next() {
				if err := rawBatch20(ctx, pb, &next); err != nil {
					b.Error(err)
					return
				}
			}
		})
	})
	floor := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, _ = io.Copy(io.Discard, r.Body)
		if err := rawBatch20(r.Context(), pb, &next); err != nil {
			http.Error(w, err.Error(), http.StatusInternalServerError)
			return
		}
		w.WriteHeader(http.StatusOK)
	}))
	b.Cleanup(floor.Close)
	timed.runCounted(b, "HTTP floor: raw transaction behind the smallest HTTP server", pb.sql, func(b *testing.B) {
		b.RunParallel(func(p *testing.PB) {
			for p.Next() {
				httpDoCT(b, "POST", floor.URL+"/batch", ct, body)
			}
		})
	})
	timed.runCounted(b, "API $batch of 20 adds", pb.sql, func(b *testing.B) {
		b.RunParallel(func(p *testing.PB) {
			for p.Next() {
				send(b)
			}
		})
	})
}

// httpDoCT sends body with its content type as the administrator and
// returns the status and answer.
func httpDoCT(b *testing.B, method, u, contentType string, body []byte) (int, []byte) {
	req, err := http.NewRequest(method, u, strings.NewReader(string(body)))
	if err != nil {
		b.Fatal(err)
	}
	req.Header.Set("Accept", "application/json")
	req.Header.Set("Content-Type", contentType)
	req.Header.Set(testUser, adminHeader)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		b.Error(err)
		return 0, nil
	}
	defer resp.Body.Close()
	out, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, out
}
