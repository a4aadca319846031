package broker

import (
	"context"
	"encoding/binary"
	"hash/crc32"
	"time"

	"github.com/osprey-kafka/osprey/broker/acl"
	"github.com/osprey-kafka/osprey/broker/txn"
	"github.com/twmb/franz-go/pkg/kmsg"
)

// TxnOffsetCommit: v0-3
//
// Behavior:
// * Sent to the group coordinator by a transactional producer (after
//   AddOffsetsToTxn): the offsets are written to __consumer_offsets in a
//   transactional batch of the producer and stay pending, invisible to
//   OffsetFetch, until the transaction's marker on that partition commits
//   them (or drops them on abort). OffsetFetch with RequireStable answers
//   UNSTABLE_OFFSET_COMMIT for a partition with pending offsets.
// * v3 (KIP-447): a member id and generation, when given, must be the
//   group's current ones (UNKNOWN_MEMBER_ID, ILLEGAL_GENERATION).
// * A producer epoch older than the one seen on the offsets partition gets
//   PRODUCER_FENCED (INVALID_PRODUCER_EPOCH before v3).
//
// Version notes:
// * v2: leader epoch; v3: flexible, member id, generation, instance id.

func init() { regKey(28, 0, 3, handleTxnOffsetCommit) }

func handleTxnOffsetCommit(b *Broker, r *request) (kmsg.Response, error) {
	req := r.kreq.(*kmsg.TxnOffsetCommitRequest)
	resp := req.ResponseKind().(*kmsg.TxnOffsetCommitResponse)
	codes := map[topicPartition]int16{}
	answer := func(code int16) (kmsg.Response, error) {
		for _, rt := range req.Topics {
			st := kmsg.NewTxnOffsetCommitResponseTopic()
			st.Topic = rt.Topic
			for _, rp := range rt.Partitions {
				sp := kmsg.NewTxnOffsetCommitResponseTopicPartition()
				sp.Partition = rp.Partition
				sp.ErrorCode = code
				if c, ok := codes[topicPartition{rt.Topic, rp.Partition}]; ok {
					sp.ErrorCode = c
				}
				st.Partitions = append(st.Partitions, sp)
			}
			resp.Topics = append(resp.Topics, st)
		}
		return resp, nil
	}
	if code := r.authzTxnIDErr(acl.OpWrite, req.TransactionalID); code != 0 {
		return answer(code)
	}
	if code := r.groupCode(acl.OpRead, req.Group); code != 0 {
		return answer(code)
	}
	for tp, code := range r.txnCommitDenied(req) {
		codes[tp] = code
	}
	if b.isShareGroup(req.Group) {
		return answer(errGroupIDNotFound) // group_types.go
	}
	g := b.groups.get(req.Group, true)
	g.mu.Lock()
	defer g.mu.Unlock()
	if req.Version >= 3 && (req.MemberID != "" || req.Generation >= 0) {
		if g.cg != nil {
			if code := g.consumerTxnCommitAllowed(req); code != 0 {
				return answer(code)
			}
		} else if _, ok := g.members[req.MemberID]; !ok {
			return answer(errUnknownMemberID)
		} else if req.Generation != g.generation {
			return answer(errIllegalGeneration)
		}
	}
	now := time.Now().UnixMilli()
	var recs []kvRecord
	var commits []pendingCommit
	for _, rt := range req.Topics {
		t, known := b.cluster.Topic(rt.Topic)
		for _, rp := range rt.Partitions {
			tp := topicPartition{rt.Topic, rp.Partition}
			if codes[tp] != 0 {
				continue // the topic is not authorized
			}
			if !known || rp.Partition < 0 || int(rp.Partition) >= len(t.Partitions) {
				codes[tp] = errUnknownTopicOrPart
				continue
			}
			oc := offsetCommit{offset: rp.Offset, leaderEpoch: -1, metadata: deref(rp.Metadata), commitMs: now}
			if req.Version >= 2 {
				oc.leaderEpoch = rp.LeaderEpoch
			}
			recs = append(recs, kvRecord{key: offsetKey(g.name, tp), value: offsetValue(oc)})
			commits = append(commits, pendingCommit{tp, oc})
		}
	}
	code := b.groups.writeTxnOffsets(g.name, recs, req.ProducerID, req.ProducerEpoch)
	if code == 0 {
		if g.pendingTxn == nil {
			g.pendingTxn = map[int64]map[topicPartition]offsetCommit{}
		}
		pend := g.pendingTxn[req.ProducerID]
		if pend == nil {
			pend = map[topicPartition]offsetCommit{}
			g.pendingTxn[req.ProducerID] = pend
		}
		for _, c := range commits {
			pend[c.tp] = c.oc
		}
	}
	return answer(txn.FencedCode(code, req.Version, 3))
}

// writeTxnOffsets appends offset records as a transactional batch of
// producer pid to the group's offsets partition.
func (gc *groupCoordinator) writeTxnOffsets(group string, recs []kvRecord, pid int64, epoch int16) int16 {
	if len(recs) == 0 {
		return 0
	}
	p := gc.b.data.get(offsetsTopic, groupPartition(group, gc.partitions()))
	if p == nil {
		return errCoordinatorNotAvail
	}
	batch := buildBatch(recs, time.Now().UnixMilli())
	binary.BigEndian.PutUint16(batch[21:], attrTransactional)
	binary.BigEndian.PutUint64(batch[43:], uint64(pid))
	binary.BigEndian.PutUint16(batch[51:], uint16(epoch))
	binary.BigEndian.PutUint32(batch[17:], crc32.Checksum(batch[21:], crc32c))
	ctx, cancel := context.WithTimeout(gc.b.ctx, 10*time.Second)
	defer cancel()
	return p.appendProducerBatch(ctx, batch, pid, epoch)
}

// appendProducerBatch appends a batch the coordinator built for producer
// pid at epoch (transactional offsets), fencing an epoch older than the
// partition has seen, and waits until the ISR has it.
func (p *partition) appendProducerBatch(ctx context.Context, batch []byte, pid int64, epoch int16) int16 {
	p.mu.Lock()
	if !p.rep.isLeader {
		p.mu.Unlock()
		return errNotCoordinator
	}
	ps := p.producers[pid]
	if ps != nil && epoch < ps.epoch {
		p.mu.Unlock()
		return errProducerFenced
	}
	info, err := p.log.Append(batch, p.leaderEpoch)
	if err != nil {
		p.mu.Unlock()
		return kafkaCode(err)
	}
	if ps == nil || epoch > ps.epoch {
		p.producers[pid] = newProducerState(epoch)
	}
	h, _ := parseBatchHeader(batch)
	p.noteTxnBatchLocked(h, info.FirstOffset, batch)
	end, lepoch := p.log.LogEndOffset(), p.leaderEpoch
	p.maybeAdvanceHWLocked()
	p.mu.Unlock()
	switch code := p.waitHW(ctx, end, lepoch, 1); code {
	case errNotLeader:
		return errNotCoordinator
	case errRequestTimedOut:
		return errCoordinatorNotAvail
	default:
		return code
	}
}

// completeTxn commits (or drops) producer pid's pending transactional
// offsets of the groups of offsets partition idx, once its marker is
// written there.
func (gc *groupCoordinator) completeTxn(idx int32, pid int64, commit bool) {
	n := gc.partitions()
	for _, g := range gc.list() {
		if groupPartition(g.name, n) != idx {
			continue
		}
		g.mu.Lock()
		if pend, ok := g.pendingTxn[pid]; ok {
			if commit {
				for tp, oc := range pend {
					g.offsets[tp] = oc
				}
			}
			delete(g.pendingTxn, pid)
		}
		g.mu.Unlock()
	}
}

// pendingOffsetTxns collects, while an offsets partition is replayed, the
// transactional offset records of each producer until its marker.
type pendingOffsetTxns map[int64][]kvRecord

// replay handles one transactional batch of the offsets log: data records
// wait for their marker, a commit marker applies them, an abort drops
// them. It returns the records read.
func (pt pendingOffsetTxns) replay(h batchHeader, batch []byte, apply func(k, v []byte)) int {
	if h.isControl() {
		commit, ok := txn.ParseMarkerKey(firstRecordKey(batch))
		if ok && commit {
			for _, r := range pt[h.producerID] {
				apply(r.key, r.value)
			}
		}
		delete(pt, h.producerID)
		return 0
	}
	n := 0
	decodeBatchRecords(batch, func(k, v []byte) { //nolint:errcheck // an unreadable batch is skipped like a non-transactional one
		n++
		pt[h.producerID] = append(pt[h.producerID], kvRecord{key: k, value: v})
	})
	return n
}

// restorePending puts the offsets of transactions still open at the end
// of a replayed offsets log back as pending commits.
func (gc *groupCoordinator) restorePending(pt pendingOffsetTxns) {
	for pid, recs := range pt {
		for _, r := range recs {
			var k kmsg.OffsetCommitKey
			var v kmsg.OffsetCommitValue
			if len(r.key) < 2 || binary.BigEndian.Uint16(r.key) > 1 || k.ReadFrom(r.key) != nil || r.value == nil || v.ReadFrom(r.value) != nil {
				continue
			}
			g := gc.get(k.Group, true)
			g.mu.Lock()
			if g.pendingTxn == nil {
				g.pendingTxn = map[int64]map[topicPartition]offsetCommit{}
			}
			if g.pendingTxn[pid] == nil {
				g.pendingTxn[pid] = map[topicPartition]offsetCommit{}
			}
			g.pendingTxn[pid][topicPartition{k.Topic, k.Partition}] = offsetCommit{offset: v.Offset, leaderEpoch: v.LeaderEpoch,
				metadata: v.Metadata, commitMs: v.CommitTimestamp}
			g.mu.Unlock()
		}
	}
}
