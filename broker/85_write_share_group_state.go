package broker

import (
	"github.com/osprey-kafka/osprey/broker/acl"
	"github.com/osprey-kafka/osprey/broker/sharestate"
	"github.com/twmb/franz-go/pkg/kmsg"
)

// WriteShareGroupState: v0-1
//
// Behavior:
// * Inter-broker: a share-partition leader writes its start offset and
//   the batches whose state changed; the coordinator lays them over the
//   stored state (the new batches win where they overlap, offsets below
//   the start offset go). The first write of a share-partition, and every
//   one after share.coordinator.snapshot.update.records.per.snapshot
//   updates, is a ShareSnapshot record; the others ShareUpdate records.
// * A leader epoch older than the stored one: FENCED_LEADER_EPOCH; a
//   state epoch older than the stored one (the group's offsets were reset
//   since): FENCED_STATE_EPOCH. -1 leaves an epoch or the start offset
//   unchanged.
// * NOT_COORDINATOR / COORDINATOR_NOT_AVAILABLE as the other persister
//   APIs; CLUSTER_ACTION on the cluster.
//
// Version notes:
// * v1: DeliveryCompleteCount (KIP-1226), stored as the records' tagged
//   field 0.

func init() { regKey(85, 0, 1, handleWriteShareGroupState) }

func handleWriteShareGroupState(b *Broker, r *request) (kmsg.Response, error) {
	req := r.kreq.(*kmsg.WriteShareGroupStateRequest)
	resp := req.ResponseKind().(*kmsg.WriteShareGroupStateResponse)
	denied := r.authzClusterErr(acl.OpClusterAction)
	for _, rt := range req.Topics {
		t := kmsg.NewWriteShareGroupStateResponseTopic()
		t.TopicID = rt.TopicID
		for _, rp := range rt.Partitions {
			p := kmsg.NewWriteShareGroupStateResponseTopicPartition()
			p.Partition, p.ErrorCode = rp.Partition, denied
			if denied == 0 {
				k := sharestate.PartKey{Group: req.GroupID, TopicID: rt.TopicID, Partition: rp.Partition}
				w := sharestate.WriteRequest{StateEpoch: rp.StateEpoch, LeaderEpoch: rp.LeaderEpoch,
					StartOffset: rp.StartOffset, DeliveryCompleteCount: -1}
				if req.Version >= 1 {
					w.DeliveryCompleteCount = rp.DeliveryCompleteCount
				}
				for _, sb := range rp.StateBatches {
					w.Batches = append(w.Batches, sharestate.Batch{First: sb.FirstOffset, Last: sb.LastOffset,
						State: sb.DeliveryState, Count: sb.DeliveryCount})
				}
				p.ErrorCode = b.shareState.write(k, w)
			}
			t.Partitions = append(t.Partitions, p)
		}
		resp.Topics = append(resp.Topics, t)
	}
	return resp, nil
}
