package alert

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/osprey-kafka/osprey/collector"
	"github.com/osprey-kafka/osprey/store"
)

// harness is one evaluator over a fresh store with a fake clock.
type harness struct {
	t     *testing.T
	st    *store.Store
	clock *fakeClock
	ev    *Evaluator
}

func newHarness(t *testing.T, rules ...RuleInput) *harness {
	t.Helper()
	h := &harness{t: t, st: newTestStore(t), clock: newFakeClock()}
	for _, r := range rules {
		mustRule(t, h.st, r)
	}
	h.ev, _ = newTestEvaluator(t, h.st, h.clock)
	return h
}

// observe advances the clock one cycle (15 s) and evaluates s, stamped now.
func (h *harness) observe(s *collector.Snapshot) {
	h.t.Helper()
	now := h.clock.Advance(15 * time.Second)
	s.Cluster.LastPoll = now
	if err := h.ev.Observe(context.Background(), s); err != nil {
		h.t.Fatal(err)
	}
}

func (h *harness) now() time.Time { return h.clock.Now() }

func (h *harness) firing() []ActiveAlert {
	var out []ActiveAlert
	for _, a := range h.ev.Active() {
		if a.State == "firing" {
			out = append(out, a)
		}
	}
	return out
}

func (h *harness) expectFiring(n int) []ActiveAlert {
	h.t.Helper()
	f := h.firing()
	if len(f) != n {
		h.t.Fatalf("%d alerts firing, want %d: %+v", len(f), n, f)
	}
	return f
}

func TestRuleLagMessages(t *testing.T) {
	h := newHarness(t, RuleInput{Name: "lag", Kind: KindLagMessages, Threshold: 100})
	h.observe(newSnap("c1", h.now()).topic("orders", 1000, 1000).group("billing", "Stable", 1, "orders", [2]int64{960, 1000}, [2]int64{950, 1000}).build())
	h.expectFiring(0) // lag 90
	h.observe(newSnap("c1", h.now()).topic("orders", 1100, 1100).group("billing", "Stable", 1, "orders", [2]int64{960, 1100}, [2]int64{950, 1100}).build())
	a := h.expectFiring(1)[0]
	if a.Value != 290 || a.Labels["group"] != "billing" || a.Labels["topic"] != "orders" || a.Cluster != "c1" {
		t.Fatalf("alert = %+v", a)
	}
	if !strings.Contains(a.Summary, "lag 290 messages") || a.Link != "http://console.test/clusters/c1/groups/billing" {
		t.Fatalf("summary %q link %q", a.Summary, a.Link)
	}
	// Unknown end offsets (a broker blip): neither resolve nor re-fire.
	h.observe(newSnap("c1", h.now()).topic("orders", -1, -1).group("billing", "Stable", 1, "orders", [2]int64{960, -1}, [2]int64{950, -1}).build())
	h.expectFiring(1)
	h.observe(newSnap("c1", h.now()).topic("orders", 1100, 1100).group("billing", "Stable", 1, "orders", [2]int64{1100, 1100}, [2]int64{1100, 1100}).build())
	h.expectFiring(0)
}

func TestRuleLagSeconds(t *testing.T) {
	h := newHarness(t, RuleInput{Name: "lagsec", Kind: KindLagSeconds, Threshold: 60})
	h.observe(newSnap("c1", h.now()).topic("t", 100).group("g", "Stable", 1, "t", [2]int64{50, 100}).lagSeconds("g", 30).build())
	h.expectFiring(0)
	h.observe(newSnap("c1", h.now()).topic("t", 100).group("g", "Stable", 1, "t", [2]int64{50, 100}).lagSeconds("g", 95).build())
	if a := h.expectFiring(1)[0]; a.Value != 95 || !strings.Contains(a.Summary, "95.0 s") {
		t.Fatalf("alert = %+v", a)
	}
}

func TestRuleScopePatterns(t *testing.T) {
	h := newHarness(t, RuleInput{Name: "scoped", Kind: KindLagMessages, Cluster: "prod-*", Group: "app-*", Topic: "orders.?"})
	s := func(cluster string) *collector.Snapshot {
		return newSnap(cluster, h.now()).topic("orders.1", 100).topic("orders.10", 100).
			group("app-a", "Stable", 1, "orders.1", [2]int64{0, 100}).
			group("app-b", "Stable", 1, "orders.10", [2]int64{0, 100}).
			group("other", "Stable", 1, "orders.1", [2]int64{0, 100}).build()
	}
	h.observe(s("dev"))
	h.expectFiring(0)
	h.observe(s("prod-eu"))
	if a := h.expectFiring(1)[0]; a.Labels["group"] != "app-a" || a.Labels["topic"] != "orders.1" {
		t.Fatalf("alert = %+v", a)
	}
}

// lagStatusRun feeds 10 cycles of (committed, end) for one partition.
func lagStatusRun(h *harness, c0, dc, e0, de int64) {
	for i := int64(0); i < 10; i++ {
		c, e := c0+i*dc, e0+i*de
		h.observe(newSnap("c1", h.now()).topic("t", e).group("g", "Stable", 1, "t", [2]int64{c, e}).build())
	}
}

func TestRuleLagStatus(t *testing.T) {
	t.Run("idle topic, consumer at log end", func(t *testing.T) {
		h := newHarness(t, RuleInput{Name: "status", Kind: KindLagStatus, Threshold: 1})
		lagStatusRun(h, 500, 0, 500, 0)
		h.expectFiring(0)
	})
	t.Run("slow consumer is WARN, not ERR", func(t *testing.T) {
		h := newHarness(t, RuleInput{Name: "warn", Kind: KindLagStatus, Threshold: 1}, RuleInput{Name: "err", Kind: KindLagStatus, Threshold: 2})
		lagStatusRun(h, 0, 50, 100, 80)
		a := h.expectFiring(1)[0]
		if a.RuleName != "warn" || a.Value != 1 || !strings.Contains(a.Summary, "is WARN") {
			t.Fatalf("alert = %+v", a)
		}
	})
	t.Run("stopped consumer with head moving is STOP/ERR", func(t *testing.T) {
		h := newHarness(t, RuleInput{Name: "err", Kind: KindLagStatus, Threshold: 2})
		lagStatusRun(h, 1000, 0, 1100, 100)
		a := h.expectFiring(1)[0]
		if a.Value != 2 || !strings.Contains(a.Summary, "is ERR") || !strings.Contains(a.Summary, "partition 0 STOP") {
			t.Fatalf("alert = %+v", a)
		}
		// The consumer resumes and catches up: resolved.
		h.observe(newSnap("c1", h.now()).topic("t", 2100).group("g", "Stable", 1, "t", [2]int64{2100, 2100}).build())
		h.expectFiring(0)
	})
	t.Run("rewind", func(t *testing.T) {
		h := newHarness(t, RuleInput{Name: "err", Kind: KindLagStatus, Threshold: 2})
		h.observe(newSnap("c1", h.now()).topic("t", 500).group("g", "Stable", 1, "t", [2]int64{400, 500}).build())
		h.observe(newSnap("c1", h.now()).topic("t", 500).group("g", "Stable", 1, "t", [2]int64{100, 500}).build())
		if a := h.expectFiring(1)[0]; !strings.Contains(a.Summary, "REWIND") {
			t.Fatalf("alert = %+v", a)
		}
	})
}

func TestRuleGroupInactive(t *testing.T) {
	in := RuleInput{Name: "inactive", Kind: KindGroupInactive, WindowSamples: 3}
	t.Run("empty group, lag grows", func(t *testing.T) {
		h := newHarness(t, in)
		for i := int64(0); i < 3; i++ {
			h.observe(newSnap("c1", h.now()).topic("t", 100+i*50).group("g", "Empty", 0, "t", [2]int64{100, 100 + i*50}).build())
		}
		a := h.expectFiring(1)[0]
		if a.Labels["group"] != "g" || a.Value != 100 || !strings.Contains(a.Summary, "no active members") {
			t.Fatalf("alert = %+v", a)
		}
		// Production pauses: still empty and lagging, stays firing.
		h.observe(newSnap("c1", h.now()).topic("t", 200).group("g", "Empty", 0, "t", [2]int64{100, 200}).build())
		h.expectFiring(1)
		// A member joins: resolved.
		h.observe(newSnap("c1", h.now()).topic("t", 200).group("g", "Stable", 1, "t", [2]int64{150, 200}).build())
		h.expectFiring(0)
	})
	t.Run("members present", func(t *testing.T) {
		h := newHarness(t, in)
		for i := int64(0); i < 4; i++ {
			h.observe(newSnap("c1", h.now()).topic("t", 100+i*50).group("g", "Stable", 2, "t", [2]int64{100, 100 + i*50}).build())
		}
		h.expectFiring(0)
	})
	t.Run("empty but lag static", func(t *testing.T) {
		h := newHarness(t, in)
		for i := 0; i < 4; i++ {
			h.observe(newSnap("c1", h.now()).topic("t", 150).group("g", "Empty", 0, "t", [2]int64{100, 150}).build())
		}
		h.expectFiring(0)
	})
}

func TestRuleBrokerDown(t *testing.T) {
	h := newHarness(t, RuleInput{Name: "broker", Kind: KindBrokerDown, Severity: SeverityCritical})
	// Broker 2 is still registering (never up yet, within the grace): starting, not down.
	s := newSnap("c1", h.now()).broker(1, true).broker(2, false).build()
	s.Brokers[1].Starting = true
	h.observe(s)
	if a := h.ev.Active(); len(a) != 0 {
		t.Fatalf("alerts for a starting broker: %+v", a)
	}
	h.observe(newSnap("c1", h.now()).broker(1, true).broker(2, true).build())
	h.expectFiring(0)
	h.observe(newSnap("c1", h.now()).broker(1, true).broker(2, false).build())
	a := h.expectFiring(1)[0]
	if a.Labels["broker"] != "2" || a.Severity != SeverityCritical || a.Link != "http://console.test/clusters/c1/brokers/2" || !strings.Contains(a.Summary, "Broker 2") {
		t.Fatalf("alert = %+v", a)
	}
	h.observe(newSnap("c1", h.now()).broker(1, true).broker(2, true).build())
	h.expectFiring(0)
}

func TestRulePartitionHealth(t *testing.T) {
	degrade := func(s *collector.Snapshot, kind Kind) {
		p := &s.Topics[0].Partitions[1]
		switch kind {
		case KindUnderReplicated:
			p.ISR, p.UnderReplicated = []int32{1}, true
		case KindOfflinePartitions:
			p.Leader, p.ISR, p.Offline = -1, nil, true
		case KindUnderMinISR:
			p.ISR, p.UnderReplicated, p.UnderMinISR = []int32{1}, true, true
		}
	}
	for _, kind := range []Kind{KindUnderReplicated, KindOfflinePartitions, KindUnderMinISR} {
		t.Run(string(kind), func(t *testing.T) {
			h := newHarness(t, RuleInput{Name: "any", Kind: kind}, RuleInput{Name: "many", Kind: kind, Threshold: 1},
				RuleInput{Name: "elsewhere", Kind: kind, Topic: "other-*"})
			// A new topic whose leaders are being elected is starting, not degraded: no alert, not even pending.
			s := newSnap("c1", h.now()).topic("t", 10, 10, 10).build()
			degrade(s, kind)
			s.Topics[0].Partitions[1].Starting = true
			h.observe(s)
			if a := h.ev.Active(); len(a) != 0 {
				t.Fatalf("alerts for a starting partition: %+v", a)
			}
			h.observe(newSnap("c1", h.now()).topic("t", 10, 10, 10).build())
			h.expectFiring(0)
			s = newSnap("c1", h.now()).topic("t", 10, 10, 10).build()
			degrade(s, kind)
			h.observe(s)
			a := h.expectFiring(1)[0]
			if a.RuleName != "any" || a.Value != 1 || !strings.Contains(a.Summary, "t (1)") || a.Link != "http://console.test/clusters/c1" {
				t.Fatalf("alert = %+v", a)
			}
			h.observe(newSnap("c1", h.now()).topic("t", 10, 10, 10).build())
			h.expectFiring(0)
		})
	}
}

func TestRuleControllerChanged(t *testing.T) {
	h := newHarness(t, RuleInput{Name: "ctl", Kind: KindControllerChanged, WindowSamples: 2})
	snap := func(ctl int32) *collector.Snapshot {
		s := newSnap("c1", h.now()).build()
		s.Cluster.Controller = ctl
		return s
	}
	h.observe(snap(1))
	h.observe(snap(1))
	h.expectFiring(0)
	h.observe(snap(-1)) // unknown for a cycle: not a change by itself
	h.expectFiring(0)
	h.observe(snap(2))
	if a := h.expectFiring(1)[0]; a.Value != 2 || !strings.Contains(a.Summary, "from broker 1 to broker 2") {
		t.Fatalf("alert = %+v", a)
	}
	h.observe(snap(2))
	h.expectFiring(1)
	h.observe(snap(2)) // the change has left the 2-sample window
	h.expectFiring(0)
}

func TestRuleZooKeeperDown(t *testing.T) {
	h := newHarness(t, RuleInput{Name: "zk", Kind: KindZooKeeperDown})
	kraft := newSnap("c1", h.now()).build()
	h.observe(kraft)
	h.expectFiring(0)
	s := newSnap("c1", h.now()).build()
	since := time.Date(2026, 3, 1, 10, 0, 0, 0, time.UTC)
	s.Cluster.ZooKeeper = &collector.ZooKeeperInfo{Servers: []string{"zk1:2181"}, Connected: false, Error: "zk: could not connect to a server", UnreachableSince: &since}
	h.observe(s)
	if a := h.expectFiring(1)[0]; !strings.Contains(a.Summary, "(zk1:2181) is unreachable since 2026-03-01T10:00:00Z") || !strings.Contains(a.Summary, "could not connect") {
		t.Fatalf("alert = %+v", a)
	}
	ok := newSnap("c1", h.now()).build()
	ok.Cluster.ZooKeeper = &collector.ZooKeeperInfo{Servers: []string{"zk1:2181"}, Connected: true}
	h.observe(ok)
	h.expectFiring(0)
}

func TestRuleClusterUnreachable(t *testing.T) {
	h := newHarness(t, RuleInput{Name: "down", Kind: KindClusterUnreachable})
	good := newSnap("c1", h.now()).build()
	h.observe(good)
	h.expectFiring(0)
	s := newSnap("c1", h.now()).build()
	since := good.Cluster.LastPoll
	s.Cluster.StaleSince = &since
	s.Cluster.Partial = true
	s.Cluster.Errors = []collector.PollError{{Source: "metadata", Broker: -1, Message: "dial tcp: connection refused"}}
	h.observe(s)
	if a := h.expectFiring(1)[0]; !strings.Contains(a.Summary, "c1 is unreachable") || !strings.Contains(a.Summary, "connection refused") {
		t.Fatalf("alert = %+v", a)
	}
	h.observe(newSnap("c1", h.now()).build())
	h.expectFiring(0)
}

func TestRuleTopicRateZero(t *testing.T) {
	h := newHarness(t, RuleInput{Name: "rate", Kind: KindTopicRateZero, WindowSamples: 3})
	// "busy" receives messages then stops; "idle" never receives any; "__internal" is skipped.
	ends := []int64{100, 200, 300, 300, 300}
	for i, e := range ends {
		h.observe(newSnap("c1", h.now()).topic("busy", e).topic("idle", 50).topic("__consumer_offsets", int64(i*10)).build())
		if i < 4 {
			h.expectFiring(0)
		}
	}
	a := h.expectFiring(1)[0]
	if a.Labels["topic"] != "busy" || a.Link != "http://console.test/clusters/c1/topics/busy" {
		t.Fatalf("alert = %+v", a)
	}
	h.observe(newSnap("c1", h.now()).topic("busy", 301).topic("idle", 50).build())
	h.expectFiring(0)
}

func TestLagStatusSamplesBounded(t *testing.T) {
	h := newHarness(t, RuleInput{Name: "err", Kind: KindLagStatus, Threshold: 2, WindowSamples: 50})
	const parts = 30
	for i := int64(0); i < 50; i++ {
		ends := make([]int64, parts)
		pos := make([][2]int64, parts)
		for p := range ends {
			ends[p] = 1000 + i*10
			pos[p] = [2]int64{500, ends[p]}
		}
		h.observe(newSnap("c1", h.now()).topic("wide-topic-name", ends...).group("wide-group-name", "Empty", 0, "wide-topic-name", pos...).build())
	}
	h.expectFiring(1)
	evs, _, err := h.st.AlertEvents(context.Background(), 10, 0)
	if err != nil || len(evs) != 1 {
		t.Fatalf("events %v %v", evs, err)
	}
	if n := len(evs[0].Samples); n > maxSamplesBytes {
		t.Fatalf("samples are %d bytes", n)
	}
	if !strings.Contains(evs[0].Summary, "and 10 more") || strings.Count(evs[0].Summary, "STOP") != 21 {
		t.Fatalf("summary %q", evs[0].Summary)
	}
}

func TestGroupStatus(t *testing.T) {
	h := newHarness(t)
	if _, ok := h.ev.GroupStatus("c1", "g", 0); ok {
		t.Fatal("status before any snapshot")
	}
	for i := int64(0); i < 10; i++ {
		// Partition 0 stopped while the head moves; partition 1 at the log end.
		h.observe(newSnap("c1", h.now()).topic("t", 110+i*10, 50).group("g", "Stable", 1, "t", [2]int64{100, 110 + i*10}, [2]int64{50, 50}).build())
	}
	st, ok := h.ev.GroupStatus("c1", "g", 0)
	if !ok || st.Status != "ERR" || st.Worst != "STOP" || !st.Complete || len(st.Partitions) != 2 ||
		st.Partitions[0].Status != "STOP" || st.Partitions[0].Lag != 100 || st.Partitions[1].Status != "OK" {
		t.Fatalf("status = %+v", st)
	}
	if st, _ := h.ev.GroupStatus("c1", "g", 20); st.Complete || st.Status != "OK" {
		t.Fatalf("20-sample window over 10 samples = %+v", st)
	}
}
