package broker

import "github.com/twmb/franz-go/pkg/kmsg"

// FindCoordinator: v0-4
//
// Behavior:
// * Group keys: the coordinator is the leader of the group's
//   __consumer_offsets partition (this broker in a single-broker cluster).
// * Transaction keys (type 1): the leader of the id's __transaction_state
//   partition; the first such request creates the topic
//   (transaction.state.log.num.partitions, replication factor
//   transaction.state.log.replication.factor, see createStateTopic)
//   and gets COORDINATOR_NOT_AVAILABLE until it has leaders.
// * Share keys (type 2, "group:topicId:partition", inter-broker with
//   CLUSTER_ACTION): the leader of the key's __share_group_state
//   partition, created on first use like __transaction_state.
//
// Version notes:
// * v1: key type, error message; v3: flexible; v4: several keys at once.

func init() { regKey(10, 0, 4, handleFindCoordinator) }

func handleFindCoordinator(b *Broker, r *request) (kmsg.Response, error) {
	req := r.kreq.(*kmsg.FindCoordinatorRequest)
	resp := req.ResponseKind().(*kmsg.FindCoordinatorResponse)
	keys := req.CoordinatorKeys
	if req.Version < 4 {
		keys = []string{req.CoordinatorKey}
	}
	for _, key := range keys {
		c := kmsg.NewFindCoordinatorResponseCoordinator()
		c.Key = key
		c.NodeID, c.Port = -1, -1
		if code := r.coordinatorKeyDenied(req.CoordinatorType, key); code != 0 {
			c.ErrorCode = code
			resp.Coordinators = append(resp.Coordinators, c)
			continue
		}
		switch req.CoordinatorType {
		case 0:
		case 1, 2:
			find := b.txnCoordinatorFor
			if req.CoordinatorType == 2 {
				find = b.shareState.coordinatorFor
			}
			if bi, ok := find(key); ok {
				c.NodeID = bi.ID
				c.Host, c.Port = bi.at(r.clientListener())
			} else {
				c.ErrorCode = errCoordinatorNotAvail
			}
			resp.Coordinators = append(resp.Coordinators, c)
			continue
		default:
			c.ErrorCode = errInvalidRequest
			resp.Coordinators = append(resp.Coordinators, c)
			continue
		}
		if bi, ok := b.groupCoordinatorFor(key); ok {
			c.NodeID = bi.ID
			c.Host, c.Port = bi.at(r.clientListener())
		} else {
			c.ErrorCode = errCoordinatorNotAvail
		}
		resp.Coordinators = append(resp.Coordinators, c)
	}
	if req.Version < 4 {
		c := resp.Coordinators[0]
		resp.Coordinators = nil
		resp.ErrorCode, resp.NodeID, resp.Host, resp.Port = c.ErrorCode, c.NodeID, c.Host, c.Port
	}
	return resp, nil
}

// groupCoordinatorFor finds the broker leading the group's offsets partition.
func (b *Broker) groupCoordinatorFor(group string) (BrokerInfo, bool) {
	t, ok := b.cluster.Topic(offsetsTopic)
	if !ok || len(t.Partitions) == 0 {
		return BrokerInfo{}, false
	}
	leader := t.Partitions[groupPartition(group, int32(len(t.Partitions)))].Leader
	for _, bi := range b.cluster.Brokers() {
		if bi.ID == leader {
			return bi, true
		}
	}
	return BrokerInfo{}, false
}

// coordinatorCode is NOT_COORDINATOR unless this broker coordinates group,
// and COORDINATOR_LOAD_IN_PROGRESS while it has not loaded the group's
// offsets partition since it became its leader.
func (b *Broker) coordinatorCode(group string) int16 {
	if group == "" {
		return errInvalidGroupID
	}
	bi, ok := b.groupCoordinatorFor(group)
	if !ok {
		return errCoordinatorNotAvail
	}
	if bi.ID != b.cfg.BrokerID {
		return errNotCoordinator
	}
	if !b.groups.isLoaded(groupPartition(group, b.groups.partitions())) {
		return errCoordinatorLoading
	}
	return 0
}
