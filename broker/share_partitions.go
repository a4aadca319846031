package broker

import (
	"context"
	"time"

	"github.com/osprey-kafka/osprey/broker/sharegroup"
	"github.com/osprey-kafka/osprey/broker/sharestate"
	"github.com/twmb/franz-go/pkg/kerr"
)

// shareStateTimeout bounds one load or write of share-partition state.
const shareStateTimeout = 5 * time.Second

func (k sharePartKey) stateKey() sharestate.PartKey {
	return sharestate.PartKey{Group: k.group, TopicID: k.topic, Partition: k.partition}
}

// loadShareParts makes sure every share-partition of keys that this
// broker leads is loaded at the partition's current leader epoch. fresh
// (a member opens a share session) also reloads a share-partition with
// nothing acquired, since the group's coordinator may have reset its
// offsets in the share coordinator meanwhile. It returns the error codes
// of the share-partitions that could not be loaded.
func (b *Broker) loadShareParts(keys []sharePartKey, fresh bool) map[sharePartKey]int16 {
	var errs map[sharePartKey]int16
	for _, k := range keys {
		t, ok := b.cluster.TopicByID(k.topic)
		if !ok {
			continue
		}
		p, code := b.leaderPartition(t, true, k.partition)
		if code != 0 {
			continue // the request answers the partition's error
		}
		if code := b.loadSharePart(k, p, fresh); code != 0 {
			if errs == nil {
				errs = map[sharePartKey]int16{}
			}
			errs[k] = code
		}
	}
	return errs
}

// needsLoad reports whether k must be read from the share coordinator.
func (s *shareCoordinator) needsLoad(k sharePartKey, epoch int32, fresh bool) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	p := s.partitionLocked(k, epoch)
	return p == nil || (fresh && p.NextExpiry().IsZero())
}

// loadSharePart reads k's state from the share coordinator at p's leader
// epoch (which fences the previous leader's writes) and installs it. A
// share-partition never initialised starts at the high watermark
// (share.auto.offset.reset=latest, Kafka's default) and is initialised
// there.
func (b *Broker) loadSharePart(k sharePartKey, p *partition, fresh bool) int16 {
	s := &b.shares
	epoch := p.epoch()
	if !s.needsLoad(k, epoch, fresh) {
		return 0
	}
	s.loadMu.Lock()
	defer s.loadMu.Unlock()
	if !s.needsLoad(k, epoch, fresh) {
		return 0
	}
	ctx, cancel := context.WithTimeout(b.ctx, shareStateTimeout)
	defer cancel()
	st, code := b.readShareState(ctx, k.stateKey(), epoch)
	if code != 0 {
		b.log.Warn("reading share-partition state", "group", k.group, "partition", k.partition, "error", kerr.ErrorForCode(code))
		return code
	}
	if st.StartOffset < 0 {
		start := p.log.HighWatermark()
		if code := b.initializeShareState(ctx, k.stateKey(), st.StateEpoch, start); code != 0 {
			return code
		}
		st.StartOffset, st.Batches = start, nil
	}
	bs := make([]sharegroup.Batch, len(st.Batches))
	for i, sb := range st.Batches {
		bs[i] = sharegroup.Batch{First: sb.First, Last: sb.Last, State: sharegroup.State(sb.State), Deliveries: int32(sb.Count)}
	}
	part := sharegroup.Restore(b.cfg.Share.partitionConfig(), st.StartOffset, bs)
	s.mu.Lock()
	defer s.mu.Unlock()
	if cur := s.partitionLocked(k, epoch); cur != nil && !cur.NextExpiry().IsZero() {
		return 0 // a member acquired records meanwhile: keep what it holds
	}
	if s.parts == nil {
		s.parts, s.loaded = map[sharePartKey]*sharegroup.Partition{}, map[sharePartKey]shareLoad{}
	}
	s.parts[k] = part
	s.loaded[k] = shareLoad{leaderEpoch: epoch, stateEpoch: st.StateEpoch, written: part.Version()}
	return 0
}

// persistShareParts writes the state of every share-partition of keys
// that changed since its last write, and returns the error codes of the
// writes that failed. A write fenced by a newer leader or a newer state
// epoch drops the share-partition: the next request reads it again.
func (b *Broker) persistShareParts(keys []sharePartKey) map[sharePartKey]int16 {
	s := &b.shares
	s.writeMu.Lock()
	defer s.writeMu.Unlock()
	var errs map[sharePartKey]int16
	for _, k := range keys {
		w, l, version, ok := s.pendingWrite(k)
		if !ok {
			continue
		}
		ctx, cancel := context.WithTimeout(b.ctx, shareStateTimeout)
		code := b.writeShareState(ctx, k.stateKey(), w)
		cancel()
		s.mu.Lock()
		if cur, same := s.loaded[k]; same && cur.leaderEpoch == l.leaderEpoch && cur.stateEpoch == l.stateEpoch {
			switch code {
			case 0:
				cur.written = max(cur.written, version)
				s.loaded[k] = cur
			case kerr.FencedLeaderEpoch.Code, kerr.FencedStateEpoch.Code:
				s.dropPartitionLocked(k)
			}
		}
		s.mu.Unlock()
		if code != 0 {
			b.log.Warn("writing share-partition state", "group", k.group, "partition", k.partition, "error", kerr.ErrorForCode(code))
			if errs == nil {
				errs = map[sharePartKey]int16{}
			}
			errs[k] = code
		}
	}
	return errs
}

// pendingWrite returns the write that brings k's durable state up to
// date; ok is false when nothing changed since the last one.
func (s *shareCoordinator) pendingWrite(k sharePartKey) (sharestate.WriteRequest, shareLoad, uint64, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	p := s.parts[k]
	l, ok := s.loaded[k]
	if p == nil || !ok || l.written == p.Version() {
		return sharestate.WriteRequest{}, l, 0, false
	}
	bs, complete := p.Batches()
	w := sharestate.WriteRequest{StateEpoch: l.stateEpoch, LeaderEpoch: l.leaderEpoch, StartOffset: p.StartOffset(),
		DeliveryCompleteCount: complete, Batches: make([]sharestate.Batch, len(bs))}
	for i, sb := range bs {
		w.Batches[i] = sharestate.Batch{First: sb.First, Last: sb.Last, State: int8(sb.State), Count: int16(min(sb.Deliveries, 1<<15-1))}
	}
	return w, l, p.Version(), true
}

// sessionKeysLocked lists the share-partitions of a member's session.
// s.mu held.
func (s *shareCoordinator) sessionKeysLocked(group, member string) []sharePartKey {
	sess := s.sessions[shareSessionKey{group, member}]
	if sess == nil {
		return nil
	}
	keys := make([]sharePartKey, 0, len(sess.parts))
	for k := range sess.parts {
		keys = append(keys, k)
	}
	return keys
}

// ShareSnapshots visits every share-partition this broker leads and holds
// at the partition's current leader epoch, with its state at now: the
// in-flight records and their delivery counts, which no Kafka request
// carries (the console reads them from runtime brokers in its process).
// visit is called after the share-partitions' lock is released.
func (b *Broker) ShareSnapshots(now time.Time, visit func(group, topic string, partition int32, s sharegroup.Snapshot)) {
	type item struct {
		group, topic string
		partition    int32
		snap         sharegroup.Snapshot
	}
	var items []item
	s := &b.shares
	s.mu.Lock()
	for k, p := range s.parts {
		t, ok := b.cluster.TopicByID(k.topic)
		if !ok {
			continue
		}
		part := b.data.get(t.Name, k.partition)
		if part == nil || !b.leadsLocally(t.Name, k.partition) || s.loaded[k].leaderEpoch != part.epoch() {
			continue
		}
		items = append(items, item{k.group, t.Name, k.partition, p.Snapshot(now)})
	}
	s.mu.Unlock()
	for _, it := range items {
		visit(it.group, it.topic, it.partition, it.snap)
	}
}
