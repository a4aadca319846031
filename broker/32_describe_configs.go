package broker

import (
	"slices"

	"github.com/twmb/franz-go/pkg/kmsg"
)

// DescribeConfigs: v0-4
//
// Behavior:
// * Topics: every topic config with its effective value; overrides have
//   source DYNAMIC_TOPIC_CONFIG, the rest DEFAULT_CONFIG.
// * Brokers: this broker's static configuration (STATIC_BROKER_CONFIG,
//   read-only).
// * ConfigNames limits the answer; synonyms (v1+) list the entry itself.
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
		var vals map[string]configValue
		topic := false
		switch rr.ResourceType {
		case resourceTopic:
			t, ok := b.cluster.Topic(rr.ResourceName)
			if !ok {
				res.ErrorCode = errUnknownTopicOrPart
				break
			}
			topic = true
			vals = b.cfg.effectiveTopicConfigs(t.Configs)
		case resourceBroker:
			if res.ErrorCode, res.ErrorMessage = b.brokerResourceCode(rr.ResourceName); res.ErrorCode != 0 {
				break
			}
			vals = map[string]configValue{}
			for k, v := range b.cfg.brokerConfigEntries() {
				vals[k] = configValue{value: v}
			}
		default:
			res.ErrorCode, res.ErrorMessage = errInvalidRequest, kmsg.StringPtr("unsupported resource type")
		}
		for _, name := range sortedKeys(vals) {
			if rr.ConfigNames != nil && !slices.Contains(rr.ConfigNames, name) {
				continue
			}
			v := vals[name]
			c := kmsg.NewDescribeConfigsResponseResourceConfig()
			c.Name, c.Value = name, kmsg.StringPtr(v.value)
			c.ReadOnly = !topic
			c.IsDefault = topic && !v.override
			c.Source = kmsg.ConfigSource(configSource(v.override, topic))
			if req.Version == 0 && !topic {
				c.Source = kmsg.ConfigSourceStaticBrokerConfig
			}
			c.ConfigType = configType(name, v.value)
			if req.IncludeSynonyms {
				s := kmsg.NewDescribeConfigsResponseResourceConfigConfigSynonym()
				s.Name, s.Value, s.Source = name, c.Value, c.Source
				c.ConfigSynonyms = append(c.ConfigSynonyms, s)
			}
			res.Configs = append(res.Configs, c)
		}
		resp.Resources = append(resp.Resources, res)
	}
	return resp, nil
}
