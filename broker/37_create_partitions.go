package broker

import (
	"context"
	"time"

	"github.com/osprey-kafka/osprey/broker/acl"
	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kmsg"
)

// CreatePartitions: v0-3
//
// Behavior:
// * Grows a topic to Count partitions (never shrinks: INVALID_PARTITIONS);
//   ValidateOnly checks only. Manual assignments are refused with
//   INVALID_REQUEST: the controller places replicas.
// * controller_mutation_rate: each topic is charged the partitions it
//   gains (quota_mutation.go); from v3 a topic over the quota gets
//   THROTTLING_QUOTA_EXCEEDED, before v3 the response is throttled.
//
// Version notes:
// * v2: flexible.

func init() { regKey(37, 0, 3, handleCreatePartitions) }

func handleCreatePartitions(b *Broker, r *request) (kmsg.Response, error) {
	req := r.kreq.(*kmsg.CreatePartitionsRequest)
	resp := req.ResponseKind().(*kmsg.CreatePartitionsResponse)
	ctx, cancel := context.WithTimeout(b.ctx, time.Duration(max(req.TimeoutMillis, 1000))*time.Millisecond)
	defer cancel()
	quota := b.mutationQuotaFor(r, 3)
	defer quota.apply(b, r)
	for _, rt := range req.Topics {
		st := kmsg.NewCreatePartitionsResponseTopic()
		st.Topic = rt.Topic
		switch {
		case !r.authorizeTopic(acl.OpAlter, rt.Topic):
			st.ErrorCode = kerr.TopicAuthorizationFailed.Code
		case len(rt.Assignment) > 0:
			st.ErrorCode, st.ErrorMessage = errInvalidRequest, kmsg.StringPtr("manual replica assignment is not supported")
		case isInternalTopic(rt.Topic):
			st.ErrorCode = errInvalidTopic
		default:
			st.ErrorCode, st.ErrorMessage = b.createPartitions(ctx, quota, rt, req.ValidateOnly)
		}
		resp.Topics = append(resp.Topics, st)
	}
	return resp, nil
}

// createPartitions grows one topic, charging the partitions it gains to
// the controller mutation quota.
func (b *Broker) createPartitions(ctx context.Context, quota *mutationQuota, rt kmsg.CreatePartitionsRequestTopic, validateOnly bool) (int16, *string) {
	var added float64
	if t, ok := b.cluster.Topic(rt.Topic); ok && !validateOnly {
		added = float64(max(int(rt.Count)-len(t.Partitions), 0))
	}
	if added > 0 && !quota.charge(added) {
		return mutationRefusal()
	}
	err := b.cluster.CreatePartitions(ctx, rt.Topic, rt.Count, validateOnly)
	quota.refundIfRefused(added, err)
	return clusterErrCode(err)
}
