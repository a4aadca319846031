package alert

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/osprey-kafka/osprey/admin"
	"github.com/osprey-kafka/osprey/broker/supervisor"
	"github.com/osprey-kafka/osprey/internal/testenv"
)

// TestWithOspreyRuntime runs alerting end to end on Osprey's own three-broker runtime with real
// clients: a consumer group stops while a producer runs → one lag alert by webhook and by e-mail; the
// group resumes → one "resolved" each; a broker is killed → broker_down and under_replicated fire; it
// comes back → both resolve.
func TestWithOspreyRuntime(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 150*time.Second)
	defer cancel()
	sup, err := supervisor.New(supervisor.Options{Brokers: 3, DataDir: t.TempDir(), Logger: quietLogger(),
		Properties: map[string]string{"group.initial.rebalance.delay.ms": "0"}})
	if err != nil {
		t.Fatal(err)
	}
	if err := sup.Start(ctx); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = sup.Close() })
	bootstrap := strings.Split(sup.BootstrapServers(), ",")

	l := newLiveEnv(t, ctx, "rt", bootstrap)
	if res, err := l.ac.CreateTopics(ctx, admin.TopicSpec{Name: "orders", Partitions: 3, ReplicationFactor: 3}); err != nil || res["orders"] != nil {
		t.Fatalf("create topic: %v %v", err, res)
	}
	mustRule(t, l.st, RuleInput{Name: "billing lag", Kind: KindLagMessages, Group: "billing", Threshold: 5, Severity: SeverityCritical, ChannelIDs: []int64{l.hook, l.mail}})
	mustRule(t, l.st, RuleInput{Name: "brokers", Kind: KindBrokerDown, ChannelIDs: []int64{l.hook}})
	mustRule(t, l.st, RuleInput{Name: "replication", Kind: KindUnderReplicated, ChannelIDs: []int64{l.hook}})
	l.start("http://console.test")
	rcv, smtpSrv, ev, poll := l.rcv, l.smtp, l.ev, l.poll
	// pollUntil polls until cond holds on the notifications received (the cluster needs a moment to react).
	pollUntil := func(what string, cond func([]Notification) bool) []Notification {
		t.Helper()
		var got []Notification
		testenv.WaitFor(t, 60*time.Second, func() error {
			poll()
			if got = rcv.notifications(t); !cond(got) {
				return fmt.Errorf("still waiting for %s; notifications: %+v", what, got)
			}
			return nil
		})
		return got
	}

	prod, err := kgo.NewClient(kgo.SeedBrokers(bootstrap...), kgo.DefaultProduceTopic("orders"),
		kgo.RecordPartitioner(kgo.RoundRobinPartitioner()))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(prod.Close)
	produce := func(n int) {
		t.Helper()
		for i := 0; i < n; i++ {
			if err := prod.ProduceSync(ctx, &kgo.Record{Value: []byte(fmt.Sprintf("v%d", i))}).FirstErr(); err != nil {
				t.Fatal(err)
			}
		}
	}
	// consumeAll runs a member of group billing until it has read everything produced so far and
	// committed it, then leaves the group.
	consumeAll := func(total int) {
		t.Helper()
		cl, err := kgo.NewClient(kgo.SeedBrokers(bootstrap...), kgo.ConsumerGroup("billing"), kgo.ConsumeTopics("orders"),
			kgo.ConsumeResetOffset(kgo.NewOffset().AtStart()), kgo.DisableAutoCommit())
		if err != nil {
			t.Fatal(err)
		}
		defer cl.Close()
		got := 0
		for got < total {
			fs := cl.PollFetches(ctx)
			if ctx.Err() != nil {
				t.Fatalf("consumed %d of %d", got, total)
			}
			got += fs.NumRecords()
		}
		if err := cl.CommitUncommittedOffsets(ctx); err != nil {
			t.Fatal(err)
		}
	}

	produce(30)
	consumeAll(30)
	poll()
	if len(rcv.requests()) != 0 {
		t.Fatalf("notified with no lag: %+v", rcv.notifications(t))
	}
	// The group stops consuming while the producer goes on.
	produce(30)
	got := pollUntil("the lag alert", func(n []Notification) bool { return len(n) >= 1 })
	testenv.WaitFor(t, 5*time.Second, testenv.Until("firing e-mail", func() bool { return len(smtpSrv.messages()) >= 1 }))
	if n := got[0]; n.State != StateFiring || n.Kind != KindLagMessages || n.Labels["group"] != "billing" || n.Labels["topic"] != "orders" ||
		n.Value < 30 || n.Link != "http://console.test/clusters/rt/groups/billing" {
		t.Fatalf("lag notification %+v", n)
	}
	if body := string(smtpSrv.messages()[0].Data); !strings.Contains(body, "billing") || !strings.Contains(body, "orders") {
		t.Fatalf("e-mail lacks the group or topic:\n%s", body)
	}
	// The group resumes and catches up: one "resolved" on each channel.
	consumeAll(30) // the 30 produced since its last commit
	got = pollUntil("the lag resolution", func(n []Notification) bool { return len(n) >= 2 })
	if got[1].State != StateResolved || got[1].Kind != KindLagMessages {
		t.Fatalf("resolution %+v", got[1])
	}
	testenv.WaitFor(t, 5*time.Second, testenv.Until("resolved e-mail", func() bool { return len(smtpSrv.messages()) >= 2 }))
	poll()
	if n := len(rcv.notifications(t)); n != 2 {
		t.Fatalf("%d notifications after resolution, want 2", n)
	}

	// Kill a broker: broker_down and under_replicated fire; restart it: both resolve.
	const victim = int32(3)
	if err := sup.KillBroker(victim); err != nil {
		t.Fatal(err)
	}
	firing := func(n []Notification, kind Kind) bool {
		for _, x := range n {
			if x.Kind == kind && x.State == StateFiring {
				return true
			}
		}
		return false
	}
	resolved := func(n []Notification, kind Kind) bool {
		for _, x := range n {
			if x.Kind == kind && x.State == StateResolved {
				return true
			}
		}
		return false
	}
	got = pollUntil("broker_down and under_replicated", func(n []Notification) bool {
		return firing(n, KindBrokerDown) && firing(n, KindUnderReplicated)
	})
	for _, n := range got[2:] {
		if n.Kind == KindBrokerDown && n.Labels["broker"] != fmt.Sprint(victim) {
			t.Fatalf("broker_down names broker %q, want %d", n.Labels["broker"], victim)
		}
	}
	if err := sup.StartBroker(ctx, victim); err != nil {
		t.Fatal(err)
	}
	pollUntil("both resolutions", func(n []Notification) bool {
		return resolved(n, KindBrokerDown) && resolved(n, KindUnderReplicated)
	})
	testenv.WaitFor(t, 5*time.Second, testenv.Until("no active alerts", func() bool { return len(ev.Active()) == 0 }))
}
