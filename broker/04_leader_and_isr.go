package broker

import (
	"github.com/osprey-kafka/osprey/broker/acl"
	"github.com/twmb/franz-go/pkg/kmsg"
)

// LeaderAndIsr: v0-6
//
// Behavior:
// * Sent by the controller (ZooKeeper mode) to the replicas of partitions
//   whose leader, leader epoch, ISR or replicas it changed; never by clients.
// * A request whose controller epoch is older than the newest this broker
//   has seen gets STALE_CONTROLLER_EPOCH (top level and every partition) and
//   changes nothing; so does a broker epoch (v2+, -1 = not checked) older
//   than this broker's registration (its /brokers/ids czxid):
//   STALE_BROKER_EPOCH.
// * Per partition, a state whose leader epoch is older than the one this
//   broker has, or equal with an older zkVersion, gets
//   STALE_CONTROLLER_EPOCH and is ignored; one whose replicas do not include
//   this broker gets UNKNOWN_TOPIC_OR_PARTITION. The others replace the
//   partition's leader, epoch, ISR and replicas in the broker's view, and
//   the replicas it hosts become leaders or followers (logs opened for new
//   ones), through the same callback any change of the broker's view
//   goes through.
// * Deviation: Kafka answers a state with the same leader epoch
//   STALE_CONTROLLER_EPOCH; here it is applied when its zkVersion is not
//   older (idempotent when nothing changed), because this controller does not
//   bump the leader epoch when it only changes the replicas (reassignment
//   start) and resends every state to a broker after a failed send.
// * A partition of a topic the broker does not know yet is recorded and
//   applied when the topic's assignment is read (a reload is triggered).
// * A single broker without a metadata store has no controller: every
//   partition gets STALE_CONTROLLER_EPOCH.
//
// Version notes:
// * v1: IsNew; v2: broker epoch, partitions grouped by topic; v3: adding
//   and removing replicas (the broker takes the full replica list, which
//   includes them); v4: flexible; v5: topic ids, request type (full or
//   incremental: both are applied the same way), responses by topic id;
//   v6: leader recovery state (ignored: always recovered here).

func init() { regKeyMode(zkOnly, 4, 0, 6, handleLeaderAndIsr) }

func handleLeaderAndIsr(b *Broker, r *request) (kmsg.Response, error) {
	req := r.kreq.(*kmsg.LeaderAndISRRequest)
	resp := req.ResponseKind().(*kmsg.LeaderAndISRResponse)
	if err := b.controlHook(req); err != nil {
		return nil, err
	}
	if code := r.authzClusterErr(acl.OpClusterAction); code != 0 {
		resp.ErrorCode = code // only brokers (the controller) may send it
		return resp, nil
	}
	var parts []ctlPartition
	add := func(topic string, id [16]byte, ps kmsg.LeaderAndISRRequestTopicPartition) {
		parts = append(parts, ctlPartition{Topic: topic, TopicID: id, Partition: ps.Partition, Leader: ps.Leader,
			LeaderEpoch: ps.LeaderEpoch, ISR: ps.ISR, ZkVersion: ps.ZKVersion, Replicas: ps.Replicas})
	}
	if req.Version <= 1 {
		for _, ps := range req.PartitionStates {
			add(ps.Topic, [16]byte{}, ps)
		}
	} else {
		for _, ts := range req.TopicStates {
			for _, ps := range ts.PartitionStates {
				add(ts.Topic, ts.TopicID, ps)
			}
		}
	}
	brokerEpoch := int64(-1)
	if req.Version >= 2 {
		brokerEpoch = req.BrokerEpoch
	}
	var top int16
	var codes []int16
	if cc, ok := b.cluster.(controlled); ok {
		top, codes = cc.applyLeaderAndIsr(req.ControllerEpoch, brokerEpoch, parts)
	} else {
		top, codes = errStaleControllerEpoch, fill(len(parts), errStaleControllerEpoch)
	}
	resp.ErrorCode = top
	byID := map[[16]byte]int{}
	for i, p := range parts {
		if req.Version <= 4 {
			rp := kmsg.NewLeaderAndISRResponseTopicPartition()
			rp.Topic, rp.Partition, rp.ErrorCode = p.Topic, p.Partition, codes[i]
			resp.Partitions = append(resp.Partitions, rp)
			continue
		}
		j, ok := byID[p.TopicID]
		if !ok {
			rt := kmsg.NewLeaderAndISRResponseTopic()
			rt.TopicID = p.TopicID
			resp.Topics = append(resp.Topics, rt)
			j = len(resp.Topics) - 1
			byID[p.TopicID] = j
		}
		rp := kmsg.NewLeaderAndISRResponseTopicPartition()
		rp.Partition, rp.ErrorCode = p.Partition, codes[i]
		resp.Topics[j].Partitions = append(resp.Topics[j].Partitions, rp)
	}
	return resp, nil
}
