package broker

import (
	"github.com/osprey-kafka/osprey/broker/acl"
	"github.com/osprey-kafka/osprey/broker/sharestate"
	"github.com/twmb/franz-go/pkg/kmsg"
)

// ReadShareGroupState: v0
//
// Behavior:
// * Inter-broker: a share-partition leader reads the state it starts
//   from: state epoch, start offset (-1: never initialised) and the
//   in-flight batches with their delivery states and counts. A read with
//   a newer leader epoch than the stored one stores it (a ShareUpdate or
//   ShareSnapshot record), fencing the older leader's writes; an older
//   one is FENCED_LEADER_EPOCH.
// * NOT_COORDINATOR / COORDINATOR_NOT_AVAILABLE as the other persister
//   APIs; CLUSTER_ACTION on the cluster.

func init() { regKey(84, 0, 0, handleReadShareGroupState) }

func handleReadShareGroupState(b *Broker, r *request) (kmsg.Response, error) {
	req := r.kreq.(*kmsg.ReadShareGroupStateRequest)
	resp := req.ResponseKind().(*kmsg.ReadShareGroupStateResponse)
	denied := r.authzClusterErr(acl.OpClusterAction)
	for _, rt := range req.Topics {
		t := kmsg.NewReadShareGroupStateResponseTopic()
		t.TopicID = rt.TopicID
		for _, rp := range rt.Partitions {
			p := kmsg.NewReadShareGroupStateResponseTopicPartition()
			p.Partition, p.ErrorCode, p.StartOffset = rp.Partition, denied, -1
			if denied == 0 {
				k := sharestate.PartKey{Group: req.GroupID, TopicID: rt.TopicID, Partition: rp.Partition}
				st, code := b.shareState.read(k, rp.LeaderEpoch)
				p.ErrorCode = code
				if code == 0 {
					p.StateEpoch, p.StartOffset = st.StateEpoch, st.StartOffset
					for _, sb := range st.Batches {
						p.StateBatches = append(p.StateBatches, kmsg.ReadShareGroupStateResponseTopicPartitionStateBatch{
							FirstOffset: sb.First, LastOffset: sb.Last, DeliveryState: sb.State, DeliveryCount: sb.Count})
					}
				}
			}
			t.Partitions = append(t.Partitions, p)
		}
		resp.Topics = append(resp.Topics, t)
	}
	return resp, nil
}
