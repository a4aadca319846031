package broker

import (
	"slices"

	"github.com/osprey-kafka/osprey/broker/acl"
	"github.com/twmb/franz-go/pkg/kmsg"
)

// DescribeConfigs: v0-4
//
// Behavior:
// * Topics: every topic config with its effective value; overrides have
//   source DYNAMIC_TOPIC_CONFIG, the rest DEFAULT_CONFIG.
// * Brokers (resource name = this broker's id): the static configuration
//   (STATIC_BROKER_CONFIG, read-only) and the dynamic replication throttle
//   rates (dynconfig.go) with the source in force: DYNAMIC_BROKER_CONFIG,
//   DYNAMIC_DEFAULT_BROKER_CONFIG, STATIC_BROKER_CONFIG or DEFAULT_CONFIG
//   (Long.MaxValue); synonyms list the layers in that order. An empty name
//   is the cluster-wide default entity: only its dynamic values. Another
//   broker's id: INVALID_REQUEST (ask that broker).
// * ConfigNames limits the answer; synonyms (v1+) for topics list the entry
//   itself.
//
// Version notes:
// * v1: synonyms, source; v3: config type and documentation (none);
//   v4: flexible.

func init() { regKey(32, 0, 4, handleDescribeConfigs) }

func handleDescribeConfigs(b *Broker, r *request) (kmsg.Response, error) {
	req := r.kreq.(*kmsg.DescribeConfigsRequest)
	resp := req.ResponseKind().(*kmsg.DescribeConfigsResponse)
	for _, rr := range req.Resources {
		res := kmsg.NewDescribeConfigsResponseResource()
		res.ResourceType, res.ResourceName = rr.ResourceType, rr.ResourceName
		want := func(name string) bool { return rr.ConfigNames == nil || slices.Contains(rr.ConfigNames, name) }
		if code := r.configDenied(acl.OpDescribeConfigs, rr.ResourceType, rr.ResourceName); code != 0 {
			res.ErrorCode = code
			resp.Resources = append(resp.Resources, res)
			continue
		}
		switch rr.ResourceType {
		case resourceTopic:
			t, ok := b.cluster.Topic(rr.ResourceName)
			if !ok {
				res.ErrorCode = errUnknownTopicOrPart
				break
			}
			vals := b.cfg.effectiveTopicConfigs(t.Configs)
			for _, name := range sortedKeys(vals) {
				if !want(name) {
					continue
				}
				v := vals[name]
				c := kmsg.NewDescribeConfigsResponseResourceConfig()
				c.Name, c.Value = name, kmsg.StringPtr(v.value)
				c.IsDefault = !v.override
				c.Source = kmsg.ConfigSource(configSource(v.override, true))
				c.ConfigType = configType(name, v.value)
				if req.IncludeSynonyms {
					c.ConfigSynonyms = append(c.ConfigSynonyms, synonym(name, v.value, c.Source))
				}
				res.Configs = append(res.Configs, c)
			}
		case resourceBroker:
			entity, aerr := b.brokerEntity(rr.ResourceName)
			if aerr != nil {
				res.ErrorCode, res.ErrorMessage = aerr.result()
				break
			}
			for _, e := range b.describeBrokerConfigs(entity) {
				if !want(e.name) {
					continue
				}
				c := kmsg.NewDescribeConfigsResponseResourceConfig()
				c.Name, c.Value = e.name, kmsg.StringPtr(e.value)
				c.ReadOnly = e.readOnly
				c.Source = e.source
				c.IsDefault = e.source == kmsg.ConfigSourceDefaultConfig
				c.ConfigType = configType(e.name, e.value)
				if req.IncludeSynonyms {
					c.ConfigSynonyms = e.synonyms
				}
				redactSensitive(&c)
				res.Configs = append(res.Configs, c)
			}
		default:
			res.ErrorCode, res.ErrorMessage = errInvalidRequest, kmsg.StringPtr("unsupported resource type")
		}
		resp.Resources = append(resp.Resources, res)
	}
	return resp, nil
}
