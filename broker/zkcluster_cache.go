package broker

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"reflect"
	"slices"
	"sort"
	"time"

	"github.com/osprey-kafka/osprey/broker/metastore"
	"github.com/osprey-kafka/osprey/broker/zkclient"
	"github.com/osprey-kafka/osprey/broker/zkdata"
)

// The zkCluster's cache of brokers, topics and configs: reloaded from the metastore when a watch
// fires, and read through ClusterView.

// reload reads brokers, controller, topics and configs (the partition
// states are those the controller's requests brought; the first load,
// notify false, also reads them once),
// swaps the cache and reports the topics that changed (when notify).
func (zc *zkCluster) reload(ctx context.Context, s metastore.Session, w *watcher, notify bool) error {
	ctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	zc.mu.Lock()
	zc.gen++
	startGen := zc.gen
	zc.mu.Unlock()
	var boot map[zkdata.TopicPartition]zkclient.VersionedState
	brokers, err := zc.readBrokers(ctx, s, w)
	if err != nil {
		return err
	}
	controllerID, err := readController(ctx, s, w)
	if err != nil {
		return err
	}
	// Config changes: the notification list is only a trigger; configs are
	// re-read with the topics below.
	if _, err := w.children(ctx, s, zkdata.ConfigChangesPath); err != nil {
		return err
	}
	if err := zc.applyBrokerConfigs(ctx, s); err != nil {
		return err
	}
	if err := zc.applyClientQuotas(ctx, s); err != nil {
		return err
	}
	if err := zc.reloadScram(ctx, s, !notify); err != nil {
		return err
	}
	topics, assignments, err := zc.readTopics(ctx, s, w)
	if err != nil {
		return err
	}

	if !notify {
		// The first load (see newZKClusterFactory).
		if boot, err = readPartitionStates(ctx, s, topics); err != nil {
			return err
		}
	}

	zc.mu.Lock()
	old := zc.topics
	if len(brokers) != len(zc.brokers) {
		zc.log.Info("live brokers", "count", len(brokers))
	}
	for tp, vs := range boot {
		// A request that got here first is at least as new.
		if _, ok := zc.states[tp]; !ok {
			zc.states[tp] = partState{Leader: vs.State.Leader, LeaderEpoch: vs.State.LeaderEpoch,
				ISR: vs.State.ISR, ZkVersion: vs.Version, TopicID: topics[tp.Topic].ID, gen: startGen}
		}
	}
	zc.pruneStatesLocked(topics, startGen)
	for _, t := range topics {
		zc.fillLocked(t)
	}
	zc.brokers, zc.controllerID, zc.topics, zc.assignments = brokers, controllerID, topics, assignments
	changed, deleted := diffTopics(old, topics)
	zc.signalLocked()
	zc.mu.Unlock()

	if notify {
		zc.publish(changed, deleted)
	}
	return nil
}

// readController reads the active controller's id (arming the watch on
// its node); -1 when there is none or its node cannot be decoded.
func readController(ctx context.Context, s metastore.Session, w *watcher) (int32, error) {
	data, err := w.get(ctx, s, zkdata.ControllerPath)
	if errors.Is(err, metastore.ErrNoNode) {
		return -1, nil
	}
	if err != nil {
		return -1, err
	}
	r, err := zkdata.DecodeController(data)
	if err != nil {
		return -1, nil
	}
	return r.BrokerID, nil
}

// readPartitionStates reads the state of every partition of topics in one
// batch.
func readPartitionStates(ctx context.Context, s metastore.Session, topics map[string]*TopicInfo) (map[zkdata.TopicPartition]zkclient.VersionedState, error) {
	var tps []zkdata.TopicPartition
	for name, t := range topics {
		for _, p := range t.Partitions {
			tps = append(tps, zkdata.TopicPartition{Topic: name, Partition: p.Partition})
		}
	}
	states, err := zkclient.NewClient(s).PartitionStates(ctx, tps)
	if err != nil {
		return nil, fmt.Errorf("reading partition states: %w", err)
	}
	return states, nil
}

// diffTopics names the topics that are new or different in topics, and
// copies those of old that are gone from it.
func diffTopics(old, topics map[string]*TopicInfo) (changed []string, deleted map[string]TopicInfo) {
	deleted = map[string]TopicInfo{}
	for name, t := range topics {
		if o, ok := old[name]; !ok || !reflect.DeepEqual(o, t) {
			changed = append(changed, name)
		}
	}
	for name, o := range old {
		if _, ok := topics[name]; !ok {
			deleted[name] = copyTopic(o)
		}
	}
	return changed, deleted
}

// readBrokers reads the registered brokers (arming the watch on their list). A registration that
// is gone or unreadable is left out.
func (zc *zkCluster) readBrokers(ctx context.Context, s metastore.Session, w *watcher) (map[int32]BrokerInfo, error) {
	ids, err := w.children(ctx, s, zkdata.BrokerIDsPath)
	if err != nil {
		return nil, err
	}
	brokers := map[int32]BrokerInfo{}
	for _, name := range ids {
		id, err := zkdata.ParseBrokerID(name)
		if err != nil {
			continue
		}
		data, _, err := s.Get(ctx, zkdata.BrokerPath(id))
		if errors.Is(err, metastore.ErrNoNode) {
			continue
		}
		if err != nil {
			return nil, err
		}
		reg, err := zkdata.DecodeBroker(id, data)
		if err != nil {
			zc.log.Warn("bad broker registration", "broker", id, "err", err)
			continue
		}
		brokers[id] = brokerFromZK(id, reg, interBrokerListenerOf(zc.b))
	}
	return brokers, nil
}

// readTopics reads every topic's assignment and configs (arming the watches on the topic list and
// on each topic). A topic whose znode is gone or unreadable is left out.
func (zc *zkCluster) readTopics(ctx context.Context, s metastore.Session, w *watcher) (map[string]*TopicInfo, map[string]zkdata.TopicAssignment, error) {
	names, err := w.children(ctx, s, zkdata.TopicsPath)
	if err != nil {
		return nil, nil, err
	}
	topics := map[string]*TopicInfo{}
	assignments := map[string]zkdata.TopicAssignment{}
	for _, name := range names {
		data, err := w.get(ctx, s, zkdata.TopicPath(name))
		if errors.Is(err, metastore.ErrNoNode) {
			continue
		}
		if err != nil {
			return nil, nil, err
		}
		a, err := zkdata.DecodeTopic(data)
		if err != nil {
			zc.log.Warn("bad topic assignment", "topic", name, "err", err)
			continue
		}
		cfgData, _, err := s.Get(ctx, zkdata.TopicConfigPath(name))
		configs := map[string]string{}
		if err == nil {
			if c, err := zkdata.DecodeConfig(cfgData); err == nil {
				configs = c
			}
		} else if !errors.Is(err, metastore.ErrNoNode) {
			return nil, nil, err
		}
		t := &TopicInfo{Name: name, ID: [16]byte(a.ID), Internal: isInternalTopic(name), Configs: configs}
		parts := slices.Sorted(maps.Keys(a.Partitions))
		// Leaders, epochs and ISRs are filled from the controller's
		// requests (fillLocked), not from the partition state znodes.
		for _, p := range parts {
			pi := PartitionInfo{Partition: p, Leader: -1, Replicas: slices.Clone(a.Partitions[p].Replicas), ISR: []int32{}}
			t.Partitions = append(t.Partitions, pi)
		}
		// Partitions are indexed by number in TopicInfo: a gap (never
		// written by Kafka) would break that, so such a topic is skipped.
		if len(parts) > 0 && parts[len(parts)-1] != int32(len(parts)-1) {
			zc.log.Warn("topic has non-contiguous partitions; ignored", "topic", name)
			continue
		}
		topics[name] = t
		assignments[name] = a
	}
	return topics, assignments, nil
}

// partState is one partition's leader and ISR with the znode version they
// were written at (Kafka's zkVersion / partition epoch).
type partState struct {
	Leader      int32
	LeaderEpoch int32
	ISR         []int32
	ZkVersion   int32
	TopicID     [16]byte // zero = unknown (requests of old versions)
	gen         uint64   // zc.gen when recorded
}

// sameTopic reports whether two topic ids may name the same topic
// incarnation (an unknown id matches anything).
func sameTopic(a, b [16]byte) bool { return a == b || a == [16]byte{} || b == [16]byte{} }

// pruneStatesLocked drops the states of topics or partitions a reload
// (started at startGen) did not see, or of another incarnation of the
// topic, unless a request recorded them after the reload started (the
// reload may have missed a topic or partition created meanwhile). zc.mu
// held.
func (zc *zkCluster) pruneStatesLocked(topics map[string]*TopicInfo, startGen uint64) {
	for tp, cur := range zc.states {
		if cur.gen >= startGen {
			continue // newer than what this reload read
		}
		if t, ok := topics[tp.Topic]; !ok || !sameTopic(cur.TopicID, t.ID) || int(tp.Partition) >= len(t.Partitions) {
			delete(zc.states, tp)
		}
	}
}

// fillLocked sets t's leaders, epochs and ISRs from zc.states. zc.mu held.
func (zc *zkCluster) fillLocked(t *TopicInfo) {
	for i := range t.Partitions {
		pi := &t.Partitions[i]
		st, ok := zc.states[zkdata.TopicPartition{Topic: t.Name, Partition: pi.Partition}]
		if !ok || !sameTopic(st.TopicID, t.ID) {
			pi.Leader, pi.LeaderEpoch, pi.ISR = -1, 0, []int32{}
			continue
		}
		pi.Leader, pi.LeaderEpoch, pi.ISR = st.Leader, st.LeaderEpoch, slices.Clone(st.ISR)
		if pi.ISR == nil {
			pi.ISR = []int32{}
		}
	}
}

// signalLocked wakes waitFor callers. zc.mu held.
func (zc *zkCluster) signalLocked() {
	close(zc.notify)
	zc.notify = make(chan struct{})
}

// publish hands the current view of the changed topics, and the deleted
// topics that are still gone, to the broker's replicas (changed). It is
// serialized so that an older view never overtakes a newer one.
func (zc *zkCluster) publish(changed []string, deleted map[string]TopicInfo) {
	if zc.changed == nil {
		return
	}
	zc.pubMu.Lock()
	defer zc.pubMu.Unlock()
	slices.Sort(changed)
	for _, name := range slices.Compact(changed) {
		if t, ok := zc.Topic(name); ok {
			zc.changed(t, false)
		}
	}
	for name, o := range deleted {
		if _, ok := zc.Topic(name); !ok {
			zc.changed(o, true)
		}
	}
}

// waitFor waits until cond holds on the cache or ctx ends.
func (zc *zkCluster) waitFor(ctx context.Context, cond func() bool) error {
	for {
		zc.mu.RLock()
		ok := cond()
		ch := zc.notify
		zc.mu.RUnlock()
		if ok {
			return nil
		}
		select {
		case <-ch:
		case <-ctx.Done():
			return ctx.Err()
		}
	}
}

// client returns a client on the current session.
func (zc *zkCluster) client(ctx context.Context) (*zkclient.Client, error) {
	s, err := zc.keeper.WaitSession(ctx)
	if err != nil {
		return nil, err
	}
	return zkclient.NewClient(s), nil
}

func (zc *zkCluster) ClusterID() string { return zc.clusterID }

func (zc *zkCluster) ControllerID() int32 {
	zc.mu.RLock()
	defer zc.mu.RUnlock()
	return zc.controllerID
}

func (zc *zkCluster) Brokers() []BrokerInfo {
	zc.mu.RLock()
	defer zc.mu.RUnlock()
	out := make([]BrokerInfo, 0, len(zc.brokers))
	for _, b := range zc.brokers {
		out = append(out, b)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].ID < out[j].ID })
	return out
}

// reassigning returns the in-progress reassignments (adding or removing
// replicas) from the topic znodes.
func (zc *zkCluster) reassigning() map[zkdata.TopicPartition]zkdata.PartitionAssignment {
	zc.mu.RLock()
	defer zc.mu.RUnlock()
	out := map[zkdata.TopicPartition]zkdata.PartitionAssignment{}
	for name, a := range zc.assignments {
		for p, pa := range a.Partitions {
			if len(pa.Adding) > 0 || len(pa.Removing) > 0 {
				out[zkdata.TopicPartition{Topic: name, Partition: p}] = pa
			}
		}
	}
	return out
}
