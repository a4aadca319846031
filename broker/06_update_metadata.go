package broker

import (
	"github.com/osprey-kafka/osprey/broker/acl"
	"github.com/twmb/franz-go/pkg/kmsg"
)

// UpdateMetadata: v0-7
//
// Behavior:
// * Sent by the controller (ZooKeeper mode) to every live broker after a
//   change of partition states or of the live brokers; never by clients.
// * Controller-epoch and broker-epoch (v5+) fencing as LeaderAndIsr:
//   STALE_CONTROLLER_EPOCH / STALE_BROKER_EPOCH, nothing changes.
// * The controller id and the partition states (those not older than the
//   view's, by leader epoch and zkVersion) replace what the broker's view
//   holds, which Metadata, DescribeCluster and the follower fetchers read.
//   The live brokers (host and port of the PLAINTEXT endpoint, else the
//   first) are decoded but not applied: the broker's own watch on
//   /brokers/ids keeps them, and an UpdateMetadata built before the latest
//   registration must not take a live broker out of the view (Kafka, fed
//   only by UpdateMetadata in order, has no second source to race with). Partitions the broker hosts take the new state as from
//   LeaderAndIsr. A topic whose partitions all come with leader -2 (being
//   deleted) leaves the view.
// * A single broker without a metadata store: STALE_CONTROLLER_EPOCH.
//
// Version notes:
// * v1: endpoints; v2: rack; v3: listener names; v4: offline replicas
//   (ignored); v5: broker epoch, states grouped by topic; v6: flexible;
//   v7: topic ids.

func init() { regKeyMode(zkOnly, 6, 0, 7, handleUpdateMetadata) }

func handleUpdateMetadata(b *Broker, r *request) (kmsg.Response, error) {
	req := r.kreq.(*kmsg.UpdateMetadataRequest)
	resp := req.ResponseKind().(*kmsg.UpdateMetadataResponse)
	if err := b.controlHook(req); err != nil {
		return nil, err
	}
	if code := r.authzClusterErr(acl.OpClusterAction); code != 0 {
		resp.ErrorCode = code // only brokers (the controller) may send it
		return resp, nil
	}
	var parts []ctlPartition
	add := func(topic string, id [16]byte, ps kmsg.UpdateMetadataRequestTopicPartition) {
		parts = append(parts, ctlPartition{Topic: topic, TopicID: id, Partition: ps.Partition, Leader: ps.Leader,
			LeaderEpoch: ps.LeaderEpoch, ISR: ps.ISR, ZkVersion: ps.ZKVersion, Replicas: ps.Replicas})
	}
	if req.Version <= 4 {
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
	brokers := make([]BrokerInfo, 0, len(req.LiveBrokers))
	for _, lb := range req.LiveBrokers {
		bi := brokerFromUpdateMetadata(lb, req.Version, b.cfg.interBrokerListener())
		if lb.Rack != nil {
			bi.Rack = *lb.Rack
		}
		brokers = append(brokers, bi)
	}
	brokerEpoch := int64(-1)
	if req.Version >= 5 {
		brokerEpoch = req.BrokerEpoch
	}
	if cc, ok := b.cluster.(controlled); ok {
		resp.ErrorCode = cc.applyUpdateMetadata(req.ControllerID, req.ControllerEpoch, brokerEpoch, brokers, parts)
	} else {
		resp.ErrorCode = errStaleControllerEpoch
	}
	return resp, nil
}
