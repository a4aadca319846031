package broker

import (
	"time"

	"github.com/osprey-kafka/osprey/broker/cgroup"
)

// emptyLocked reports whether the group has no members, whichever its
// protocol. g.mu held.
func (g *group) emptyLocked() bool {
	if g.cg != nil {
		return len(g.cg.Members) == 0
	}
	return g.state == groupEmpty
}

// persistConsumer writes the records of what the consumer group's state
// machine changed since the last write, returning a Kafka error code. On a
// failed write the in-memory state stays (as for classic groups) and the
// records are lost until the next change rewrites them. g.mu held.
func (g *group) persistConsumer() int16 {
	keys, values := g.cg.Records(g.cg.TakeChanges())
	if len(keys) == 0 {
		return 0
	}
	recs := make([]kvRecord, len(keys))
	for i := range keys {
		recs[i] = kvRecord{key: keys[i], value: values[i]}
	}
	return g.gc.writeGroupRecords(g.name, recs)
}

// consumerTombstones deletes every record of the consumer group. g.mu held.
func (g *group) consumerTombstones() []kvRecord {
	var recs []kvRecord
	for _, k := range g.cg.Tombstones() {
		recs = append(recs, kvRecord{key: k})
	}
	return recs
}

// applyConsumer replays one consumer group record from __consumer_offsets
// (loadPartition); a ConsumerGroupMetadata tombstone deletes the group.
func (gc *groupCoordinator) applyConsumer(key, value []byte) {
	k, err := cgroup.ReadKey(key)
	if err != nil {
		gc.b.log.Warn("skipping unreadable consumer group record", "err", err)
		return
	}
	if k.Type == cgroup.RecordGroupMetadata && value == nil {
		gc.dropGroupMetadata(k.Group, true)
		return
	}
	g := gc.get(k.Group, true)
	g.mu.Lock()
	defer g.mu.Unlock()
	if g.cg == nil {
		if value == nil {
			return // a deletion for a group that is classic now
		}
		g.cg = cgroup.New(k.Group)
	}
	if err := g.cg.Replay(k, value); err != nil {
		gc.b.log.Warn("skipping unreadable consumer group record", "group", k.Group, "type", k.Type, "err", err)
	}
}

// restoredConsumer finishes a consumer group rebuilt by loadPartition.
// g.mu held.
func (g *group) restoredConsumer(now time.Time) {
	g.cg.Restored(now)
	g.state = groupEmpty
}

// dropGroupMetadata replays the deletion of a group's metadata (consumer:
// its ConsumerGroupMetadata record, else the classic GroupMetadata): the
// group keeps its committed offsets (the group changed protocol, or its
// offsets are deleted by their own records), and is removed once it has
// none.
func (gc *groupCoordinator) dropGroupMetadata(name string, consumer bool) {
	g := gc.get(name, false)
	if g == nil {
		return
	}
	g.mu.Lock()
	if consumer == (g.cg != nil) {
		g.cg = nil
		g.members = map[string]*member{}
		g.protocolType, g.protocol, g.leader, g.generation = "", "", "", 0
		g.state = groupEmpty
	}
	unused := g.cg == nil && len(g.offsets) == 0 && len(g.pendingTxn) == 0
	g.mu.Unlock()
	if unused {
		gc.remove(name)
	}
}
