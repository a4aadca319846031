package broker

import (
	"sort"

	"github.com/twmb/franz-go/pkg/kmsg"
)

// OffsetFetch: v0-9
//
// Behavior:
// * Returns committed offsets (-1 and no error for partitions without a
//   commit). A null topic list (v2+) returns every committed offset of the
//   group.
// * v8+: several groups in one request, each with its own error code.
// * RequireStable (v7+): a partition with a transactional offset commit
//   still pending (its transaction not ended) gets UNSTABLE_OFFSET_COMMIT,
//   which the client retries; without it the last committed offset is
//   returned.
//
// Version notes:
// * v2: top-level error code; v5: leader epoch; v6: flexible;
//   v7: require stable; v8: groups array; v9: member id and epoch, checked
//   for consumer groups (UNKNOWN_MEMBER_ID, STALE_MEMBER_EPOCH).

func init() { regKey(9, 0, 9, handleOffsetFetch) }

type offsetFetchPart struct {
	partition   int32
	offset      int64
	leaderEpoch int32
	metadata    string
	code        int16
}

type offsetFetchTopic struct {
	topic string
	parts []offsetFetchPart
}

// fetchGroupOffsets answers one group; topics nil = all committed offsets.
func (b *Broker) fetchGroupOffsets(group string, topics map[string][]int32, order []string, requireStable bool) ([]offsetFetchTopic, int16) {
	if code := b.coordinatorCode(group); code != 0 {
		return nil, code
	}
	g := b.groups.get(group, false)
	committed := map[topicPartition]offsetCommit{}
	unstable := map[topicPartition]bool{}
	if g != nil {
		g.mu.Lock()
		for tp, oc := range g.offsets {
			committed[tp] = oc
		}
		if requireStable {
			for _, pend := range g.pendingTxn {
				for tp := range pend {
					unstable[tp] = true
				}
			}
		}
		g.mu.Unlock()
	}
	if topics == nil {
		topics = map[string][]int32{}
		for tp := range committed {
			topics[tp.topic] = append(topics[tp.topic], tp.partition)
		}
		order = order[:0]
		for t := range topics {
			order = append(order, t)
		}
		sort.Strings(order)
		for _, ps := range topics {
			sort.Slice(ps, func(i, j int) bool { return ps[i] < ps[j] })
		}
	}
	var out []offsetFetchTopic
	for _, t := range order {
		ft := offsetFetchTopic{topic: t}
		for _, p := range topics[t] {
			fp := offsetFetchPart{partition: p, offset: -1, leaderEpoch: -1}
			if oc, ok := committed[topicPartition{t, p}]; ok {
				fp.offset, fp.leaderEpoch, fp.metadata = oc.offset, oc.leaderEpoch, oc.metadata
			}
			if unstable[topicPartition{t, p}] {
				fp.code = errUnstableOffsetCommit
			}
			ft.parts = append(ft.parts, fp)
		}
		out = append(out, ft)
	}
	return out, 0
}

func handleOffsetFetch(b *Broker, r *request) (kmsg.Response, error) {
	req := r.kreq.(*kmsg.OffsetFetchRequest)
	resp := req.ResponseKind().(*kmsg.OffsetFetchResponse)
	if req.Version >= 8 {
		for _, rg := range req.Groups {
			var topics map[string][]int32
			var order []string
			if rg.Topics != nil {
				topics = map[string][]int32{}
				for _, t := range rg.Topics {
					topics[t.Topic] = t.Partitions
					order = append(order, t.Topic)
				}
			}
			if code := b.consumerFetchCode(rg.Group, rg.MemberID, rg.MemberEpoch); code != 0 {
				og := kmsg.NewOffsetFetchResponseGroup()
				og.Group, og.ErrorCode = rg.Group, code
				resp.Groups = append(resp.Groups, og)
				continue
			}
			res, code := r.authorizedGroupOffsets(rg.Group, topics, order, req.RequireStable)
			og := kmsg.NewOffsetFetchResponseGroup()
			og.Group, og.ErrorCode = rg.Group, code
			for _, ft := range res {
				ot := kmsg.NewOffsetFetchResponseGroupTopic()
				ot.Topic = ft.topic
				for _, fp := range ft.parts {
					op := kmsg.NewOffsetFetchResponseGroupTopicPartition()
					op.Partition, op.Offset, op.LeaderEpoch, op.ErrorCode = fp.partition, fp.offset, fp.leaderEpoch, fp.code
					op.Metadata = kmsg.StringPtr(fp.metadata)
					ot.Partitions = append(ot.Partitions, op)
				}
				og.Topics = append(og.Topics, ot)
			}
			resp.Groups = append(resp.Groups, og)
		}
		return resp, nil
	}
	var topics map[string][]int32
	var order []string
	if req.Topics != nil || req.Version < 2 {
		topics = map[string][]int32{}
		for _, t := range req.Topics {
			topics[t.Topic] = t.Partitions
			order = append(order, t.Topic)
		}
	}
	res, code := r.authorizedGroupOffsets(req.Group, topics, order, req.Version >= 7 && req.RequireStable)
	if code != 0 {
		if req.Version >= 2 {
			resp.ErrorCode = code
			return resp, nil
		}
		// v0-1 have no top-level error: report it on every partition.
		for _, t := range req.Topics {
			ot := kmsg.NewOffsetFetchResponseTopic()
			ot.Topic = t.Topic
			for _, p := range t.Partitions {
				op := kmsg.NewOffsetFetchResponseTopicPartition()
				op.Partition, op.Offset, op.ErrorCode = p, -1, code
				ot.Partitions = append(ot.Partitions, op)
			}
			resp.Topics = append(resp.Topics, ot)
		}
		return resp, nil
	}
	for _, ft := range res {
		ot := kmsg.NewOffsetFetchResponseTopic()
		ot.Topic = ft.topic
		for _, fp := range ft.parts {
			op := kmsg.NewOffsetFetchResponseTopicPartition()
			op.Partition, op.Offset, op.LeaderEpoch, op.ErrorCode = fp.partition, fp.offset, fp.leaderEpoch, fp.code
			op.Metadata = kmsg.StringPtr(fp.metadata)
			ot.Partitions = append(ot.Partitions, op)
		}
		resp.Topics = append(resp.Topics, ot)
	}
	return resp, nil
}
