package server

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/getkin/kin-openapi/openapi3"
	"github.com/gin-gonic/gin"

	"github.com/osprey-kafka/osprey/internal/testenv"
	apidecl "github.com/osprey-kafka/osprey/server/api"
	"github.com/osprey-kafka/osprey/server/endpoints/events"
)

// sseClient reads one event stream.
type sseClient struct {
	t      *testing.T
	cancel context.CancelFunc
	resp   *http.Response
	lines  chan string
}

func openStream(t *testing.T, url string) *sseClient {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	req, _ := http.NewRequestWithContext(ctx, "GET", url+"/api/v1/events", nil)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		cancel()
		t.Fatal(err)
	}
	if resp.StatusCode != 200 || resp.Header.Get("Content-Type") != "text/event-stream" {
		cancel()
		t.Fatalf("events = %d %q", resp.StatusCode, resp.Header.Get("Content-Type"))
	}
	c := &sseClient{t: t, cancel: cancel, resp: resp, lines: make(chan string, 256)}
	go func() {
		defer close(c.lines)
		sc := bufio.NewScanner(resp.Body)
		for sc.Scan() {
			c.lines <- sc.Text()
		}
	}()
	t.Cleanup(c.close)
	return c
}

func (c *sseClient) close() {
	c.cancel()
	_ = c.resp.Body.Close()
}

// next returns the next event (name, data) or, for a comment, ("#comment", text).
func (c *sseClient) next(timeout time.Duration) (string, string) {
	c.t.Helper()
	var name, data string
	deadline := time.After(timeout)
	for {
		select {
		case l, ok := <-c.lines:
			if !ok {
				return "", ""
			}
			switch {
			case strings.HasPrefix(l, ":"):
				return "#comment", strings.TrimSpace(l[1:])
			case strings.HasPrefix(l, "event: "):
				name = l[len("event: "):]
			case strings.HasPrefix(l, "data: "):
				data = l[len("data: "):]
			case l == "" && name != "":
				return name, data
			}
		case <-deadline:
			c.t.Fatalf("no event within %v", timeout)
		}
	}
}

// nextNamed skips other events and comments until one called name.
func (c *sseClient) nextNamed(name string, timeout time.Duration) map[string]any {
	c.t.Helper()
	end := time.Now().Add(timeout)
	for time.Now().Before(end) {
		n, d := c.next(time.Until(end))
		if n == "" {
			c.t.Fatalf("stream ended while waiting for %s", name)
		}
		if n == name {
			var v map[string]any
			if err := json.Unmarshal([]byte(d), &v); err != nil {
				c.t.Fatalf("%s data %q: %v", name, d, err)
			}
			return v
		}
	}
	c.t.Fatalf("no %s event within %v", name, timeout)
	return nil
}

func newEventsFixture(t *testing.T, heartbeat time.Duration) (*opsFixture, *httptest.Server) {
	t.Helper()
	f := newOpsFixture(t)
	f.srv.ext().hub.Heartbeat = heartbeat // before any stream starts
	e := gin.New()
	f.srv.mountAreas(e, func(r *apidecl.Registry) { events.Declare(r, f.srv.ext().hub, f.svc) })
	ts := httptest.NewServer(e)
	t.Cleanup(ts.Close)
	return f, ts
}

func TestEventsSnapshotsAlertsHeartbeat(t *testing.T) {
	f, ts := newEventsFixture(t, 100*time.Millisecond)
	c := openStream(t, ts.URL)
	first := c.nextNamed("snapshot", 5*time.Second)
	if first["cluster"] != "fake" || first["lastPoll"] == nil || first["totals"].(map[string]any)["partitions"] != float64(8) {
		t.Fatalf("first snapshot event = %v", first)
	}
	seq := first["sequence"].(float64)
	if _, err := f.svc.PollNow(context.Background(), "fake"); err != nil {
		t.Fatal(err)
	}
	if ev := c.nextNamed("snapshot", 5*time.Second); ev["sequence"] != seq+1 {
		t.Fatalf("after a poll: %v, want sequence %v", ev, seq+1)
	}
	f.srv.Publish("alert", map[string]any{"rule": "lag", "state": "firing"})
	if ev := c.nextNamed("alert", 5*time.Second); ev["rule"] != "lag" || ev["state"] != "firing" {
		t.Fatalf("alert event = %v", ev)
	}
	// A bad event name is refused rather than breaking the stream's framing.
	f.srv.Publish("evil\ndata: x", 1)
	for {
		n, d := c.next(5 * time.Second)
		if n == "#comment" && d == "heartbeat" {
			break
		}
		if n != "snapshot" {
			t.Fatalf("unexpected event %q %q while waiting for a heartbeat", n, d)
		}
	}
}

func TestEventsNoLeakAfterDisconnect(t *testing.T) {
	f, ts := newEventsFixture(t, time.Hour)
	hub := f.srv.ext().hub
	http.DefaultClient.CloseIdleConnections()
	base := runtime.NumGoroutine()
	var clients []*sseClient
	for i := 0; i < 5; i++ {
		c := openStream(t, ts.URL)
		c.nextNamed("snapshot", 5*time.Second)
		clients = append(clients, c)
	}
	if hub.Count() != 5 {
		t.Fatalf("%d streams registered, want 5", hub.Count())
	}
	for _, c := range clients {
		c.close()
	}
	http.DefaultClient.CloseIdleConnections()
	testenv.WaitFor(t, 10*time.Second, func() error {
		if hub.Count() != 0 || runtime.NumGoroutine() > base {
			buf := make([]byte, 1<<20)
			return fmt.Errorf("after disconnect: %d streams, %d goroutines (base %d)\n%s", hub.Count(), runtime.NumGoroutine(), base, buf[:runtime.Stack(buf, true)])
		}
		return nil
	})
	// The cluster's collector still publishes to nobody without blocking.
	if _, err := f.svc.PollNow(context.Background(), "fake"); err != nil {
		t.Fatal(err)
	}
}

func TestCloseEventsEndsStreams(t *testing.T) {
	f, ts := newEventsFixture(t, time.Hour)
	c := openStream(t, ts.URL)
	c.nextNamed("snapshot", 5*time.Second)
	f.srv.closeEvents()
	select {
	case _, ok := <-drainLines(c.lines):
		if ok {
			t.Fatal("stream still open after closeEvents")
		}
	case <-time.After(5 * time.Second):
		t.Fatal("stream still open after closeEvents")
	}
	// New streams are refused while shutting down.
	resp, err := http.Get(ts.URL + "/api/v1/events")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != http.StatusServiceUnavailable || !strings.Contains(string(b), "shutting down") {
		t.Fatalf("after close: %d %s", resp.StatusCode, b)
	}
}

// drainLines discards lines and reports the end of the stream.
func drainLines(lines chan string) chan string {
	out := make(chan string)
	go func() {
		for range lines {
		}
		close(out)
	}()
	return out
}

// TestServerWiresEventsAndMetrics checks the routes through New's full middleware chain (recoverer,
// metrics, access log, security headers, identity), not only on an engine of this file's own.
func TestServerWiresEventsAndMetrics(t *testing.T) {
	f := newOpsFixture(t)
	ts := httptest.NewServer(f.srv.Handler())
	t.Cleanup(ts.Close)
	c := openStream(t, ts.URL)
	if ev := c.nextNamed("snapshot", 5*time.Second); ev["cluster"] != "fake" {
		t.Fatalf("snapshot event = %v", ev)
	}
	resp, err := http.Get(ts.URL + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != 200 || !strings.Contains(string(b), "\nosprey_sse_clients 1\n") || !strings.Contains(string(b), `osprey_cluster_brokers{cluster="fake"} 3`) {
		t.Fatalf("/metrics = %d, want one stream and the cluster's brokers:\n%s", resp.StatusCode, b)
	}
	resp, err = http.Get(ts.URL + "/api/openapi.json")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 200 {
		t.Fatalf("openapi = %d", resp.StatusCode)
	}
}

// The stream's payloads are documented (EventData); what it sends must match the document, so the
// web's generated SnapshotEvent type is the truth.
func TestSnapshotEventMatchesItsSchema(t *testing.T) {
	f, ts := newEventsFixture(t, time.Minute)
	raw, err := f.srv.OpenAPI()
	if err != nil {
		t.Fatal(err)
	}
	doc, err := openapi3.NewLoader().LoadFromData(raw)
	if err != nil {
		t.Fatal(err)
	}
	schema := doc.Components.Schemas["SnapshotEvent"]
	if schema == nil {
		t.Fatal("SnapshotEvent is not in the document")
	}
	ev := openStream(t, ts.URL).nextNamed("snapshot", 5*time.Second)
	if err := schema.Value.VisitJSON(ev); err != nil {
		t.Fatalf("snapshot event %v does not match its schema: %v", ev, err)
	}
	delete(ev, "totals")
	if err := schema.Value.VisitJSON(ev); err == nil {
		t.Fatal("the schema accepts an event without totals")
	}
}
