package broker

import (
	"context"
	"encoding/binary"
	"errors"
	"hash/crc32"
	"time"
	"unicode/utf16"

	"github.com/osprey-kafka/osprey/broker/cgroup"
	"github.com/twmb/franz-go/pkg/kmsg"
)

// Group state in __consumer_offsets, in Apache Kafka's format so that
// tools reading the topic (Burrow, CMAK, kafka-console-consumer with the
// offsets formatter) understand it:
//   - offset commit: key v1 {group, topic, partition}, value v3
//     {offset, leader epoch, metadata, commit timestamp};
//   - group metadata: key v2 {group}, value v3 {protocol type, generation,
//     protocol, leader, state timestamp, members};
//   - a null value deletes (offset deleted, group deleted);
//   - consumer (KIP-848) groups: the new coordinator's records, key types
//     3-8 (broker/cgroup/records.go).
// The partition of a group is abs(javaHashCode(group)) % partitions, as in
// Kafka's GroupMetadataManager.partitionFor.

const offsetsTopic = "__consumer_offsets"

// javaStringHash is Java's String.hashCode (over UTF-16 code units).
func javaStringHash(s string) int32 {
	var h int32
	for _, u := range utf16.Encode([]rune(s)) {
		h = 31*h + int32(u)
	}
	return h
}

// groupPartition is the __consumer_offsets partition holding group's state.
func groupPartition(group string, partitions int32) int32 {
	h := javaStringHash(group)
	if h == -1<<31 { // Kafka's Utils.abs maps MinValue to 0... via & 0x7fffffff
		h = 0
	}
	return (h & 0x7fffffff) % partitions
}

// kvRecord is one record to write: value nil = tombstone.
type kvRecord struct {
	key, value []byte
}

var crc32c = crc32.MakeTable(crc32.Castagnoli)

// buildBatch encodes records as one uncompressed v2 record batch.
func buildBatch(recs []kvRecord, ts int64) []byte {
	b := make([]byte, 61, 128)
	binary.BigEndian.PutUint64(b[0:], 0)                    // base offset (assigned by the log)
	binary.BigEndian.PutUint32(b[12:], 0xffffffff)          // partition leader epoch (set by the log)
	b[16] = 2                                               // magic
	binary.BigEndian.PutUint16(b[21:], 0)                   // attributes: no compression, CreateTime
	binary.BigEndian.PutUint32(b[23:], uint32(len(recs)-1)) // last offset delta
	binary.BigEndian.PutUint64(b[27:], uint64(ts))
	binary.BigEndian.PutUint64(b[35:], uint64(ts))
	binary.BigEndian.PutUint64(b[43:], 0xffffffffffffffff) // producer id -1
	binary.BigEndian.PutUint16(b[51:], 0xffff)             // producer epoch -1
	binary.BigEndian.PutUint32(b[53:], 0xffffffff)         // base sequence -1
	binary.BigEndian.PutUint32(b[57:], uint32(len(recs)))
	for i, r := range recs {
		var body []byte
		body = append(body, 0)                     // attributes
		body = binary.AppendVarint(body, 0)        // timestamp delta
		body = binary.AppendVarint(body, int64(i)) // offset delta
		body = binary.AppendVarint(body, int64(len(r.key)))
		body = append(body, r.key...)
		if r.value == nil {
			body = binary.AppendVarint(body, -1)
		} else {
			body = binary.AppendVarint(body, int64(len(r.value)))
			body = append(body, r.value...)
		}
		body = binary.AppendVarint(body, 0) // headers
		b = binary.AppendVarint(b, int64(len(body)))
		b = append(b, body...)
	}
	binary.BigEndian.PutUint32(b[8:], uint32(len(b)-12))
	binary.BigEndian.PutUint32(b[17:], crc32.Checksum(b[21:], crc32c))
	return b
}

// decodeBatchRecords calls fn for each record of an uncompressed v2 batch.
func decodeBatchRecords(batch []byte, fn func(key, value []byte)) error {
	h, err := parseBatchHeader(batch)
	if err != nil {
		return err
	}
	if h.attributes&0x07 != 0 {
		return errors.New("compressed batch in " + offsetsTopic)
	}
	if h.attributes&0x20 != 0 { // control batch
		return nil
	}
	b := batch[batchHeaderLen:]
	for i := int32(0); i < h.records; i++ {
		l, n := binary.Varint(b)
		if n <= 0 || l < 0 || int64(len(b)-n) < l {
			return errBadBatch
		}
		rec := b[n : n+int(l)]
		b = b[n+int(l):]
		rec = rec[1:] // attributes
		var ok bool
		if rec, ok = skipVarint(rec); !ok { // timestamp delta
			return errBadBatch
		}
		if rec, ok = skipVarint(rec); !ok { // offset delta
			return errBadBatch
		}
		key, rec, ok := readVarBytes(rec)
		if !ok {
			return errBadBatch
		}
		value, _, ok := readVarBytes(rec)
		if !ok {
			return errBadBatch
		}
		fn(key, value)
	}
	return nil
}

func skipVarint(b []byte) ([]byte, bool) {
	_, n := binary.Varint(b)
	if n <= 0 {
		return nil, false
	}
	return b[n:], true
}

func readVarBytes(b []byte) ([]byte, []byte, bool) {
	l, n := binary.Varint(b)
	if n <= 0 || int64(len(b)-n) < l {
		return nil, nil, false
	}
	b = b[n:]
	if l < 0 {
		return nil, b, true
	}
	return b[:l], b[l:], true
}

func offsetKey(group string, tp topicPartition) []byte {
	k := kmsg.NewOffsetCommitKey()
	k.Version = 1
	k.Group, k.Topic, k.Partition = group, tp.topic, tp.partition
	return k.AppendTo(nil)
}

func offsetValue(oc offsetCommit) []byte {
	v := kmsg.NewOffsetCommitValue()
	v.Version = 3
	v.Offset, v.LeaderEpoch, v.Metadata, v.CommitTimestamp = oc.offset, oc.leaderEpoch, oc.metadata, oc.commitMs
	return v.AppendTo(nil)
}

func groupKey(group string) []byte {
	k := kmsg.NewGroupMetadataKey()
	k.Version = 2
	k.Group = group
	return k.AppendTo(nil)
}

// metadataValue encodes the group's state. g.mu held.
func (g *group) metadataValue() []byte {
	v := kmsg.NewGroupMetadataValue()
	v.Version = 3
	v.ProtocolType = g.protocolType
	v.Generation = g.generation
	if g.protocol != "" {
		v.Protocol = kmsg.StringPtr(g.protocol)
	}
	if g.leader != "" {
		v.Leader = kmsg.StringPtr(g.leader)
	}
	v.CurrentStateTimestamp = g.stateMs
	for _, m := range g.members {
		mv := kmsg.NewGroupMetadataValueMember()
		mv.MemberID, mv.InstanceID, mv.ClientID, mv.ClientHost = m.id, m.instanceID, m.clientID, m.clientHost
		mv.RebalanceTimeoutMillis = int32(m.rebalanceTimeout / time.Millisecond)
		mv.SessionTimeoutMillis = int32(m.sessionTimeout / time.Millisecond)
		mv.Subscription = m.metadataFor(g.protocol)
		mv.Assignment = m.assignment
		v.Members = append(v.Members, mv)
	}
	return v.AppendTo(nil)
}

// writeGroupRecords appends records to the group's __consumer_offsets
// partition and returns a Kafka error code.
func (gc *groupCoordinator) writeGroupRecords(group string, recs []kvRecord) int16 {
	if len(recs) == 0 {
		return 0
	}
	p := gc.b.data.get(offsetsTopic, groupPartition(group, gc.partitions()))
	if p == nil {
		return errCoordinatorNotAvail
	}
	ctx, cancel := context.WithTimeout(gc.b.ctx, 10*time.Second)
	defer cancel()
	return p.appendInternalReplicated(ctx, buildBatch(recs, time.Now().UnixMilli()))
}

func (gc *groupCoordinator) partitions() int32 {
	t, ok := gc.b.cluster.Topic(offsetsTopic)
	if !ok || len(t.Partitions) == 0 {
		return gc.b.cfg.OffsetsTopicPartitions
	}
	return int32(len(t.Partitions))
}

// persistMetadata writes the group's metadata record. g.mu held; a write
// failure is logged (the in-memory state stays authoritative until restart).
func (g *group) persistMetadata() {
	if code := g.gc.writeGroupRecords(g.name, []kvRecord{{key: groupKey(g.name), value: g.metadataValue()}}); code != 0 {
		g.gc.b.log.Error("writing group metadata", "group", g.name, "error_code", code)
	}
}

// load takes the groups of every __consumer_offsets partition this broker
// leads, before the coordinator's loop starts; partitions led elsewhere are
// loaded when this broker becomes their leader.
func (gc *groupCoordinator) load() error {
	for i := range gc.partitions() {
		gc.partitionChanged(i)
	}
	return gc.reconcileDirty()
}

// loadPartition replays offsets partition idx's log into groups and returns
// how many records it read. Restored groups with members are Stable; their
// members have a full session timeout to come back before a rebalance.
func (gc *groupCoordinator) loadPartition(idx int32) (int, error) {
	p := gc.b.data.get(offsetsTopic, idx)
	if p == nil {
		return 0, nil
	}
	records := 0
	txns := pendingOffsetTxns{}
	err := p.eachBatch(func(h batchHeader, base int64, batch []byte) error {
		if h.isTransactional() && h.producerID >= 0 {
			records += txns.replay(h, batch, gc.apply)
		} else if err := decodeBatchRecords(batch, func(k, v []byte) {
			records++
			gc.apply(k, v)
		}); err != nil {
			gc.b.log.Warn("skipping unreadable batch", "partition", idx, "offset", base, "err", err)
		}
		return nil
	})
	if err != nil {
		return records, err
	}
	gc.restorePending(txns)
	now := time.Now()
	n := gc.partitions()
	for _, g := range gc.list() {
		if groupPartition(g.name, n) != idx {
			continue
		}
		g.mu.Lock()
		if g.cg != nil {
			g.restoredConsumer(now)
			g.mu.Unlock()
			continue
		}
		for _, m := range g.members {
			m.lastSession = now
		}
		if len(g.members) > 0 {
			g.state = groupStable
		} else {
			g.state = groupEmpty
		}
		g.mu.Unlock()
	}
	return records, nil
}

// apply replays one __consumer_offsets record.
func (gc *groupCoordinator) apply(key, value []byte) {
	if len(key) < 2 {
		return
	}
	version := int16(binary.BigEndian.Uint16(key))
	if cgroup.IsRecordType(version) {
		gc.applyConsumer(key, value)
		return
	}
	switch version {
	case 0, 1:
		var k kmsg.OffsetCommitKey
		if k.ReadFrom(key) != nil {
			return
		}
		tp := topicPartition{k.Topic, k.Partition}
		if value == nil {
			if g := gc.get(k.Group, false); g != nil {
				g.mu.Lock()
				delete(g.offsets, tp)
				g.mu.Unlock()
			}
			return
		}
		var v kmsg.OffsetCommitValue
		if v.ReadFrom(value) != nil {
			return
		}
		g := gc.get(k.Group, true)
		g.mu.Lock()
		epoch := v.LeaderEpoch
		if v.Version < 3 {
			epoch = -1
		}
		g.offsets[tp] = offsetCommit{offset: v.Offset, leaderEpoch: epoch, metadata: v.Metadata, commitMs: v.CommitTimestamp}
		g.mu.Unlock()
	case 2:
		var k kmsg.GroupMetadataKey
		if k.ReadFrom(key) != nil {
			return
		}
		if value == nil {
			gc.dropGroupMetadata(k.Group, false)
			return
		}
		var v kmsg.GroupMetadataValue
		if v.ReadFrom(value) != nil {
			return
		}
		g := gc.get(k.Group, true)
		g.mu.Lock()
		g.cg = nil // the group went back to the classic protocol
		g.protocolType, g.generation, g.stateMs = v.ProtocolType, v.Generation, v.CurrentStateTimestamp
		g.protocol, g.leader = deref(v.Protocol), deref(v.Leader)
		g.members = map[string]*member{}
		for _, mv := range v.Members {
			m := &member{id: mv.MemberID, instanceID: mv.InstanceID, clientID: mv.ClientID, clientHost: mv.ClientHost,
				sessionTimeout: time.Duration(mv.SessionTimeoutMillis) * time.Millisecond,
				assignment:     mv.Assignment,
				protocols:      []kmsg.JoinGroupRequestProtocol{{Name: g.protocol, Metadata: mv.Subscription}}}
			m.rebalanceTimeout = time.Duration(mv.RebalanceTimeoutMillis) * time.Millisecond
			if mv.RebalanceTimeoutMillis <= 0 {
				m.rebalanceTimeout = m.sessionTimeout
			}
			g.members[m.id] = m
		}
		g.mu.Unlock()
	}
}
