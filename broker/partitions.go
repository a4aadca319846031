package broker

import (
	"errors"
	"slices"
	"sync"

	"github.com/osprey-kafka/osprey/broker/storage"
)

// partitions is the set of partition replicas this broker hosts: the
// partitions whose replica set includes this broker.
type partitions struct {
	b *Broker

	mu sync.RWMutex // guards m (the maps themselves, not the partitions in them)
	m  map[string]map[int32]*partition
}

func newPartitions(b *Broker) *partitions {
	return &partitions{b: b, m: map[string]map[int32]*partition{}}
}

// get returns the partition, or nil when this broker does not host it.
func (ps *partitions) get(topic string, p int32) *partition {
	ps.mu.RLock()
	defer ps.mu.RUnlock()
	return ps.m[topic][p]
}

// sync brings the hosted replicas of topic t in line with its layout and
// configs: it opens the logs of partitions this broker is a replica of,
// updates leader epochs and log configs, and deletes the logs of partitions it no longer hosts (all of
// them when the topic is deleted). It is the Cluster's change callback and
// must not be called with a Cluster lock held.
func (ps *partitions) sync(t TopicInfo, deleted bool) {
	self := ps.b.cfg.BrokerID
	want := map[int32]PartitionInfo{}
	if !deleted {
		for _, pi := range t.Partitions {
			if slices.Contains(pi.Replicas, self) {
				want[pi.Partition] = pi
			}
		}
	}
	cfg, err := ps.b.cfg.logConfigFor(t.Configs)
	if err != nil {
		ps.b.log.Error("bad topic config, using broker defaults", "topic", t.Name, "err", err)
		cfg = ps.b.cfg.brokerLogDefaults()
	}

	ps.mu.Lock()
	parts := ps.m[t.Name]
	if parts == nil {
		parts = map[int32]*partition{}
		ps.m[t.Name] = parts
	}
	var drop []*partition
	for idx, p := range parts {
		if _, ok := want[idx]; !ok {
			p.drop()
			drop = append(drop, p)
			delete(parts, idx)
		}
	}
	for idx, pi := range want {
		if p, ok := parts[idx]; ok {
			ps.b.repl.follow(p, p.applyLayout(pi, self))
			if err := p.log.SetConfig(cfg); err != nil {
				ps.b.log.Error("applying topic config", "topic", t.Name, "partition", idx, "err", err)
			}
			continue
		}
		np, err := ps.open(t.Name, pi, cfg)
		if err != nil {
			// Left out: requests for it get UNKNOWN_TOPIC_OR_PARTITION.
			ps.b.log.Error("opening partition log", "topic", t.Name, "partition", idx, "err", err)
			continue
		}
		parts[idx] = np
		ps.b.repl.follow(np, np.applyLayout(pi, self))
	}
	if len(parts) == 0 {
		delete(ps.m, t.Name)
	}
	ps.b.metrics.partitions.Set(float64(countLocked(ps.m)))
	ps.mu.Unlock()

	for _, p := range drop {
		ps.b.repl.forget(p)
		if err := ps.b.store.Delete(p.topic, p.index); err != nil {
			ps.b.log.Error("deleting partition log", "topic", p.topic, "partition", p.index, "err", err)
		}
	}
}

// open opens (or creates) one replica's log and restores its state.
func (ps *partitions) open(topic string, pi PartitionInfo, cfg storageConfig) (*partition, error) {
	l, err := ps.b.store.Open(topic, pi.Partition, cfg)
	if err != nil {
		return nil, err
	}
	// When this broker is the only replica (ISR = {self}) everything in
	// the log is committed: as leader it sets the high watermark to the log
	// end, like Kafka's leader once the ISR has caught up. With several
	// replicas the checkpointed value stays and replication moves it.
	if len(pi.Replicas) <= 1 {
		l.SetHighWatermark(l.LogEndOffset())
	}
	np := &partition{topic: topic, index: pi.Partition, log: l,
		producers: map[int64]*producerState{}, leaderEpoch: pi.LeaderEpoch}
	// Aborted transactions from the segments' .txnindex files; the scan
	// below finds the transactions still open.
	np.txn.aborted = l.AbortedTxns()
	if topic != offsetsTopic && l.LogEndOffset() > l.LogStartOffset() {
		if err := np.rebuildProducers(true); err != nil {
			ps.b.log.Warn("rebuilding producer state", "topic", topic, "partition", pi.Partition, "err", err)
		}
	}
	// The log cleaner stops below the last stable offset, so it never
	// decides about data of an open transaction, and tells the partition
	// which aborted transactions lost their data.
	if hl, ok := l.(storage.TxnOwnerHooks); ok {
		hl.SetLastStableOffsetFunc(np.lastStableOffset)
		hl.SetTxnIndexChangedFunc(np.cleanedAbortedTxns)
	}
	return np, nil
}

// all returns every hosted partition.
func (ps *partitions) all() []*partition {
	ps.mu.RLock()
	defer ps.mu.RUnlock()
	var out []*partition
	for _, parts := range ps.m {
		for _, p := range parts {
			out = append(out, p)
		}
	}
	return out
}

func countLocked(m map[string]map[int32]*partition) int {
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
	ps.m = map[string]map[int32]*partition{}
	ps.mu.Unlock()
	var errs []error
	for _, parts := range m {
		for _, p := range parts {
			errs = append(errs, p.snapshotOnClose(), p.log.Flush())
		}
	}
	return errors.Join(errs...)
}

// leaderCode checks that this broker leads partition p of t (found says
// whether the topic exists): 0, UNKNOWN_TOPIC_OR_PARTITION,
// LEADER_NOT_AVAILABLE or NOT_LEADER_OR_FOLLOWER.
func (b *Broker) leaderCode(t TopicInfo, found bool, p int32) int16 {
	switch {
	case !found || p < 0 || int(p) >= len(t.Partitions):
		return errUnknownTopicOrPart
	case t.Partitions[p].Leader < 0:
		return errLeaderNotAvailable
	case t.Partitions[p].Leader != b.cfg.BrokerID:
		return errNotLeader
	}
	return 0
}

// leaderPartition returns the local partition if this broker leads it, or
// the error code to answer with.
func (b *Broker) leaderPartition(t TopicInfo, found bool, p int32) (*partition, int16) {
	if code := b.leaderCode(t, found, p); code != 0 {
		return nil, code
	}
	part := b.data.get(t.Name, p)
	if part == nil {
		return nil, errUnknownTopicOrPart
	}
	return part, 0
}
