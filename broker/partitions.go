package broker

import (
	"errors"
	"sync"
)

// partitions is the set of partition replicas this broker hosts.
type partitions struct {
	b *Broker

	mu sync.RWMutex // guards m (the map itself, not the partitions in it)
	m  map[string][]*partition
}

func newPartitions(b *Broker) *partitions {
	return &partitions{b: b, m: map[string][]*partition{}}
}

// get returns the partition, or nil when this broker does not host it.
func (ps *partitions) get(topic string, p int32) *partition {
	ps.mu.RLock()
	defer ps.mu.RUnlock()
	parts := ps.m[topic]
	if p < 0 || int(p) >= len(parts) {
		return nil
	}
	return parts[p]
}

// sync opens the logs of a created or grown topic, or drops the logs of a
// deleted one. It is the Cluster's change callback.
func (ps *partitions) sync(t TopicInfo, deleted bool) {
	if deleted {
		ps.mu.Lock()
		parts := ps.m[t.Name]
		delete(ps.m, t.Name)
		ps.mu.Unlock()
		for _, p := range parts {
			if err := ps.b.store.Delete(p.topic, p.index); err != nil {
				ps.b.log.Error("deleting partition log", "topic", p.topic, "partition", p.index, "err", err)
			}
		}
		ps.b.metrics.partitions.Set(float64(ps.count()))
		return
	}
	cfg, err := ps.b.cfg.logConfigFor(t.Configs)
	if err != nil {
		ps.b.log.Error("bad topic config, using broker defaults", "topic", t.Name, "err", err)
		cfg = ps.b.cfg.brokerLogDefaults()
	}
	ps.mu.Lock()
	defer ps.mu.Unlock()
	parts := ps.m[t.Name]
	for _, pi := range t.Partitions {
		if int(pi.Partition) < len(parts) {
			continue
		}
		l, err := ps.b.store.Open(t.Name, pi.Partition, cfg)
		if err != nil {
			// Leave the partition out: requests for it get
			// UNKNOWN_TOPIC_OR_PARTITION / KAFKA_STORAGE_ERROR.
			ps.b.log.Error("opening partition log", "topic", t.Name, "partition", pi.Partition, "err", err)
			break
		}
		// This broker is the only replica (ISR = {self}), so everything in
		// the log is committed; as leader it sets the high watermark to the
		// log end, like Kafka's leader after the ISR catches up. Part 2
		// leaves the checkpointed value in place and lets the ISR move it.
		if len(pi.Replicas) <= 1 {
			l.SetHighWatermark(l.LogEndOffset())
		}
		np := &partition{topic: t.Name, index: pi.Partition, log: l,
			producers: map[int64]*producerState{}, leaderEpoch: pi.LeaderEpoch}
		if t.Name != offsetsTopic && l.LogEndOffset() > l.LogStartOffset() {
			if err := np.rebuildProducers(); err != nil {
				ps.b.log.Warn("rebuilding producer state", "topic", t.Name, "partition", pi.Partition, "err", err)
			}
		}
		parts = append(parts, np)
	}
	ps.m[t.Name] = parts
	ps.b.metrics.partitions.Set(float64(countLocked(ps.m)))
}

// reconfigure applies a topic's new config overrides to its open logs.
func (ps *partitions) reconfigure(t TopicInfo) error {
	cfg, err := ps.b.cfg.logConfigFor(t.Configs)
	if err != nil {
		return err
	}
	ps.mu.RLock()
	parts := ps.m[t.Name]
	ps.mu.RUnlock()
	var errs []error
	for _, p := range parts {
		errs = append(errs, p.log.SetConfig(cfg))
	}
	return errors.Join(errs...)
}

func (ps *partitions) count() int {
	ps.mu.RLock()
	defer ps.mu.RUnlock()
	return countLocked(ps.m)
}

func countLocked(m map[string][]*partition) int {
	n := 0
	for _, parts := range m {
		n += len(parts)
	}
	return n
}

// closeAll flushes every log and forgets the partitions; the store closes
// the logs themselves.
func (ps *partitions) closeAll() error {
	ps.mu.Lock()
	m := ps.m
	ps.m = map[string][]*partition{}
	ps.mu.Unlock()
	var errs []error
	for _, parts := range m {
		for _, p := range parts {
			errs = append(errs, p.log.Flush())
		}
	}
	return errors.Join(errs...)
}
