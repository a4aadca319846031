package controller

import (
	"slices"

	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kmsg"

	"github.com/osprey-kafka/osprey/broker/kraft/image"
)

// alterReassignments answers AlterPartitionReassignments (v0-1, KIP-455) as
// Kafka's ReplicationControlManager does. A target replica list starts a
// reassignment: the replicas become target + removed, with adding and
// removing lists, and the reassignment completes (a second
// PartitionChangeRecord with the target replicas) once every target replica
// is in the ISR, which an AlterPartition from the leader or a Tick notices. A
// null target cancels: the replicas go back to the original ones.
// Replication throttles are the brokers' business.
func (c *Controller) alterReassignments(b *batch, req *kmsg.AlterPartitionAssignmentsRequest) kmsg.Response {
	resp := req.ResponseKind().(*kmsg.AlterPartitionAssignmentsResponse)
	resp.AllowReplicationFactorChange = req.AllowReplicationFactorChange
	for _, rt := range req.Topics {
		st := kmsg.NewAlterPartitionAssignmentsResponseTopic()
		st.Topic = rt.Topic
		for _, rp := range rt.Partitions {
			sp := kmsg.NewAlterPartitionAssignmentsResponseTopicPartition()
			sp.Partition = rp.Partition
			aerr := c.reassign(b, req, rt.Topic, rp)
			sp.ErrorCode, sp.ErrorMessage = aerr.code(), aerr.message()
			st.Partitions = append(st.Partitions, sp)
		}
		resp.Topics = append(resp.Topics, st)
	}
	return resp
}

func (c *Controller) reassign(b *batch, req *kmsg.AlterPartitionAssignmentsRequest, topic string, rp kmsg.AlterPartitionAssignmentsRequestTopicPartition) *apiError {
	if len(b.recs) > maxRecordsPerUserOp {
		return errTooLarge // the whole request is refused; stop working on it
	}
	img := b.view()
	t, ok := img.Topic(topic)
	if !ok {
		return newErr(kerr.UnknownTopicOrPartition, "Unable to find a topic named %s.", topic)
	}
	p, ok := b.partition(t, rp.Partition)
	if !ok {
		return newErr(kerr.UnknownTopicOrPartition, "Unable to find partition %s:%d.", topic, rp.Partition)
	}
	if rp.Replicas == nil {
		return c.cancelReassignment(b, t, p)
	}
	if err := validateManual(img, rp.Replicas, -1); err != nil {
		return err
	}
	original := without(p.Replicas, p.AddingReplicas...)
	if req.Version >= 1 && !req.AllowReplicationFactorChange && len(rp.Replicas) != len(original) {
		return newErr(kerr.InvalidReplicationFactor, "The replication factor is changed from %d to %d but allowReplicationFactorChange is false", len(original), len(rp.Replicas))
	}
	// Kafka's PartitionReassignmentReplicas: removing and adding are sorted
	// set differences; the replicas are the target then those removed.
	removing := slices.Sorted(slices.Values(without(p.Replicas, rp.Replicas...)))
	adding := slices.Sorted(slices.Values(without(rp.Replicas, p.Replicas...)))
	replicas := append(slices.Clone(rp.Replicas), removing...)
	ch := newChange(img, t.ID, p)
	if !sameList(replicas, p.Replicas) {
		ch.replicas = replicas
	}
	if len(removing) > 0 {
		ch.removing = removing
	}
	if len(adding) > 0 {
		ch.adding = adding
	}
	if addChange(b, ch) {
		c.log.Info("reassignment", "topic", t.Name, "partition", p.Index, "target", rp.Replicas)
	}
	return nil
}

// cancelReassignment reverts an ongoing reassignment (Kafka's
// PartitionReassignmentRevert): the added replicas leave; if only added
// replicas were in the ISR, reverting needs an unclean election.
func (c *Controller) cancelReassignment(b *batch, t image.Topic, p image.Partition) *apiError {
	if !p.IsReassigning() {
		return defaultErr(kerr.NoReassignmentInProgress)
	}
	img := b.view()
	replicas := without(p.Replicas, p.AddingReplicas...)
	isr := without(p.Isr, p.AddingReplicas...)
	unclean := c.uncleanAllowed(img, t.Name)
	if len(isr) == 0 {
		if len(replicas) == 0 {
			return newErr(kerr.InvalidReplicaAssignment, "Invalid replica assignment: addingReplicas contains all replicas.")
		}
		if !unclean {
			return newErr(kerr.InvalidReplicaAssignment, "Unable to revert partition assignment for %s:%d because it would require an unclean leader election.", t.Name, p.Index)
		}
		isr = []int32{replicas[0]}
	}
	ch := newChange(img, t.ID, p)
	if unclean {
		ch.election = electUnclean
	}
	ch.isr, ch.replicas, ch.removing, ch.adding = isr, replicas, []int32{}, []int32{}
	addChange(b, ch)
	return nil
}

// listReassignments answers ListPartitionReassignments: every reassigning
// partition (no topics given) or those of the named partitions; unknown
// topics and partitions are left out.
func (c *Controller) listReassignments(b *batch, req *kmsg.ListPartitionReassignmentsRequest) kmsg.Response {
	resp := req.ResponseKind().(*kmsg.ListPartitionReassignmentsResponse)
	img := b.image()
	add := func(t image.Topic, parts []int32) {
		st := kmsg.NewListPartitionReassignmentsResponseTopic()
		st.Topic = t.Name
		for _, idx := range parts {
			p, ok := t.Partition(idx)
			if !ok || !p.IsReassigning() {
				continue
			}
			sp := kmsg.NewListPartitionReassignmentsResponseTopicPartition()
			sp.Partition = idx
			sp.Replicas = emptyIfNil(slices.Clone(p.Replicas))
			sp.AddingReplicas = emptyIfNil(slices.Clone(p.AddingReplicas))
			sp.RemovingReplicas = emptyIfNil(slices.Clone(p.RemovingReplicas))
			st.Partitions = append(st.Partitions, sp)
		}
		if len(st.Partitions) > 0 {
			resp.Topics = append(resp.Topics, st)
		}
	}
	if req.Topics == nil {
		for _, t := range img.Topics() {
			var idx []int32
			for _, p := range t.Partitions() {
				idx = append(idx, p.Index)
			}
			add(t, idx)
		}
		return resp
	}
	for _, rt := range req.Topics {
		if t, ok := img.Topic(rt.Topic); ok {
			add(t, rt.Partitions)
		}
	}
	return resp
}
