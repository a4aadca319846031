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
//
// Version notes:
// * v2: flexible.

func init() { regKey(37, 0, 3, handleCreatePartitions) }

func handleCreatePartitions(b *Broker, r *request) (kmsg.Response, error) {
	req := r.kreq.(*kmsg.CreatePartitionsRequest)
	resp := req.ResponseKind().(*kmsg.CreatePartitionsResponse)
	ctx, cancel := context.WithTimeout(b.ctx, time.Duration(max(req.TimeoutMillis, 1000))*time.Millisecond)
	defer cancel()
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
			st.ErrorCode, st.ErrorMessage = clusterErrCode(b.cluster.CreatePartitions(ctx, rt.Topic, rt.Count, req.ValidateOnly))
		}
		resp.Topics = append(resp.Topics, st)
	}
	return resp, nil
}
