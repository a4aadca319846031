package service

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kfake"
	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/osprey-kafka/osprey/admin"
	"github.com/osprey-kafka/osprey/alert"
	"github.com/osprey-kafka/osprey/collector"
	"github.com/osprey-kafka/osprey/internal/testenv"
	"github.com/osprey-kafka/osprey/store"
)

// testConsole is one `osprey serve`'s service and alerting, on a shared database.
type testConsole struct {
	name  string
	st    *store.Store
	ev    *alert.Evaluator
	svc   *Service
	crash context.CancelFunc // ends everything without the clean-stop path (no lease release)
	polls atomic.Int64       // snapshots this console polled itself
	views atomic.Int64       // snapshots it adopted from the database
}

func startTestConsole(t *testing.T, ctx context.Context, name, dsn string, bootstrap []string, interval time.Duration) *testConsole {
	t.Helper()
	st, err := store.Open(ctx, store.Options{Driver: "mysql", DSN: dsn, Logger: quietLog()})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = st.Close() })
	if _, err := st.Migrate(ctx); err != nil {
		t.Fatal(err)
	}
	c := &testConsole{name: name, st: st}
	c.ev, err = alert.New(alert.Options{Store: st, Logger: quietLog()})
	if err != nil {
		t.Fatal(err)
	}
	c.svc = New(Options{Store: st, Logger: quietLog(), Instance: name,
		Collector: collector.Config{OffsetsInterval: interval, GroupsInterval: interval},
		Watch:     func(_ string, col *collector.Collector) func() { return c.ev.Watch(col) },
		OnLease: func(ctx context.Context, cluster string, held bool) {
			if !held {
				c.ev.Forget(cluster)
			} else if err := c.ev.TakeOver(ctx, cluster); err != nil {
				t.Errorf("%s taking over the alerts of %s: %v", name, cluster, err)
			}
		}})
	if err := c.svc.AddCluster(ctx, ClusterSpec{Name: "kf", Source: "config", Admin: admin.Config{Bootstrap: bootstrap}}); err != nil {
		t.Fatal(err)
	}
	ch, unsub, err := c.svc.Subscribe("kf", 64)
	if err != nil {
		t.Fatal(err)
	}
	go func() {
		for s := range ch {
			if s.Cluster.Shared {
				c.views.Add(1)
			} else {
				c.polls.Add(1)
			}
		}
	}()
	if err := c.ev.Start(ctx); err != nil {
		t.Fatal(err)
	}
	rctx, crash := context.WithCancel(ctx)
	c.crash = func() { crash(); c.ev.Stop() }
	if err := c.svc.Start(rctx); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { unsub(); c.svc.Stop(); c.ev.Stop() })
	return c
}

// TestTwoConsolesOneDatabase runs two consoles on one MariaDB database monitoring one cluster: only
// the lease holder polls, the other serves the holder's snapshots; a lag alert fires once; the holder
// crashes (no release) and the other takes the lease over within two and a half intervals of the
// crash and polls, without notifying the firing alert again.
func TestTwoConsolesOneDatabase(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 90*time.Second)
	defer cancel()
	dsn := testenv.MySQLDSN(t)
	kc, err := kfake.NewCluster(kfake.NumBrokers(1), kfake.SeedTopics(1, "orders"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(kc.Close)
	// A group 10 records behind: a lag alert fires on the first poll that sees it.
	prod, err := kgo.NewClient(kgo.SeedBrokers(kc.ListenAddrs()...), kgo.DefaultProduceTopic("orders"))
	if err != nil {
		t.Fatal(err)
	}
	defer prod.Close()
	for i := range 10 {
		if err := prod.ProduceSync(ctx, &kgo.Record{Value: []byte(fmt.Sprint(i))}).FirstErr(); err != nil {
			t.Fatal(err)
		}
	}
	adm, err := admin.New(admin.Config{Bootstrap: kc.ListenAddrs()}, quietLog())
	if err != nil {
		t.Fatal(err)
	}
	defer adm.Close()
	if _, err := adm.CommitOffsets(ctx, "billing", map[string]map[int32]int64{"orders": {0: 0}}); err != nil {
		t.Fatal(err)
	}

	var firing, sent atomic.Int64
	hook := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		var n struct {
			State string `json:"state"`
		}
		_ = json.NewDecoder(r.Body).Decode(&n)
		sent.Add(1)
		if strings.EqualFold(n.State, "firing") {
			firing.Add(1)
		}
	}))
	defer hook.Close()

	const interval = 400 * time.Millisecond
	a := startTestConsole(t, ctx, "a", dsn, kc.ListenAddrs(), interval)
	asvc := alert.NewService(a.ev)
	cfg, _ := json.Marshal(alert.WebhookConfig{URL: hook.URL})
	chID, err := asvc.CreateChannel(ctx, alert.ChannelInput{Name: "hook", Type: alert.ChannelWebhook, Config: cfg})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := asvc.CreateRule(ctx, alert.RuleInput{Name: "billing lag", Kind: alert.KindLagMessages, Group: "billing",
		Threshold: 5, Severity: alert.SeverityCritical, ChannelIDs: []int64{chID}}); err != nil {
		t.Fatal(err)
	}
	if err := a.ev.Reload(ctx); err != nil {
		t.Fatal(err)
	}
	b := startTestConsole(t, ctx, "b", dsn, kc.ListenAddrs(), interval)

	holderName := func() string {
		l, err := a.st.GetLease(ctx, "kf")
		if err != nil || l == nil {
			return ""
		}
		return l.Holder
	}
	testenv.WaitFor(t, 10*time.Second, testenv.Until("a lease holder", func() bool { return holderName() != "" }))
	holder, other := a, b
	if holderName() == "b" {
		holder, other = b, a
	}
	testenv.WaitFor(t, 20*time.Second, testenv.Until("the lag alert's notification", func() bool { return firing.Load() == 1 }))
	// Several of the holder's cycles: the other polls nothing and serves the holder's snapshots.
	from := holder.polls.Load()
	testenv.WaitFor(t, 10*time.Second, testenv.Until("five more polls by the holder", func() bool { return holder.polls.Load() >= from+5 }))
	if n := other.polls.Load(); n != 0 {
		t.Fatalf("the console without the lease polled %d times", n)
	}
	testenv.WaitFor(t, 10*time.Second, testenv.Until("the other console to serve the holder's snapshot", func() bool {
		s, err := other.svc.Snapshot("kf")
		return err == nil && s != nil && s.Cluster.Shared && len(s.Topics) > 0
	}))

	// The holder crashes: its lease is not released.
	crashed := time.Now()
	holder.crash()
	testenv.WaitFor(t, 10*time.Second, testenv.Until("the other console to take the lease over", func() bool {
		return holderName() == other.name && other.polls.Load() > 0
	}))
	took := time.Since(crashed)
	t.Logf("%s took the lease over %s after %s crashed (interval %s)", other.name, took.Round(time.Millisecond), holder.name, interval)
	if limit := 5*interval/2 + time.Second; took > limit { // a second for scheduling on a loaded machine
		t.Errorf("takeover took %s, want at most %s", took, limit)
	}
	// The new holder evaluates the alert (still firing) on its own polls and does not notify it again.
	from = other.polls.Load()
	testenv.WaitFor(t, 10*time.Second, testenv.Until("five polls by the new holder", func() bool { return other.polls.Load() >= from+5 }))
	if active := other.ev.Active(); len(active) != 1 {
		t.Fatalf("the new holder has %d active alerts, want the one firing: %+v", len(active), active)
	}
	if n := sent.Load(); n != 1 {
		t.Fatalf("the webhook got %d notifications, want the single firing one", n)
	}
}
