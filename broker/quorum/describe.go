package quorum

import (
	"time"

	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kmsg"
)

// DescribeQuorum: v0-2. Admin clients send it to the quorum (Kafka's admin client through a
// broker, which forwards it to the active controller); it is answered here, by the node, rather
// than through Step, because it changes nothing.
//
// Behavior:
//   - The leader answers with its epoch, high watermark, and each voter's and observer's log end
//     offset (-1 before its first valid fetch in this epoch), last fetch and last caught-up times
//     (-1 for never), the leader itself at its log end and now.
//   - Any other node answers NOT_LEADER_OR_FOLLOWER for the partition; another topic or partition
//     gets UNKNOWN_TOPIC_OR_PARTITION.
//
// Version notes: v1 adds the timestamps, v2 directory ids (zero: the voter set is static),
// error messages, and the voters' listeners (Nodes) from a dynamic quorum's voter set.

// Describe answers a DescribeQuorum request.
func (n *Node) Describe(req *kmsg.DescribeQuorumRequest) *kmsg.DescribeQuorumResponse {
	resp := kmsg.NewPtrDescribeQuorumResponse()
	resp.Version = req.Version
	for _, t := range req.Topics {
		rt := kmsg.NewDescribeQuorumResponseTopic()
		rt.Topic = t.Topic
		for _, p := range t.Partitions {
			rp := kmsg.NewDescribeQuorumResponseTopicPartition()
			rp.Partition = p.Partition
			switch {
			case t.Topic != MetadataTopic || p.Partition != 0:
				rp.ErrorCode = kerr.UnknownTopicOrPartition.Code
			case n.state != Leader:
				rp.ErrorCode = kerr.NotLeaderForPartition.Code
				rp.LeaderID, rp.LeaderEpoch = n.leaderID, n.epoch
			default:
				n.describeLeader(&rp)
			}
			if rp.ErrorCode != 0 && req.Version >= 2 {
				msg := kerr.ErrorForCode(rp.ErrorCode).Error()
				rp.ErrorMessage = &msg
			}
			rt.Partitions = append(rt.Partitions, rp)
		}
		resp.Topics = append(resp.Topics, rt)
	}
	if req.Version >= 2 && n.dynamic && n.state == Leader {
		for _, v := range n.history.latest().set {
			node := kmsg.NewDescribeQuorumResponseNode()
			node.NodeID = v.ID
			for _, ep := range v.Endpoints {
				l := kmsg.NewDescribeQuorumResponseNodeListener()
				l.Name, l.Host, l.Port = ep.Name, ep.Host, ep.Port
				node.Listeners = append(node.Listeners, l)
			}
			resp.Nodes = append(resp.Nodes, node)
		}
	}
	return resp
}

func (n *Node) describeLeader(rp *kmsg.DescribeQuorumResponseTopicPartition) {
	now := n.now()
	rp.LeaderID, rp.LeaderEpoch, rp.HighWatermark = n.id, n.epoch, n.hw
	ms := func(t time.Time) int64 {
		if t.IsZero() {
			return -1
		}
		return t.UnixMilli()
	}
	for _, r := range n.Replicas() {
		s := kmsg.NewDescribeQuorumResponseTopicPartitionReplicaState()
		s.ReplicaID = r.ID
		s.LogEndOffset = r.EndOffset
		s.LastFetchTimestamp = ms(r.LastFetch)
		s.LastCaughtUpTimestamp = ms(r.LastCaughtUp)
		s.ReplicaDirectoryID = r.DirectoryID
		if r.Voter && s.ReplicaDirectoryID == [16]byte{} {
			s.ReplicaDirectoryID = n.voterDirectory(r.ID)
		}
		if r.ID == n.id {
			s.ReplicaDirectoryID = n.cfg.DirectoryID
			s.LogEndOffset = n.log.EndOffset()
			s.LastFetchTimestamp, s.LastCaughtUpTimestamp = now.UnixMilli(), now.UnixMilli()
		}
		if r.Voter {
			rp.CurrentVoters = append(rp.CurrentVoters, s)
		} else {
			rp.Observers = append(rp.Observers, s)
		}
	}
}
