package broker

import (
	"github.com/osprey-kafka/osprey/broker/acl"
	"github.com/osprey-kafka/osprey/broker/sharestate"
	"github.com/twmb/franz-go/pkg/kmsg"
)

// ReadShareGroupStateSummary: v0-1
//
// Behavior:
// * Inter-broker: a share-partition's state epoch, leader epoch and start
//   offset without its batches (the group coordinator's
//   DescribeShareGroupOffsets); start offset -1 for one never written.
// * NOT_COORDINATOR / COORDINATOR_NOT_AVAILABLE as the other persister
//   APIs; CLUSTER_ACTION on the cluster.
//
// Version notes:
// * v1: DeliveryCompleteCount (KIP-1226; -1 when unknown).

func init() { regKey(87, 0, 1, handleReadShareGroupStateSummary) }

func handleReadShareGroupStateSummary(b *Broker, r *request) (kmsg.Response, error) {
	req := r.kreq.(*kmsg.ReadShareGroupStateSummaryRequest)
	resp := req.ResponseKind().(*kmsg.ReadShareGroupStateSummaryResponse)
	denied := r.authzClusterErr(acl.OpClusterAction)
	for _, rt := range req.Topics {
		t := kmsg.NewReadShareGroupStateSummaryResponseTopic()
		t.TopicID = rt.TopicID
		for _, rp := range rt.Partitions {
			p := kmsg.NewReadShareGroupStateSummaryResponseTopicPartition()
			p.Partition, p.ErrorCode = rp.Partition, denied
			p.StartOffset, p.LeaderEpoch, p.DeliveryCompleteCount = -1, -1, -1
			if denied == 0 {
				st, ok, code := b.shareState.summary(sharestate.PartKey{Group: req.GroupID, TopicID: rt.TopicID, Partition: rp.Partition})
				p.ErrorCode = code
				if ok {
					p.StateEpoch, p.LeaderEpoch, p.StartOffset, p.DeliveryCompleteCount = st.StateEpoch, st.LeaderEpoch, st.StartOffset, st.DeliveryCompleteCount
				}
			}
			t.Partitions = append(t.Partitions, p)
		}
		resp.Topics = append(resp.Topics, t)
	}
	return resp, nil
}
