package server

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"runtime"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kfake"

	"github.com/osprey-kafka/osprey/admin"
	"github.com/osprey-kafka/osprey/collector"
	"github.com/osprey-kafka/osprey/internal/testenv"
	"github.com/osprey-kafka/osprey/server/service"
)

// soakEnv is the console on SQLite behind a real HTTP listener (so sockets count as open files),
// monitoring one kfake cluster, with a local user to sign in as.
type soakEnv struct {
	t      *testing.T
	svc    *service.Service
	ts     *httptest.Server
	client *http.Client
	kc     *kfake.Cluster
	// login signs in from its own loopback address (loginFrom, one per cycle), one connection per
	// request: the console allows ten sign-ins per address and per user in five minutes.
	login     *http.Client
	loginFrom atomic.Int32
	users     int
}

// soakLoginsPerUser stays under the console's per-user limit of ten sign-ins in five minutes.
const soakLoginsPerUser = 9

func newSoakEnv(t *testing.T, logins int) *soakEnv {
	t.Helper()
	ctx := context.Background()
	kc, err := kfake.NewCluster(kfake.NumBrokers(1), kfake.SeedTopics(1, "orders"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(kc.Close)
	st := openTestStore(t)
	svc := service.New(service.Options{Store: st, Logger: quietLogger(), DataDir: t.TempDir(),
		Collector: collector.Config{OffsetsInterval: time.Hour, GroupsInterval: time.Hour}})
	if _, err := svc.SetupAdminToken(ctx, testToken); err != nil {
		t.Fatal(err)
	}
	users := logins/soakLoginsPerUser + 1
	for u := range users {
		name := fmt.Sprintf("user%d", u)
		if _, err := svc.CreateUser(ctx, name, "correct horse "+name, "viewer"); err != nil {
			t.Fatal(err)
		}
	}
	if err := svc.AddCluster(ctx, service.ClusterSpec{Name: "fake", Source: "config", Admin: admin.Config{Bootstrap: kc.ListenAddrs()}}); err != nil {
		t.Fatal(err)
	}
	if err := svc.Start(ctx); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(svc.Stop)
	if _, err := svc.PollNow(ctx, "fake"); err != nil {
		t.Fatal(err)
	}
	ts := httptest.NewServer(newTestServer(t, Options{Service: svc, Logger: quietLogger()}).Handler())
	t.Cleanup(ts.Close)
	client := &http.Client{Transport: &http.Transport{}, Timeout: 60 * time.Second}
	t.Cleanup(client.CloseIdleConnections)
	e := &soakEnv{t: t, svc: svc, ts: ts, client: client, kc: kc, users: users}
	e.login = &http.Client{Timeout: 60 * time.Second, Transport: &http.Transport{DisableKeepAlives: true,
		DialContext: func(ctx context.Context, network, addr string) (net.Conn, error) {
			n := e.loginFrom.Load()
			d := net.Dialer{LocalAddr: &net.TCPAddr{IP: net.IPv4(127, 1, byte(n>>8), byte(n))}}
			return d.DialContext(ctx, network, addr)
		}}}
	return e
}

// request sends a JSON request and decodes a JSON answer; header values are set as given.
func (e *soakEnv) request(method, path string, body any, header map[string]string, cookies ...*http.Cookie) (*http.Response, map[string]any) {
	e.t.Helper()
	return e.requestVia(e.client, method, path, body, header, cookies...)
}

func (e *soakEnv) requestVia(client *http.Client, method, path string, body any, header map[string]string, cookies ...*http.Cookie) (*http.Response, map[string]any) {
	e.t.Helper()
	var rd *bytes.Reader
	if body == nil {
		rd = bytes.NewReader(nil)
	} else {
		raw, _ := json.Marshal(body)
		rd = bytes.NewReader(raw)
	}
	req, _ := http.NewRequest(method, e.ts.URL+path, rd)
	req.Header.Set("Content-Type", "application/json")
	for k, v := range header {
		req.Header.Set(k, v)
	}
	for _, c := range cookies {
		req.AddCookie(c)
	}
	resp, err := client.Do(req)
	if err != nil {
		e.t.Fatalf("%s %s: %v", method, path, err)
	}
	defer resp.Body.Close()
	var out map[string]any
	_ = json.NewDecoder(resp.Body).Decode(&out)
	return resp, out
}

// cycleCluster registers a cluster, polls it once (the admin client connects) and removes it.
func (e *soakEnv) cycleCluster(ctx context.Context) {
	e.t.Helper()
	if err := e.svc.AddCluster(ctx, service.ClusterSpec{Name: "cycled", Source: "config", Admin: admin.Config{Bootstrap: e.kc.ListenAddrs()}}); err != nil {
		e.t.Fatal(err)
	}
	if _, err := e.svc.PollNow(ctx, "cycled"); err != nil {
		e.t.Fatal(err)
	}
	if err := e.svc.RemoveCluster("cycled"); err != nil {
		e.t.Fatal(err)
	}
}

// cycleStream opens the SPA's event stream, reads up to its first event and closes it.
func (e *soakEnv) cycleStream(ctx context.Context) {
	e.t.Helper()
	ctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	req, _ := http.NewRequestWithContext(ctx, "GET", e.ts.URL+"/api/v1/events", nil)
	resp, err := e.client.Do(req)
	if err != nil {
		e.t.Fatal(err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != 200 {
		e.t.Fatalf("events = %d", resp.StatusCode)
	}
	sc := bufio.NewScanner(resp.Body)
	sc.Buffer(make([]byte, 64<<10), 4<<20)
	for sc.Scan() {
		if sc.Text() == "" { // the end of the first event
			return
		}
	}
	e.t.Fatalf("the event stream ended before its first event: %v", sc.Err())
}

// cycleLogin signs a user in (login number i), checks the session, and signs out with the CSRF token.
func (e *soakEnv) cycleLogin(i int) {
	e.t.Helper()
	e.loginFrom.Store(int32(i + 1))
	user := fmt.Sprintf("user%d", i/soakLoginsPerUser)
	resp, out := e.requestVia(e.login, "POST", "/api/v1/auth/login", map[string]string{"username": user, "password": "correct horse " + user}, nil)
	if resp.StatusCode != 200 {
		e.t.Fatalf("login = %d %v", resp.StatusCode, out)
	}
	var cookie *http.Cookie
	for _, c := range resp.Cookies() {
		if c.Name == sessionCookie {
			cookie = c
		}
	}
	csrf, _ := out["csrfToken"].(string)
	if cookie == nil || csrf == "" {
		e.t.Fatalf("login gave no session cookie or CSRF token: %v", out)
	}
	if _, me := e.request("GET", "/api/v1/auth/me", nil, nil, cookie); me["kind"] != "session" {
		e.t.Fatalf("me after login = %v", me)
	}
	if resp, out := e.request("POST", "/api/v1/auth/logout", nil, map[string]string{csrfHeader: csrf}, cookie); resp.StatusCode/100 != 2 {
		e.t.Fatalf("logout = %d %v", resp.StatusCode, out)
	}
}

// cycleRuntime creates a one-broker runtime cluster through the API, waits until the console
// sees its broker, and deletes it.
func (e *soakEnv) cycleRuntime(ctx context.Context) {
	e.t.Helper()
	auth := map[string]string{"Authorization": "Bearer " + testToken}
	if resp, out := e.request("POST", "/api/v1/runtime/clusters", map[string]any{"name": "rt", "brokers": 1}, auth); resp.StatusCode != 201 {
		e.t.Fatalf("create runtime cluster = %d %v", resp.StatusCode, out)
	}
	testenv.WaitFor(e.t, 30*time.Second, func() error {
		if _, err := e.svc.PollNow(ctx, "rt"); err != nil {
			return err
		}
		if _, c := e.request("GET", "/api/v1/clusters/rt", nil, nil); c["brokersUp"] != float64(1) {
			return fmt.Errorf("runtime cluster not up: %v", c)
		}
		return nil
	})
	if resp, out := e.request("DELETE", "/api/v1/runtime/clusters/rt", nil, auth); resp.StatusCode/100 != 2 {
		e.t.Fatalf("delete runtime cluster = %d %v", resp.StatusCode, out)
	}
}

// soakUsage is what the soak compares: goroutines, open files and live heap after a GC.
type soakUsage struct {
	goroutines, fds int
	heap            uint64
}

func (e *soakEnv) usage() soakUsage {
	e.client.CloseIdleConnections()
	runtime.GC()
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	return soakUsage{goroutines: runtime.NumGoroutine(), fds: testenv.OpenFDs(e.t), heap: ms.HeapAlloc}
}

func (u soakUsage) String() string {
	return fmt.Sprintf("%d goroutines, %d open files, heap %.1f MiB", u.goroutines, u.fds, float64(u.heap)/(1<<20))
}

// Soak tolerances: what a cycle may leave behind in all, not per cycle.
const (
	soakGoroutines = 10
	soakFDs        = 10
	soakHeapFixed  = 8 << 20 // or 20% of the baseline heap, whichever is larger
)

// within reports how u exceeds base beyond the soak tolerances, or nil.
func (u soakUsage) within(base soakUsage) error {
	heapSlack := max(uint64(soakHeapFixed), base.heap/5)
	var over []string
	if u.goroutines > base.goroutines+soakGoroutines {
		over = append(over, fmt.Sprintf("goroutines %d > %d+%d", u.goroutines, base.goroutines, soakGoroutines))
	}
	if u.fds > base.fds+soakFDs {
		over = append(over, fmt.Sprintf("open files %d > %d+%d", u.fds, base.fds, soakFDs))
	}
	if u.heap > base.heap+heapSlack {
		over = append(over, fmt.Sprintf("heap %d > %d+%d", u.heap, base.heap, heapSlack))
	}
	if len(over) > 0 {
		return fmt.Errorf("above the baseline: %s", strings.Join(over, ", "))
	}
	return nil
}

// soakCycles is 100 by default, 20 under the race detector (as in `make test`, where a cycle is
// five times slower); OSPREY_SOAK_CYCLES (1000 in `make test-chaos`) sets it.
func soakCycles(t *testing.T) int {
	n := 100
	if testenv.RaceEnabled {
		n = 20
	}
	if v := os.Getenv("OSPREY_SOAK_CYCLES"); v != "" {
		var err error
		if n, err = strconv.Atoi(v); err != nil || n < 1 {
			t.Fatalf("OSPREY_SOAK_CYCLES=%q: want a positive count", v)
		}
	}
	return n
}

// TestSoakNoLeaks repeats what a console sees all day — a cluster added and removed, an event
// stream opened and closed, a user signing in and out, and (every 25th cycle, every 10th under the
// race detector; it is heavier) a runtime cluster created and deleted — and then waits for goroutines, open files and the heap to
// come back to where they were after a warm-up cycle, within fixed tolerances.
func TestSoakNoLeaks(t *testing.T) {
	runtimeEvery := 25
	if testenv.RaceEnabled {
		runtimeEvery = 10
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Minute)
	defer cancel()
	n := soakCycles(t)
	const warmUp = 2
	e := newSoakEnv(t, warmUp+n)
	logins := 0
	cycle := func(i int) {
		e.cycleCluster(ctx)
		e.cycleStream(ctx)
		e.cycleLogin(logins)
		logins++
		if i%runtimeEvery == 0 {
			e.cycleRuntime(ctx)
		}
	}
	// The warm-up makes what is made once (pools, caches, the first runtime cluster's code paths)
	// part of the baseline.
	for i := range warmUp {
		cycle(i * runtimeEvery)
	}
	var base soakUsage
	testenv.WaitFor(t, 10*time.Second, func() error {
		// Settled when two readings agree on goroutines: streams of the warm-up have ended.
		a := e.usage()
		base = e.usage()
		if a.goroutines != base.goroutines {
			return fmt.Errorf("goroutines still moving: %d, %d", a.goroutines, base.goroutines)
		}
		return nil
	})
	start := time.Now()
	for i := 1; i <= n; i++ {
		cycle(i)
	}
	var end soakUsage
	testenv.WaitFor(t, 20*time.Second, func() error {
		end = e.usage()
		return end.within(base)
	})
	t.Logf("%d cycles in %v: baseline %v; end %v", n, time.Since(start).Round(time.Millisecond), base, end)
}
