package broker

import (
	"context"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/IBM/sarama"
)

type saramaHandler struct {
	mu   sync.Mutex
	got  []*sarama.ConsumerMessage
	want int
	done chan struct{}
	once sync.Once
}

func (h *saramaHandler) Setup(sarama.ConsumerGroupSession) error   { return nil }
func (h *saramaHandler) Cleanup(sarama.ConsumerGroupSession) error { return nil }
func (h *saramaHandler) ConsumeClaim(s sarama.ConsumerGroupSession, c sarama.ConsumerGroupClaim) error {
	for m := range c.Messages() {
		h.mu.Lock()
		h.got = append(h.got, m)
		n := len(h.got)
		h.mu.Unlock()
		s.MarkMessage(m, "")
		if n >= h.want {
			s.Commit()
			h.once.Do(func() { close(h.done) })
		}
	}
	return nil
}

// sarama: idempotent SyncProducer and a ConsumerGroup; offsets checked
// through sarama's ClusterAdmin.
func TestSaramaProducerConsumerGroup(t *testing.T) {
	b := newTestBroker(t)
	cfg := sarama.NewConfig()
	cfg.Version = sarama.V2_8_0_0
	cfg.Producer.Idempotent = true
	cfg.Producer.RequiredAcks = sarama.WaitForAll
	cfg.Producer.Return.Successes = true
	cfg.Net.MaxOpenRequests = 1
	cfg.Producer.Partitioner = sarama.NewRoundRobinPartitioner
	cfg.Consumer.Offsets.Initial = sarama.OffsetOldest
	cfg.Consumer.Group.Rebalance.Timeout = 5 * time.Second
	cfg.Consumer.Group.Session.Timeout = 6 * time.Second
	cfg.Consumer.Group.Heartbeat.Interval = 300 * time.Millisecond
	cfg.Consumer.MaxWaitTime = 100 * time.Millisecond

	admin, err := sarama.NewClusterAdmin([]string{b.Addr()}, cfg)
	if err != nil {
		t.Fatal(err)
	}
	defer admin.Close()
	if err := admin.CreateTopic("sar", &sarama.TopicDetail{NumPartitions: 2, ReplicationFactor: 1}, false); err != nil {
		t.Fatalf("create topic: %v", err)
	}

	prod, err := sarama.NewSyncProducer([]string{b.Addr()}, cfg)
	if err != nil {
		t.Fatal(err)
	}
	type pos struct {
		p int32
		o int64
	}
	sent := map[string]pos{}
	const n = 30
	for i := 0; i < n; i++ {
		k := fmt.Sprintf("k%d", i)
		p, o, err := prod.SendMessage(&sarama.ProducerMessage{Topic: "sar", Key: sarama.StringEncoder(k),
			Value: sarama.StringEncoder(fmt.Sprintf("v%d", i)), Headers: []sarama.RecordHeader{{Key: []byte("h"), Value: []byte(k)}}})
		if err != nil {
			t.Fatalf("send %d: %v", i, err)
		}
		sent[k] = pos{p, o}
	}
	if err := prod.Close(); err != nil {
		t.Fatal(err)
	}

	cg, err := sarama.NewConsumerGroup([]string{b.Addr()}, "sar-group", cfg)
	if err != nil {
		t.Fatal(err)
	}
	h := &saramaHandler{want: n, done: make(chan struct{})}
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		for ctx.Err() == nil {
			if err := cg.Consume(ctx, []string{"sar"}, h); err != nil && ctx.Err() == nil {
				t.Errorf("consume: %v", err)
				return
			}
		}
	}()
	select {
	case <-h.done:
	case <-ctx.Done():
		t.Fatalf("consumed %d of %d before the deadline", len(h.got), n)
	}
	cancel()
	wg.Wait()
	if err := cg.Close(); err != nil {
		t.Fatal(err)
	}

	next := map[int32]int64{}
	for _, m := range h.got {
		k := string(m.Key)
		want, ok := sent[k]
		if !ok || string(m.Value) != "v"+k[1:] || len(m.Headers) != 1 || string(m.Headers[0].Value) != k {
			t.Fatalf("message %q=%q headers %v does not match what was sent", m.Key, m.Value, m.Headers)
		}
		if m.Partition != want.p || m.Offset != want.o {
			t.Fatalf("message %s at %d@%d, sent to %d@%d", k, m.Partition, m.Offset, want.p, want.o)
		}
		if m.Offset != next[m.Partition] {
			t.Fatalf("partition %d: offset %d out of order (want %d)", m.Partition, m.Offset, next[m.Partition])
		}
		next[m.Partition]++
	}
	offs, err := admin.ListConsumerGroupOffsets("sar-group", map[string][]int32{"sar": {0, 1}})
	if err != nil {
		t.Fatal(err)
	}
	for p, want := range next {
		blk := offs.GetBlock("sar", p)
		if blk == nil || blk.Err != sarama.ErrNoError || blk.Offset != want {
			t.Fatalf("committed sar/%d = %+v, want %d", p, blk, want)
		}
	}
}
