package server

import (
	"context"
	"net/http"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/osprey-kafka/osprey/collector"
	"github.com/osprey-kafka/osprey/server/service"
)

// testClock is a clock the test moves by hand.
type testClock struct {
	mu  sync.Mutex
	now time.Time
}

func (c *testClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

func (c *testClock) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.now = c.now.Add(d)
}

// newSessionEnv is a console with local users alice (viewer) and bob (viewer) whose sessions time
// out after 30 minutes idle and 12 hours in all, read from clock.
func newSessionEnv(t *testing.T) (*apiEnv, *testClock) {
	t.Helper()
	ctx := context.Background()
	st := openTestStore(t)
	clock := &testClock{now: time.Now().UTC()}
	svc := service.New(service.Options{Store: st, Logger: quietLogger(), DataDir: t.TempDir(), Now: clock.Now,
		SessionIdle: 30 * time.Minute, SessionAbsolute: 12 * time.Hour,
		Collector: collector.Config{OffsetsInterval: time.Hour, GroupsInterval: time.Hour}})
	if _, err := svc.SetupAdminToken(ctx, testToken); err != nil {
		t.Fatal(err)
	}
	for _, u := range []string{"alice", "bob"} {
		if _, err := svc.CreateUser(ctx, u, "correct horse "+u, "viewer"); err != nil {
			t.Fatal(err)
		}
	}
	if err := svc.Start(ctx); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(svc.Stop)
	return &apiEnv{t: t, st: st, svc: svc, srv: newTestServer(t, Options{Service: svc, Logger: quietLogger()})}, clock
}

func (e *apiEnv) mustLogin(user string) *session {
	e.t.Helper()
	code, out, s := e.login(user, "correct horse "+user)
	if code != http.StatusOK {
		e.t.Fatalf("login %s: %d %v", user, code, out)
	}
	return s
}

// signedIn reports whether the session still names its user.
func (s *session) signedIn() bool {
	s.e.t.Helper()
	_, me := s.do("GET", "/api/v1/auth/me", nil)
	return me["kind"] == "session"
}

func TestSessionIdleTimeout(t *testing.T) {
	e, clock := newSessionEnv(t)
	s := e.mustLogin("alice")
	// Used every 25 minutes, the session lives on past the first idle end.
	for range 4 {
		clock.Advance(25 * time.Minute)
		if !s.signedIn() {
			t.Fatalf("a session used every 25 minutes ended at %v", clock.Now())
		}
	}
	clock.Advance(31 * time.Minute)
	if s.signedIn() {
		t.Fatal("a session idle for 31 minutes is still valid")
	}
}

func TestSessionAbsoluteTimeout(t *testing.T) {
	e, clock := newSessionEnv(t)
	s := e.mustLogin("alice")
	for used := time.Duration(0); used < 12*time.Hour-20*time.Minute; used += 20 * time.Minute {
		clock.Advance(20 * time.Minute)
		if !s.signedIn() {
			t.Fatalf("a busy session ended after %v", used+20*time.Minute)
		}
	}
	clock.Advance(20 * time.Minute) // 12 hours after sign-in
	if s.signedIn() {
		t.Fatal("a busy session outlived the absolute timeout of 12 hours")
	}
}

func TestSignOutEverywhere(t *testing.T) {
	e, _ := newSessionEnv(t)
	laptop, phone, bob := e.mustLogin("alice"), e.mustLogin("alice"), e.mustLogin("bob")
	if code, out := phone.do("POST", "/api/v1/auth/logout-everywhere", nil); code != http.StatusOK || out["ended"] != 2.0 {
		t.Fatalf("logout-everywhere = %d %v", code, out)
	}
	if laptop.signedIn() || phone.signedIn() {
		t.Fatal("alice is still signed in somewhere")
	}
	if !bob.signedIn() {
		t.Fatal("bob was signed out by alice's sign-out everywhere")
	}
	// Only an admin signs another user out.
	alice := e.mustLogin("alice")
	users, _ := e.st.Users(context.Background())
	var bobID int64
	for _, u := range users {
		if u.Username == "bob" {
			bobID = u.ID
		}
	}
	path := "/api/v1/users/" + strconv.FormatInt(bobID, 10) + "/sessions"
	if code, _ := alice.do("DELETE", path, nil); code != http.StatusForbidden || !bob.signedIn() {
		t.Fatalf("a viewer ending bob's sessions = %d", code)
	}
	if code, out := e.call("DELETE", path, testToken, nil); code != http.StatusOK || out["ended"] != 1.0 {
		t.Fatalf("admin ending bob's sessions = %d %v", code, out)
	}
	if bob.signedIn() || !alice.signedIn() {
		t.Fatal("the admin's sign-out of bob did not end exactly bob's sessions")
	}
	if code, _ := e.call("DELETE", "/api/v1/users/9999/sessions", testToken, nil); code != http.StatusNotFound {
		t.Fatalf("unknown user = %d, want 404", code)
	}
	_, audit := e.call("GET", "/api/v1/audit?action=user.sessions.delete&actor=admin-token", testToken, nil)
	if audit["total"] != 1.0 {
		t.Fatalf("audit of the admin sign-out = %v", audit)
	}
}
