package broker

import (
	"context"
	crand "crypto/rand"
	"errors"
	"fmt"
	"maps"
	"math/rand/v2"
	"slices"
	"time"

	"github.com/osprey-kafka/osprey/broker/metastore"
	"github.com/osprey-kafka/osprey/broker/zkclient"
	"github.com/osprey-kafka/osprey/broker/zkdata"
)

// The zkCluster's writes of topics (Cluster): create, delete, add partitions, set configs, and the
// leader's ISR changes.

// assignReplicas spreads partitions over brokers as Kafka's rack-unaware
// AdminUtils.assignReplicasToBrokers does: the first replica round-robin
// from a random start, the followers shifted by a random, growing step.
func assignReplicas(brokers []int32, partitions int32, rf int16, firstPartition int32) map[int32][]int32 {
	n := len(brokers)
	out := map[int32][]int32{}
	start := rand.IntN(n)
	shift := rand.IntN(n)
	for i := int32(0); i < partitions; i++ {
		p := firstPartition + i
		if i > 0 && int(i)%n == 0 {
			shift++
		}
		first := (int(i) + start) % n
		replicas := []int32{brokers[first]}
		for j := 0; j < int(rf)-1; j++ {
			replicas = append(replicas, brokers[(first+1+(shift+j)%(n-1))%n])
		}
		out[p] = replicas
	}
	return out
}

func (zc *zkCluster) liveIDs() []int32 {
	zc.mu.RLock()
	defer zc.mu.RUnlock()
	ids := slices.Collect(maps.Keys(zc.brokers))
	slices.Sort(ids)
	return ids
}

// registeredIDs reads the registered brokers from the store, as Kafka's
// AdminZkClient does for topic creation: the view (fed by the controller's
// UpdateMetadata) may lag a broker that just joined. The view is the
// fallback when the store does not answer.
func (zc *zkCluster) registeredIDs(ctx context.Context) []int32 {
	cl, err := zc.client(ctx)
	if err == nil {
		var ids []int32
		if ids, err = cl.BrokerIDs(ctx); err == nil && len(ids) > 0 {
			return ids
		}
	}
	return zc.liveIDs()
}

func (zc *zkCluster) CreateTopic(ctx context.Context, spec TopicSpec, validateOnly bool) (TopicInfo, error) {
	if !validTopicName(spec.Name) {
		return TopicInfo{}, ErrInvalidTopic
	}
	if spec.Partitions <= 0 {
		return TopicInfo{}, ErrInvalidPartitions
	}
	for k, v := range spec.Configs {
		if err := validateTopicConfig(k, v); err != nil {
			return TopicInfo{}, err
		}
	}
	live := zc.registeredIDs(ctx)
	if spec.Internal && spec.Name == offsetsTopic {
		// The broker caps the offsets topic's replication factor at the
		// brokers it sees at start; in a cluster that is often just itself.
		spec.ReplicationFactor = max(spec.ReplicationFactor, zc.b.cfg.OffsetsTopicReplicationFactor)
	}
	if spec.ReplicationFactor <= 0 || int(spec.ReplicationFactor) > len(live) {
		if spec.Internal && spec.Name == offsetsTopic && !validateOnly {
			// The first brokers of a cluster start one by one: create the
			// offsets topic in the background once enough have joined.
			zc.createOffsetsTopicLater(spec)
			return TopicInfo{}, ErrTopicExists
		}
		return TopicInfo{}, fmt.Errorf("%w: %d (%d brokers available)", ErrInvalidRF, spec.ReplicationFactor, len(live))
	}
	if _, ok := zc.Topic(spec.Name); ok {
		return TopicInfo{}, ErrTopicExists
	}
	if err := zc.collision(spec.Name); err != nil {
		return TopicInfo{}, err
	}
	a, info, err := newTopicAssignment(spec, live)
	if err != nil {
		return TopicInfo{}, err
	}
	if validateOnly {
		return info, nil
	}
	cl, err := zc.client(ctx)
	if err != nil {
		return TopicInfo{}, err
	}
	cfg := spec.Configs
	if cfg == nil {
		cfg = map[string]string{}
	}
	if err := cl.CreateTopic(ctx, spec.Name, a, cfg); err != nil {
		if errors.Is(err, zkclient.ErrTopicExists) {
			return TopicInfo{}, ErrTopicExists
		}
		return TopicInfo{}, err
	}
	if !zc.b.serving.Load() {
		// Creating the offsets topic while starting: the controller's
		// requests that make it visible are not served yet.
		return info, nil
	}
	if out, ok := zc.waitTopicLed(ctx, spec.Name, spec.Partitions); ok {
		return out, nil
	}
	// Created; the controller will finish it.
	return info, nil
}

// newTopicAssignment draws a new topic id and spreads the partitions'
// replicas over live; it returns the assignment to store and the topic as
// it will look once every partition has its first replica as leader.
func newTopicAssignment(spec TopicSpec, live []int32) (zkdata.TopicAssignment, TopicInfo, error) {
	a := zkdata.TopicAssignment{Partitions: map[int32]zkdata.PartitionAssignment{}}
	if _, err := cryptoRead(a.ID[:]); err != nil {
		return zkdata.TopicAssignment{}, TopicInfo{}, err
	}
	for p, r := range assignReplicas(live, spec.Partitions, spec.ReplicationFactor, 0) {
		a.Partitions[p] = zkdata.PartitionAssignment{Replicas: r}
	}
	info := TopicInfo{Name: spec.Name, ID: [16]byte(a.ID), Internal: spec.Internal, Configs: maps.Clone(spec.Configs)}
	for p := int32(0); p < spec.Partitions; p++ {
		r := a.Partitions[p].Replicas
		info.Partitions = append(info.Partitions, PartitionInfo{Partition: p, Leader: r[0], Replicas: r, ISR: slices.Clone(r)})
	}
	return a, info, nil
}

// waitTopicLed waits until the cache has the topic with all its partitions
// and a leader for each (the controller wrote every partition's state), and
// returns a copy of it; false if ctx ends first.
func (zc *zkCluster) waitTopicLed(ctx context.Context, name string, partitions int32) (TopicInfo, bool) {
	var out TopicInfo
	err := zc.waitFor(ctx, func() bool {
		t, ok := zc.topics[name]
		if !ok || len(t.Partitions) != int(partitions) {
			return false
		}
		for _, p := range t.Partitions {
			if p.Leader < 0 {
				return false
			}
		}
		out = copyTopic(t)
		return true
	})
	return out, err == nil
}

// createOffsetsTopicLater creates the offsets topic once the replication
// factor asked for is available (or, after a minute, with what there is).
func (zc *zkCluster) createOffsetsTopicLater(spec TopicSpec) {
	zc.wg.Add(1)
	go func() {
		defer zc.wg.Done()
		deadline := time.Now().Add(time.Minute)
		for {
			if _, ok := zc.Topic(spec.Name); ok {
				return
			}
			n := len(zc.liveIDs())
			if n >= int(spec.ReplicationFactor) || (time.Now().After(deadline) && n > 0) {
				s := spec
				s.ReplicationFactor = int16(min(n, int(spec.ReplicationFactor)))
				ctx, cancel := context.WithTimeout(zc.ctx, 30*time.Second)
				_, err := zc.CreateTopic(ctx, s, false)
				cancel()
				if err == nil || errors.Is(err, ErrTopicExists) {
					return
				}
				zc.log.Warn("creating offsets topic", "err", err)
			}
			if !sleepCtx(zc.ctx, 500*time.Millisecond) {
				return
			}
		}
	}()
}

func (zc *zkCluster) DeleteTopic(ctx context.Context, name string) error {
	if _, ok := zc.Topic(name); !ok {
		return ErrUnknownTopic
	}
	cl, err := zc.client(ctx)
	if err != nil {
		return err
	}
	if err := cl.RequestTopicDeletion(ctx, name); err != nil {
		return err
	}
	err = zc.waitFor(ctx, func() bool { _, ok := zc.topics[name]; return !ok })
	if err != nil {
		return nil // requested; the controller completes it
	}
	return nil
}

func (zc *zkCluster) CreatePartitions(ctx context.Context, name string, count int32, validateOnly bool) error {
	t, ok := zc.Topic(name)
	if !ok {
		return ErrUnknownTopic
	}
	if count <= int32(len(t.Partitions)) {
		return fmt.Errorf("%w: topic has %d partitions, asked for %d", ErrInvalidPartitions, len(t.Partitions), count)
	}
	rf := len(t.Partitions[0].Replicas)
	live := zc.registeredIDs(ctx)
	if rf > len(live) {
		return fmt.Errorf("%w: %d (%d brokers available)", ErrInvalidRF, rf, len(live))
	}
	if validateOnly {
		return nil
	}
	cl, err := zc.client(ctx)
	if err != nil {
		return err
	}
	a, st, err := cl.Topic(ctx, name)
	if err != nil {
		return fmt.Errorf("reading topic %s: %w", name, err)
	}
	have := int32(len(a.Partitions))
	if count <= have {
		return fmt.Errorf("%w: topic has %d partitions, asked for %d", ErrInvalidPartitions, have, count)
	}
	for p, r := range assignReplicas(live, count-have, int16(rf), have) {
		a.Partitions[p] = zkdata.PartitionAssignment{Replicas: r}
	}
	if _, err := cl.SetTopicAssignment(ctx, name, a, st.Version, metastore.AnyVersion); err != nil {
		return err
	}
	_ = zc.waitFor(ctx, func() bool {
		t, ok := zc.topics[name]
		return ok && len(t.Partitions) >= int(count) && t.Partitions[count-1].Leader >= 0
	})
	return nil
}

func (zc *zkCluster) SetTopicConfigs(ctx context.Context, name string, configs map[string]*string, replace, validateOnly bool) error {
	if err := validateConfigChanges(configs); err != nil {
		return err
	}
	// Like Kafka's AdminZkClient, ask the store whether the topic exists, not this broker's view: a
	// topic created a moment ago reaches the view with the controller's next requests.
	cl, err := zc.client(ctx)
	if err != nil {
		return err
	}
	if _, _, err := cl.Topic(ctx, name); errors.Is(err, metastore.ErrNoNode) {
		return ErrUnknownTopic
	} else if err != nil {
		return err
	}
	if validateOnly {
		return nil
	}
	cur, err := cl.TopicConfig(ctx, name)
	if err != nil {
		return err
	}
	next := applyConfigChanges(cur, configs, replace)
	if _, err := cl.SetTopicConfig(ctx, name, next); err != nil {
		return err
	}
	_ = zc.waitFor(ctx, func() bool {
		t, ok := zc.topics[name]
		return !ok || maps.Equal(t.Configs, next)
	})
	return nil
}

// alterISR is the leader's ISR change (Kafka 2.x: the leader writes the
// partition state itself, conditional on the znode version, and leaves an
// ISR change notification for the controller). It fails if the partition
// has another leader or leader epoch than the caller's.
func (zc *zkCluster) alterISR(ctx context.Context, topic string, partition, leaderEpoch int32, isr []int32) error {
	cl, err := zc.client(ctx)
	if err != nil {
		return err
	}
	tp := zkdata.TopicPartition{Topic: topic, Partition: partition}
	for attempt := 0; attempt < 3; attempt++ {
		st, stat, err := cl.PartitionState(ctx, tp)
		if err != nil {
			return err
		}
		if st.Leader != zc.self.ID || st.LeaderEpoch != leaderEpoch {
			return fmt.Errorf("%w: %s has leader %d epoch %d", errStaleLeader, tp, st.Leader, st.LeaderEpoch)
		}
		if slices.Equal(st.ISR, isr) {
			return nil
		}
		st.ISR = isr
		_, err = cl.UpdatePartitionState(ctx, tp, st, stat.Version, metastore.AnyVersion)
		if errors.Is(err, metastore.ErrBadVersion) {
			continue
		}
		if err != nil {
			return err
		}
		if _, err := cl.NotifyIsrChange(ctx, []zkdata.TopicPartition{tp}); err != nil {
			zc.log.Warn("ISR change notification", "partition", tp.String(), "err", err)
		}
		return nil
	}
	return fmt.Errorf("updating ISR of %s: %w", tp, metastore.ErrBadVersion)
}

var errStaleLeader = errors.New("no longer the leader")

var cryptoRead = crand.Read
