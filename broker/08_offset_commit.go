package broker

import (
	"time"

	"github.com/twmb/franz-go/pkg/kmsg"
)

// OffsetCommit: v0-8
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
//   UNKNOWN_TOPIC_OR_PARTITION.
//
// Version notes:
// * v1: generation and member; v2-4: retention time (ignored: offsets are
//   kept until the group is deleted); v6: leader epoch; v7: instance id;
//   v8: flexible.

func init() { regKey(8, 0, 8, handleOffsetCommit) }

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
	if code := b.coordinatorCode(req.Group); code != 0 {
		return all(code)
	}
	simple := req.Version == 0 || (req.Generation < 0 && req.MemberID == "")
	g := b.groups.get(req.Group, simple)
	if g == nil {
		return all(errIllegalGeneration)
	}
	g.mu.Lock()
	defer g.mu.Unlock()
	if simple {
		if len(g.members) > 0 {
			return all(errIllegalGeneration)
		}
	} else {
		m, ok := g.members[req.MemberID]
		switch {
		case !ok:
			return all(errUnknownMemberID)
		case req.Generation != g.generation:
			return all(errIllegalGeneration)
		case g.state == groupCompletingRebalance:
			return all(errRebalanceInProgress)
		}
		m.lastSession = time.Now()
	}

	now := time.Now().UnixMilli()
	var recs []kvRecord
	var commits []struct {
		tp topicPartition
		oc offsetCommit
	}
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
			recs = append(recs, kvRecord{key: offsetKey(g.name, tp), value: offsetValue(oc)})
			commits = append(commits, struct {
				tp topicPartition
				oc offsetCommit
			}{tp, oc})
		}
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
