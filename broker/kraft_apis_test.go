package broker

import (
	"context"
	"fmt"
	"log/slog"
	"runtime"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kgo"
	"github.com/twmb/franz-go/pkg/kmsg"

	"github.com/osprey-kafka/osprey/internal/testenv"
)

// A KRaft broker answers as Kafka's do: ApiVersions lists DescribeQuorum and
// not the ZooKeeper controller's requests, with metadata.version finalized;
// DescribeQuorum sent to the broker comes back from the quorum leader.
func TestKRaftBrokerAPIs(t *testing.T) {
	c := newKRaftTestCluster(t, 1)
	cl, err := kgo.NewClient(kgo.SeedBrokers(c.addrs()...))
	if err != nil {
		t.Fatal(err)
	}
	defer cl.Close()
	ctx := testCtx(t, 30*time.Second)

	av := kmsg.NewPtrApiVersionsRequest()
	av.Version = 3
	av.ClientSoftwareName, av.ClientSoftwareVersion = "test", "1"
	raw, err := av.RequestWith(ctx, cl)
	if err != nil {
		t.Fatal(err)
	}
	keys := map[int16]bool{}
	for _, k := range raw.ApiKeys {
		keys[k.ApiKey] = true
	}
	if !keys[55] || keys[4] || keys[5] || keys[6] {
		t.Errorf("listed keys: DescribeQuorum %v, LeaderAndIsr %v, StopReplica %v, UpdateMetadata %v", keys[55], keys[4], keys[5], keys[6])
	}
	var mv int16
	for _, f := range raw.FinalizedFeatures {
		if f.Name == "metadata.version" {
			mv = f.MaxVersionLevel
		}
	}
	if mv == 0 || raw.FinalizedFeaturesEpoch < 0 {
		t.Errorf("finalized metadata.version %d at epoch %d", mv, raw.FinalizedFeaturesEpoch)
	}

	testenv.WaitFor(t, 10*time.Second, func() error {
		dq := kmsg.NewPtrDescribeQuorumRequest()
		dq.Version = 2
		rt := kmsg.NewDescribeQuorumRequestTopic()
		rt.Topic = "__cluster_metadata"
		rt.Partitions = []kmsg.DescribeQuorumRequestTopicPartition{kmsg.NewDescribeQuorumRequestTopicPartition()}
		dq.Topics = append(dq.Topics, rt)
		resp, err := dq.RequestWith(ctx, cl)
		if err != nil {
			return err
		}
		if resp.ErrorCode != 0 || len(resp.Topics) != 1 || len(resp.Topics[0].Partitions) != 1 {
			return fmt.Errorf("DescribeQuorum: error %d, %d topics", resp.ErrorCode, len(resp.Topics))
		}
		p := resp.Topics[0].Partitions[0]
		if p.LeaderID != 1 || len(p.CurrentVoters) != 1 || p.HighWatermark <= 0 {
			return fmt.Errorf("DescribeQuorum: leader %d, voters %d, high watermark %d", p.LeaderID, len(p.CurrentVoters), p.HighWatermark)
		}
		return nil
	})
}

// Closing a KRaft broker stops everything its node started: the quorum
// replica, the replay, the active controller, the registration loop.
func TestKRaftBrokerCloseLeavesNoGoroutines(t *testing.T) {
	before := runtime.NumGoroutine()
	t.Run("cluster", func(t *testing.T) {
		c := newKRaftTestCluster(t, 1)
		adm := c.admin()
		if _, err := adm.CreateTopic(testCtx(t, 30*time.Second), 2, 1, nil, "leak-check"); err != nil {
			t.Fatal(err)
		}
		adm.Close()
	})
	testenv.WaitFor(t, 10*time.Second, func() error {
		if n := runtime.NumGoroutine(); n > before {
			buf := make([]byte, 1<<20)
			return fmt.Errorf("%d goroutines, %d before:\n%s", n, before, buf[:runtime.Stack(buf, true)])
		}
		return nil
	})
}

// warnRecorder is a slog handler that keeps the messages of warnings.
type warnRecorder struct {
	mu   *sync.Mutex
	msgs *[]string
}

func (w warnRecorder) Enabled(_ context.Context, l slog.Level) bool { return l >= slog.LevelWarn }
func (w warnRecorder) Handle(_ context.Context, r slog.Record) error {
	w.mu.Lock()
	defer w.mu.Unlock()
	*w.msgs = append(*w.msgs, r.Message)
	return nil
}
func (w warnRecorder) WithAttrs([]slog.Attr) slog.Handler { return w }
func (w warnRecorder) WithGroup(string) slog.Handler      { return w }

// When a whole KRaft cluster stops at once, no broker can take over another's
// leaderships: each stops without waiting out its controlled shutdown.
func TestKRaftWholeClusterStopsWithoutWaiting(t *testing.T) {
	var mu sync.Mutex
	var warns []string
	c := newKRaftTestClusterLogging(t, 3, warnRecorder{&mu, &warns})
	if _, err := c.admin().CreateTopic(testCtx(t, 30*time.Second), 3, 3, nil, "everywhere"); err != nil {
		t.Fatal(err)
	}
	c.waitFullISR("everywhere", 20*time.Second)
	c.mu.Lock()
	brokers := append([]*Broker(nil), c.brokers...)
	for i := range c.brokers {
		c.brokers[i] = nil
	}
	c.mu.Unlock()
	var wg sync.WaitGroup
	for _, b := range brokers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			b.Close()
		}()
	}
	wg.Wait()
	mu.Lock()
	defer mu.Unlock()
	for _, w := range warns {
		if strings.Contains(w, "controlled shutdown did not finish") {
			t.Fatalf("a broker waited out its controlled shutdown: %q", warns)
		}
	}
}
