package broker

import "github.com/twmb/franz-go/pkg/kmsg"

// AlterConfigs: v0-2
//
// Behavior:
// * Topics: the given configs replace all of the topic's overrides (the
//   non-incremental semantics); values are validated first; the topic's
//   logs take the new config at once.
// * Brokers: the configuration is static here: INVALID_REQUEST.
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
		switch rr.ResourceType {
		case resourceTopic:
			changes := map[string]*string{}
			for _, c := range rr.Configs {
				changes[c.Name] = c.Value
			}
			res.ErrorCode, res.ErrorMessage = b.setTopicConfigs(rr.ResourceName, changes, true, req.ValidateOnly)
		case resourceBroker:
			res.ErrorCode, res.ErrorMessage = errInvalidRequest, kmsg.StringPtr("broker configs are static in Osprey")
		default:
			res.ErrorCode, res.ErrorMessage = errInvalidRequest, kmsg.StringPtr("unsupported resource type")
		}
		resp.Resources = append(resp.Resources, res)
	}
	return resp, nil
}
