package broker

import (
	"github.com/osprey-kafka/osprey/broker/acl"
	"github.com/osprey-kafka/osprey/broker/sharestate"
	"github.com/twmb/franz-go/pkg/kmsg"
)

// InitializeShareGroupState: v0
//
// Behavior:
// * Inter-broker (the share coordinator's persister API, KIP-932): sets a
//   share-partition's start offset and state epoch with no in-flight
//   batches, written as a ShareSnapshot to __share_group_state.
// * Per partition: NOT_COORDINATOR unless this broker leads the key's
//   state partition, COORDINATOR_NOT_AVAILABLE while the topic is being
//   created, FENCED_STATE_EPOCH for an older state epoch than the stored
//   one, UNKNOWN_TOPIC_OR_PARTITION for a partition the cluster lacks.
// * CLUSTER_ACTION on the cluster (CLUSTER_AUTHORIZATION_FAILED).

func init() { regKey(83, 0, 0, handleInitializeShareGroupState) }

func handleInitializeShareGroupState(b *Broker, r *request) (kmsg.Response, error) {
	req := r.kreq.(*kmsg.InitializeShareGroupStateRequest)
	resp := req.ResponseKind().(*kmsg.InitializeShareGroupStateResponse)
	denied := r.authzClusterErr(acl.OpClusterAction)
	for _, rt := range req.Topics {
		t := kmsg.NewInitializeShareGroupStateResponseTopic()
		t.TopicID = rt.TopicID
		for _, rp := range rt.Partitions {
			p := kmsg.NewInitializeShareGroupStateResponseTopicPartition()
			p.Partition, p.ErrorCode = rp.Partition, denied
			if denied == 0 {
				k := sharestate.PartKey{Group: req.GroupID, TopicID: rt.TopicID, Partition: rp.Partition}
				p.ErrorCode = b.shareState.initialize(k, rp.StateEpoch, rp.StartOffset)
			}
			t.Partitions = append(t.Partitions, p)
		}
		resp.Topics = append(resp.Topics, t)
	}
	return resp, nil
}
