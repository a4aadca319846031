package broker

import (
	"slices"

	"github.com/osprey-kafka/osprey/broker/acl"
	"github.com/twmb/franz-go/pkg/kmsg"
)

// IncrementalAlterConfigs: v0-1
//
// Behavior:
// * Topics: SET and DELETE change single overrides; APPEND and SUBTRACT
//   edit list values (cleanup.policy, throttled replicas). Validation
//   happens before anything is changed.
// * Brokers (dynconfig.go): resource name = this broker's id, or "" for
//   the cluster-wide default (<default>). Only the replication throttle
//   rates (leader./follower.replication.throttled.rate, LONG >= 0) are
//   dynamic here: SET and DELETE them; persisted in /config/brokers/<id>
//   with a /config/changes notification as Kafka's ZooKeeper mode does.
//   Other keys ("Cannot update these configs dynamically"), bad values,
//   APPEND/SUBTRACT, duplicate keys and another broker's id ("Unexpected
//   broker id") are refused with INVALID_REQUEST, as Kafka's ZooKeeper-mode
//   ZkAdminManager answers, before anything is written.
//
// Version notes:
// * v1: flexible.

func init() { regKey(44, 0, 1, handleIncrementalAlterConfigs) }

func handleIncrementalAlterConfigs(b *Broker, r *request) (kmsg.Response, error) {
	req := r.kreq.(*kmsg.IncrementalAlterConfigsRequest)
	resp := req.ResponseKind().(*kmsg.IncrementalAlterConfigsResponse)
	for _, rr := range req.Resources {
		res := kmsg.NewIncrementalAlterConfigsResponseResource()
		res.ResourceType, res.ResourceName = rr.ResourceType, rr.ResourceName
		if code := r.configDenied(acl.OpAlterConfigs, rr.ResourceType, rr.ResourceName); code != 0 {
			res.ErrorCode = code
			resp.Resources = append(resp.Resources, res)
			continue
		}
		switch rr.ResourceType {
		case resourceTopic:
			// A topic missing from this broker's view may exist already (created a moment ago, the
			// controller's requests still on their way): SET and DELETE go to the cluster, which
			// checks the metadata store as Kafka does; APPEND and SUBTRACT need the current value.
			t, ok := b.cluster.Topic(rr.ResourceName)
			if !ok && slices.ContainsFunc(rr.Configs, func(c kmsg.IncrementalAlterConfigsRequestResourceConfig) bool {
				return c.Op == kmsg.IncrementalAlterConfigOpAppend || c.Op == kmsg.IncrementalAlterConfigOpSubtract
			}) {
				res.ErrorCode = errUnknownTopicOrPart
				break
			}
			changes := map[string]*string{}
			for _, c := range rr.Configs {
				switch c.Op {
				case kmsg.IncrementalAlterConfigOpSet:
					changes[c.Name] = c.Value
				case kmsg.IncrementalAlterConfigOpDelete:
					changes[c.Name] = nil
				case kmsg.IncrementalAlterConfigOpAppend, kmsg.IncrementalAlterConfigOpSubtract:
					cur, ok := t.Configs[c.Name]
					if !ok {
						cur = b.cfg.effectiveTopicConfigs(nil)[c.Name].value
					}
					v := applyListOp(cur, c.Op, deref(c.Value))
					changes[c.Name] = &v
				default:
					res.ErrorCode = errInvalidRequest
				}
			}
			if res.ErrorCode == 0 {
				res.ErrorCode, res.ErrorMessage = b.setTopicConfigs(rr.ResourceName, changes, false, req.ValidateOnly)
			}
		case resourceBroker:
			set, del, aerr := incrementalBrokerOps(rr.Configs)
			if aerr == nil {
				aerr = b.alterBrokerConfigs(rr.ResourceName, set, del, false, req.ValidateOnly)
			}
			res.ErrorCode, res.ErrorMessage = aerr.result()
		default:
			res.ErrorCode, res.ErrorMessage = errInvalidRequest, kmsg.StringPtr("unsupported resource type")
		}
		resp.Resources = append(resp.Resources, res)
	}
	return resp, nil
}
