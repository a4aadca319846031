package broker

import (
	"github.com/osprey-kafka/osprey/broker/acl"
	"github.com/twmb/franz-go/pkg/kmsg"
)

// StopReplica: v0-3
//
// Behavior:
// * Sent by the controller (ZooKeeper mode) to brokers that lose a replica
//   (reassignment completed, topic deleted); never by clients.
// * Controller-epoch and broker-epoch (v1+) fencing as LeaderAndIsr:
//   STALE_CONTROLLER_EPOCH / STALE_BROKER_EPOCH (top level and every
//   partition), nothing changes.
// * Per partition: a leader epoch (v3) older than the one this broker has
//   gets FENCED_LEADER_EPOCH; -1 (none) and -2 (deletion) always pass.
//   Without delete the replica stops fetching; with delete it also leaves
//   this broker's view (the broker no longer among its replicas) and its
//   log directory is deleted, also when the broker did not host it any more.
//
// Version notes:
// * v1: broker epoch, partitions grouped by topic; v2: flexible; v3: per
//   partition leader epoch and delete flag (the top-level flag is gone).

func init() { regKeyMode(zkOnly, 5, 0, 3, handleStopReplica) }

func handleStopReplica(b *Broker, r *request) (kmsg.Response, error) {
	req := r.kreq.(*kmsg.StopReplicaRequest)
	resp := req.ResponseKind().(*kmsg.StopReplicaResponse)
	if err := b.controlHook(req); err != nil {
		return nil, err
	}
	if code := r.authzClusterErr(acl.OpClusterAction); code != 0 {
		resp.ErrorCode = code // only brokers (the controller) may send it
		return resp, nil
	}
	var parts []stopPartition
	for _, t := range req.Topics {
		switch {
		case req.Version == 0:
			parts = append(parts, stopPartition{Topic: t.Topic, Partition: t.Partition, LeaderEpoch: -1, Delete: req.DeletePartitions})
		case req.Version <= 2:
			for _, p := range t.Partitions {
				parts = append(parts, stopPartition{Topic: t.Topic, Partition: p, LeaderEpoch: -1, Delete: req.DeletePartitions})
			}
		default:
			for _, ps := range t.PartitionStates {
				parts = append(parts, stopPartition{Topic: t.Topic, Partition: ps.Partition, LeaderEpoch: ps.LeaderEpoch, Delete: ps.Delete})
			}
		}
	}
	brokerEpoch := int64(-1)
	if req.Version >= 1 {
		brokerEpoch = req.BrokerEpoch
	}
	var codes []int16
	if cc, ok := b.cluster.(controlled); ok {
		resp.ErrorCode, codes = cc.applyStopReplica(req.ControllerEpoch, brokerEpoch, parts)
	} else {
		resp.ErrorCode, codes = errStaleControllerEpoch, fill(len(parts), errStaleControllerEpoch)
	}
	for i, p := range parts {
		rp := kmsg.NewStopReplicaResponsePartition()
		rp.Topic, rp.Partition, rp.ErrorCode = p.Topic, p.Partition, codes[i]
		resp.Partitions = append(resp.Partitions, rp)
	}
	return resp, nil
}
