package broker

import (
	"context"
	"sort"
	"time"

	"github.com/osprey-kafka/osprey/broker/acl"
	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kmsg"
)

// DescribeShareGroupOffsets: v0-1
//
// Behavior:
// * Per share-partition of the group: its start offset (SPSO; -1 for a
//   partition the group has not fetched yet) and (v1) its lag: records
//   below the high watermark not yet acknowledged or archived.
// * Answered by the group's coordinator. A share-partition this broker
//   leads and holds is described from memory; any other from the share
//   coordinator's summary (ReadShareGroupStateSummary): its start offset,
//   and its lag only when this broker leads the partition (else -1).
// * Topics null: the partitions assigned to the group's members and
//   those this broker holds share-partitions of.
// * Unknown group: GROUP_ID_NOT_FOUND; DESCRIBE on the group and on each
//   topic (TOPIC_AUTHORIZATION_FAILED).
//
// Version notes:
// * v1: Lag (KIP-1226).

func init() { regKey(90, 0, 1, handleDescribeShareGroupOffsets) }

func handleDescribeShareGroupOffsets(b *Broker, r *request) (kmsg.Response, error) {
	req := r.kreq.(*kmsg.DescribeShareGroupOffsetsRequest)
	resp := req.ResponseKind().(*kmsg.DescribeShareGroupOffsetsResponse)
	for _, rg := range req.Groups {
		g := kmsg.NewDescribeShareGroupOffsetsResponseGroup()
		g.GroupID = rg.GroupID
		switch {
		case !b.shareGroupsEnabled():
			g.ErrorCode = errUnsupportedVersion
		case r.groupCode(acl.OpDescribe, rg.GroupID) != 0:
			g.ErrorCode = r.groupCode(acl.OpDescribe, rg.GroupID)
		case !b.shares.hasGroup(rg.GroupID):
			g.ErrorCode = errGroupIDNotFound
		default:
			topics := rg.Topics
			if topics == nil {
				topics = b.shares.groupTopics(b, rg.GroupID)
			}
			for _, t := range topics {
				g.Topics = append(g.Topics, b.describeShareOffsets(r, rg.GroupID, t))
			}
		}
		resp.Groups = append(resp.Groups, g)
	}
	return resp, nil
}

// describeShareOffsets answers one topic of a DescribeShareGroupOffsets.
func (b *Broker) describeShareOffsets(r *request, group string, rt kmsg.DescribeShareGroupOffsetsRequestGroupTopic) kmsg.DescribeShareGroupOffsetsResponseGroupTopic {
	t := kmsg.NewDescribeShareGroupOffsetsResponseGroupTopic()
	t.Topic = rt.Topic
	info, known := b.cluster.Topic(rt.Topic)
	t.TopicID = info.ID
	for _, p := range rt.Partitions {
		sp := kmsg.NewDescribeShareGroupOffsetsResponseGroupTopicPartition()
		sp.Partition, sp.StartOffset, sp.LeaderEpoch, sp.Lag = p, -1, -1, -1
		switch {
		case !r.authorizeTopic(acl.OpDescribe, rt.Topic):
			sp.ErrorCode = kerr.TopicAuthorizationFailed.Code
		case !known || p < 0 || int(p) >= len(info.Partitions):
			sp.ErrorCode = errUnknownTopicOrPart
		default:
			k := sharePartKey{group, info.ID, p}
			hw := int64(-1)
			if part, code := b.leaderPartition(info, true, p); code == 0 {
				hw = part.log.HighWatermark()
				if start, lag, ok := b.shares.offsetAndLag(k, part.epoch(), hw); ok {
					sp.LeaderEpoch, sp.StartOffset, sp.Lag = part.epoch(), start, lag
					break
				}
			}
			sp.ErrorCode = b.describeSharePartitionStored(k, hw, &sp)
		}
		t.Partitions = append(t.Partitions, sp)
	}
	return t
}

// hasGroup reports whether the share group exists here.
func (s *shareCoordinator) hasGroup(name string) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.groups[name] != nil
}

// groupTopics lists the topics (and partitions) the group's members are
// assigned and the group has share-partitions of on this broker, by name.
func (s *shareCoordinator) groupTopics(b *Broker, group string) []kmsg.DescribeShareGroupOffsetsRequestGroupTopic {
	s.mu.Lock()
	seen := map[sharePartKey]bool{}
	byID := map[[16]byte][]int32{}
	add := func(k sharePartKey) {
		if !seen[k] {
			seen[k] = true
			byID[k.topic] = append(byID[k.topic], k.partition)
		}
	}
	for k := range s.parts {
		if k.group == group {
			add(k)
		}
	}
	if g := s.groups[group]; g != nil {
		for _, m := range g.members {
			for tid, ps := range m.assigned {
				for _, p := range ps {
					add(sharePartKey{group, tid, p})
				}
			}
		}
	}
	s.mu.Unlock()
	var out []kmsg.DescribeShareGroupOffsetsRequestGroupTopic
	for id, ps := range byID {
		if t, ok := b.cluster.TopicByID(id); ok {
			sort.Slice(ps, func(i, j int) bool { return ps[i] < ps[j] })
			out = append(out, kmsg.DescribeShareGroupOffsetsRequestGroupTopic{Topic: t.Name, Partitions: ps})
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Topic < out[j].Topic })
	return out
}

// offsetAndLag is the share-partition's start offset and its lag against
// hw (records below hw neither acknowledged nor archived) when this
// broker holds it loaded at leaderEpoch.
func (s *shareCoordinator) offsetAndLag(k sharePartKey, leaderEpoch int32, hw int64) (start, lag int64, ok bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	p := s.partitionLocked(k, leaderEpoch)
	if p == nil {
		return -1, -1, false
	}
	snap := p.Snapshot(time.Now())
	return snap.StartOffset, max(0, hw-snap.StartOffset-int64(snap.Acknowledged+snap.Archived)), true
}

// describeSharePartitionStored fills sp from the share coordinator's
// summary (ReadShareGroupStateSummary) for a share-partition this broker
// does not hold: its start offset and leader epoch, and its lag when hw is
// known (this broker leads the partition) and the state counts the
// records delivered for good. A share-partition never written stays -1.
func (b *Broker) describeSharePartitionStored(k sharePartKey, hw int64, sp *kmsg.DescribeShareGroupOffsetsResponseGroupTopicPartition) int16 {
	if b.shareState.partitions() == 0 {
		return 0 // no share-partition state written anywhere yet
	}
	ctx, cancel := context.WithTimeout(b.ctx, shareStateTimeout)
	defer cancel()
	st, ok, code := b.summaryShareState(ctx, k.stateKey())
	if code != 0 || !ok || st.StartOffset < 0 {
		return code
	}
	sp.StartOffset, sp.LeaderEpoch = st.StartOffset, st.LeaderEpoch
	if hw >= 0 && st.DeliveryCompleteCount >= 0 {
		sp.Lag = max(0, hw-st.StartOffset-int64(st.DeliveryCompleteCount))
	}
	return 0
}
