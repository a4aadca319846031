package broker

import (
	"context"

	"github.com/osprey-kafka/osprey/broker/acl"
	"github.com/twmb/franz-go/pkg/kmsg"
)

// WriteTxnMarkers: v0-1
//
// Behavior:
// * Sent by a transaction coordinator to the leaders of a transaction's
//   partitions: each partition gets a control batch with the commit or
//   abort marker, written with acks=all. A marker on a __consumer_offsets
//   partition also commits or drops the producer's pending transactional
//   offsets there.
// * A partition not led here gets NOT_LEADER_OR_FOLLOWER, an unknown one
//   UNKNOWN_TOPIC_OR_PARTITION, a marker older than the producer's epoch
//   INVALID_PRODUCER_EPOCH.
//
// Version notes:
// * v1: flexible.

func init() { regKey(27, 0, 1, handleWriteTxnMarkers) }

func handleWriteTxnMarkers(b *Broker, r *request) (kmsg.Response, error) {
	req := r.kreq.(*kmsg.WriteTxnMarkersRequest)
	resp := req.ResponseKind().(*kmsg.WriteTxnMarkersResponse)
	denied := r.authzClusterErr(acl.OpClusterAction) // only brokers may write markers
	b.wg.Add(1)
	go func() {
		defer b.wg.Done()
		ctx, cancel := context.WithTimeout(b.ctx, markerTimeout)
		defer cancel()
		for _, m := range req.Markers {
			rm := kmsg.NewWriteTxnMarkersResponseMarker()
			rm.ProducerID = m.ProducerID
			for _, t := range m.Topics {
				rt := kmsg.NewWriteTxnMarkersResponseMarkerTopic()
				rt.Topic = t.Topic
				for _, p := range t.Partitions {
					rp := kmsg.NewWriteTxnMarkersResponseMarkerTopicPartition()
					rp.Partition = p
					rp.ErrorCode = denied
					if denied == 0 {
						rp.ErrorCode = b.applyMarker(ctx, t.Topic, p, m.ProducerID, m.ProducerEpoch, m.Committed, m.CoordinatorEpoch)
					}
					rt.Partitions = append(rt.Partitions, rp)
				}
				rm.Topics = append(rm.Topics, rt)
			}
			resp.Markers = append(resp.Markers, rm)
		}
		r.reply(resp)
	}()
	return nil, errDeferred
}
