package broker

import (
	"encoding/binary"
	"errors"
	"fmt"
	"math"
	"sync"

	"github.com/osprey-kafka/osprey/broker/storage"
)

// partition is this broker's replica of one topic partition: its log and
// the idempotent-producer state. Each partition has its own lock; there is
// no lock shared by all partitions on the produce or fetch path.
type partition struct {
	topic string
	index int32
	log   storage.Log // safe for concurrent use by itself

	// mu serialises produce on this partition (sequence check + append +
	// producer-state update must be atomic) and guards producers and epoch.
	mu          sync.Mutex
	producers   map[int64]*producerState
	leaderEpoch int32
	rep         replicaState  // leader/follower state (replica.go); guarded by mu
	txn         partitionTxns // open and aborted transactions (partition_txn.go); guarded by mu
}

// producerState is the idempotence state of one producer id on one
// partition. Guarded by partition.mu.
type producerState struct {
	epoch   int16
	lastSeq int32 // last sequence appended; -1 before the first batch
	// recent keeps the last few batches (Kafka keeps 5, matching
	// max.in.flight.requests.per.connection) to answer retried duplicates
	// with their original offsets.
	recent [5]seqEntry
	n      int
	lastTs int64 // max timestamp of the last batch recorded; -1 before one
	// coordEpoch is the coordinator epoch of the producer's last
	// transaction marker (-1 before one): a marker from an older
	// coordinator is fenced.
	coordEpoch int32
}

// newProducerState is the state of a producer first seen at epoch.
func newProducerState(epoch int16) *producerState {
	return &producerState{epoch: epoch, lastSeq: -1, lastTs: -1, coordEpoch: -1}
}

type seqEntry struct {
	firstSeq, lastSeq int32
	baseOffset        int64
}

// batchHeader holds the fields of a v2 record batch header the broker needs.
type batchHeader struct {
	length          int32
	magic           int8
	attributes      int16
	lastOffsetDelta int32
	firstTimestamp  int64
	maxTimestamp    int64
	producerID      int64
	producerEpoch   int16
	baseSequence    int32
	records         int32
}

const batchHeaderLen = 61

var errBadBatch = errors.New("malformed record batch")

// parseBatchHeader reads the header of the first batch in b.
func parseBatchHeader(b []byte) (batchHeader, error) {
	var h batchHeader
	if len(b) < batchHeaderLen {
		return h, fmt.Errorf("%w: %d bytes", errBadBatch, len(b))
	}
	h.length = int32(binary.BigEndian.Uint32(b[8:]))
	h.magic = int8(b[16])
	h.attributes = int16(binary.BigEndian.Uint16(b[21:]))
	h.lastOffsetDelta = int32(binary.BigEndian.Uint32(b[23:]))
	h.firstTimestamp = int64(binary.BigEndian.Uint64(b[27:]))
	h.maxTimestamp = int64(binary.BigEndian.Uint64(b[35:]))
	h.producerID = int64(binary.BigEndian.Uint64(b[43:]))
	h.producerEpoch = int16(binary.BigEndian.Uint16(b[51:]))
	h.baseSequence = int32(binary.BigEndian.Uint32(b[53:]))
	h.records = int32(binary.BigEndian.Uint32(b[57:]))
	return h, nil
}

// isTransactional reports the transactional attribute bit.
func (h batchHeader) isTransactional() bool { return h.attributes&0x10 != 0 }

// produceResult is the outcome of appending to a partition.
type produceResult struct {
	code           int16
	baseOffset     int64
	logAppendTime  int64
	logStartOffset int64
	records        int64
	bytes          int
	lastOffset     int64 // last offset appended (acks=all waits for the HW to pass it)
	epoch          int32 // leader epoch of the append
	// duplicate: a retry of a batch already in the log, answered with its
	// original offsets (baseOffset..lastOffset); nothing was appended.
	duplicate bool
}

// produce appends batches (as received) to the partition after the
// idempotence checks. Called without any lock held.
func (p *partition) produce(batches []byte) produceResult {
	h, err := parseBatchHeader(batches)
	if err != nil {
		return produceResult{code: errCorruptMessage}
	}
	if h.magic != 2 {
		return produceResult{code: storage.KafkaErrorCode(storage.ErrUnsupportedForMessageFormat)}
	}
	if h.isControl() {
		// Markers are written by the transaction coordinator only.
		return produceResult{code: errInvalidRecord}
	}
	if h.isTransactional() && h.producerID < 0 {
		return produceResult{code: errInvalidRecord}
	}
	idempotent := h.producerID >= 0

	p.mu.Lock()
	defer p.mu.Unlock()
	if !p.rep.isLeader {
		// The view said leader but the replica has just become a follower:
		// its log is written by replication only.
		return produceResult{code: errNotLeader}
	}
	var ps *producerState
	if idempotent {
		ps = p.producers[h.producerID]
		lastSeq := h.baseSequence + h.lastOffsetDelta
		switch {
		case ps == nil:
			// Unknown producer (new, or last seen before the scanned tail
			// of the log): the first batch we see starts its sequence.
			ps = newProducerState(h.producerEpoch)
		case h.producerEpoch < ps.epoch:
			return produceResult{code: errInvalidProducerEpoch}
		case h.producerEpoch > ps.epoch:
			if h.baseSequence != 0 {
				return produceResult{code: errOutOfOrderSeq}
			}
			ps = newProducerState(h.producerEpoch)
		default:
			for i := 0; i < ps.n; i++ {
				e := ps.recent[i]
				if e.firstSeq == h.baseSequence && e.lastSeq == lastSeq {
					// A retry of a batch already written: answer with the
					// offsets it got the first time, append nothing. Under
					// acks=all the answer still waits for the high
					// watermark to pass the batch (as Kafka's duplicate
					// does): the first write may not be replicated yet.
					return produceResult{baseOffset: e.baseOffset, logAppendTime: -1, logStartOffset: p.log.LogStartOffset(),
						lastOffset: e.baseOffset + int64(h.lastOffsetDelta), epoch: p.leaderEpoch, duplicate: true}
				}
			}
			if h.baseSequence != nextSeq(ps.lastSeq) {
				return produceResult{code: errOutOfOrderSeq}
			}
		}
	}
	info, err := p.log.Append(batches, p.leaderEpoch)
	if err != nil {
		return produceResult{code: storage.KafkaErrorCode(err)}
	}
	if info.Rolled {
		// The state is still that of every batch below this append.
		_ = p.takeSnapshotLocked(info.FirstOffset) //nolint:errcheck // see takeSnapshotLocked
	}
	// Committed once the ISR has it: at once when the ISR is this broker
	// alone, else when the followers' fetches move the high watermark.
	p.maybeAdvanceHWLocked()
	if idempotent {
		ps.record(h.baseSequence, h.baseSequence+h.lastOffsetDelta, info.FirstOffset)
		ps.lastTs = h.maxTimestamp
		p.producers[h.producerID] = ps
	}
	p.noteTxnBatchLocked(h, info.FirstOffset, batches)
	return produceResult{baseOffset: info.FirstOffset, logAppendTime: info.LogAppendTime,
		logStartOffset: info.LogStartOffset, records: info.RecordCount, bytes: info.Bytes,
		lastOffset: info.LastOffset, epoch: p.leaderEpoch}
}

// nextSeq is the sequence after s; sequences wrap at MaxInt32 to 0.
func nextSeq(s int32) int32 {
	if s == 1<<31-1 {
		return 0
	}
	return s + 1
}

// epoch returns the partition's leader epoch.
func (p *partition) epoch() int32 {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.leaderEpoch
}

// kafkaCode maps storage errors to Kafka error codes.
func kafkaCode(err error) int16 { return storage.KafkaErrorCode(err) }

// Producer-state rebuild bounds: the tail of the log scanned at open.
const (
	producerScanRecords = 100_000
	producerScanBytes   = 64 << 20
)

// rebuildProducers restores the idempotence and transaction state (the
// batches' producer id, epoch and sequences, open transactions), so that a
// producer retrying across a broker restart gets its duplicates recognised
// and an open transaction still holds the last stable offset: from the
// latest producer-state snapshot and the log after it (producer_snapshot.go),
// or without one from a bounded tail of the log. Called before the
// partition is visible to handlers, or with p.mu held.
//
// fromSnapshot is false when a follower becomes leader: a snapshot keeps
// only each producer's last batch, so a producer retrying one of its
// earlier in-flight batches would not be recognised and would be told
// OUT_OF_ORDER_SEQUENCE (clients then bump the epoch and resend, writing the
// batch twice). The tail scan restores the recent batches; the transaction
// state the follower kept is left as it is.
func (p *partition) rebuildProducers(fromSnapshot bool) error {
	end := p.log.LogEndOffset()
	off := max(p.log.LogStartOffset(), end-producerScanRecords)
	budget := producerScanBytes
	if fromSnapshot {
		if snap, ok := p.loadSnapshotLocked(); ok {
			off, budget = snap, math.MaxInt
		}
	}
	for off < end && budget > 0 {
		rr, err := p.log.Read(off, 1<<20, end, true)
		if err != nil {
			return err
		}
		buf, err := rr.AppendTo(nil)
		rr.Close()
		if err != nil {
			return err
		}
		if len(buf) == 0 {
			break
		}
		budget -= len(buf)
		for len(buf) >= batchHeaderLen {
			h, _ := parseBatchHeader(buf)
			size := int(h.length) + 12
			if size < batchHeaderLen || size > len(buf) {
				return fmt.Errorf("%w at offset %d", errBadBatch, off)
			}
			base := int64(binary.BigEndian.Uint64(buf))
			p.applyBatchLocked(h, base, buf[:size])
			off = base + int64(h.lastOffsetDelta) + 1
			buf = buf[size:]
		}
	}
	return nil
}

// record notes an appended batch in the producer's recent-batch ring.
func (ps *producerState) record(firstSeq, lastSeq int32, baseOffset int64) {
	ps.lastSeq = lastSeq
	e := seqEntry{firstSeq: firstSeq, lastSeq: lastSeq, baseOffset: baseOffset}
	if ps.n < len(ps.recent) {
		ps.recent[ps.n] = e
		ps.n++
		return
	}
	copy(ps.recent[:], ps.recent[1:])
	ps.recent[len(ps.recent)-1] = e
}

// eachBatch reads p's log from its start to its end one stored batch at a
// time, for the coordinators that rebuild their state from an internal
// topic, and calls fn with each batch's header, base offset and bytes.
func (p *partition) eachBatch(fn func(h batchHeader, base int64, batch []byte) error) error {
	off, end := p.log.LogStartOffset(), p.log.LogEndOffset()
	for off < end {
		rr, err := p.log.Read(off, 1<<20, end, true)
		if err != nil {
			return fmt.Errorf("reading %s-%d at %d: %w", p.topic, p.index, off, err)
		}
		buf, err := rr.AppendTo(nil)
		rr.Close()
		if err != nil {
			return fmt.Errorf("reading %s-%d at %d: %w", p.topic, p.index, off, err)
		}
		if len(buf) == 0 {
			return nil
		}
		for len(buf) >= batchHeaderLen {
			h, _ := parseBatchHeader(buf)
			size := int(h.length) + 12
			if size < batchHeaderLen || size > len(buf) {
				return fmt.Errorf("%w in %s-%d at offset %d", errBadBatch, p.topic, p.index, off)
			}
			base := int64(binary.BigEndian.Uint64(buf))
			if err := fn(h, base, buf[:size]); err != nil {
				return err
			}
			off = base + int64(h.lastOffsetDelta) + 1
			buf = buf[size:]
		}
	}
	return nil
}
