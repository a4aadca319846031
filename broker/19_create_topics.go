package broker

import (
	"context"
	"sort"
	"time"

	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kmsg"
)

// CreateTopics: v0-7
//
// Behavior:
// * Creates topics through the Cluster (the controller in cluster mode), with
//   validation of names, partition counts, replication factors and
//   configs; ValidateOnly checks without creating.
// * Partitions or replication factor -1 (v4+) take num.partitions and
//   default.replication.factor. Manual replica assignments are refused
//   with INVALID_REQUEST: the controller places replicas.
// * v5+ answers with the partition count, replication factor and the
//   topic's full config.
// * controller_mutation_rate: each topic is charged its partition count
//   (quota_mutation.go); from v6 a topic over the quota gets
//   THROTTLING_QUOTA_EXCEEDED, before v6 the response is throttled.
//
// Version notes:
// * v1: validate only, error messages; v4: defaults (-1); v5: flexible,
//   configs in the response; v7: topic id.

func init() { regKey(19, 0, 7, handleCreateTopics) }

func handleCreateTopics(b *Broker, r *request) (kmsg.Response, error) {
	req := r.kreq.(*kmsg.CreateTopicsRequest)
	resp := req.ResponseKind().(*kmsg.CreateTopicsResponse)
	timeout := time.Duration(max(req.TimeoutMillis, 1000)) * time.Millisecond
	ctx, cancel := context.WithTimeout(b.ctx, timeout)
	defer cancel()
	seen := map[string]int{}
	for _, rt := range req.Topics {
		seen[rt.Topic]++
	}
	quota := b.mutationQuotaFor(r, 6)
	defer quota.apply(b, r)
	for _, rt := range req.Topics {
		st := kmsg.NewCreateTopicsResponseTopic()
		st.Topic = rt.Topic
		st.NumPartitions, st.ReplicationFactor = -1, -1
		if seen[rt.Topic] > 1 {
			st.ErrorCode = errInvalidRequest
			st.ErrorMessage = kmsg.StringPtr("topic appears more than once in the request")
			resp.Topics = append(resp.Topics, st)
			continue
		}
		if !r.mayCreateTopic(rt.Topic) {
			st.ErrorCode = kerr.TopicAuthorizationFailed.Code
			resp.Topics = append(resp.Topics, st)
			continue
		}
		if len(rt.ReplicaAssignment) > 0 {
			st.ErrorCode = errInvalidRequest
			st.ErrorMessage = kmsg.StringPtr("manual replica assignment is not supported")
			resp.Topics = append(resp.Topics, st)
			continue
		}
		spec := TopicSpec{Name: rt.Topic, Partitions: rt.NumPartitions, ReplicationFactor: rt.ReplicationFactor,
			Configs: map[string]string{}}
		if spec.Partitions == -1 {
			spec.Partitions = b.cfg.NumPartitions
		}
		if spec.ReplicationFactor == -1 {
			spec.ReplicationFactor = b.cfg.DefaultReplicationFactor
		}
		for _, c := range rt.Configs {
			if c.Value != nil {
				spec.Configs[c.Name] = *c.Value
			}
		}
		if isInternalTopic(rt.Topic) {
			st.ErrorCode, st.ErrorMessage = errInvalidTopic, kmsg.StringPtr("internal topic")
			resp.Topics = append(resp.Topics, st)
			continue
		}
		if !req.ValidateOnly && !quota.charge(float64(spec.Partitions)) {
			st.ErrorCode, st.ErrorMessage = mutationRefusal()
			resp.Topics = append(resp.Topics, st)
			continue
		}
		t, err := b.cluster.CreateTopic(ctx, spec, req.ValidateOnly)
		if !req.ValidateOnly {
			quota.refundIfRefused(float64(spec.Partitions), err)
		}
		st.ErrorCode, st.ErrorMessage = clusterErrCode(err)
		if err == nil {
			st.TopicID = t.ID
			st.NumPartitions, st.ReplicationFactor = int32(len(t.Partitions)), spec.ReplicationFactor
			vals := b.cfg.effectiveTopicConfigs(t.Configs)
			names := make([]string, 0, len(vals))
			for k := range vals {
				names = append(names, k)
			}
			sort.Strings(names)
			for _, k := range names {
				c := kmsg.NewCreateTopicsResponseTopicConfig()
				c.Name, c.Value = k, kmsg.StringPtr(vals[k].value)
				c.Source = configSource(vals[k].override, true)
				st.Configs = append(st.Configs, c)
			}
			if !req.ValidateOnly {
				b.log.Info("created topic", "topic", t.Name, "partitions", len(t.Partitions))
			}
		}
		resp.Topics = append(resp.Topics, st)
	}
	return resp, nil
}

// configSource is DescribeConfigs' source enum: 1 dynamic topic config,
// 4 static broker config, 5 default.
func configSource(override, topic bool) int8 {
	switch {
	case override && topic:
		return 1
	case topic:
		return 5
	default:
		return 4
	}
}
