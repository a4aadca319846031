package broker

import (
	"context"
	"errors"
	"slices"

	"github.com/osprey-kafka/osprey/broker/metastore"
	"github.com/osprey-kafka/osprey/broker/zkclient"
	"github.com/osprey-kafka/osprey/broker/zkdata"
)

// The controller's partition reassignments (KIP-455 and /admin/reassign_partitions).

// AlterReassignments starts (replicas non-nil) or cancels (nil)
// reassignments; the result maps each partition to a Kafka error code.
func (c *controller) AlterReassignments(ctx context.Context, reqs map[zkdata.TopicPartition][]int32) (map[zkdata.TopicPartition]int16, error) {
	out := map[zkdata.TopicPartition]int16{}
	err := c.do(ctx, func(ctx context.Context) error {
		for tp, target := range reqs {
			code, err := c.startReassignment(ctx, tp, target)
			if errors.Is(err, zkclient.ErrControllerMoved) {
				return err
			}
			if err != nil {
				c.log.Warn("reassignment", "partition", tp.String(), "err", err)
			}
			out[tp] = code
		}
		return nil
	})
	return out, err
}

// startReassignment writes target replicas for tp into the topic znode:
// replicas = target ++ (original - target), adding = target - original,
// removing = original - target. With replicas nil it cancels: the adding
// replicas go and the original set is restored. It returns a Kafka error
// code.
func (c *controller) startReassignment(ctx context.Context, tp zkdata.TopicPartition, target []int32) (int16, error) {
	a, st, err := c.cl.Topic(ctx, tp.Topic)
	if errors.Is(err, metastore.ErrNoNode) {
		return errUnknownTopicOrPart, nil
	}
	if err != nil {
		return errUnknown, err
	}
	pa, ok := a.Partitions[tp.Partition]
	if !ok {
		return errUnknownTopicOrPart, nil
	}
	original := pa.Replicas
	if len(pa.Adding) > 0 || len(pa.Removing) > 0 {
		original = filter(pa.Replicas, func(r int32) bool { return !slices.Contains(pa.Adding, r) })
	}
	if target == nil { // cancel
		if len(pa.Adding) == 0 && len(pa.Removing) == 0 {
			return errNoReassignmentInProgress, nil
		}
		if err := c.finishReassignment(ctx, tp, a, st.Version, original); err != nil {
			return errUnknown, err
		}
		c.log.Info("reassignment cancelled", "partition", tp.String(), "replicas", original)
		return 0, nil
	}
	if len(target) == 0 || hasDuplicates(target) {
		return errInvalidReplicaAssignment, nil
	}
	for _, r := range target {
		if _, ok := c.zc.brokerKnown(r); !ok {
			return errInvalidReplicaAssignment, nil
		}
	}
	if slices.Equal(target, original) && len(pa.Adding) == 0 && len(pa.Removing) == 0 {
		return 0, nil
	}
	full := slices.Clone(target)
	for _, r := range original {
		if !slices.Contains(full, r) {
			full = append(full, r)
		}
	}
	a.Partitions[tp.Partition] = zkdata.PartitionAssignment{
		Replicas: full,
		Adding:   filter(target, func(r int32) bool { return !slices.Contains(original, r) }),
		Removing: filter(original, func(r int32) bool { return !slices.Contains(target, r) }),
	}
	if _, err := c.cl.SetTopicAssignment(ctx, tp.Topic, a, st.Version, c.ezv); err != nil {
		return errUnknown, err
	}
	c.log.Info("reassignment started", "partition", tp.String(), "target", target, "replicas", full)
	return 0, nil
}

func hasDuplicates(s []int32) bool {
	seen := map[int32]bool{}
	for _, v := range s {
		if seen[v] {
			return true
		}
		seen[v] = true
	}
	return false
}

// finishReassignment sets tp's replicas to final (no adding/removing):
// leadership moves into final first if needed, the ISR is cut to final.
// Brokers outside final see themselves removed and delete their replica.
func (c *controller) finishReassignment(ctx context.Context, tp zkdata.TopicPartition, a zkdata.TopicAssignment, version int32, final []int32) error {
	st, stat, err := c.cl.PartitionState(ctx, tp)
	if err != nil && !errors.Is(err, metastore.ErrNoNode) {
		return err
	}
	if err == nil {
		next := st
		next.ISR = filter(st.ISR, func(r int32) bool { return slices.Contains(final, r) })
		if !slices.Contains(final, st.Leader) {
			next.Leader = -1
			for _, r := range final {
				if slices.Contains(next.ISR, r) && c.zc.isLive(r) {
					next.Leader = r
					break
				}
			}
		}
		if len(next.ISR) == 0 {
			next.ISR = []int32{}
		}
		if next.Leader != st.Leader || !slices.Equal(next.ISR, st.ISR) {
			next.LeaderEpoch++
			if err := c.writeState(ctx, tp, next, stat.Version, nil); err != nil {
				return err
			}
		}
	}
	a.Partitions[tp.Partition] = zkdata.PartitionAssignment{Replicas: slices.Clone(final)}
	_, err = c.cl.SetTopicAssignment(ctx, tp.Topic, a, version, c.ezv)
	c.dirty = true
	return err
}

// reassignments completes in-progress reassignments whose target replicas
// are all in the ISR.
func (c *controller) reassignments(ctx context.Context, snap *ctrlSnapshot) error {
	for name, va := range snap.topics {
		for p, pa := range va.Assignment.Partitions {
			if len(pa.Adding) == 0 && len(pa.Removing) == 0 {
				continue
			}
			tp := zkdata.TopicPartition{Topic: name, Partition: p}
			target := filter(pa.Replicas, func(r int32) bool { return !slices.Contains(pa.Removing, r) })
			vs, ok := snap.states[tp]
			if !ok {
				continue
			}
			done := true
			for _, r := range target {
				if !slices.Contains(vs.State.ISR, r) {
					done = false
				}
			}
			if !done {
				continue
			}
			a, st, err := c.cl.Topic(ctx, name)
			if err != nil {
				return err
			}
			if err := c.finishReassignment(ctx, tp, a, st.Version, target); err != nil {
				if errors.Is(err, zkclient.ErrControllerMoved) {
					return err
				}
				c.log.Warn("completing reassignment", "partition", tp.String(), "err", err)
				continue
			}
			c.log.Info("reassignment completed", "partition", tp.String(), "replicas", target)
		}
	}
	return nil
}

// zkReassignments starts the reassignments of /admin/reassign_partitions
// (what CMAK and kafka-reassign-partitions.sh --zookeeper write) and
// removes the node once they are all complete.
func (c *controller) zkReassignments(ctx context.Context) error {
	data, err := c.w.get(ctx, c.s, zkdata.ReassignPartitionsPath)
	if errors.Is(err, metastore.ErrNoNode) {
		return nil
	}
	if err != nil {
		return err
	}
	rs, err := zkdata.DecodeReassignment(data)
	if err != nil {
		c.log.Warn("bad /admin/reassign_partitions; removed", "err", err)
		return c.cl.DeleteReassignment(ctx, c.ezv)
	}
	complete := true
	for _, r := range rs {
		tp := zkdata.TopicPartition{Topic: r.Topic, Partition: r.Partition}
		a, _, err := c.cl.Topic(ctx, r.Topic)
		if errors.Is(err, metastore.ErrNoNode) {
			continue
		}
		if err != nil {
			return err
		}
		pa, ok := a.Partitions[r.Partition]
		if !ok {
			continue
		}
		if slices.Equal(pa.Replicas, r.Replicas) && len(pa.Adding) == 0 && len(pa.Removing) == 0 {
			continue // done
		}
		complete = false
		if len(pa.Adding) > 0 || len(pa.Removing) > 0 {
			target := filter(pa.Replicas, func(x int32) bool { return !slices.Contains(pa.Removing, x) })
			if slices.Equal(target, r.Replicas) {
				continue // in progress
			}
		}
		code, err := c.startReassignment(ctx, tp, r.Replicas)
		if err != nil {
			return err
		}
		if code != 0 {
			c.log.Warn("reassignment from /admin/reassign_partitions refused", "partition", tp.String(), "code", code)
		}
	}
	if complete {
		c.log.Info("reassignments of /admin/reassign_partitions complete; removing it")
		return c.cl.DeleteReassignment(ctx, c.ezv)
	}
	return nil
}
