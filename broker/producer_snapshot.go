package broker

import (
	"encoding/binary"

	"github.com/osprey-kafka/osprey/broker/storage"
	"github.com/osprey-kafka/osprey/broker/txn"
)

// Producer-state snapshots, as Kafka's ProducerStateManager takes them: when an append starts a new
// segment (leader and follower alike) and when the broker shuts down cleanly, the partition writes
// its producers (epoch, last batch's sequences and offsets, timestamp, coordinator epoch, open
// transaction's first offset) to <offset>.snapshot in Kafka's format (broker/txn). At open, and
// when this broker becomes the leader, the latest snapshot is loaded and only the log from its
// offset on is scanned, so a transaction opened far back in the log is still known after a restart.
// Without a snapshot (a log written before snapshots, or a memory log) the tail of the log is
// scanned instead (producerScanRecords / producerScanBytes).

// snapshotEntriesLocked lists the partition's producers for a snapshot. p.mu held (or the
// partition not yet visible).
func (p *partition) snapshotEntriesLocked() []txn.ProducerEntry {
	out := make([]txn.ProducerEntry, 0, len(p.producers))
	for pid, ps := range p.producers {
		e := txn.ProducerEntry{ProducerID: pid, Epoch: ps.epoch, LastSequence: ps.lastSeq, LastOffset: -1,
			Timestamp: ps.lastTs, CoordinatorEpoch: ps.coordEpoch, CurrentTxnFirstOffset: -1}
		if ps.n > 0 {
			last := ps.recent[ps.n-1]
			e.OffsetDelta = seqDelta(last.firstSeq, last.lastSeq)
			e.LastOffset = last.baseOffset + int64(e.OffsetDelta)
		}
		if first, open := p.txn.ongoing[pid]; open {
			e.CurrentTxnFirstOffset = first
		}
		out = append(out, e)
	}
	// A producer whose open transaction is known but whose batches are not (it cannot happen when
	// both come from the same log, but the snapshot must not lose the transaction if it did).
	for pid, first := range p.txn.ongoing {
		if _, ok := p.producers[pid]; !ok {
			out = append(out, txn.ProducerEntry{ProducerID: pid, LastSequence: -1, LastOffset: -1, Timestamp: -1,
				CoordinatorEpoch: -1, CurrentTxnFirstOffset: first})
		}
	}
	return out
}

// seqDelta is last − first for batch sequences, which wrap at MaxInt32 to 0.
func seqDelta(first, last int32) int32 {
	if last >= first {
		return last - first
	}
	return int32(int64(last) + 1<<31 - int64(first))
}

// takeSnapshotLocked writes the producer state as the snapshot at offset (the state of every
// batch below it). A failed write loses nothing: the next open loads an older snapshot and scans
// from there. p.mu held.
func (p *partition) takeSnapshotLocked(offset int64) error {
	if p.topic == offsetsTopic {
		return nil
	}
	return p.log.WriteProducerSnapshot(offset, txn.EncodeSnapshot(p.snapshotEntriesLocked()))
}

// snapshotOnClose writes the producer state at the log end, for a clean shutdown.
func (p *partition) snapshotOnClose() error {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.log.LogEndOffset() <= p.log.LogStartOffset() {
		return nil
	}
	return p.takeSnapshotLocked(p.log.LogEndOffset())
}

// loadSnapshotLocked replaces the producer state by the latest snapshot's and returns its offset;
// ok is false when there is no usable snapshot (none, or corrupt: it is ignored, as Kafka does).
// p.mu held (or the partition not yet visible).
func (p *partition) loadSnapshotLocked() (offset int64, ok bool) {
	off, data, err := p.log.ProducerSnapshot()
	if err != nil || off < 0 {
		return 0, false
	}
	entries, err := txn.DecodeSnapshot(data)
	if err != nil {
		return 0, false
	}
	p.producers = make(map[int64]*producerState, len(entries))
	p.txn.ongoing = map[int64]int64{}
	for _, e := range entries {
		ps := newProducerState(e.Epoch)
		ps.lastSeq, ps.lastTs, ps.coordEpoch = e.LastSequence, e.Timestamp, e.CoordinatorEpoch
		if e.LastOffset >= 0 {
			first := int64(e.LastSequence) - int64(e.OffsetDelta)
			if first < 0 { // the batch's sequences wrapped
				first += 1 << 31
			}
			ps.recent[0] = seqEntry{firstSeq: int32(first), lastSeq: e.LastSequence, baseOffset: e.LastOffset - int64(e.OffsetDelta)}
			ps.n = 1
		}
		p.producers[e.ProducerID] = ps
		if e.CurrentTxnFirstOffset >= 0 {
			p.txn.ongoing[e.ProducerID] = e.CurrentTxnFirstOffset
		}
	}
	return off, true
}

// applyBatchLocked updates the producer and transaction state for one batch at base, as a
// replica that did not validate it (a follower's append, the scan at open). p.mu held (or the
// partition not yet visible).
func (p *partition) applyBatchLocked(h batchHeader, base int64, batch []byte) {
	p.noteTxnBatchLocked(h, base, batch)
	if h.producerID < 0 {
		return
	}
	if h.isControl() {
		p.noteMarkerLocked(h, batch)
		return
	}
	ps := p.producers[h.producerID]
	if ps == nil || h.producerEpoch > ps.epoch {
		ps = newProducerState(h.producerEpoch)
		p.producers[h.producerID] = ps
	}
	if h.producerEpoch == ps.epoch {
		ps.lastTs = h.maxTimestamp
		ps.record(h.baseSequence, h.baseSequence+h.lastOffsetDelta, base)
	}
}

// appendedAsFollowerLocked follows a follower's append of batches: a snapshot first when the
// append started a segment (the state is still that of everything below the append), then each
// batch's producer and transaction state. p.mu held.
func (p *partition) appendedAsFollowerLocked(batches []byte, info storage.AppendInfo) error {
	var err error
	if info.Rolled {
		err = p.takeSnapshotLocked(info.FirstOffset)
	}
	for buf := batches; len(buf) >= batchHeaderLen; {
		h, _ := parseBatchHeader(buf)
		size := int(h.length) + 12
		if size < batchHeaderLen || size > len(buf) {
			break
		}
		p.applyBatchLocked(h, int64(binary.BigEndian.Uint64(buf)), buf[:size])
		buf = buf[size:]
	}
	return err
}
