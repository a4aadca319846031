package broker

import (
	"context"
	"errors"
	"time"

	"github.com/osprey-kafka/osprey/broker/acl"
	"github.com/osprey-kafka/osprey/broker/zkdata"
	"github.com/twmb/franz-go/pkg/kmsg"
)

// ElectLeaders: v0-2
//
// Behavior:
// * Served by the controller (others answer NOT_CONTROLLER, top-level and
//   per partition, so the client finds it from Metadata). Preferred elections (type 0) move leadership to
//   the first replica when it is alive and in the ISR; unclean elections
//   (type 1) pick any live replica for a partition without a live leader.
// * Per partition: ELECTION_NOT_NEEDED, PREFERRED_LEADER_NOT_AVAILABLE,
//   ELIGIBLE_LEADERS_NOT_AVAILABLE, UNKNOWN_TOPIC_OR_PARTITION.
// * A null topic list means every partition.
// * A single broker (no metadata store) leads everything already:
//   ELECTION_NOT_NEEDED.
//
// Version notes:
// * v1: election type, top-level error code; v2: flexible.

func init() { regKey(43, 0, 2, handleElectLeaders) }

// clusterAdmin is implemented by clusters with a controller (zkCluster).
type clusterAdmin interface {
	electLeaders(ctx context.Context, typ int8, tps []zkdata.TopicPartition) (map[zkdata.TopicPartition]int16, error)
	alterReassignments(ctx context.Context, reqs map[zkdata.TopicPartition][]int32) (map[zkdata.TopicPartition]int16, error)
	listReassignments() map[zkdata.TopicPartition]zkdata.PartitionAssignment
}

func handleElectLeaders(b *Broker, r *request) (kmsg.Response, error) {
	req := r.kreq.(*kmsg.ElectLeadersRequest)
	resp := req.ResponseKind().(*kmsg.ElectLeadersResponse)
	if code := r.authzClusterErr(acl.OpAlter); code != 0 {
		resp.ErrorCode = code
		return resp, nil
	}
	var tps []zkdata.TopicPartition
	if req.Topics != nil {
		tps = []zkdata.TopicPartition{}
		for _, rt := range req.Topics {
			for _, p := range rt.Partitions {
				tps = append(tps, zkdata.TopicPartition{Topic: rt.Topic, Partition: p})
			}
		}
	}
	var codes map[zkdata.TopicPartition]int16
	adm, ok := b.cluster.(clusterAdmin)
	if !ok {
		codes = map[zkdata.TopicPartition]int16{}
		if tps == nil {
			for _, t := range b.cluster.Topics() {
				for _, p := range t.Partitions {
					tps = append(tps, zkdata.TopicPartition{Topic: t.Name, Partition: p.Partition})
				}
			}
		}
		for _, tp := range tps {
			code := int16(errElectionNotNeeded)
			if t, ok := b.cluster.Topic(tp.Topic); !ok || tp.Partition < 0 || int(tp.Partition) >= len(t.Partitions) {
				code = errUnknownTopicOrPart
			}
			codes[tp] = code
		}
	} else {
		ctx, cancel := context.WithTimeout(b.ctx, time.Duration(max(req.TimeoutMillis, 1000))*time.Millisecond)
		defer cancel()
		var err error
		codes, err = adm.electLeaders(ctx, req.ElectionType, tps)
		if err != nil {
			code := int16(errUnknown)
			if errors.Is(err, errNotControllerNow) {
				code = errNotController
			}
			if req.Version >= 1 {
				resp.ErrorCode = code
			}
			// Per partition too: franz-go looks for NOT_CONTROLLER in the
			// first partition's code to find the controller again.
			if tps == nil {
				for _, t := range b.cluster.Topics() {
					for _, p := range t.Partitions {
						tps = append(tps, zkdata.TopicPartition{Topic: t.Name, Partition: p.Partition})
					}
				}
			}
			codes = map[zkdata.TopicPartition]int16{}
			for _, tp := range tps {
				codes[tp] = code
			}
		}
	}
	byTopic := map[string]int{}
	for tp, code := range codes {
		i, ok := byTopic[tp.Topic]
		if !ok {
			t := kmsg.NewElectLeadersResponseTopic()
			t.Topic = tp.Topic
			resp.Topics = append(resp.Topics, t)
			i = len(resp.Topics) - 1
			byTopic[tp.Topic] = i
		}
		p := kmsg.NewElectLeadersResponseTopicPartition()
		p.Partition, p.ErrorCode = tp.Partition, code
		resp.Topics[i].Partitions = append(resp.Topics[i].Partitions, p)
	}
	return resp, nil
}
