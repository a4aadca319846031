package collector

import (
	"context"
	"sync"
	"time"
)

// Sink receives each cycle's samples; the store implements it.
// WriteSamples is called from one goroutine at a time, never from the poll
// loop itself, with a context bounded by Config.SinkTimeout. If it is slower
// than the cycle, intermediate samples are dropped (latest wins) rather than
// delaying collection. s is never modified after it is handed over, so the
// sink may keep it.
type Sink interface {
	WriteSamples(ctx context.Context, s *Samples) error
}

// Samples is one cycle's time-series points for one cluster; every row shares
// Cluster and Time.
type Samples struct {
	Cluster string
	Time    time.Time
	Topics  []TopicSample
	Groups  []GroupTopicSample
	Brokers []BrokerSample
	Totals  ClusterSample
	// Quorum is the KRaft quorum's figures; nil for a ZooKeeper-mode cluster.
	Quorum *QuorumSample
	// LogDirs is each log directory read this cycle.
	LogDirs []LogDirSample
}

// TopicSample is one topic's point. SizeBytes is -1 when unknown.
type TopicSample struct {
	Topic          string
	EndOffsetSum   int64
	StartOffsetSum int64
	SizeBytes      int64
	MsgsPerSec     float64
	BytesPerSec    float64
}

// GroupTopicSample is one group's lag on one topic.
type GroupTopicSample struct {
	Group        string
	Topic        string
	Lag          int64
	LagSeconds   float64
	CommittedSum int64
}

// BrokerSample is one broker's point. LogDirBytes is -1 when unknown.
type BrokerSample struct {
	Broker        int32
	Leaders       int
	Replicas      int
	LogDirBytes   int64
	MsgsPerSec    float64
	BytesInPerSec float64
	Up            bool
}

// ClusterSample holds the cluster totals.
type ClusterSample struct {
	Brokers         int
	BrokersUp       int
	Topics          int
	Partitions      int
	UnderReplicated int
	Offline         int
	UnderMinISR     int
	Groups          int
	Lag             int64
	MsgsPerSec      float64
	BytesPerSec     float64
	SizeBytes       int64
}

// MemorySink keeps every Samples it receives; for tests and debugging.
type MemorySink struct {
	mu  sync.Mutex // guards all
	all []*Samples
}

// WriteSamples records s.
func (m *MemorySink) WriteSamples(_ context.Context, s *Samples) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.all = append(m.all, s)
	return nil
}

// All returns the recorded samples in arrival order.
func (m *MemorySink) All() []*Samples {
	m.mu.Lock()
	defer m.mu.Unlock()
	return append([]*Samples(nil), m.all...)
}
