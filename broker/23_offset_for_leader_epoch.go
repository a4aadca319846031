package broker

import (
	"github.com/osprey-kafka/osprey/broker/acl"
	"github.com/twmb/franz-go/pkg/kmsg"
)

// OffsetForLeaderEpoch: v0-4
//
// Behavior:
// * For each partition, the largest epoch <= the requested one present in
//   the log and the end offset of that epoch (KIP-101/KIP-320): consumers
//   use it to detect log truncation, followers to truncate.
// * The current leader epoch (v2+) is checked when given.
// * Consumers (replica id -1) get end offsets capped at the high watermark.
//
// Version notes:
// * v1: leader epoch in the response; v2: current leader epoch;
//   v3: replica id; v4: flexible.

func init() { regKey(23, 0, 4, handleOffsetForLeaderEpoch) }

func handleOffsetForLeaderEpoch(b *Broker, r *request) (kmsg.Response, error) {
	req := r.kreq.(*kmsg.OffsetForLeaderEpochRequest)
	resp := req.ResponseKind().(*kmsg.OffsetForLeaderEpochResponse)
	consumer := req.Version < 3 || req.ReplicaID < 0
	for _, rt := range req.Topics {
		st := kmsg.NewOffsetForLeaderEpochResponseTopic()
		st.Topic = rt.Topic
		t, known := b.cluster.Topic(rt.Topic)
		denied := r.authzTopicErr(acl.OpDescribe, rt.Topic)
		if !consumer {
			denied = r.authzClusterErr(acl.OpClusterAction)
		}
		for _, rp := range rt.Partitions {
			sp := kmsg.NewOffsetForLeaderEpochResponseTopicPartition()
			sp.Partition = rp.Partition
			sp.LeaderEpoch, sp.EndOffset = -1, -1
			p, code := b.leaderPartition(t, known, rp.Partition)
			if denied != 0 {
				code = denied
			}
			switch {
			case code != 0:
				sp.ErrorCode = code
			default:
				if code := checkLeaderEpoch(rp.CurrentLeaderEpoch, p.epoch()); code != 0 {
					sp.ErrorCode = code
					break
				}
				epoch, end := p.log.EndOffsetForEpoch(rp.LeaderEpoch)
				if consumer && end > p.log.HighWatermark() {
					end = p.log.HighWatermark()
				}
				sp.LeaderEpoch, sp.EndOffset = epoch, end
			}
			st.Partitions = append(st.Partitions, sp)
		}
		resp.Topics = append(resp.Topics, st)
	}
	return resp, nil
}
