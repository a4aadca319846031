package broker

import (
	"github.com/osprey-kafka/osprey/broker/acl"
	"github.com/osprey-kafka/osprey/broker/sharestate"
	"github.com/twmb/franz-go/pkg/kmsg"
)

// DeleteShareGroupState: v0
//
// Behavior:
// * Inter-broker: removes share-partitions' state (tombstones for their
//   ShareSnapshot and ShareUpdate keys); an unknown one is no error.
// * NOT_COORDINATOR / COORDINATOR_NOT_AVAILABLE as the other persister
//   APIs; CLUSTER_ACTION on the cluster.

func init() { regKey(86, 0, 0, handleDeleteShareGroupState) }

func handleDeleteShareGroupState(b *Broker, r *request) (kmsg.Response, error) {
	req := r.kreq.(*kmsg.DeleteShareGroupStateRequest)
	resp := req.ResponseKind().(*kmsg.DeleteShareGroupStateResponse)
	denied := r.authzClusterErr(acl.OpClusterAction)
	for _, rt := range req.Topics {
		t := kmsg.NewDeleteShareGroupStateResponseTopic()
		t.TopicID = rt.TopicID
		for _, rp := range rt.Partitions {
			p := kmsg.NewDeleteShareGroupStateResponseTopicPartition()
			p.Partition, p.ErrorCode = rp.Partition, denied
			if denied == 0 {
				p.ErrorCode = b.shareState.delete(sharestate.PartKey{Group: req.GroupID, TopicID: rt.TopicID, Partition: rp.Partition})
			}
			t.Partitions = append(t.Partitions, p)
		}
		resp.Topics = append(resp.Topics, t)
	}
	return resp, nil
}
