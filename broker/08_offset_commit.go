package broker

import (
	"time"

	"github.com/osprey-kafka/osprey/broker/acl"
	"github.com/twmb/franz-go/pkg/kmsg"
)

// OffsetCommit: v0-9
//
// Behavior:
// * Members of a group commit with their member id and generation; a
//   commit with generation -1 and no member id is a "simple" commit,
//   allowed while the group has no members (standalone consumers, admin
//   offset resets).
// * Offsets are written to __consumer_offsets (one batch per request, an
//   offset-commit record per partition) before the answer; a write failure
//   is reported per partition.
// * During CompletingRebalance commits get REBALANCE_IN_PROGRESS.
// * Commits for topics or partitions that do not exist get
//   UNKNOWN_TOPIC_OR_PARTITION; commits to a share group's id
//   GROUP_ID_NOT_FOUND on every partition.
//
// Version notes:
// * v1: generation and member; v2-4: retention time (ignored: offsets are
//   kept until the group is deleted); v6: leader epoch; v7: instance id;
//   v8: flexible; v9: the generation is a consumer group member's epoch
//   (consumer_groups.go checks it: STALE_MEMBER_EPOCH).

func init() { regKey(8, 0, 9, handleOffsetCommit) }

func handleOffsetCommit(b *Broker, r *request) (kmsg.Response, error) {
	req := r.kreq.(*kmsg.OffsetCommitRequest)
	resp := req.ResponseKind().(*kmsg.OffsetCommitResponse)
	all := func(code int16) (kmsg.Response, error) {
		for _, rt := range req.Topics {
			st := kmsg.NewOffsetCommitResponseTopic()
			st.Topic = rt.Topic
			for _, rp := range rt.Partitions {
				sp := kmsg.NewOffsetCommitResponseTopicPartition()
				sp.Partition, sp.ErrorCode = rp.Partition, code
				st.Partitions = append(st.Partitions, sp)
			}
			resp.Topics = append(resp.Topics, st)
		}
		return resp, nil
	}
	if code := r.groupCode(acl.OpRead, req.Group); code != 0 {
		return all(code)
	}
	if b.isShareGroup(req.Group) {
		return all(errGroupIDNotFound) // group_types.go
	}
	simple := req.Version == 0 || (req.Generation < 0 && req.MemberID == "")
	g := b.groups.get(req.Group, simple)
	if g == nil {
		return all(errIllegalGeneration)
	}
	g.mu.Lock()
	defer g.mu.Unlock()
	if code := g.commitAllowed(req, simple); code != 0 {
		return all(code)
	}

	allowed, denied := r.commitTopics(req)
	recs, commits, codes := b.offsetCommits(g.name, allowed)
	for tp := range denied {
		codes[tp] = denied[tp]
	}
	code := b.groups.writeGroupRecords(g.name, recs)
	for _, c := range commits {
		codes[c.tp] = code
		if code == 0 {
			g.offsets[c.tp] = c.oc
		}
	}
	for _, rt := range req.Topics {
		st := kmsg.NewOffsetCommitResponseTopic()
		st.Topic = rt.Topic
		for _, rp := range rt.Partitions {
			sp := kmsg.NewOffsetCommitResponseTopicPartition()
			sp.Partition = rp.Partition
			sp.ErrorCode = codes[topicPartition{rt.Topic, rp.Partition}]
			st.Partitions = append(st.Partitions, sp)
		}
		resp.Topics = append(resp.Topics, st)
	}
	return resp, nil
}

// commitAllowed checks that the committer may commit for g: a simple
// (group-less) commit only while the group has no members, otherwise a
// member of the current generation outside CompletingRebalance; the commit
// counts as the member's heartbeat. It returns the error code, 0 when
// allowed. The group's lock is held.
func (g *group) commitAllowed(req *kmsg.OffsetCommitRequest, simple bool) int16 {
	if g.cg != nil {
		return g.consumerCommitAllowed(req)
	}
	if simple {
		if len(g.members) > 0 {
			return errIllegalGeneration
		}
		return 0
	}
	m, ok := g.members[req.MemberID]
	switch {
	case !ok:
		return errUnknownMemberID
	case req.Generation != g.generation:
		return errIllegalGeneration
	case g.state == groupCompletingRebalance:
		return errRebalanceInProgress
	}
	m.lastSession = time.Now()
	return 0
}

// pendingCommit is one partition's offset to apply once its record is
// written.
type pendingCommit struct {
	tp topicPartition
	oc offsetCommit
}

// offsetCommits turns the request's partitions into the records to write
// and the commits to apply after; partitions of unknown topics get
// UNKNOWN_TOPIC_OR_PARTITION in codes.
func (b *Broker) offsetCommits(group string, req *kmsg.OffsetCommitRequest) ([]kvRecord, []pendingCommit, map[topicPartition]int16) {
	now := time.Now().UnixMilli()
	var recs []kvRecord
	var commits []pendingCommit
	codes := map[topicPartition]int16{}
	for _, rt := range req.Topics {
		t, known := b.cluster.Topic(rt.Topic)
		for _, rp := range rt.Partitions {
			tp := topicPartition{rt.Topic, rp.Partition}
			if !known || rp.Partition < 0 || int(rp.Partition) >= len(t.Partitions) {
				codes[tp] = errUnknownTopicOrPart
				continue
			}
			oc := offsetCommit{offset: rp.Offset, leaderEpoch: -1, metadata: deref(rp.Metadata), commitMs: now}
			if req.Version >= 6 {
				oc.leaderEpoch = rp.LeaderEpoch
			}
			recs = append(recs, kvRecord{key: offsetKey(group, tp), value: offsetValue(oc)})
			commits = append(commits, pendingCommit{tp, oc})
		}
	}
	return recs, commits, codes
}
