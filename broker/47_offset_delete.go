package broker

import (
	"github.com/osprey-kafka/osprey/broker/acl"
	"github.com/twmb/franz-go/pkg/kmsg"
)

// OffsetDelete: v0
//
// Behavior:
// * Deletes committed offsets of a group (tombstones in __consumer_offsets).
// * A partition of a topic the group's live consumers subscribe to gets
//   GROUP_SUBSCRIBED_TO_TOPIC; an unknown group gets GROUP_ID_NOT_FOUND.
// * With an authorizer: DELETE on the group (GROUP_AUTHORIZATION_FAILED) and
//   READ on each topic (TOPIC_AUTHORIZATION_FAILED for its partitions).

func init() { regKey(47, 0, 0, handleOffsetDelete) }

func handleOffsetDelete(b *Broker, r *request) (kmsg.Response, error) {
	req := r.kreq.(*kmsg.OffsetDeleteRequest)
	resp := req.ResponseKind().(*kmsg.OffsetDeleteResponse)
	if code := r.groupCode(acl.OpDelete, req.Group); code != 0 {
		resp.ErrorCode = code
		return resp, nil
	}
	g := b.groups.get(req.Group, false)
	if g == nil {
		resp.ErrorCode = errGroupIDNotFound
		return resp, nil
	}
	g.mu.Lock()
	defer g.mu.Unlock()
	subscribed := g.subscribedTopics()
	var recs []kvRecord
	var del []topicPartition
	for _, rt := range req.Topics {
		st := kmsg.NewOffsetDeleteResponseTopic()
		st.Topic = rt.Topic
		for _, rp := range rt.Partitions {
			sp := kmsg.NewOffsetDeleteResponseTopicPartition()
			sp.Partition = rp.Partition
			tp := topicPartition{rt.Topic, rp.Partition}
			if code := r.authzTopicErr(acl.OpRead, rt.Topic); code != 0 {
				sp.ErrorCode = code
			} else if subscribed[rt.Topic] {
				sp.ErrorCode = errGroupSubscribedToTopic
			} else if _, ok := g.offsets[tp]; ok {
				recs = append(recs, kvRecord{key: offsetKey(g.name, tp)})
				del = append(del, tp)
			}
			st.Partitions = append(st.Partitions, sp)
		}
		resp.Topics = append(resp.Topics, st)
	}
	if code := b.groups.writeGroupRecords(g.name, recs); code != 0 {
		resp.ErrorCode = code
		return resp, nil
	}
	for _, tp := range del {
		delete(g.offsets, tp)
	}
	return resp, nil
}

// subscribedTopics decodes the consumer-protocol subscriptions of the
// members. g.mu held.
func (g *group) subscribedTopics() map[string]bool {
	out := map[string]bool{}
	if g.cg != nil { // a consumer group: the topics its members subscribe to
		for name := range g.cg.Subscribed {
			out[name] = true
		}
		return out
	}
	if g.protocolType != "consumer" {
		return out
	}
	for _, m := range g.members {
		var meta kmsg.ConsumerMemberMetadata
		if err := meta.ReadFrom(m.metadataFor(g.protocol)); err != nil {
			continue
		}
		for _, t := range meta.Topics {
			out[t] = true
		}
	}
	return out
}
