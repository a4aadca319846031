package controller

import (
	"fmt"
	"math"
	"slices"

	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kmsg"

	"github.com/osprey-kafka/osprey/broker/kraft/image"
	"github.com/osprey-kafka/osprey/broker/kraft/metadata"
)

// Election types of ElectLeaders (v1+).
const (
	electionPreferred int8 = 0
	electionUnclean   int8 = 1
)

// electLeaders answers ElectLeaders (v0-2) as Kafka's
// ReplicationControlManager.electLeaders does. With no topics it tries every
// partition and leaves out those that need no election.
func (c *Controller) electLeaders(b *batch, req *kmsg.ElectLeadersRequest) kmsg.Response {
	resp := req.ResponseKind().(*kmsg.ElectLeadersResponse)
	typ := req.ElectionType
	if req.Version == 0 {
		typ = electionPreferred
	}
	if typ != electionPreferred && typ != electionUnclean {
		resp.ErrorCode = kerr.InvalidRequest.Code
		return resp
	}
	if req.Topics == nil {
		for _, t := range b.view().Topics() {
			st := kmsg.NewElectLeadersResponseTopic()
			st.Topic = t.Name
			for _, p := range t.Partitions() {
				aerr := c.electLeader(b, t.Name, p.Index, typ)
				if aerr != nil && aerr.err == kerr.ElectionNotNeeded {
					continue
				}
				st.Partitions = append(st.Partitions, electResult(p.Index, aerr))
			}
			resp.Topics = append(resp.Topics, st)
		}
		return resp
	}
	for _, rt := range req.Topics {
		st := kmsg.NewElectLeadersResponseTopic()
		st.Topic = rt.Topic
		for _, idx := range rt.Partitions {
			st.Partitions = append(st.Partitions, electResult(idx, c.electLeader(b, rt.Topic, idx, typ)))
		}
		resp.Topics = append(resp.Topics, st)
	}
	return resp
}

func electResult(idx int32, aerr *apiError) kmsg.ElectLeadersResponseTopicPartition {
	sp := kmsg.NewElectLeadersResponseTopicPartition()
	sp.Partition, sp.ErrorCode, sp.ErrorMessage = idx, aerr.code(), aerr.message()
	return sp
}

// electLeader is Kafka's electLeader: a preferred election is not needed when
// the first replica leads, an unclean one when there is a leader.
func (c *Controller) electLeader(b *batch, topic string, idx int32, typ int8) *apiError {
	if len(b.recs) > maxRecordsPerUserOp {
		return errTooLarge // the whole request is refused; stop working on it
	}
	img := b.view()
	t, ok := img.Topic(topic)
	if !ok {
		return newErr(kerr.UnknownTopicOrPartition, "No such topic as %s", topic)
	}
	p, ok := b.partition(t, idx)
	if !ok {
		return newErr(kerr.UnknownTopicOrPartition, "No such partition as %s-%d", topic, idx)
	}
	hasPreferred := len(p.Replicas) > 0 && p.Leader == p.Replicas[0]
	if typ == electionPreferred && hasPreferred || typ == electionUnclean && p.Leader != image.NoLeader {
		return defaultErr(kerr.ElectionNotNeeded)
	}
	ch := newChange(img, t.ID, p)
	ch.election = electPreferred
	if typ == electionUnclean {
		ch.election = electUnclean
	}
	if !addChange(b, ch) {
		if typ == electionPreferred {
			return defaultErr(kerr.PreferredLeaderNotAvailable)
		}
		return defaultErr(kerr.EligibleLeadersNotAvailable)
	}
	return nil
}

// rebalance is the automatic preferred leader election
// (auto.leader.rebalance.enable). As Osprey's ZooKeeper-mode controller does
// (Kafka's KRaft controller elects every imbalanced partition and ignores the
// percentage), an active broker gets its preferred partitions back only when
// the share it prefers but does not lead is above
// leader.imbalance.per.broker.percentage. Partitions under reassignment are
// left alone.
func (c *Controller) rebalance(b *batch) {
	img := b.image()
	preferred := map[int32]int{}
	imbalanced := map[int32][]partitionRef{}
	forEachPartition(img, func(t image.Topic, p image.Partition) bool {
		if len(p.Replicas) == 0 || p.IsReassigning() {
			return true
		}
		pref := p.Replicas[0]
		preferred[pref]++
		if p.Leader != pref {
			imbalanced[pref] = append(imbalanced[pref], partitionRef{t.ID, t.Name, p.Index})
		}
		return true
	})
	brokers := make([]int32, 0, len(imbalanced))
	for id := range imbalanced {
		brokers = append(brokers, id)
	}
	slices.Sort(brokers)
	for _, id := range brokers {
		if !isActive(img, id) {
			continue
		}
		ratio := float64(len(imbalanced[id])) * 100 / float64(preferred[id])
		if ratio <= float64(c.cfg.ImbalancePercentage) {
			continue
		}
		c.log.Info("leader imbalance: moving leadership back", "broker", id, "imbalance_pct", math.Round(ratio))
		for _, ref := range imbalanced[id] {
			if c.full(b) {
				return
			}
			// Each partition has one preferred replica, so no earlier
			// change of this loop touched it: img still has it as it is.
			t, _ := img.TopicByID(ref.id)
			p, _ := t.Partition(ref.index)
			ch := newChange(img, ref.id, p)
			ch.election = electPreferred
			addChange(b, ch)
		}
	}
}

type partitionRef struct {
	id    metadata.Uuid
	name  string
	index int32
}

// allocateProducerIDs answers AllocateProducerIds with the next block of
// 1000 ids (Kafka's ProducerIdControlManager); the block is recorded in a
// ProducerIdsRecord, so blocks stay unique across controller changes.
func (c *Controller) allocateProducerIDs(b *batch, req *kmsg.AllocateProducerIDsRequest) kmsg.Response {
	resp := req.ResponseKind().(*kmsg.AllocateProducerIDsResponse)
	img := b.image()
	if br, ok := img.Broker(req.BrokerID); !ok || br.Epoch != req.BrokerEpoch {
		resp.ErrorCode = kerr.StaleBrokerEpoch.Code
		return resp
	}
	start := max(img.NextProducerID(), 0)
	if start > math.MaxInt64-producerIDBlockSize {
		resp.ErrorCode = kerr.UnknownServerError.Code
		return resp
	}
	b.add(&metadata.ProducerIdsRecord{BrokerID: req.BrokerID, BrokerEpoch: req.BrokerEpoch, NextProducerID: start + producerIDBlockSize}, 0)
	resp.ProducerIDStart, resp.ProducerIDLen = start, producerIDBlockSize
	return resp
}

// Endpoint types of DescribeCluster (KIP-919).
const (
	endpointBrokers     int8 = 1
	endpointControllers int8 = 2
)

// describeCluster answers DescribeCluster sent to a controller (KIP-919):
// the registered controllers, each at its controller listener, and this node,
// the active controller, as the controller id.
func (c *Controller) describeCluster(b *batch, req *kmsg.DescribeClusterRequest) kmsg.Response {
	resp := req.ResponseKind().(*kmsg.DescribeClusterResponse)
	resp.ClusterAuthorizedOperations = math.MinInt32
	resp.EndpointType = endpointControllers
	img := b.image()
	typ := req.EndpointType
	if req.Version == 0 {
		typ = endpointBrokers
	}
	mismatch := func(code *kerr.Error, msg string) kmsg.Response {
		resp.ErrorCode = code.Code
		if req.Version == 0 {
			resp.ErrorCode = kerr.InvalidRequest.Code
		}
		resp.ErrorMessage = strPtr(msg)
		return resp
	}
	switch {
	case img.MetadataVersion() < image.MetadataVersion37IV0:
		resp.ErrorCode = kerr.UnsupportedVersion.Code
		resp.ErrorMessage = strPtr("Direct-to-controller communication is not supported with the current MetadataVersion.")
		return resp
	case typ != endpointBrokers && typ != endpointControllers:
		return mismatch(kerr.UnsupportedEndpointType, fmt.Sprintf("Unsupported endpoint type %d", typ))
	case typ != endpointControllers:
		return mismatch(kerr.MismatchedEndpointType, "The request was sent to an endpoint of type CONTROLLER, but we wanted an endpoint of type BROKER")
	}
	resp.ClusterID = c.cfg.ClusterID
	resp.ControllerID = -1
	own, _ := img.Controller(c.cfg.NodeID)
	for _, ctl := range img.Controllers() {
		l, ok := controllerListener(ctl, own)
		if !ok {
			continue
		}
		nb := kmsg.NewDescribeClusterResponseBroker()
		nb.NodeID, nb.Host, nb.Port = ctl.ID, l.Host, int32(l.Port)
		resp.Brokers = append(resp.Brokers, nb)
		if ctl.ID == c.cfg.NodeID {
			resp.ControllerID = ctl.ID
		}
	}
	return resp
}

// controllerListener picks the endpoint to show for ctl: the listener named
// as this node's first controller listener (the one the request most likely
// came in on), else ctl's first.
func controllerListener(ctl, own image.Controller) (image.Listener, bool) {
	if len(own.Listeners) > 0 {
		if l, ok := ctl.Listener(own.Listeners[0].Name); ok {
			return l, true
		}
	}
	if len(ctl.Listeners) == 0 {
		return image.Listener{}, false
	}
	return ctl.Listeners[0], true
}
