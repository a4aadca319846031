package broker

import (
	"context"
	"fmt"
	"slices"
	"time"

	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kmsg"

	"github.com/osprey-kafka/osprey/broker/kraft/image"
	"github.com/osprey-kafka/osprey/broker/zkdata"
)

// alterISR asks the controller for a new ISR with AlterPartition (v3: topic
// ids, and each ISR member with the broker epoch it has in the image, so a
// replica that restarted since the leader saw it is refused). The leader
// epoch and partition epoch come from this broker's image: a stale one is
// answered FENCED_LEADER_EPOCH or INVALID_UPDATE_VERSION and the ISR loop
// tries again on the next image.
func (kc *kraftCluster) alterISR(ctx context.Context, topic string, partition, leaderEpoch int32, isr []int32) error {
	im, _ := kc.image()
	t, ok := im.Topic(topic)
	if !ok {
		return fmt.Errorf("%w: topic %s is gone", errStaleLeader, topic)
	}
	p, ok := t.Partition(partition)
	if !ok || p.Leader != kc.self.ID || p.LeaderEpoch != leaderEpoch {
		return fmt.Errorf("%w: %s-%d has leader %d epoch %d", errStaleLeader, topic, partition, p.Leader, p.LeaderEpoch)
	}
	if slices.Equal(p.Isr, isr) {
		return nil
	}
	req := kmsg.NewPtrAlterPartitionRequest()
	req.Version = 3
	req.BrokerID = kc.self.ID
	req.BrokerEpoch = kc.life.Epoch()
	rt := kmsg.NewAlterPartitionRequestTopic()
	rt.TopicID = t.ID
	rp := kmsg.NewAlterPartitionRequestTopicPartition()
	rp.Partition, rp.LeaderEpoch, rp.PartitionEpoch = partition, leaderEpoch, p.PartitionEpoch
	for _, id := range isr {
		e := kmsg.NewAlterPartitionRequestTopicPartitionNewEpochISR()
		e.BrokerID, e.BrokerEpoch = id, -1
		if br, ok := im.Broker(id); ok {
			e.BrokerEpoch = br.Epoch
		}
		rp.NewEpochISR = append(rp.NewEpochISR, e)
	}
	rt.Partitions = append(rt.Partitions, rp)
	req.Topics = append(req.Topics, rt)
	raw, err := kc.controllerRequest(ctx, req)
	if err != nil {
		return err
	}
	resp := raw.(*kmsg.AlterPartitionResponse)
	if resp.ErrorCode != 0 {
		return fmt.Errorf("AlterPartition for %s-%d: %w", topic, partition, kerr.ErrorForCode(resp.ErrorCode))
	}
	for _, st := range resp.Topics {
		for _, sp := range st.Partitions {
			switch kerr.ErrorForCode(sp.ErrorCode) {
			case nil:
			case kerr.FencedLeaderEpoch, kerr.InvalidUpdateVersion, kerr.NotLeaderForPartition:
				return fmt.Errorf("%w: AlterPartition for %s-%d: %v", errStaleLeader, topic, partition, kerr.ErrorForCode(sp.ErrorCode))
			default:
				return fmt.Errorf("AlterPartition for %s-%d: %w", topic, partition, kerr.ErrorForCode(sp.ErrorCode))
			}
		}
	}
	// The ISR loop reads the new ISR from the layout: wait until it is here.
	return kc.waitImage(ctx, func(im image.Image) bool {
		t, ok := im.Topic(topic)
		if !ok {
			return true
		}
		np, ok := t.Partition(partition)
		return !ok || np.PartitionEpoch != p.PartitionEpoch
	})
}

// electLeaders sends ElectLeaders to the controller (tps nil: every partition).
func (kc *kraftCluster) electLeaders(ctx context.Context, typ int8, tps []zkdata.TopicPartition) (map[zkdata.TopicPartition]int16, error) {
	req := kmsg.NewPtrElectLeadersRequest()
	req.Version = 2
	req.ElectionType = typ
	req.TimeoutMillis = 30000
	if tps != nil {
		byTopic := map[string]int{}
		for _, tp := range tps {
			i, ok := byTopic[tp.Topic]
			if !ok {
				rt := kmsg.NewElectLeadersRequestTopic()
				rt.Topic = tp.Topic
				req.Topics = append(req.Topics, rt)
				i = len(req.Topics) - 1
				byTopic[tp.Topic] = i
			}
			req.Topics[i].Partitions = append(req.Topics[i].Partitions, tp.Partition)
		}
	}
	raw, err := kc.controllerRequest(ctx, req)
	if err != nil {
		return nil, err
	}
	resp := raw.(*kmsg.ElectLeadersResponse)
	if resp.ErrorCode != 0 {
		return nil, fmt.Errorf("ElectLeaders: %w", kerr.ErrorForCode(resp.ErrorCode))
	}
	codes := map[zkdata.TopicPartition]int16{}
	for _, st := range resp.Topics {
		for _, sp := range st.Partitions {
			codes[zkdata.TopicPartition{Topic: st.Topic, Partition: sp.Partition}] = sp.ErrorCode
		}
	}
	return codes, nil
}

// alterReassignments sends AlterPartitionReassignments to the controller
// (a nil target cancels).
func (kc *kraftCluster) alterReassignments(ctx context.Context, reqs map[zkdata.TopicPartition][]int32) (map[zkdata.TopicPartition]int16, error) {
	req := kmsg.NewPtrAlterPartitionAssignmentsRequest()
	req.TimeoutMillis = 30000
	byTopic := map[string]int{}
	for tp, target := range reqs {
		i, ok := byTopic[tp.Topic]
		if !ok {
			rt := kmsg.NewAlterPartitionAssignmentsRequestTopic()
			rt.Topic = tp.Topic
			req.Topics = append(req.Topics, rt)
			i = len(req.Topics) - 1
			byTopic[tp.Topic] = i
		}
		rp := kmsg.NewAlterPartitionAssignmentsRequestTopicPartition()
		rp.Partition, rp.Replicas = tp.Partition, target
		req.Topics[i].Partitions = append(req.Topics[i].Partitions, rp)
	}
	raw, err := kc.controllerRequest(ctx, req)
	if err != nil {
		return nil, err
	}
	resp := raw.(*kmsg.AlterPartitionAssignmentsResponse)
	if resp.ErrorCode != 0 {
		msg := ""
		if resp.ErrorMessage != nil {
			msg = ": " + *resp.ErrorMessage
		}
		return nil, fmt.Errorf("AlterPartitionReassignments: %w%s", kerr.ErrorForCode(resp.ErrorCode), msg)
	}
	codes := map[zkdata.TopicPartition]int16{}
	for _, st := range resp.Topics {
		for _, sp := range st.Partitions {
			codes[zkdata.TopicPartition{Topic: st.Topic, Partition: sp.Partition}] = sp.ErrorCode
		}
	}
	kc.waitReassignmentsSeen(ctx, reqs, codes)
	return codes, nil
}

// waitReassignmentsSeen waits (a few seconds at most) until this broker's
// image shows the accepted changes, so that a ListPartitionReassignments the
// client sends next to this broker, answered from the image, sees them.
func (kc *kraftCluster) waitReassignmentsSeen(ctx context.Context, reqs map[zkdata.TopicPartition][]int32, codes map[zkdata.TopicPartition]int16) {
	ctx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	err := kc.waitImage(ctx, func(im image.Image) bool {
		for tp, target := range reqs {
			if codes[tp] != 0 {
				continue
			}
			t, ok := im.Topic(tp.Topic)
			if !ok {
				continue
			}
			p, ok := t.Partition(tp.Partition)
			switch {
			case !ok:
			case target == nil && p.IsReassigning():
				return false
			case target != nil && !slices.Equal(p.Replicas, target) && !(p.IsReassigning() && containsAll(p.Replicas, target)):
				return false
			}
		}
		return true
	})
	if err != nil {
		kc.log.Debug("reassignment not in this broker's image yet", "err", err)
	}
}

func containsAll(set, of []int32) bool {
	for _, id := range of {
		if !slices.Contains(set, id) {
			return false
		}
	}
	return true
}

// listReassignments lists the reassignments under way, from the image.
func (kc *kraftCluster) listReassignments() map[zkdata.TopicPartition]zkdata.PartitionAssignment {
	im, _ := kc.image()
	out := map[zkdata.TopicPartition]zkdata.PartitionAssignment{}
	for _, t := range im.Topics() {
		for _, p := range t.Partitions() {
			if p.IsReassigning() {
				out[zkdata.TopicPartition{Topic: t.Name, Partition: p.Index}] = zkdata.PartitionAssignment{
					Replicas: slices.Clone(p.Replicas), Adding: slices.Clone(p.AddingReplicas), Removing: slices.Clone(p.RemovingReplicas)}
			}
		}
	}
	return out
}
