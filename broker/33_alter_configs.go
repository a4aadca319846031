package broker

import (
	"strings"

	"github.com/osprey-kafka/osprey/broker/acl"
	"github.com/twmb/franz-go/pkg/kmsg"
)

// AlterConfigs: v0-2
//
// Behavior:
// * Topics: the given configs replace all of the topic's overrides (the
//   non-incremental semantics); values are validated first; the topic's
//   logs take the new config at once.
// * Brokers (dynconfig.go): resource name = this broker's id, or "" for
//   the cluster-wide default; the given configs replace all dynamic
//   configs of that entity. Only the replication throttle rates
//   (leader./follower.replication.throttled.rate) are dynamic here; other
//   keys, bad values, null values and another broker's id are refused
//   with INVALID_REQUEST (as Kafka's ZooKeeper mode) before anything is
//   written.
//
// Version notes:
// * v2: flexible.

func init() { regKey(33, 0, 2, handleAlterConfigs) }

func handleAlterConfigs(b *Broker, r *request) (kmsg.Response, error) {
	req := r.kreq.(*kmsg.AlterConfigsRequest)
	resp := req.ResponseKind().(*kmsg.AlterConfigsResponse)
	for _, rr := range req.Resources {
		res := kmsg.NewAlterConfigsResponseResource()
		res.ResourceType, res.ResourceName = rr.ResourceType, rr.ResourceName
		if code := r.configDenied(acl.OpAlterConfigs, rr.ResourceType, rr.ResourceName); code != 0 {
			res.ErrorCode = code
			resp.Resources = append(resp.Resources, res)
			continue
		}
		switch rr.ResourceType {
		case resourceTopic:
			changes := map[string]*string{}
			for _, c := range rr.Configs {
				changes[c.Name] = c.Value
			}
			res.ErrorCode, res.ErrorMessage = b.setTopicConfigs(rr.ResourceName, changes, true, req.ValidateOnly)
		case resourceBroker:
			res.ErrorCode, res.ErrorMessage = alterConfigsBroker(b, rr, req.ValidateOnly).result()
		default:
			res.ErrorCode, res.ErrorMessage = errInvalidRequest, kmsg.StringPtr("unsupported resource type")
		}
		resp.Resources = append(resp.Resources, res)
	}
	return resp, nil
}

// alterConfigsBroker replaces a broker entity's dynamic configs.
func alterConfigsBroker(b *Broker, rr kmsg.AlterConfigsRequestResource, validateOnly bool) *apiError {
	set := map[string]string{}
	var null []string
	for _, c := range rr.Configs {
		if c.Value == nil {
			null = append(null, c.Name)
			continue
		}
		set[c.Name] = *c.Value
	}
	if len(null) > 0 {
		return &apiError{errInvalidRequest, "Null value not supported for : " + strings.Join(null, ",")}
	}
	return b.alterBrokerConfigs(rr.ResourceName, set, nil, true, validateOnly)
}
