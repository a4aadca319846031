package broker

import (
	"github.com/osprey-kafka/osprey/broker/acl"
	"github.com/twmb/franz-go/pkg/kmsg"
)

// DeleteRecords: v0-2
//
// Behavior:
// * Moves the log start offset of each partition to the given offset
//   (-1 = the high watermark); whole segments below it are deleted.
//   Offsets above the high watermark get OFFSET_OUT_OF_RANGE.
//
// Version notes:
// * v2: flexible.

func init() { regKey(21, 0, 2, handleDeleteRecords) }

func handleDeleteRecords(b *Broker, r *request) (kmsg.Response, error) {
	req := r.kreq.(*kmsg.DeleteRecordsRequest)
	resp := req.ResponseKind().(*kmsg.DeleteRecordsResponse)
	for _, rt := range req.Topics {
		st := kmsg.NewDeleteRecordsResponseTopic()
		st.Topic = rt.Topic
		t, known := b.cluster.Topic(rt.Topic)
		denied := r.authzTopicErr(acl.OpDelete, rt.Topic)
		for _, rp := range rt.Partitions {
			sp := kmsg.NewDeleteRecordsResponseTopicPartition()
			sp.Partition, sp.LowWatermark = rp.Partition, -1
			p, code := b.leaderPartition(t, known, rp.Partition)
			switch {
			case denied != 0:
				sp.ErrorCode = denied
			case code != 0:
				sp.ErrorCode = code
			case rt.Topic == offsetsTopic:
				sp.ErrorCode = errInvalidTopic
			default:
				off := rp.Offset
				if off == -1 {
					off = p.log.HighWatermark()
				}
				start, err := p.log.DeleteRecordsBefore(off)
				sp.ErrorCode = kafkaCode(err)
				if err == nil {
					sp.LowWatermark = start
				}
			}
			st.Partitions = append(st.Partitions, sp)
		}
		resp.Topics = append(resp.Topics, st)
	}
	return resp, nil
}
