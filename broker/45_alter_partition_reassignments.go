package broker

import (
	"context"
	"errors"
	"time"

	"github.com/osprey-kafka/osprey/broker/acl"
	"github.com/osprey-kafka/osprey/broker/zkdata"
	"github.com/twmb/franz-go/pkg/kmsg"
)

// AlterPartitionReassignments: v0
//
// Behavior:
// * KIP-455, served by the controller (others answer NOT_CONTROLLER). A
//   partition with target replicas starts moving: the topic znode gets
//   replicas = target ++ (current - target) with adding/removing replicas,
//   new replicas catch up and join the ISR, leadership moves into the
//   target if needed, then the removed replicas are dropped and their data
//   deleted. Null replicas cancel an ongoing reassignment (the original
//   replica set is restored and the added replicas deleted).
// * Per partition: INVALID_REPLICA_ASSIGNMENT (empty, duplicate or unknown
//   brokers), NO_REASSIGNMENT_IN_PROGRESS (cancel with none),
//   UNKNOWN_TOPIC_OR_PARTITION.
// * A single broker (no metadata store) has nothing to move: its only
//   valid target is itself.
//
// Version notes:
// * v0 is flexible. v1 (AllowReplicationFactorChange, Kafka 4.1) is not
//   offered.

func init() { regKey(45, 0, 0, handleAlterPartitionReassignments) }

func handleAlterPartitionReassignments(b *Broker, r *request) (kmsg.Response, error) {
	req := r.kreq.(*kmsg.AlterPartitionAssignmentsRequest)
	resp := req.ResponseKind().(*kmsg.AlterPartitionAssignmentsResponse)
	if code := r.authzClusterErr(acl.OpAlter); code != 0 {
		resp.ErrorCode = code
		return resp, nil
	}
	reqs := map[zkdata.TopicPartition][]int32{}
	for _, rt := range req.Topics {
		for _, rp := range rt.Partitions {
			reqs[zkdata.TopicPartition{Topic: rt.Topic, Partition: rp.Partition}] = rp.Replicas
		}
	}
	codes := map[zkdata.TopicPartition]int16{}
	if adm, ok := b.cluster.(clusterAdmin); ok {
		ctx, cancel := context.WithTimeout(b.ctx, time.Duration(max(req.TimeoutMillis, 1000))*time.Millisecond)
		defer cancel()
		var err error
		codes, err = adm.alterReassignments(ctx, reqs)
		if err != nil {
			resp.ErrorCode = errUnknown
			if errors.Is(err, errNotControllerNow) {
				resp.ErrorCode = errNotController
			}
			resp.ErrorMessage = kmsg.StringPtr(err.Error())
			return resp, nil
		}
	} else {
		for tp, target := range reqs {
			t, ok := b.cluster.Topic(tp.Topic)
			switch {
			case !ok || tp.Partition < 0 || int(tp.Partition) >= len(t.Partitions):
				codes[tp] = errUnknownTopicOrPart
			case target == nil:
				codes[tp] = errNoReassignmentInProgress
			case len(target) != 1 || target[0] != b.cfg.BrokerID:
				codes[tp] = errInvalidReplicaAssignment
			default:
				codes[tp] = 0
			}
		}
	}
	for _, rt := range req.Topics {
		st := kmsg.NewAlterPartitionAssignmentsResponseTopic()
		st.Topic = rt.Topic
		for _, rp := range rt.Partitions {
			sp := kmsg.NewAlterPartitionAssignmentsResponseTopicPartition()
			sp.Partition = rp.Partition
			sp.ErrorCode = codes[zkdata.TopicPartition{Topic: rt.Topic, Partition: rp.Partition}]
			st.Partitions = append(st.Partitions, sp)
		}
		resp.Topics = append(resp.Topics, st)
	}
	return resp, nil
}
