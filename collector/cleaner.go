package collector

import (
	"context"
	"strings"
	"time"
)

// The log cleaner's state of compacted topics. Kafka reports it only through JMX
// (kafka.log:type=LogCleaner and LogCleanerManager), which the Kafka protocol does not carry, so
// the collector learns it from a CleanerSource when the cluster has one (Osprey runtime clusters
// whose brokers run in this process) and otherwise says it is not reported: a topic's cleanup
// policy comes from DescribeConfigs for every cluster, the cleaner's figures only from a source.

// CleanerSource reports the log cleaners of a cluster's brokers.
type CleanerSource interface {
	// CleanerStates returns, for each broker whose cleaner it could read, the state of every
	// compacted log that broker holds. A broker left out did not report (stopped, or one whose
	// cleaner the source cannot reach). It is called once per cycle from the poll goroutine and
	// must return within ctx's deadline.
	CleanerStates(ctx context.Context) (map[int32][]CleanerState, error)
}

// CleanerState is one broker's cleaner state of one compacted log, as its cleaner computes it
// (Kafka's LogToClean: the dirty ratio is the cleanable bytes above the cleaner checkpoint over
// the clean plus cleanable bytes; the active segment is never cleanable).
type CleanerState struct {
	Topic            string
	Partition        int32
	FirstDirtyOffset int64 // the cleaner offset checkpoint (or the log start)
	CleanBytes       int64
	DirtyBytes       int64
	DirtyRatio       float64
	LastCleanedMs    int64 // Unix ms a clean last finished, 0 if none since the broker started
	BytesCleaned     int64 // bytes read by cleans since the broker started
	BytesFreed       int64 // bytes cleans removed since the broker started
	FreeableBytes    int64 // estimate of what cleaning now would remove
	Uncleanable      string
}

// PartitionCleaner is a compacted partition's cleaner state on its leader.
type PartitionCleaner struct {
	Broker           int32      `json:"broker"`
	FirstDirtyOffset int64      `json:"firstDirtyOffset"`
	CleanBytes       int64      `json:"cleanBytes"`
	DirtyBytes       int64      `json:"dirtyBytes"`
	DirtyRatio       float64    `json:"dirtyRatio"`
	LastCleaned      *time.Time `json:"lastCleaned,omitempty"`
	BytesCleaned     int64      `json:"bytesCleaned"`
	BytesFreed       int64      `json:"bytesFreed"`
	FreeableBytes    int64      `json:"freeableBytes"`
	Uncleanable      string     `json:"uncleanable,omitempty"`
}

// TopicCleaner sums a compacted topic's partitions' cleaner states (leaders only).
type TopicCleaner struct {
	// Reported is false when no partition's leader reported its cleaner state: the cluster does
	// not report it (any cluster but an Osprey runtime cluster in this process), and every figure
	// below is zero.
	Reported bool `json:"reported"`
	// Partitions counts the partitions whose leader reported.
	Partitions int `json:"partitions"`
	// DirtyRatio is DirtyBytes / (CleanBytes + DirtyBytes) over those partitions;
	// MaxDirtyRatio the largest partition's.
	DirtyRatio    float64 `json:"dirtyRatio"`
	MaxDirtyRatio float64 `json:"maxDirtyRatio"`
	CleanBytes    int64   `json:"cleanBytes"`
	DirtyBytes    int64   `json:"dirtyBytes"`
	// LastCleaned is the latest clean of any partition since its leader started.
	LastCleaned   *time.Time `json:"lastCleaned,omitempty"`
	BytesCleaned  int64      `json:"bytesCleaned"`
	BytesFreed    int64      `json:"bytesFreed"`
	FreeableBytes int64      `json:"freeableBytes"`
	// Uncleanable counts the partitions whose cleaning failed.
	Uncleanable int `json:"uncleanable"`
}

// isCompact says whether a cleanup.policy value includes compact.
func isCompact(policy string) bool {
	for _, p := range strings.Split(policy, ",") {
		if strings.TrimSpace(p) == "compact" {
			return true
		}
	}
	return false
}

// refreshCleaner reads the cleaner source, when there is one. pollMu must be held.
func (c *Collector) refreshCleaner(ctx context.Context, fail func(string, int32, error)) {
	if c.cfg.Cleaner == nil {
		return
	}
	cctx, cancel := c.callCtx(ctx)
	defer cancel()
	byBroker, err := c.cfg.Cleaner.CleanerStates(cctx)
	if err != nil {
		c.st.cleaner = nil
		fail("cleaner", -1, err)
		return
	}
	m := make(map[int32]map[partKey]CleanerState, len(byBroker))
	for b, states := range byBroker {
		mb := make(map[partKey]CleanerState, len(states))
		for _, s := range states {
			mb[partKey{s.Topic, s.Partition}] = s
		}
		m[b] = mb
	}
	c.st.cleaner = m
}

// partitionCleaner is partition p's state on its leader, nil when the leader did not report one.
func (b *snapshotBuilder) partitionCleaner(topic string, p *Partition) *PartitionCleaner {
	s, ok := b.st.cleaner[p.Leader][partKey{topic, p.Partition}]
	if !ok {
		return nil
	}
	pc := &PartitionCleaner{Broker: p.Leader, FirstDirtyOffset: s.FirstDirtyOffset, CleanBytes: s.CleanBytes,
		DirtyBytes: s.DirtyBytes, DirtyRatio: s.DirtyRatio, BytesCleaned: s.BytesCleaned, BytesFreed: s.BytesFreed,
		FreeableBytes: s.FreeableBytes, Uncleanable: s.Uncleanable}
	if s.LastCleanedMs > 0 {
		at := time.UnixMilli(s.LastCleanedMs).UTC()
		pc.LastCleaned = &at
	}
	return pc
}

// topicCleaner sums t's partitions' cleaner states; nil for a topic that is not compacted (by its
// cleanup.policy, or, when that is not known yet, by no partition reporting a state).
func topicCleaner(t *Topic) *TopicCleaner {
	tc := &TopicCleaner{}
	for _, p := range t.Partitions {
		pc := p.Cleaner
		if pc == nil {
			continue
		}
		tc.Reported = true
		tc.Partitions++
		tc.CleanBytes += pc.CleanBytes
		tc.DirtyBytes += pc.DirtyBytes
		tc.MaxDirtyRatio = max(tc.MaxDirtyRatio, pc.DirtyRatio)
		tc.BytesCleaned += pc.BytesCleaned
		tc.BytesFreed += pc.BytesFreed
		tc.FreeableBytes += pc.FreeableBytes
		if pc.Uncleanable != "" {
			tc.Uncleanable++
		}
		if pc.LastCleaned != nil && (tc.LastCleaned == nil || pc.LastCleaned.After(*tc.LastCleaned)) {
			tc.LastCleaned = pc.LastCleaned
		}
	}
	if !tc.Reported && !isCompact(t.CleanupPolicy) {
		return nil
	}
	if total := tc.CleanBytes + tc.DirtyBytes; total > 0 {
		tc.DirtyRatio = float64(tc.DirtyBytes) / float64(total)
	}
	return tc
}
