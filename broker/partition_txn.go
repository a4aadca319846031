package broker

import (
	"context"
	"encoding/binary"
	"hash/crc32"
	"slices"
	"time"

	"github.com/osprey-kafka/osprey/broker/txn"
	"github.com/twmb/franz-go/pkg/kmsg"
)

// The partition's side of transactions: which producers have a transaction
// open here (from the offset of its first batch), the last stable offset
// (LSO, below which every transaction is decided), and the aborted
// transactions a read_committed consumer must skip. Leader and followers
// keep the same state, the leader as it appends and the followers as they
// append what they fetch, so that a new leader knows it at once.

// partitionTxns is guarded by partition.mu.
type partitionTxns struct {
	// ongoing maps a producer id to the first offset of its open
	// transaction on this partition.
	ongoing map[int64]int64
	// aborted lists the aborted transactions, by last offset (the abort
	// marker's); it mirrors the log's transaction index.
	aborted []txn.AbortedTxn
}

// Batch attribute bits (record batch v2).
const (
	attrTransactional = 0x10
	attrControl       = 0x20
)

// isControl reports the control attribute bit.
func (h batchHeader) isControl() bool { return h.attributes&attrControl != 0 }

// lsoLocked is the last stable offset: the high watermark, or the first
// offset of the earliest open transaction if that is lower, but never below
// the log start (DeleteRecords may remove the start of an open
// transaction, as in Kafka, whose producer state drops it then). p.mu held.
func (p *partition) lsoLocked() int64 {
	lso := p.log.HighWatermark()
	for _, first := range p.txn.ongoing {
		lso = min(lso, first)
	}
	return max(lso, p.log.LogStartOffset())
}

// lastStableOffset returns the partition's LSO.
func (p *partition) lastStableOffset() int64 {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.lsoLocked()
}

// abortedIn returns the aborted transactions a read_committed fetch from
// offset up to end must know of: those ending at or after offset and
// starting before end.
func (p *partition) abortedIn(offset, end int64) []kmsg.FetchResponseTopicPartitionAbortedTransaction {
	p.mu.Lock()
	defer p.mu.Unlock()
	i, _ := slices.BinarySearchFunc(p.txn.aborted, offset, func(e txn.AbortedTxn, o int64) int {
		switch {
		case e.LastOffset < o:
			return -1
		case e.LastOffset > o:
			return 1
		}
		return 0
	})
	out := []kmsg.FetchResponseTopicPartitionAbortedTransaction{}
	for _, e := range p.txn.aborted[i:] {
		if e.FirstOffset < end {
			a := kmsg.NewFetchResponseTopicPartitionAbortedTransaction()
			a.ProducerID, a.FirstOffset = e.ProducerID, e.FirstOffset
			out = append(out, a)
		}
	}
	return out
}

// noteTxnBatchLocked updates the transaction state for one batch appended
// at base: a transactional data batch opens its producer's transaction if
// none is open, a marker closes it (and an abort is recorded). p.mu held.
func (p *partition) noteTxnBatchLocked(h batchHeader, base int64, batch []byte) {
	if h.attributes&attrTransactional == 0 || h.producerID < 0 {
		return
	}
	if p.txn.ongoing == nil {
		p.txn.ongoing = map[int64]int64{}
	}
	if !h.isControl() {
		if _, open := p.txn.ongoing[h.producerID]; !open {
			p.txn.ongoing[h.producerID] = base
		}
		return
	}
	commit, ok := txn.ParseMarkerKey(firstRecordKey(batch))
	if !ok {
		return
	}
	first, open := p.txn.ongoing[h.producerID]
	delete(p.txn.ongoing, h.producerID)
	if commit || !open {
		return
	}
	if n := len(p.txn.aborted); n > 0 && p.txn.aborted[n-1].LastOffset >= base {
		return // already known (a rebuild replaying the tail)
	}
	e := txn.AbortedTxn{ProducerID: h.producerID, FirstOffset: first, LastOffset: base, LastStableOffset: p.lsoLocked()}
	// Entries whose marker went with deleted segments (retention,
	// DeleteRecords) are of no use to a fetch any more.
	start := p.log.LogStartOffset()
	i := 0
	for i < len(p.txn.aborted) && p.txn.aborted[i].LastOffset < start {
		i++
	}
	if i > 0 {
		p.txn.aborted = slices.Clone(p.txn.aborted[i:])
	}
	p.txn.aborted = append(p.txn.aborted, e)
	p.persistAbortedLocked(e)
}

// cleanedAbortedTxns follows a clean of offsets [from, to): of the aborted
// transactions whose markers lie there only kept remain (the others' data is
// gone, and their markers go after delete.retention.ms; a consumer told of
// such a transaction without seeing its marker would skip the producer's
// later data).
func (p *partition) cleanedAbortedTxns(from, to int64, kept []txn.AbortedTxn) {
	p.mu.Lock()
	defer p.mu.Unlock()
	out := make([]txn.AbortedTxn, 0, len(p.txn.aborted))
	for _, e := range p.txn.aborted {
		if e.LastOffset < from {
			out = append(out, e)
		}
	}
	out = append(out, kept...)
	for _, e := range p.txn.aborted {
		if e.LastOffset >= to {
			out = append(out, e)
		}
	}
	p.txn.aborted = out
}

// truncatedTxnsLocked forgets transaction state above the log end after a
// truncation (a follower cutting back to the leader's log). p.mu held.
func (p *partition) truncatedTxnsLocked() {
	end := p.log.LogEndOffset()
	for pid, first := range p.txn.ongoing {
		if first >= end {
			delete(p.txn.ongoing, pid)
		}
	}
	p.txn.aborted = slices.DeleteFunc(p.txn.aborted, func(e txn.AbortedTxn) bool { return e.LastOffset >= end })
}

// firstRecordKey returns the key of the first record of an uncompressed
// v2 batch (a control batch's marker key), nil if unreadable.
func firstRecordKey(batch []byte) []byte {
	key, _ := firstRecord(batch)
	return key
}

// firstRecord returns the key and value of the first record of an
// uncompressed v2 batch, nil if unreadable.
func firstRecord(batch []byte) (key, value []byte) {
	if len(batch) <= batchHeaderLen {
		return nil, nil
	}
	rec := batch[batchHeaderLen:]
	rec, ok := skipVarint(rec) // record length
	if !ok || len(rec) < 1 {
		return nil, nil
	}
	// Skip the attributes, the timestamp delta and the offset delta.
	rec = rec[1:]
	if rec, ok = skipVarint(rec); !ok {
		return nil, nil
	}
	if rec, ok = skipVarint(rec); !ok {
		return nil, nil
	}
	key, rec, ok = readVarBytes(rec)
	if !ok {
		return nil, nil
	}
	value, _, ok = readVarBytes(rec)
	if !ok {
		return key, nil
	}
	return key, value
}

// noteMarkerLocked restores, from a marker met while rebuilding the
// producer state, the producer's epoch and its coordinator's epoch.
// p.mu held.
func (p *partition) noteMarkerLocked(h batchHeader, batch []byte) {
	ps := p.producers[h.producerID]
	if ps == nil || h.producerEpoch > ps.epoch {
		ps = newProducerState(h.producerEpoch)
		p.producers[h.producerID] = ps
	}
	_, value := firstRecord(batch)
	var m kmsg.EndTxnMarker
	if m.ReadFrom(value) == nil {
		ps.coordEpoch = max(ps.coordEpoch, m.CoordinatorEpoch)
	}
}

// buildMarkerBatch encodes a control batch holding one end-transaction
// marker of producer pid at epoch.
func buildMarkerBatch(pid int64, epoch int16, commit bool, coordinatorEpoch int32, ts int64) []byte {
	b := buildBatch([]kvRecord{{key: txn.MarkerKey(commit), value: txn.MarkerValue(coordinatorEpoch)}}, ts)
	binary.BigEndian.PutUint16(b[21:], attrTransactional|attrControl)
	binary.BigEndian.PutUint64(b[43:], uint64(pid))
	binary.BigEndian.PutUint16(b[51:], uint16(epoch))
	binary.BigEndian.PutUint32(b[17:], crc32.Checksum(b[21:], crc32c))
	return b
}

// writeMarker appends a commit or abort marker of producer pid at epoch
// and waits (within ctx) until the ISR has it, as Kafka's markers are
// written with acks=all. A marker with an epoch older than the producer's
// current one gets INVALID_PRODUCER_EPOCH (a fenced coordinator's).
func (p *partition) writeMarker(ctx context.Context, pid int64, epoch int16, commit bool, coordinatorEpoch int32) int16 {
	p.mu.Lock()
	if !p.rep.isLeader {
		p.mu.Unlock()
		return errNotLeader
	}
	ps := p.producers[pid]
	if ps != nil && epoch < ps.epoch {
		p.mu.Unlock()
		return errInvalidProducerEpoch
	}
	if ps != nil && coordinatorEpoch < ps.coordEpoch {
		// A coordinator that has since lost its partition.
		p.mu.Unlock()
		return errTxnCoordinatorFenced
	}
	batch := buildMarkerBatch(pid, epoch, commit, coordinatorEpoch, time.Now().UnixMilli())
	info, err := p.log.Append(batch, p.leaderEpoch)
	if err != nil {
		p.mu.Unlock()
		return kafkaCode(err)
	}
	if ps == nil || epoch > ps.epoch {
		// A marker at a bumped epoch (an abort after a timeout or a new
		// producer instance) fences the older epoch here too.
		p.producers[pid] = newProducerState(epoch)
	}
	p.producers[pid].coordEpoch = max(p.producers[pid].coordEpoch, coordinatorEpoch)
	h, _ := parseBatchHeader(batch)
	p.noteTxnBatchLocked(h, info.FirstOffset, batch)
	end, lepoch := p.log.LogEndOffset(), p.leaderEpoch
	p.maybeAdvanceHWLocked()
	p.mu.Unlock()
	return p.waitHW(ctx, end, lepoch, 1)
}

// persistAbortedLocked writes an aborted transaction to the log's
// transaction index (.txnindex), from which the list is restored when the
// partition is opened. A failed write leaves the entry in memory only; the
// reopen's scan of the log's tail finds the marker again if it is recent.
// p.mu held.
func (p *partition) persistAbortedLocked(e txn.AbortedTxn) {
	_ = p.log.AppendAbortedTxn(e) //nolint:errcheck // see above
}
