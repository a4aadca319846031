package broker

import (
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
// * Topics null: every topic the group has share-partitions of on this
//   broker. Share-partition state is read from this broker only, so a
//   partition led by another broker shows -1.
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
		case !b.cfg.Share.Enable:
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
			if part, code := b.leaderPartition(info, true, p); code == 0 {
				sp.LeaderEpoch = part.epoch()
				sp.StartOffset, sp.Lag = b.shares.offsetAndLag(sharePartKey{group, info.ID, p}, part.log.HighWatermark())
			}
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

// groupTopics lists the topics (and partitions) the group has
// share-partitions of on this broker, by name.
func (s *shareCoordinator) groupTopics(b *Broker, group string) []kmsg.DescribeShareGroupOffsetsRequestGroupTopic {
	s.mu.Lock()
	byID := map[[16]byte][]int32{}
	for k := range s.parts {
		if k.group == group {
			byID[k.topic] = append(byID[k.topic], k.partition)
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
// hw (records below hw neither acknowledged nor archived); -1, -1 when the
// group has not fetched the partition.
func (s *shareCoordinator) offsetAndLag(k sharePartKey, hw int64) (int64, int64) {
	s.mu.Lock()
	defer s.mu.Unlock()
	p := s.parts[k]
	if p == nil {
		return -1, -1
	}
	snap := p.Snapshot(time.Now())
	return snap.StartOffset, max(0, hw-snap.StartOffset-int64(snap.Acknowledged+snap.Archived))
}
