package service

import (
	"context"
	"sync"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kfake"

	"github.com/osprey-kafka/osprey/admin"
	"github.com/osprey-kafka/osprey/collector"
	"github.com/osprey-kafka/osprey/internal/testenv"
	"github.com/osprey-kafka/osprey/store"
)

// TestDatabasePausedSamplesBuffered pauses a private MariaDB (SIGSTOP) under a running console:
// snapshots keep being served from memory, the samples of the cycles polled meanwhile wait in a
// buffer of three, the oldest beyond that are dropped and counted, and when the database answers
// again the buffered cycles are in it without a restart.
func TestDatabasePausedSamplesBuffered(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 90*time.Second)
	defer cancel()
	db := testenv.StartPrivateMariaDB(t)
	kc, err := kfake.NewCluster(kfake.NumBrokers(1), kfake.SeedTopics(1, "orders"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(kc.Close)
	st, err := store.Open(ctx, store.Options{Driver: "mysql", DSN: db.DSN, Logger: quietLog()})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = st.Close() })
	if _, err := st.Migrate(ctx); err != nil {
		t.Fatal(err)
	}
	// One-second polls: cluster points are stored per second, so each cycle has its own row.
	svc := New(Options{Store: st, Logger: quietLog(),
		Collector:    collector.Config{OffsetsInterval: time.Second, GroupsInterval: time.Second},
		SampleBuffer: SampleBufferOptions{Max: 3, WriteTimeout: 500 * time.Millisecond, Retry: 100 * time.Millisecond, MaxRetry: 200 * time.Millisecond}})
	if err := svc.AddCluster(ctx, ClusterSpec{Name: "kf", Source: "config", Admin: admin.Config{Bootstrap: kc.ListenAddrs()}}); err != nil {
		t.Fatal(err)
	}
	ch, unsub, err := svc.Subscribe("kf", 64)
	if err != nil {
		t.Fatal(err)
	}
	var (
		mu    sync.Mutex
		polls []time.Time
	)
	go func() {
		for s := range ch {
			mu.Lock()
			polls = append(polls, s.Cluster.LastPoll)
			mu.Unlock()
		}
	}()
	if err := svc.Start(ctx); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { unsub(); svc.Stop() })
	testenv.WaitFor(t, 20*time.Second, testenv.Until("two cycles written", func() bool { return svc.DatabaseStatus().Written >= 2 }))
	// A session and an API token verified before the pause; another session never used.
	root := Caller{Identity: Identity{Name: "root", Kind: "admin-token", Role: RoleAdmin}}
	if _, err := svc.AddUser(ctx, root, "ana", "a-long-password", RoleOperator); err != nil {
		t.Fatal(err)
	}
	used, err := svc.Login(ctx, "ana", "a-long-password")
	if err != nil {
		t.Fatal(err)
	}
	unused, err := svc.Login(ctx, "ana", "a-long-password")
	if err != nil {
		t.Fatal(err)
	}
	tok, err := svc.IssueAPIToken(ctx, Caller{Identity: used.Identity}, "ci", RoleViewer, "")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := svc.SessionIdentity(ctx, used.Session); err != nil {
		t.Fatal(err)
	}
	if _, err := svc.Authenticate(ctx, tok.Token); err != nil {
		t.Fatal(err)
	}

	db.Pause()
	paused := time.Now()
	testenv.WaitFor(t, 20*time.Second, testenv.Until("the database reported unavailable", func() bool {
		return !svc.DatabaseStatus().Available
	}))
	testenv.WaitFor(t, 30*time.Second, testenv.Until("two cycles dropped from a full buffer", func() bool {
		st := svc.DatabaseStatus()
		return st.Dropped >= 2 && st.Buffered == 3
	}))
	down := svc.DatabaseStatus()
	if down.DownSince == nil || down.DownSince.Before(paused) || down.Error == "" {
		t.Fatalf("status while paused: %+v (paused at %s)", down, paused)
	}
	if s, err := svc.Snapshot("kf"); err != nil || s == nil || !s.Cluster.LastPoll.After(paused) {
		t.Fatalf("the snapshot is not served from the polls made while the database is paused: %v", err)
	}
	checkAuthWhilePaused(t, ctx, svc, used.Session, unused.Session, tok.Token)

	resumed := time.Now()
	db.Resume()
	testenv.WaitFor(t, 30*time.Second, testenv.Until("the buffer flushed", func() bool {
		st := svc.DatabaseStatus()
		return st.Available && st.Buffered == 0
	}))
	after := svc.DatabaseStatus()
	if after.Dropped < 2 || after.DownSince != nil {
		t.Fatalf("status after the database returned: %+v", after)
	}
	// Every cycle polled after the pause is in the database except the dropped ones, which are the
	// oldest: the last three polled before the flush are all there.
	pts, err := st.ClusterSeries(ctx, "kf", store.SeriesRange{From: paused.Add(-time.Second), To: time.Now().Add(time.Second)})
	if err != nil {
		t.Fatal(err)
	}
	stored := map[int64]bool{}
	for _, p := range pts {
		stored[p.Ts] = true
	}
	mu.Lock()
	var during []time.Time
	for _, p := range polls {
		if p.After(paused) && p.Before(resumed) {
			during = append(during, p)
		}
	}
	mu.Unlock()
	t.Logf("%d cycles polled while paused, %d dropped, %d points stored since the pause", len(during), after.Dropped, len(pts))
	if len(during) < 5 {
		t.Fatalf("only %d polls while the database was paused", len(during))
	}
	missing := 0
	for _, p := range during {
		if !stored[p.Unix()] {
			missing++
		}
	}
	if int64(missing) > after.Dropped {
		t.Fatalf("%d of the cycles polled while paused are missing from the database, but only %d were dropped", missing, after.Dropped)
	}
	for _, p := range during[len(during)-3:] {
		if !stored[p.Unix()] {
			t.Fatalf("the buffered cycle of %s is not in the database", p)
		}
	}
}

// checkAuthWhilePaused: the session and token verified before the pause still resolve, each within
// a bounded wait; a session never verified by this console is refused with an error, not hung on.
func checkAuthWhilePaused(t *testing.T, ctx context.Context, svc *Service, used, unused, token string) {
	t.Helper()
	bound := authLookupTimeout + 2*time.Second
	start := time.Now()
	if id, err := svc.SessionIdentity(ctx, used); err != nil || id.Name != "ana" || id.csrfHash == "" {
		t.Fatalf("a verified session while the database is paused: %+v, %v", id, err)
	}
	if id, err := svc.Authenticate(ctx, token); err != nil || id.Role != RoleViewer {
		t.Fatalf("a verified API token while the database is paused: %+v, %v", id, err)
	}
	if _, err := svc.SessionIdentity(ctx, unused); err == nil {
		t.Fatal("a session never verified here was accepted while the database is paused")
	}
	if d := time.Since(start); d > 3*bound {
		t.Fatalf("three identity checks took %s while the database is paused, want under %s", d, 3*bound)
	}
}
