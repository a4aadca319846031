package broker

import (
	"github.com/osprey-kafka/osprey/broker/acl"
	"github.com/twmb/franz-go/pkg/kmsg"
)

// ListOffsets: v0-6
//
// Behavior:
// * Timestamp -2 = log start offset, -1 = high watermark (the latest
//   committed offset, which consumers may read).
// * Other timestamps: the first offset whose timestamp is >= it, from the
//   time index; none found gives offset -1 and timestamp -1.
// * v0 answers OldStyleOffsets with the single matching offset.
// * The current leader epoch (v4+) is checked when given.
// * With an authorizer each topic needs DESCRIBE (else
//   TOPIC_AUTHORIZATION_FAILED).
//
// Version notes:
// * v2: isolation level: read_committed answers the last stable offset
//   for -1 and finds timestamps below it only; v4: leader epochs; v6: flexible.
// * v7 (max timestamp, -3) is not supported.

func init() { regKey(2, 0, 6, handleListOffsets) }

func handleListOffsets(b *Broker, r *request) (kmsg.Response, error) {
	req := r.kreq.(*kmsg.ListOffsetsRequest)
	resp := req.ResponseKind().(*kmsg.ListOffsetsResponse)
	for _, rt := range req.Topics {
		st := kmsg.NewListOffsetsResponseTopic()
		st.Topic = rt.Topic
		t, known := b.cluster.Topic(rt.Topic)
		denied := r.authzTopicErr(acl.OpDescribe, rt.Topic)
		for _, rp := range rt.Partitions {
			sp := kmsg.NewListOffsetsResponseTopicPartition()
			sp.Partition = rp.Partition
			sp.Timestamp, sp.Offset = -1, -1
			p, code := b.leaderPartition(t, known, rp.Partition)
			if denied != 0 {
				code = denied
			}
			if code != 0 {
				sp.ErrorCode = code
				st.Partitions = append(st.Partitions, sp)
				continue
			}
			epoch := p.epoch()
			if code := checkLeaderEpoch(rp.CurrentLeaderEpoch, epoch); code != 0 {
				sp.ErrorCode = code
				st.Partitions = append(st.Partitions, sp)
				continue
			}
			sp.LeaderEpoch = epoch
			hw := p.log.HighWatermark()
			if req.IsolationLevel == 1 {
				// read_committed: nothing at or above the last stable
				// offset is readable yet.
				hw = min(hw, p.lastStableOffset())
			}
			switch rp.Timestamp {
			case -2:
				sp.Offset = p.log.LogStartOffset()
			case -1:
				sp.Offset = hw
			default:
				off, ts, found, err := p.log.OffsetForTimestamp(rp.Timestamp)
				switch {
				case err != nil:
					sp.ErrorCode = kafkaCode(err)
				case found && off < hw:
					sp.Offset, sp.Timestamp = off, ts
				}
			}
			if req.Version == 0 && sp.ErrorCode == 0 {
				if sp.Offset >= 0 {
					sp.OldStyleOffsets = []int64{sp.Offset}
				} else {
					sp.OldStyleOffsets = []int64{}
				}
			}
			st.Partitions = append(st.Partitions, sp)
		}
		resp.Topics = append(resp.Topics, st)
	}
	return resp, nil
}

// checkLeaderEpoch compares a client's current leader epoch (-1 = not
// given) with the partition's (KIP-320).
func checkLeaderEpoch(client, current int32) int16 {
	switch {
	case client < 0 || client == current:
		return 0
	case client < current:
		return errFencedLeaderEpoch
	default:
		return errUnknownLeaderEpoch
	}
}
