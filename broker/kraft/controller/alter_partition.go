package controller

import (
	"fmt"
	"slices"

	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kmsg"

	"github.com/osprey-kafka/osprey/broker/kraft/image"
	"github.com/osprey-kafka/osprey/broker/kraft/metadata"
)

// isrMember is one broker of a proposed ISR with the epoch the leader knows
// it by (-1: not checked, as before AlterPartition v3).
type isrMember struct {
	id    int32
	epoch int64
}

// alterPartition answers AlterPartition (v0-3) from a partition leader as
// Kafka's ReplicationControlManager.alterPartition does: the leader proposes a
// new ISR at its leader and partition epochs; a valid proposal becomes a
// PartitionChangeRecord (which also completes a reassignment whose targets are
// all in the new ISR).
func (c *Controller) alterPartition(b *batch, req *kmsg.AlterPartitionRequest) kmsg.Response {
	resp := req.ResponseKind().(*kmsg.AlterPartitionResponse)
	img := b.view() // AlterPartition changes no broker or topic
	if br, ok := img.Broker(req.BrokerID); !ok || br.Epoch != req.BrokerEpoch {
		resp.ErrorCode = kerr.StaleBrokerEpoch.Code
		return resp
	}
	type changed struct{ topic, part int }
	var pending []changed
	for _, rt := range req.Topics {
		st := kmsg.NewAlterPartitionResponseTopic()
		st.Topic, st.TopidID = rt.Topic, rt.TopicID
		var t image.Topic
		var ok bool
		if req.Version > 1 {
			t, ok = img.TopicByID(rt.TopicID)
		} else {
			t, ok = img.Topic(rt.Topic)
		}
		for _, rp := range rt.Partitions {
			sp := kmsg.NewAlterPartitionResponseTopicPartition()
			sp.Partition = rp.Partition
			switch {
			case !ok && req.Version > 1:
				sp.ErrorCode = kerr.UnknownTopicID.Code
			case !ok:
				sp.ErrorCode = kerr.UnknownTopicOrPartition.Code
			default:
				sp.ErrorCode = c.alterOnePartition(b, img, req, t, rp)
				if sp.ErrorCode == 0 {
					pending = append(pending, changed{len(resp.Topics), len(st.Partitions)})
				}
			}
			st.Partitions = append(st.Partitions, sp)
		}
		resp.Topics = append(resp.Topics, st)
	}
	// The answers carry the partitions' new state: read once, after every
	// change is in.
	for _, ch := range pending {
		st := &resp.Topics[ch.topic]
		sp := &st.Partitions[ch.part]
		var t image.Topic
		if req.Version > 1 {
			t, _ = img.TopicByID(st.TopidID)
		} else {
			t, _ = img.Topic(st.Topic)
		}
		p, _ := b.partition(t, sp.Partition)
		sp.LeaderID, sp.LeaderEpoch, sp.PartitionEpoch = p.Leader, p.LeaderEpoch, p.PartitionEpoch
		sp.ISR = slices.Clone(p.Isr)
		sp.LeaderRecoveryState = p.LeaderRecoveryState
	}
	return resp
}

// alterOnePartition handles one partition of an AlterPartition and returns
// its error code (0: the partition's new state goes in the answer).
func (c *Controller) alterOnePartition(b *batch, img image.Image, req *kmsg.AlterPartitionRequest, t image.Topic, rp kmsg.AlterPartitionRequestTopicPartition) int16 {
	var members []isrMember
	if req.Version >= 3 {
		for _, m := range rp.NewEpochISR {
			members = append(members, isrMember{m.BrokerID, m.BrokerEpoch})
		}
	} else {
		for _, id := range rp.NewISR {
			members = append(members, isrMember{id, -1})
		}
	}
	p, ok := b.partition(t, rp.Partition)
	if !ok {
		return kerr.UnknownTopicOrPartition.Code
	}
	if e := c.validateAlterPartition(img, req, t, p, rp, members); e != nil {
		return e.Code
	}
	ch := newChange(img, t.ID, p)
	if c.uncleanAllowed(img, t.Name) {
		ch.election = electUnclean
	}
	ch.isr = make([]int32, len(members))
	for i, m := range members {
		ch.isr[i] = m.id
	}
	if req.Version >= 1 {
		ch.recovery = rp.LeaderRecoveryState
	} else {
		ch.recovery = image.LeaderRecovered
	}
	rec := ch.build()
	if rec == nil {
		return 0
	}
	b.add(rec, partitionVersion(b.mv))
	if rec.Leader != req.BrokerID && rec.Leader != metadata.NoLeaderChange {
		// The ISR change completed a reassignment that moved the
		// leadership: the leader must learn the new state first.
		c.log.Info("AlterPartition completed a reassignment and moved the leader", "topic", t.Name,
			"partition", p.Index, "from", req.BrokerID, "to", rec.Leader)
		if req.Version > 1 {
			return kerr.NewLeaderElected.Code
		}
		return kerr.FencedLeaderEpoch.Code
	}
	return 0
}

// validateAlterPartition is Kafka's validateAlterPartitionData: the checks
// in its order, so a request failing several gets Kafka's code.
func (c *Controller) validateAlterPartition(img image.Image, req *kmsg.AlterPartitionRequest, t image.Topic, p image.Partition,
	rp kmsg.AlterPartitionRequestTopicPartition, members []isrMember) *kerr.Error {
	newIsr := make([]int32, len(members))
	for i, m := range members {
		newIsr[i] = m.id
	}
	reject := func(e *kerr.Error, why string) *kerr.Error {
		c.log.Info("AlterPartition refused", "topic", t.Name, "partition", p.Index, "from", req.BrokerID, "err", e.Message, "why", why)
		return e
	}
	switch {
	case rp.LeaderEpoch > p.LeaderEpoch || rp.PartitionEpoch > p.PartitionEpoch:
		// The leader knows a newer state than this controller: it is most
		// likely not the active controller any more.
		return reject(kerr.NotController, fmt.Sprintf("epochs %d/%d ahead of %d/%d", rp.LeaderEpoch, rp.PartitionEpoch, p.LeaderEpoch, p.PartitionEpoch))
	case rp.LeaderEpoch < p.LeaderEpoch:
		return reject(kerr.FencedLeaderEpoch, fmt.Sprintf("leader epoch %d, current %d", rp.LeaderEpoch, p.LeaderEpoch))
	case req.BrokerID != p.Leader:
		return reject(kerr.InvalidRequest, fmt.Sprintf("the leader is %d", p.Leader))
	case rp.PartitionEpoch < p.PartitionEpoch:
		return reject(kerr.InvalidUpdateVersion, fmt.Sprintf("partition epoch %d, current %d", rp.PartitionEpoch, p.PartitionEpoch))
	case !validIsr(p.Replicas, newIsr):
		return reject(kerr.InvalidRequest, fmt.Sprintf("invalid ISR %v", newIsr))
	case !slices.Contains(newIsr, p.Leader):
		return reject(kerr.InvalidRequest, fmt.Sprintf("ISR %v without the leader", newIsr))
	case rp.LeaderRecoveryState == image.LeaderRecovering && len(newIsr) > 1:
		return reject(kerr.InvalidRequest, "more than one ISR member while recovering")
	case p.LeaderRecoveryState == image.LeaderRecovered && rp.LeaderRecoveryState == image.LeaderRecovering:
		return reject(kerr.InvalidRequest, "recovery state cannot go from RECOVERED to RECOVERING")
	case rp.LeaderRecoveryState != image.LeaderRecovered && rp.LeaderRecoveryState != image.LeaderRecovering:
		return reject(kerr.InvalidRequest, fmt.Sprintf("unknown leader recovery state %d", rp.LeaderRecoveryState))
	}
	if why := ineligible(img, members); why != "" {
		if req.Version > 1 {
			return reject(kerr.IneligibleReplica, why)
		}
		return reject(kerr.OperationNotAttempted, why)
	}
	return nil
}

// validIsr is Kafka's Replicas.validateIsr: no duplicates, every member a
// replica.
func validIsr(replicas, isr []int32) bool {
	for i, id := range isr {
		if !slices.Contains(replicas, id) || slices.Contains(isr[:i], id) {
			return false
		}
	}
	return true
}

// ineligible says which proposed members may not join an ISR: unregistered,
// shutting down, fenced, or of another broker epoch.
func ineligible(img image.Image, members []isrMember) string {
	for _, m := range members {
		br, ok := img.Broker(m.id)
		switch {
		case !ok:
			return fmt.Sprintf("broker %d: not registered", m.id)
		case br.InControlledShutdown:
			return fmt.Sprintf("broker %d: shutting down", m.id)
		case br.Fenced:
			return fmt.Sprintf("broker %d: fenced", m.id)
		case m.epoch != -1 && m.epoch != br.Epoch:
			return fmt.Sprintf("broker %d: broker epoch mismatch: requested=%d VS expected=%d", m.id, m.epoch, br.Epoch)
		}
	}
	return ""
}
