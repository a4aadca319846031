package broker

import (
	"fmt"
	"time"

	"github.com/osprey-kafka/osprey/broker/cgroup"
	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kmsg"
)

// Consumer groups (KIP-848) live in the same coordinator, map and
// __consumer_offsets partitions as classic groups: a group is a consumer
// group while g.cg is set (under g.mu). The protocol's logic is in
// broker/cgroup; this file converts groups between the two protocols,
// feeds the state machine the cluster's topics and writes what it changed
// (consumer_group_records.go).

// clusterTopics is the cluster view as the consumer group state machine
// reads it. Internal topics are left out: no subscription, by name or by
// regex, assigns them.
type clusterTopics struct{ v ClusterView }

func (c clusterTopics) Topic(name string) (cgroup.Topic, bool) {
	t, ok := c.v.Topic(name)
	if !ok || t.Internal {
		return cgroup.Topic{}, false
	}
	return cgroup.Topic{Name: t.Name, ID: cgroup.TopicID(t.ID), Partitions: int32(len(t.Partitions))}, true
}

func (c clusterTopics) TopicNames() []string {
	ts := c.v.Topics()
	out := make([]string, 0, len(ts))
	for _, t := range ts {
		if !t.Internal {
			out = append(out, t.Name)
		}
	}
	return out
}

// groupType is the group's type as ListGroups v5 names it.
func (g *group) groupType() string {
	if g.cg != nil {
		return "consumer"
	}
	return "classic"
}

// stateName is the group's state as ListGroups shows it. g.mu held.
func (g *group) stateName() string {
	if g.cg != nil {
		return g.cg.State()
	}
	return g.state.String()
}

// listedProtocolType is the protocol type ListGroups shows. g.mu held.
func (g *group) listedProtocolType() string {
	if g.cg != nil {
		return "consumer"
	}
	return g.protocolType
}

// emptyClassic reports whether g is a classic group with no members (and
// none about to join), which a consumer-protocol member may take over as
// Kafka allows. g.mu held.
func (g *group) emptyClassic() bool {
	return g.cg == nil && len(g.members) == 0 && len(g.pending) == 0 && g.state == groupEmpty
}

// toConsumer makes the empty classic group a consumer group; its committed
// offsets stay. The classic group's metadata record is deleted. g.mu held.
func (g *group) toConsumer() int16 {
	if g.generation > 0 || g.protocolType != "" {
		if code := g.gc.writeGroupRecords(g.name, []kvRecord{{key: groupKey(g.name)}}); code != 0 {
			return code
		}
	}
	g.cg = cgroup.New(g.name)
	g.protocolType, g.protocol, g.leader, g.generation = "", "", "", 0
	g.stateMs = time.Now().UnixMilli()
	g.gc.b.log.Info("group now uses the consumer protocol", "group", g.name)
	return 0
}

// toClassic makes an empty consumer group a classic one again (a classic
// member joins it); its records are deleted, its offsets stay. g.mu held.
func (g *group) toClassic() int16 {
	if code := g.gc.writeGroupRecords(g.name, g.consumerTombstones()); code != 0 {
		return code
	}
	g.cg = nil
	g.state = groupEmpty
	g.stateMs = time.Now().UnixMilli()
	g.gc.b.log.Info("group now uses the classic protocol", "group", g.name)
	return 0
}

// consumerHeartbeat runs one heartbeat through the state machine, with the
// cluster's topics as the member sees them (heartbeatTopics), and makes
// what it changed durable before answering. g.mu held.
func (g *group) consumerHeartbeat(req *cgroup.Request, md cgroup.Metadata) (cgroup.Response, *cgroup.Error) {
	b := g.gc.b
	resp, err := g.cg.Heartbeat(time.Now(), md, b.cfg.Consumer.groupConfig(), req)
	if code := g.persistConsumer(); code != 0 {
		return cgroup.Response{}, &cgroup.Error{Code: kerr.ErrorForCode(code).(*kerr.Error), Msg: "writing the group's records"}
	}
	if err != nil {
		return resp, err
	}
	return resp, nil
}

// expireConsumer removes consumer group members whose session or
// revocation timed out. g.mu held.
func (g *group) expireConsumer(now time.Time) {
	removed := g.cg.Expire(now, g.gc.b.cfg.Consumer.groupConfig())
	for id, why := range removed {
		g.gc.b.log.Info("consumer group member removed", "group", g.name, "member", id, "reason", why)
	}
	if code := g.persistConsumer(); code != 0 {
		g.gc.b.log.Error("writing consumer group records", "group", g.name, "error_code", code)
	}
	if len(g.cg.Members) == 0 && len(removed) > 0 {
		g.stateMs = now.UnixMilli()
	}
	if len(removed) > 0 {
		g.maybeDowngrade(now)
	}
}

// memberHost is the address Kafka shows for a member: InetAddress.toString
// of an address without a name, "/1.2.3.4" or "/0:0:0:0:0:0:0:1".
func memberHost(r *request) string {
	return "/" + clientHost(r.c.nc)
}

// topicIDs maps topic names to the ids the consumer protocol uses.
func (b *Broker) topicID(name string) (cgroup.TopicID, bool) {
	t, ok := b.cluster.Topic(name)
	return cgroup.TopicID(t.ID), ok
}

// topicName maps a topic id back to its name ("" if unknown).
func (b *Broker) topicName(id cgroup.TopicID) string {
	t, ok := b.cluster.TopicByID(id)
	if !ok {
		return ""
	}
	return t.Name
}

func errorCode(err *cgroup.Error) (int16, *string) {
	if err == nil {
		return 0, nil
	}
	msg := fmt.Sprint(err.Msg)
	return err.Code.Code, &msg
}

// describeClassicGroup is DescribeGroups' answer for one group: a
// consumer or share group, like an unknown one, is Dead with no members,
// and from v6 carries GROUP_ID_NOT_FOUND.
func (b *Broker) describeClassicGroup(g *group, name string, version int16) kmsg.DescribeGroupsResponseGroup {
	msg := "group " + name + " not found"
	if g == nil && b.isShareGroup(name) {
		msg = "group " + name + " is not a classic group"
	}
	if g != nil {
		g.mu.Lock()
		consumer := g.cg != nil
		g.mu.Unlock()
		if !consumer {
			return g.describe()
		}
		msg = "group " + name + " is not a classic group"
	}
	d := kmsg.NewDescribeGroupsResponseGroup()
	d.Group, d.State = name, groupDead.String()
	if version >= 6 {
		d.ErrorCode, d.ErrorMessage = errGroupIDNotFound, &msg
	}
	return d
}

// consumerCommitAllowed checks an OffsetCommit to a consumer group: a
// member must exist and commit at its epoch, or at an older one for
// partitions it has held since then; a request with any partition failing
// that is refused as a whole (STALE_MEMBER_EPOCH). Members of the consumer
// protocol must use v9+; classic members commit at their generation (the
// member epoch) or get ILLEGAL_GENERATION. g.mu held.
func (g *group) consumerCommitAllowed(req *kmsg.OffsetCommitRequest) int16 {
	check, err := g.cg.ValidateCommit(req.MemberID, req.Generation)
	if err != nil {
		return err.Code.Code
	}
	if req.MemberID != "" && req.Version < 9 && !g.cg.IsClassic(req.MemberID) {
		return errUnsupportedVersion
	}
	for _, t := range req.Topics {
		id, ok := g.gc.b.topicID(t.Topic)
		if !ok {
			continue // answered UNKNOWN_TOPIC_OR_PARTITION per partition
		}
		for _, p := range t.Partitions {
			if e := check(cgroup.TP{Topic: id, Partition: p.Partition}); e != nil {
				return e.Code.Code
			}
		}
	}
	return 0
}

// consumerFetchCode checks an OffsetFetch (v9+) member id and epoch against
// a consumer group; requests without them, and classic groups, pass.
func (b *Broker) consumerFetchCode(name string, memberID *string, epoch int32) int16 {
	if memberID == nil && epoch < 0 {
		return 0
	}
	g := b.groups.get(name, false)
	if g == nil {
		return 0
	}
	g.mu.Lock()
	defer g.mu.Unlock()
	if g.cg == nil {
		return 0
	}
	if err := g.cg.ValidateFetch(memberID, epoch); err != nil {
		return err.Code.Code
	}
	return 0
}

// consumerTxnCommitAllowed checks a TxnOffsetCommit (v3+, with a member) to
// a consumer group as an OffsetCommit is checked; an epoch the member may
// not commit at is ILLEGAL_GENERATION, the code transactional producers
// know. g.mu held.
func (g *group) consumerTxnCommitAllowed(req *kmsg.TxnOffsetCommitRequest) int16 {
	check, err := g.cg.ValidateCommit(req.MemberID, req.Generation)
	if err != nil {
		if err.Code == kerr.StaleMemberEpoch {
			return errIllegalGeneration
		}
		return err.Code.Code
	}
	for _, t := range req.Topics {
		id, ok := g.gc.b.topicID(t.Topic)
		if !ok {
			continue
		}
		for _, p := range t.Partitions {
			if check(cgroup.TP{Topic: id, Partition: p.Partition}) != nil {
				return errIllegalGeneration
			}
		}
	}
	return 0
}
