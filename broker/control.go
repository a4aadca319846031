package broker

import (
	"slices"

	"github.com/osprey-kafka/osprey/broker/zkdata"
)

// The broker side of the controller's requests (LeaderAndIsr, UpdateMetadata,
// StopReplica): fencing by controller and broker epoch, and applying the
// partition states they carry to the zkCluster's view. The handlers
// (04_leader_and_isr.go, 05_stop_replica.go, 06_update_metadata.go) decode
// and encode; this file decides.

// Leader values with a special meaning in UpdateMetadata and StopReplica.
const (
	leaderDuringDelete = -2 // UpdateMetadata: the partition is being deleted
	epochDuringDelete  = -2 // StopReplica v3: deletion, whatever the epoch
)

// ctlPartition is one partition's state in a LeaderAndIsr or UpdateMetadata
// request, flattened over the request versions.
type ctlPartition struct {
	Topic       string
	TopicID     [16]byte
	Partition   int32
	Leader      int32
	LeaderEpoch int32
	ISR         []int32
	ZkVersion   int32
	Replicas    []int32
}

// controlled is what the handlers of the controller's requests need: a
// cluster run by a controller (zkCluster). A single broker is its own
// controller and is sent none.
type controlled interface {
	applyLeaderAndIsr(ctrlEpoch int32, brokerEpoch int64, parts []ctlPartition) (int16, []int16)
	applyUpdateMetadata(ctrlID, ctrlEpoch int32, brokerEpoch int64, brokers []BrokerInfo, parts []ctlPartition) int16
	applyStopReplica(ctrlEpoch int32, brokerEpoch int64, parts []stopPartition) (int16, []int16)
}

// stopPartition is one partition of a StopReplica request.
type stopPartition struct {
	Topic       string
	Partition   int32
	LeaderEpoch int32 // -1 = none given (v0-2), -2 = deletion
	Delete      bool
}

// fenceLocked checks a request's controller and broker epochs (brokerEpoch
// -1: not in this version) and records the controller epoch. zc.ctlMu held.
func (zc *zkCluster) fenceLocked(ctrlEpoch int32, brokerEpoch int64) int16 {
	if ctrlEpoch < zc.ctrlEpoch {
		zc.log.Warn("request from a stale controller refused", "controller_epoch", ctrlEpoch, "newest_seen", zc.ctrlEpoch)
		return errStaleControllerEpoch
	}
	if brokerEpoch != -1 && brokerEpoch < zc.brokerEpoch.Load() {
		zc.log.Warn("request for an older registration of this broker refused", "broker_epoch", brokerEpoch,
			"current", zc.brokerEpoch.Load())
		return errStaleBrokerEpoch
	}
	zc.ctrlEpoch = ctrlEpoch
	return 0
}

// seenControllerEpoch is the newest controller epoch a request carried.
func (zc *zkCluster) seenControllerEpoch() int32 {
	zc.ctlMu.Lock()
	defer zc.ctlMu.Unlock()
	return zc.ctrlEpoch
}

// applyStatesLocked records the partition states that are not older than
// what the view has (older ones get STALE_CONTROLLER_EPOCH in codes, as
// Kafka's ReplicaManager answers a LeaderAndIsr with an old leader epoch)
// and updates the affected topics copy-on-write. With hosted, a state for a
// partition this broker is not a replica of gets UNKNOWN_TOPIC_OR_PARTITION
// (LeaderAndIsr). It returns the topics that changed and whether some topic
// is not in the view yet. zc.mu held.
func (zc *zkCluster) applyStatesLocked(parts []ctlPartition, hosted bool) (codes []int16, changed []string, unknown bool) {
	codes = make([]int16, len(parts))
	copies := map[string]*TopicInfo{}
	for i, p := range parts {
		tp := zkdata.TopicPartition{Topic: p.Topic, Partition: p.Partition}
		if hosted && !slices.Contains(p.Replicas, zc.self.ID) {
			codes[i] = errUnknownTopicOrPart
			continue
		}
		t := copies[p.Topic]
		if t == nil {
			if cur, ok := zc.topics[p.Topic]; ok && sameTopic(cur.ID, p.TopicID) {
				c := copyTopic(cur)
				t = &c
			}
		}
		id := p.TopicID
		if id == ([16]byte{}) && t != nil {
			id = t.ID
		}
		if cur, ok := zc.states[tp]; ok && sameTopic(cur.TopicID, id) {
			if p.LeaderEpoch < cur.LeaderEpoch || (p.LeaderEpoch == cur.LeaderEpoch && p.ZkVersion < cur.ZkVersion) {
				codes[i] = errStaleControllerEpoch
				continue
			}
		}
		zc.states[tp] = partState{Leader: p.Leader, LeaderEpoch: p.LeaderEpoch, ISR: slices.Clone(p.ISR),
			ZkVersion: p.ZkVersion, TopicID: id, gen: zc.gen}
		if t == nil || int(p.Partition) >= len(t.Partitions) {
			unknown = true // the topic or partition reaches the view with the next reload
			continue
		}
		if len(p.Replicas) > 0 {
			t.Partitions[p.Partition].Replicas = slices.Clone(p.Replicas)
		}
		copies[p.Topic] = t
	}
	for name, t := range copies {
		zc.fillLocked(t)
		if o := zc.topics[name]; !topicEqual(o, t) {
			zc.topics[name] = t
			changed = append(changed, name)
		}
	}
	return codes, changed, unknown
}

func topicEqual(a, b *TopicInfo) bool {
	if a == nil || b == nil || len(a.Partitions) != len(b.Partitions) {
		return a == b
	}
	for i := range a.Partitions {
		x, y := a.Partitions[i], b.Partitions[i]
		if x.Leader != y.Leader || x.LeaderEpoch != y.LeaderEpoch || !slices.Equal(x.ISR, y.ISR) || !slices.Equal(x.Replicas, y.Replicas) {
			return false
		}
	}
	return true
}

// applyLeaderAndIsr is LeaderAndIsr: the states not older than the view's
// are applied and the replicas this broker hosts become leaders or
// followers (through the changed callback, as after any view change).
func (zc *zkCluster) applyLeaderAndIsr(ctrlEpoch int32, brokerEpoch int64, parts []ctlPartition) (int16, []int16) {
	zc.ctlMu.Lock()
	defer zc.ctlMu.Unlock()
	if code := zc.fenceLocked(ctrlEpoch, brokerEpoch); code != 0 {
		return code, fill(len(parts), code)
	}
	zc.mu.Lock()
	codes, changed, unknown := zc.applyStatesLocked(parts, true)
	zc.signalLocked()
	zc.mu.Unlock()
	zc.publish(changed, nil)
	if unknown {
		zc.kickReload()
	}
	return 0, codes
}

// applyUpdateMetadata is UpdateMetadata: the controller and partition states
// for the view Metadata answers from (live brokers come from the watch). A partition whose
// leader is -2 is being deleted: a topic whose every partition is deleted
// leaves the view.
func (zc *zkCluster) applyUpdateMetadata(ctrlID, ctrlEpoch int32, brokerEpoch int64, _ []BrokerInfo, parts []ctlPartition) int16 {
	zc.ctlMu.Lock()
	defer zc.ctlMu.Unlock()
	if code := zc.fenceLocked(ctrlEpoch, brokerEpoch); code != 0 {
		return code
	}
	live := make([]ctlPartition, 0, len(parts))
	deleting := map[string]int{}
	for _, p := range parts {
		if p.Leader == leaderDuringDelete {
			deleting[p.Topic]++
			continue
		}
		live = append(live, p)
	}
	zc.mu.Lock()
	// The live brokers are not taken from here: this broker's own watch on the registrations (reload)
	// keeps them, and is never behind the store. An UpdateMetadata the controller built before a
	// broker registered can arrive after that reload, and would take the broker out of Metadata
	// answers until the next one (clients then cannot reach a broker that is up).
	zc.controllerID = ctrlID
	_, changed, unknown := zc.applyStatesLocked(live, false)
	deleted := map[string]TopicInfo{}
	for name, n := range deleting {
		if t, ok := zc.topics[name]; ok && n >= len(t.Partitions) {
			deleted[name] = copyTopic(t)
			delete(zc.topics, name)
			delete(zc.assignments, name)
			for tp := range zc.states {
				if tp.Topic == name {
					delete(zc.states, tp)
				}
			}
		}
	}
	zc.signalLocked()
	zc.mu.Unlock()
	zc.publish(changed, deleted)
	if unknown {
		zc.kickReload()
	}
	return 0
}

// applyStopReplica is StopReplica: the replicas stop fetching; with delete
// they leave the view (this broker no longer among their replicas) and
// their logs are deleted.
func (zc *zkCluster) applyStopReplica(ctrlEpoch int32, brokerEpoch int64, parts []stopPartition) (int16, []int16) {
	zc.ctlMu.Lock()
	defer zc.ctlMu.Unlock()
	if code := zc.fenceLocked(ctrlEpoch, brokerEpoch); code != 0 {
		return code, fill(len(parts), code)
	}
	codes := make([]int16, len(parts))
	var changed []string
	var stopOnly, drop []stopPartition
	zc.mu.Lock()
	for i, p := range parts {
		tp := zkdata.TopicPartition{Topic: p.Topic, Partition: p.Partition}
		if cur, ok := zc.states[tp]; ok && p.LeaderEpoch >= 0 && p.LeaderEpoch < cur.LeaderEpoch {
			codes[i] = errFencedLeaderEpoch
			continue
		}
		if !p.Delete {
			stopOnly = append(stopOnly, p)
			continue
		}
		// The partition state stays: the partition lives on elsewhere
		// (a topic being deleted leaves through UpdateMetadata).
		drop = append(drop, p)
		t, ok := zc.topics[p.Topic]
		if !ok || int(p.Partition) >= len(t.Partitions) || !slices.Contains(t.Partitions[p.Partition].Replicas, zc.self.ID) {
			continue
		}
		c := copyTopic(t)
		pi := &c.Partitions[p.Partition]
		pi.Replicas = filter(pi.Replicas, func(r int32) bool { return r != zc.self.ID })
		pi.ISR = filter(pi.ISR, func(r int32) bool { return r != zc.self.ID })
		zc.topics[p.Topic] = &c
		changed = append(changed, p.Topic)
	}
	zc.signalLocked()
	zc.mu.Unlock()
	for _, p := range stopOnly {
		if part := zc.b.data.get(p.Topic, p.Partition); part != nil {
			zc.b.repl.forget(part)
		}
	}
	// The view no longer lists this broker: publishing it drops the
	// replicas and deletes their logs.
	zc.publish(changed, nil)
	for _, p := range drop {
		// Also a log the view did not know of (a topic deleted while
		// this broker was away).
		if zc.b.data.get(p.Topic, p.Partition) == nil {
			if err := zc.b.store.Delete(p.Topic, p.Partition); err != nil {
				zc.log.Error("deleting partition log", "topic", p.Topic, "partition", p.Partition, "err", err)
			}
		}
	}
	return 0, codes
}

func (zc *zkCluster) kickReload() {
	select {
	case zc.kick <- struct{}{}:
	default:
	}
}

func fill(n int, code int16) []int16 {
	out := make([]int16, n)
	for i := range out {
		out[i] = code
	}
	return out
}
