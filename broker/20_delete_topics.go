package broker

import (
	"context"
	"time"

	"github.com/osprey-kafka/osprey/broker/acl"
	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kmsg"
)

// DeleteTopics: v0-6
//
// Behavior:
// * Deletes topics (by name, or by id from v6) through the Cluster; their
//   logs are removed and committed offsets for them are deleted.
// * Internal topics cannot be deleted; with delete.topic.enable=false every
//   deletion gets TOPIC_DELETION_DISABLED.
// * controller_mutation_rate: each topic is charged its partition count
//   (quota_mutation.go); from v5 a topic over the quota gets
//   THROTTLING_QUOTA_EXCEEDED, before v5 the response is throttled.
//
// Version notes:
// * v4: flexible; v5: error messages; v6: topic ids.

func init() { regKey(20, 0, 6, handleDeleteTopics) }

func handleDeleteTopics(b *Broker, r *request) (kmsg.Response, error) {
	req := r.kreq.(*kmsg.DeleteTopicsRequest)
	resp := req.ResponseKind().(*kmsg.DeleteTopicsResponse)
	ctx, cancel := context.WithTimeout(b.ctx, time.Duration(max(req.TimeoutMillis, 1000))*time.Millisecond)
	defer cancel()
	quota := b.mutationQuotaFor(r, 5)
	defer quota.apply(b, r)
	topics := req.Topics
	if req.Version < 6 {
		for _, n := range req.TopicNames {
			topics = append(topics, kmsg.DeleteTopicsRequestTopic{Topic: kmsg.StringPtr(n)})
		}
	}
	for _, rt := range topics {
		st := kmsg.NewDeleteTopicsResponseTopic()
		st.Topic, st.TopicID = rt.Topic, rt.TopicID
		name := deref(rt.Topic)
		if rt.Topic == nil {
			if t, ok := b.cluster.TopicByID(rt.TopicID); ok {
				name = t.Name
				st.Topic = kmsg.StringPtr(name)
			} else {
				st.ErrorCode = errUnknownTopicID
				resp.Topics = append(resp.Topics, st)
				continue
			}
		} else if t, ok := b.cluster.Topic(name); ok {
			st.TopicID = t.ID
		}
		switch {
		case !r.authorizeTopic(acl.OpDelete, name):
			st.ErrorCode = kerr.TopicAuthorizationFailed.Code
		case !b.cfg.DeleteTopicEnable:
			st.ErrorCode = errTopicDeletionDisabled
		case isInternalTopic(name):
			st.ErrorCode, st.ErrorMessage = errInvalidTopic, kmsg.StringPtr("internal topics cannot be deleted")
		default:
			var parts float64
			if t, ok := b.cluster.Topic(name); ok {
				parts = float64(len(t.Partitions))
			}
			if !quota.charge(parts) {
				st.ErrorCode, st.ErrorMessage = mutationRefusal()
				break
			}
			err := b.cluster.DeleteTopic(ctx, name)
			quota.refundIfRefused(parts, err)
			st.ErrorCode, st.ErrorMessage = clusterErrCode(err)
			if err == nil {
				b.groups.dropTopic(name)
				b.log.Info("deleted topic", "topic", name)
			}
		}
		resp.Topics = append(resp.Topics, st)
	}
	return resp, nil
}
