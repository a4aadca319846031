package server

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"testing"
	"testing/fstest"
	"time"

	"github.com/twmb/franz-go/pkg/kfake"

	"github.com/osprey-kafka/osprey/admin"
	"github.com/osprey-kafka/osprey/collector"
	"github.com/osprey-kafka/osprey/internal/testenv"
	"github.com/osprey-kafka/osprey/server/service"
	"github.com/osprey-kafka/osprey/store"
)

func newTestServer(t *testing.T, opts Options) *Server {
	t.Helper()
	if opts.Assets == nil {
		opts.Assets = fstest.MapFS{
			"index.html":      {Data: []byte("<html>spa-index</html>")},
			"assets/app-1.js": {Data: []byte("console.log(1)")},
			"favicon.svg":     {Data: []byte("<svg/>")},
		}
	}
	return New(opts)
}

func do(t *testing.T, s *Server, method, path string) (*httptest.ResponseRecorder, map[string]any) {
	t.Helper()
	rec := httptest.NewRecorder()
	req := httptest.NewRequest(method, path, nil)
	s.Handler().ServeHTTP(rec, req)
	var body map[string]any
	if strings.HasPrefix(rec.Header().Get("Content-Type"), "application/json") {
		if err := json.Unmarshal(rec.Body.Bytes(), &body); err != nil {
			t.Fatalf("%s %s: bad JSON %q: %v", method, path, rec.Body.String(), err)
		}
	}
	return rec, body
}

func errorCode(body map[string]any) string {
	e, _ := body["error"].(map[string]any)
	code, _ := e["code"].(string)
	return code
}

func TestHealthAndReady(t *testing.T) {
	ready := errors.New("database not migrated")
	s := newTestServer(t, Options{Version: "1.2.3", Ready: func(context.Context) error { return ready }})
	rec, body := do(t, s, "GET", "/healthz")
	if rec.Code != 200 || body["version"] != "1.2.3" {
		t.Fatalf("healthz = %d %v", rec.Code, body)
	}
	rec, body = do(t, s, "GET", "/readyz")
	if rec.Code != 503 || errorCode(body) != "not_ready" {
		t.Fatalf("readyz while not ready = %d %v", rec.Code, body)
	}
	ready = nil
	if rec, _ = do(t, s, "GET", "/readyz"); rec.Code != 200 {
		t.Fatalf("readyz when ready = %d", rec.Code)
	}
}

func TestClustersFromSnapshots(t *testing.T) {
	kc, err := kfake.NewCluster(kfake.NumBrokers(3), kfake.SeedTopics(4, "orders", "payments"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(kc.Close)
	svc := service.New(service.Options{Logger: quietLogger(), Collector: collector.Config{OffsetsInterval: 100 * time.Millisecond}})
	ctx := context.Background()
	if err := svc.AddCluster(ctx, service.ClusterSpec{Name: "fake", Source: "config", Admin: admin.Config{Bootstrap: kc.ListenAddrs()}}); err != nil {
		t.Fatal(err)
	}
	// A cluster nobody answers for: listed, its figures stay null or zero, never an error for the page.
	if err := svc.AddCluster(ctx, service.ClusterSpec{Name: "down", Source: "config", Admin: admin.Config{Bootstrap: []string{"127.0.0.1:1"}}}); err != nil {
		t.Fatal(err)
	}
	s := newTestServer(t, Options{Service: svc})
	rec, body := do(t, s, "GET", "/api/v1/clusters")
	if rec.Code != 200 || body["total"] != float64(2) {
		t.Fatalf("clusters before the first poll = %d %v", rec.Code, body)
	}
	if v, ok := body["items"].([]any)[1].(map[string]any)["brokers"]; !ok || v != nil {
		t.Fatalf("figures before the first poll must be null, got %v", v)
	}

	if err := svc.Start(ctx); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(svc.Stop)
	var fake map[string]any
	testenv.WaitFor(t, 20*time.Second, func() error {
		if _, fake = do(t, s, "GET", "/api/v1/clusters/fake"); fake["brokers"] == nil || fake["partitions"] != float64(8) {
			return fmt.Errorf("cluster does not show its figures yet: %v", fake)
		}
		return nil
	})
	if fake["brokers"] != float64(3) || fake["topics"] != float64(2) || fake["underReplicated"] != float64(0) || fake["lastPoll"] == nil {
		t.Fatalf("cluster figures = %v", fake)
	}
	rec, body = do(t, s, "GET", "/api/v1/clusters/nope")
	if rec.Code != 404 || errorCode(body) != "cluster_not_found" {
		t.Fatalf("unknown cluster = %d %v", rec.Code, body)
	}
}

func TestEmptyCatalogIsEmptyList(t *testing.T) {
	s := newTestServer(t, Options{})
	rec := httptest.NewRecorder()
	s.Handler().ServeHTTP(rec, httptest.NewRequest("GET", "/api/v1/clusters", nil))
	if strings.TrimSpace(rec.Body.String()) != `{"items":[],"total":0}` {
		t.Fatalf("empty list = %s", rec.Body.String())
	}
}

func TestSPAAndAPI404(t *testing.T) {
	s := newTestServer(t, Options{})
	for _, p := range []string{"/", "/topics/orders", "/clusters/local/groups"} {
		rec, _ := do(t, s, "GET", p)
		if rec.Code != 200 || !strings.Contains(rec.Body.String(), "spa-index") {
			t.Fatalf("GET %s = %d %q, want the SPA index", p, rec.Code, rec.Body.String())
		}
	}
	rec, _ := do(t, s, "GET", "/assets/app-1.js")
	if rec.Code != 200 || !strings.Contains(rec.Header().Get("Cache-Control"), "immutable") {
		t.Fatalf("asset = %d cache %q", rec.Code, rec.Header().Get("Cache-Control"))
	}
	if rec, _ := do(t, s, "GET", "/assets/missing.js"); rec.Code != 404 {
		t.Fatalf("missing asset = %d, want 404 (not the index)", rec.Code)
	}
	rec, body := do(t, s, "GET", "/api/v1/nothing-here")
	if rec.Code != 404 || errorCode(body) != "not_found" {
		t.Fatalf("unknown API path = %d %v", rec.Code, body)
	}
	rec, body = do(t, s, "DELETE", "/api/v1/clusters")
	if rec.Code != 405 || errorCode(body) != "method_not_allowed" {
		t.Fatalf("wrong method = %d %v", rec.Code, body)
	}
	if got := rec.Header().Get("X-Content-Type-Options"); got != "nosniff" {
		t.Fatalf("security header missing: %q", got)
	}
}

func TestListenPortInUse(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	_, err = Listen(ln.Addr().String())
	if err == nil || !strings.Contains(err.Error(), "already in use") || !strings.Contains(err.Error(), "--listen") {
		t.Fatalf("err = %v, want advice about the port in use", err)
	}
}

func TestServeShutsDown(t *testing.T) {
	s := newTestServer(t, Options{})
	ln, err := Listen("127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- s.Serve(ctx, ln) }()
	resp, err := http.Get("http://" + ln.Addr().String() + "/healthz")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	cancel()
	if err := <-done; err != nil {
		t.Fatalf("serve returned %v after shutdown", err)
	}
	if _, err := net.Dial("tcp", ln.Addr().String()); err == nil {
		t.Fatal("still listening after shutdown")
	}
}

func quietLogger() *slog.Logger { return slog.New(slog.NewTextHandler(io.Discard, nil)) }

// openTestStore opens a migrated SQLite store in the test's temp dir, closed when the test ends.
func openTestStore(t *testing.T) *store.Store {
	t.Helper()
	ctx := context.Background()
	st, err := store.Open(ctx, store.Options{Driver: "sqlite", DSN: filepath.Join(t.TempDir(), "o.db"), Logger: quietLogger()})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = st.Close() })
	if _, err := st.Migrate(ctx); err != nil {
		t.Fatal(err)
	}
	return st
}
