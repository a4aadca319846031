package broker

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"time"
)

// The coordinator owns the groups of the __consumer_offsets partitions this
// broker leads, and only those, as Kafka's GroupCoordinator does: a broker
// that becomes a partition's leader loads its groups from the replicated log
// (onElection), one that stops leading it unloads them (onResignation), so
// that a group has one coordinator and is listed by one broker.
//
// Leadership changes arrive from the cluster view (replication.follow) in
// whatever goroutine applies it; partitionChanged only records them, and the
// coordinator's loop (expireLoop) loads or unloads, one partition at a time.

// partitionChanged records that this broker's leadership of offsets
// partition idx changed (it became or stopped being the leader, or its
// replica went away). The partition's groups are not served until the loop
// has reconciled it. Never blocks.
func (gc *groupCoordinator) partitionChanged(idx int32) {
	gc.pmu.Lock()
	gc.loaded[idx] = false
	gc.changes[idx]++
	gc.dirty[idx] = struct{}{}
	gc.pmu.Unlock()
	select {
	case gc.wake <- struct{}{}:
	default:
	}
}

// reconcileDirty loads or unloads every partition changed since the last
// call. Run by the coordinator's loop only (and by load before it starts).
func (gc *groupCoordinator) reconcileDirty() error {
	gc.pmu.Lock()
	dirty := make([]int32, 0, len(gc.dirty))
	for idx := range gc.dirty {
		dirty = append(dirty, idx)
	}
	clear(gc.dirty)
	gc.pmu.Unlock()
	slices.Sort(dirty)
	var errs []error
	for _, idx := range dirty {
		if err := gc.reconcile(idx); err != nil {
			errs = append(errs, err)
		}
	}
	return errors.Join(errs...)
}

// reconcile makes the coordinator own partition idx's groups exactly when
// this broker leads it: a led partition not loaded yet is read from its log,
// one led elsewhere (or not hosted) has its groups unloaded.
func (gc *groupCoordinator) reconcile(idx int32) error {
	gc.pmu.Lock()
	change, loaded := gc.changes[idx], gc.loaded[idx]
	gc.pmu.Unlock()
	if !gc.b.leadsLocally(offsetsTopic, idx) {
		if n := gc.unloadPartition(idx); n > 0 {
			gc.b.log.Info("unloaded consumer groups of a partition led elsewhere", "partition", idx, "groups", n)
		}
		return nil
	}
	if loaded {
		return nil
	}
	gc.unloadPartition(idx) // whatever an earlier leadership left behind
	start := time.Now()
	records, err := gc.loadPartition(idx)
	if err != nil {
		return fmt.Errorf("loading consumer groups of %s-%d: %w", offsetsTopic, idx, err)
	}
	gc.pmu.Lock()
	// A leadership change during the load leaves the partition dirty: the
	// next pass decides again.
	if gc.changes[idx] == change {
		gc.loaded[idx] = true
	}
	gc.pmu.Unlock()
	gc.b.log.Info("took over consumer groups", "partition", idx, "records", records, "took", time.Since(start))
	return nil
}

// isLoaded reports whether this broker coordinates the groups of offsets
// partition idx (it leads it and has read its log).
func (gc *groupCoordinator) isLoaded(idx int32) bool {
	gc.pmu.Lock()
	defer gc.pmu.Unlock()
	return gc.loaded[idx]
}

// loading reports whether some offsets partition this broker leads is not
// loaded yet (ListGroups then answers COORDINATOR_LOAD_IN_PROGRESS).
func (gc *groupCoordinator) loading() bool {
	for i := range gc.partitions() {
		if gc.b.leadsLocally(offsetsTopic, i) && !gc.isLoaded(i) {
			return true
		}
	}
	return false
}

// unloadPartition drops the groups of offsets partition idx from memory;
// their waiting JoinGroup and SyncGroup requests answer NOT_COORDINATOR so
// the members find the new coordinator. It returns how many were dropped.
func (gc *groupCoordinator) unloadPartition(idx int32) int {
	n := gc.partitions()
	gc.mu.Lock()
	var gone []*group
	for name, g := range gc.groups {
		if groupPartition(name, n) == idx {
			gone = append(gone, g)
			delete(gc.groups, name)
		}
	}
	gc.b.metrics.groups.Set(float64(len(gc.groups)))
	gc.mu.Unlock()
	for _, g := range gone {
		g.unload()
	}
	return len(gone)
}

// unload ends a group this broker no longer coordinates, as Kafka's
// onGroupUnloaded: Dead, timers stopped, waiting members told
// NOT_COORDINATOR.
func (g *group) unload() {
	g.mu.Lock()
	defer g.mu.Unlock()
	g.stopped = true
	if g.rebalance != nil {
		g.rebalance.Stop()
	}
	for _, m := range g.members {
		if m.join != nil {
			g.replyJoinError(m, errNotCoordinator)
		}
		if m.sync != nil {
			g.replySyncError(m, errNotCoordinator)
		}
	}
	g.state = groupDead
}

// leadsLocally reports whether this broker's replica of topic-partition is
// its leader.
func (b *Broker) leadsLocally(topic string, idx int32) bool {
	p := b.data.get(topic, idx)
	if p == nil {
		return false
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.rep.isLeader
}

// deleteUnhostedLogs removes logs on disk of partitions of known topics
// that this broker is not a replica of any more (moved away while it was
// down), as Kafka's StopReplica with delete would have.
func (b *Broker) deleteUnhostedLogs() {
	self := b.cfg.BrokerID
	for _, m := range b.store.mgrs {
		for _, pl := range dataLogs(m) {
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
