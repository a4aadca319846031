package broker

import (
	"context"
	"encoding/binary"
	"slices"
	"time"
)

// reloadGroupPartition replaces the groups that live in __consumer_offsets
// partition idx with what the partition's log holds. A broker calls it when
// it becomes that partition's leader (the group coordinator moves with the
// leadership, as in Kafka): its in-memory state may be stale, the
// replicated log is not.
func (gc *groupCoordinator) reloadGroupPartition(idx int32) {
	n := gc.partitions()
	for _, g := range gc.list() {
		if groupPartition(g.name, n) == idx {
			gc.remove(g.name)
		}
	}
	p := gc.b.data.get(offsetsTopic, idx)
	if p == nil {
		return
	}
	off, end := p.log.LogStartOffset(), p.log.LogEndOffset()
	records := 0
	for off < end {
		rr, err := p.log.Read(off, 1<<20, end, true)
		if err != nil {
			gc.b.log.Error("reloading consumer groups", "partition", idx, "offset", off, "err", err)
			return
		}
		buf, err := rr.AppendTo(nil)
		rr.Close()
		if err != nil || len(buf) == 0 {
			break
		}
		for len(buf) >= batchHeaderLen {
			h, _ := parseBatchHeader(buf)
			size := int(h.length) + 12
			if size > len(buf) || size < batchHeaderLen {
				gc.b.log.Error("reloading consumer groups: bad batch", "partition", idx, "offset", off)
				return
			}
			base := int64(binary.BigEndian.Uint64(buf))
			_ = decodeBatchRecords(buf[:size], func(k, v []byte) {
				records++
				gc.apply(k, v)
			})
			off = base + int64(h.lastOffsetDelta) + 1
			buf = buf[size:]
		}
	}
	now := time.Now()
	for _, g := range gc.list() {
		if groupPartition(g.name, n) != idx {
			continue
		}
		g.mu.Lock()
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
	gc.b.log.Info("took over consumer groups", "partition", idx, "records", records)
}

// deleteUnhostedLogs removes logs on disk of partitions of known topics
// that this broker is not a replica of any more (moved away while it was
// down), as Kafka's StopReplica with delete would have.
func (b *Broker) deleteUnhostedLogs() {
	self := b.cfg.BrokerID
	for _, m := range b.store.mgrs {
		for _, pl := range m.Logs() {
			t, ok := b.cluster.Topic(pl.Topic)
			if !ok || b.data.get(pl.Topic, pl.Partition) != nil {
				continue
			}
			if int(pl.Partition) < len(t.Partitions) && slices.Contains(t.Partitions[pl.Partition].Replicas, self) {
				continue // hosted but failed to open: keep the data
			}
			b.log.Info("deleting log of a replica moved away", "topic", pl.Topic, "partition", pl.Partition)
			if err := b.store.Delete(pl.Topic, pl.Partition); err != nil {
				b.log.Error("deleting unhosted log", "topic", pl.Topic, "partition", pl.Partition, "err", err)
			}
		}
	}
}

// appendInternalReplicated appends a batch the group coordinator built and
// waits (bounded) until the ISR has it, as Kafka's coordinator writes with
// acks=all: an acknowledged commit survives the coordinator's failover.
func (p *partition) appendInternalReplicated(ctx context.Context, batch []byte) int16 {
	p.mu.Lock()
	if !p.rep.isLeader {
		// A follower replica's log is written by replication only (the
		// coordinator's expiry loop also sees groups of partitions led
		// elsewhere).
		p.mu.Unlock()
		return errNotCoordinator
	}
	if _, err := p.log.Append(batch, p.leaderEpoch); err != nil {
		p.mu.Unlock()
		return kafkaCode(err)
	}
	end, epoch := p.log.LogEndOffset(), p.leaderEpoch
	p.maybeAdvanceHWLocked()
	p.mu.Unlock()
	switch code := p.waitHW(ctx, end, epoch, 1); code {
	case errNotLeader:
		return errNotCoordinator
	case errRequestTimedOut:
		return errCoordinatorNotAvail
	default:
		return code
	}
}
