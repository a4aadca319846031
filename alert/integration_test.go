package alert

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kfake"
	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/osprey-kafka/osprey/internal/testenv"
)

// observedSeq is the sequence of the last snapshot evaluated for cluster.
func (e *Evaluator) observedSeq(cluster string) uint64 {
	e.mu.Lock()
	defer e.mu.Unlock()
	if h := e.clusters[cluster]; h != nil && h.last != nil {
		return h.last.Cluster.Sequence
	}
	return 0
}

// TestWithCollector runs the evaluator on a real collector over an in-process
// Kafka (kfake): a group stops consuming while a producer runs → one lag
// alert to a webhook and over SMTP; it catches up → one "resolved" each; a
// broker leaves → broker_down; it comes back → resolved.
func TestWithCollector(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	kc, err := kfake.NewCluster(kfake.NumBrokers(3), kfake.SeedTopics(2, "orders"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(kc.Close)
	l := newLiveEnv(t, ctx, "kf", kc.ListenAddrs())
	mustRule(t, l.st, RuleInput{Name: "billing lag", Kind: KindLagMessages, Group: "billing", Threshold: 5, Severity: SeverityCritical, ChannelIDs: []int64{l.hook, l.mail}})
	mustRule(t, l.st, RuleInput{Name: "brokers", Kind: KindBrokerDown, ChannelIDs: []int64{l.hook}})
	l.start("https://osprey.example.com/")
	ac, col, rcv, smtpSrv, ev, poll := l.ac, l.col, l.rcv, l.smtp, l.ev, l.poll

	prod, err := kgo.NewClient(kgo.SeedBrokers(kc.ListenAddrs()...), kgo.DefaultProduceTopic("orders"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(prod.Close)
	produce := func(n int) {
		t.Helper()
		recs := make([]*kgo.Record, n)
		for i := range recs {
			recs[i] = &kgo.Record{Value: []byte(fmt.Sprintf("v%d", i)), Partition: int32(i % 2)}
		}
		if err := prod.ProduceSync(ctx, recs...).FirstErr(); err != nil {
			t.Fatal(err)
		}
	}
	commitEnd := func() {
		t.Helper()
		s := col.PollNow(ctx)
		offs := map[int32]int64{}
		for _, tp := range s.Topics {
			if tp.Name == "orders" {
				for _, p := range tp.Partitions {
					offs[p.Partition] = p.EndOffset
				}
			}
		}
		if _, err := ac.CommitOffsets(ctx, "billing", map[string]map[int32]int64{"orders": offs}); err != nil {
			t.Fatal(err)
		}
	}

	produce(10)
	commitEnd()
	poll()
	if len(rcv.requests()) != 0 {
		t.Fatal("notified with no lag")
	}
	// The consumer stops; the producer goes on.
	for i := 0; i < 3; i++ {
		produce(10)
		poll()
	}
	testenv.WaitFor(t, 5*time.Second, testenv.Until("firing webhook", func() bool { return len(rcv.requests()) >= 1 }))
	testenv.WaitFor(t, 5*time.Second, testenv.Until("firing e-mail", func() bool { return len(smtpSrv.messages()) >= 1 }))
	n := rcv.notifications(t)[0]
	if n.State != StateFiring || n.Labels["group"] != "billing" || n.Labels["topic"] != "orders" || n.Value < 10 ||
		n.Link != "https://osprey.example.com/clusters/kf/groups/billing" {
		t.Fatalf("firing notification %+v", n)
	}
	body := string(smtpSrv.messages()[0].Data)
	for _, want := range []string{"billing", "orders", "https://osprey.example.com/clusters/kf/groups/billing", "FIRING"} {
		if !strings.Contains(body, want) {
			t.Errorf("e-mail lacks %q:\n%s", want, body)
		}
	}
	// It catches up: one "resolved" on each channel, nothing more.
	commitEnd()
	poll()
	poll()
	testenv.WaitFor(t, 5*time.Second, testenv.Until("resolved webhook", func() bool { return len(rcv.requests()) >= 2 }))
	testenv.WaitFor(t, 5*time.Second, testenv.Until("resolved e-mail", func() bool { return len(smtpSrv.messages()) >= 2 }))
	if got := rcv.notifications(t); len(got) != 2 || got[1].State != StateResolved {
		t.Fatalf("webhook notifications %+v", got)
	}
	if got := smtpSrv.messages(); len(got) != 2 || !strings.Contains(string(got[1].Data), "RESOLVED") {
		t.Fatalf("%d e-mails", len(got))
	}

	// A broker leaves the cluster, then comes back.
	if err := kc.RemoveNode(2); err != nil {
		t.Fatal(err)
	}
	poll()
	testenv.WaitFor(t, 5*time.Second, testenv.Until("broker_down notification", func() bool { return len(rcv.requests()) >= 3 }))
	down := rcv.notifications(t)[2]
	if down.State != StateFiring || down.Kind != KindBrokerDown || down.Labels["broker"] != "2" {
		t.Fatalf("broker notification %+v", down)
	}
	if _, _, err := kc.AddNode(2, 0); err != nil {
		t.Fatal(err)
	}
	poll()
	testenv.WaitFor(t, 5*time.Second, testenv.Until("broker resolved", func() bool { return len(rcv.requests()) >= 4 }))
	if up := rcv.notifications(t)[3]; up.State != StateResolved || up.Labels["broker"] != "2" {
		t.Fatalf("broker resolution %+v", up)
	}
	if len(ev.Active()) != 0 {
		t.Fatalf("still active: %+v", ev.Active())
	}
}
