package broker

// A group id names one group of one type: classic and consumer groups live
// in the group coordinator's map (groups.go), share groups in b.shares
// (share_groups.go). The APIs of one type refuse another type's id as
// Kafka's group coordinator does:
//
//   - JoinGroup: INCONSISTENT_GROUP_PROTOCOL (with an empty member id);
//   - SyncGroup, Heartbeat, LeaveGroup: UNKNOWN_MEMBER_ID (a share group
//     has no classic members; these never create a group);
//   - OffsetCommit, TxnOffsetCommit: GROUP_ID_NOT_FOUND on every partition,
//     in every version ("is not a consumer group");
//   - ConsumerGroupHeartbeat, ConsumerGroupDescribe: GROUP_ID_NOT_FOUND;
//   - DescribeGroups: Dead, and from v6 GROUP_ID_NOT_FOUND ("is not a
//     classic group");
//   - ShareGroupHeartbeat with a classic or consumer group's id:
//     GROUP_ID_NOT_FOUND (76_share_group_heartbeat.go).

// isShareGroup reports whether name is a share group's id. It takes
// b.shares.mu and releases it: callers must not hold a group's mu.
func (b *Broker) isShareGroup(name string) bool {
	s := &b.shares
	s.mu.Lock()
	defer s.mu.Unlock()
	_, ok := s.groups[name]
	return ok
}

// notConsumerGroupMsg is Kafka's message for a share group's id reaching
// the consumer group or offset APIs.
func notConsumerGroupMsg(name string) string { return "Group " + name + " is not a consumer group." }
