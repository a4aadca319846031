package broker

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/osprey-kafka/osprey/broker/sharestate"
)

// The share coordinator keeps the durable state of share-partitions in
// __share_group_state, as Kafka's ShareCoordinatorService: the state of
// group G's partition P of topic T lives in the state topic's partition
// abs(javaHashCode("G:T:P")) % partitions, found by FindCoordinator key
// type 2 (SHARE), and its leader answers Initialize/Read/Write/Delete
// ShareGroupState and ReadShareGroupStateSummary for it. A broker that
// becomes a state partition's leader replays its log before it answers.
//
// Every change is appended (acks=all) before it is applied in memory and
// answered; a failed append drops the partition's loaded state so that
// the next request replays the log again.

const shareStateTopic = "__share_group_state"

// shareStateCoordinator owns the state partitions this broker leads.
type shareStateCoordinator struct {
	b *Broker

	mu     sync.Mutex // guards shards
	shards map[int32]*stateShard

	createMu sync.Mutex // one creation of __share_group_state at a time
	since    time.Time  // when the coordinator started (creation waits for the first brokers)

	// conns are this broker's connections to the other brokers' share
	// coordinators, as a share-partition leader (share_persister.go).
	conns persisterConns
}

// stateShard is one state partition loaded at a leader epoch. mu is held
// across a request's decision, append and replay, so that the changes of
// one state partition are serialised.
type stateShard struct {
	mu    sync.Mutex
	epoch int32
	valid bool // false once an append failed: the next request reloads
	s     *sharestate.Shard
}

func newShareStateCoordinator(b *Broker) *shareStateCoordinator {
	sc := &shareStateCoordinator{b: b, shards: map[int32]*stateShard{}, since: time.Now()}
	context.AfterFunc(b.ctx, sc.conns.closeAll)
	return sc
}

// sharePartitionFor is the state partition of a coordinator key, with
// Kafka's Utils.abs (Math.abs, and 0 for MinValue).
func sharePartitionFor(key string, partitions int32) int32 {
	h := javaStringHash(key)
	if h == -1<<31 {
		return 0
	}
	if h < 0 {
		h = -h
	}
	return h % partitions
}

// partitions is the partition count of __share_group_state, 0 while it
// does not exist.
func (sc *shareStateCoordinator) partitions() int32 {
	t, ok := sc.b.cluster.Topic(shareStateTopic)
	if !ok {
		return 0
	}
	return int32(len(t.Partitions))
}

// coordinatorFor finds the broker leading the key's state partition. A
// missing __share_group_state is created in the background; the caller
// retries.
func (sc *shareStateCoordinator) coordinatorFor(key string) (BrokerInfo, bool) {
	t, ok := sc.b.cluster.Topic(shareStateTopic)
	if !ok || len(t.Partitions) == 0 {
		sc.createInBackground()
		return BrokerInfo{}, false
	}
	leader := t.Partitions[sharePartitionFor(key, int32(len(t.Partitions)))].Leader
	for _, bi := range sc.b.cluster.Brokers() {
		if bi.ID == leader {
			return bi, true
		}
	}
	return BrokerInfo{}, false
}

func (sc *shareStateCoordinator) createInBackground() {
	b := sc.b
	b.wg.Add(1)
	go func() {
		defer b.wg.Done()
		ctx, cancel := context.WithTimeout(b.ctx, 30*time.Second)
		defer cancel()
		sc.createStateTopic(ctx)
	}()
}

// createStateTopic creates __share_group_state with
// share.coordinator.state.topic.num.partitions and replication factor,
// waiting for that many brokers for a minute after start as the other
// coordinators' topics do.
func (sc *shareStateCoordinator) createStateTopic(ctx context.Context) {
	if !sc.createMu.TryLock() {
		return
	}
	defer sc.createMu.Unlock()
	if _, ok := sc.b.cluster.Topic(shareStateTopic); ok {
		return
	}
	cfg := sc.b.cfg.Share
	live := int16(len(sc.b.cluster.Brokers()))
	_, single := sc.b.cluster.(*localCluster)
	if live < cfg.StateTopicRF && !single && time.Since(sc.since) < stateTopicWait {
		return
	}
	rf := max(1, min(cfg.StateTopicRF, live))
	_, err := sc.b.cluster.CreateTopic(ctx, TopicSpec{Name: shareStateTopic, Partitions: cfg.StateTopicPartitions,
		ReplicationFactor: rf, Internal: true, Configs: cfg.stateTopicConfigs(rf)}, false)
	if err != nil && !errors.Is(err, ErrTopicExists) {
		sc.b.log.Warn("creating share group state topic", "err", err)
	}
}

// shard returns the loaded shard of the key's state partition with its
// lock held, or an error code: COORDINATOR_NOT_AVAILABLE while the topic
// does not exist or cannot be read, NOT_COORDINATOR when another broker
// leads the partition.
func (sc *shareStateCoordinator) shard(k sharestate.PartKey) (*stateShard, *partition, int16) {
	n := sc.partitions()
	if n == 0 {
		sc.createInBackground()
		return nil, nil, errCoordinatorNotAvail
	}
	idx := sharePartitionFor(k.CoordinatorKey(), n)
	p := sc.b.data.get(shareStateTopic, idx)
	if p == nil {
		return nil, nil, errNotCoordinator
	}
	p.mu.Lock()
	leader, epoch := p.rep.isLeader, p.leaderEpoch
	p.mu.Unlock()
	if !leader {
		return nil, nil, errNotCoordinator
	}
	sc.mu.Lock()
	sh := sc.shards[idx]
	if sh == nil || sh.epoch != epoch {
		sh = &stateShard{epoch: epoch}
		sc.shards[idx] = sh
	}
	sc.mu.Unlock()
	sh.mu.Lock()
	if !sh.valid {
		s, err := sc.replay(p)
		if err != nil {
			sh.mu.Unlock()
			sc.b.log.Error("loading share group state", "partition", idx, "err", err)
			return nil, nil, errCoordinatorNotAvail
		}
		sh.s, sh.valid = s, true
		sc.b.log.Info("took over share-partition state", "partition", idx, "share_partitions", s.Len())
	}
	return sh, p, 0
}

// replay reads a state partition's log into a new shard.
func (sc *shareStateCoordinator) replay(p *partition) (*sharestate.Shard, error) {
	s := sharestate.NewShard(int(sc.b.cfg.Share.SnapshotUpdateRecords))
	err := p.eachBatch(func(_ batchHeader, base int64, batch []byte) error {
		err := decodeBatchRecords(batch, func(k, v []byte) {
			if err := s.Replay(k, v); err != nil {
				sc.b.log.Warn("skipping unreadable share state record", "partition", p.index, "offset", base, "err", err)
			}
		})
		if err != nil {
			return fmt.Errorf("batch of %s-%d at %d: %w", shareStateTopic, p.index, base, err)
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	return s, nil
}

// append writes records to the state partition (acks=all) and replays
// them into the shard. sh.mu held.
func (sc *shareStateCoordinator) append(sh *stateShard, p *partition, recs []sharestate.Record) int16 {
	if len(recs) == 0 {
		return 0
	}
	kv := make([]kvRecord, len(recs))
	for i, r := range recs {
		kv[i] = kvRecord{key: r.Key, value: r.Value}
	}
	ctx, cancel := context.WithTimeout(sc.b.ctx, sc.b.cfg.Share.StateWriteTimeout)
	defer cancel()
	if code := p.appendInternalReplicated(ctx, buildBatch(kv, time.Now().UnixMilli())); code != 0 {
		sh.valid = false // the log may hold the batch or not: replay it next time
		return code
	}
	for _, r := range recs {
		if err := sh.s.Replay(r.Key, r.Value); err != nil {
			sh.valid = false
			return errCoordinatorNotAvail
		}
	}
	return 0
}

// The share coordinator's operations on one share-partition; each
// answers an error code besides its result.

func (sc *shareStateCoordinator) read(k sharestate.PartKey, leaderEpoch int32) (sharestate.State, int16) {
	if code := sc.knownPartition(k); code != 0 {
		return sharestate.State{}, code
	}
	sh, p, code := sc.shard(k)
	if code != 0 {
		return sharestate.State{}, code
	}
	defer sh.mu.Unlock()
	st, rec, code := sh.s.Read(k, leaderEpoch, time.Now().UnixMilli())
	if code == 0 && rec != nil {
		code = sc.append(sh, p, []sharestate.Record{*rec})
	}
	return st, code
}

func (sc *shareStateCoordinator) write(k sharestate.PartKey, req sharestate.WriteRequest) int16 {
	if code := sc.knownPartition(k); code != 0 {
		return code
	}
	sh, p, code := sc.shard(k)
	if code != 0 {
		return code
	}
	defer sh.mu.Unlock()
	rec, code := sh.s.Write(k, req, time.Now().UnixMilli())
	if code != 0 {
		return code
	}
	return sc.append(sh, p, []sharestate.Record{rec})
}

func (sc *shareStateCoordinator) initialize(k sharestate.PartKey, stateEpoch int32, start int64) int16 {
	if code := sc.knownPartition(k); code != 0 {
		return code
	}
	sh, p, code := sc.shard(k)
	if code != 0 {
		return code
	}
	defer sh.mu.Unlock()
	rec, code := sh.s.Initialize(k, stateEpoch, start, time.Now().UnixMilli())
	if code != 0 {
		return code
	}
	return sc.append(sh, p, []sharestate.Record{rec})
}

func (sc *shareStateCoordinator) delete(k sharestate.PartKey) int16 {
	sh, p, code := sc.shard(k)
	if code != 0 {
		return code
	}
	defer sh.mu.Unlock()
	return sc.append(sh, p, sh.s.Delete(k))
}

// summary is the share-partition's state without its batches
// (ReadShareGroupStateSummary); ok is false when it was never written.
func (sc *shareStateCoordinator) summary(k sharestate.PartKey) (sharestate.State, bool, int16) {
	sh, _, code := sc.shard(k)
	if code != 0 {
		return sharestate.State{}, false, code
	}
	defer sh.mu.Unlock()
	st, ok := sh.s.Get(k)
	return st, ok, 0
}

// knownPartition is UNKNOWN_TOPIC_OR_PARTITION unless the cluster has the
// share-partition's topic partition, as Kafka's shard checks against its
// metadata image; INVALID_REQUEST for a negative partition.
func (sc *shareStateCoordinator) knownPartition(k sharestate.PartKey) int16 {
	if k.Partition < 0 {
		return errInvalidRequest
	}
	t, ok := sc.b.cluster.TopicByID(k.TopicID)
	if !ok || int(k.Partition) >= len(t.Partitions) {
		return errUnknownTopicOrPart
	}
	return 0
}
