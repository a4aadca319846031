package broker

import (
	"context"
	"slices"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/twmb/franz-go/pkg/kmsg"
)

// Shared code of DescribeConfigs, AlterConfigs and IncrementalAlterConfigs.

const (
	resourceTopic  = 2
	resourceBroker = 4
)

// brokerConfigEntries lists this broker's static configuration under
// Kafka's property names.
func (c Config) brokerConfigEntries() map[string]string {
	ms := func(d time.Duration) string { return strconv.FormatInt(d.Milliseconds(), 10) }
	i := func(n int64) string { return strconv.FormatInt(n, 10) }
	ret := ms(c.LogRetention)
	if c.LogRetention < 0 {
		ret = "-1"
	}
	m := map[string]string{
		"broker.id":                        i(int64(c.BrokerID)),
		"broker.rack":                      c.Rack,
		"listeners":                        strings.Join(c.Listeners, ","),
		"advertised.listeners":             strings.Join(c.AdvertisedListeners, ","),
		"log.dirs":                         strings.Join(c.LogDirs, ","),
		"num.partitions":                   i(int64(c.NumPartitions)),
		"default.replication.factor":       i(int64(c.DefaultReplicationFactor)),
		"min.insync.replicas":              i(int64(c.MinInsyncReplicas)),
		"log.segment.bytes":                i(c.LogSegmentBytes),
		"log.roll.ms":                      ms(c.LogRoll),
		"log.retention.ms":                 ret,
		"log.retention.bytes":              i(c.LogRetentionBytes),
		"log.retention.check.interval.ms":  ms(c.LogRetentionCheck),
		"log.index.interval.bytes":         i(int64(c.LogIndexIntervalBytes)),
		"auto.create.topics.enable":        strconv.FormatBool(c.AutoCreateTopics),
		"delete.topic.enable":              strconv.FormatBool(c.DeleteTopicEnable),
		"message.max.bytes":                i(int64(c.MessageMaxBytes)),
		"socket.request.max.bytes":         i(int64(c.SocketRequestMaxBytes)),
		"offsets.topic.num.partitions":     i(int64(c.OffsetsTopicPartitions)),
		"offsets.topic.replication.factor": i(int64(c.OffsetsTopicReplicationFactor)),
		"group.initial.rebalance.delay.ms": ms(c.GroupInitialRebalanceDelay),
		"group.min.session.timeout.ms":     ms(c.GroupMinSessionTimeout),
		"group.max.session.timeout.ms":     ms(c.GroupMaxSessionTimeout),
	}
	c.addTxnProperties(m)
	c.addSecurityConfigEntries(m)
	c.addAuthzConfigEntries(m)
	return m
}

// configType guesses Kafka's ConfigType for a value (v3+ responses).
func configType(name, value string) kmsg.ConfigType {
	switch {
	case name == "cleanup.policy" || strings.HasSuffix(name, "listeners") || name == "log.dirs":
		return kmsg.ConfigTypeList
	case value == "true" || value == "false":
		return kmsg.ConfigTypeBoolean
	}
	if _, err := strconv.ParseInt(value, 10, 64); err == nil {
		return kmsg.ConfigTypeLong
	}
	if _, err := strconv.ParseFloat(value, 64); err == nil {
		return kmsg.ConfigTypeDouble
	}
	return kmsg.ConfigTypeString
}

// setTopicConfigs applies config changes to a topic and its open logs.
func (b *Broker) setTopicConfigs(topic string, changes map[string]*string, replace, validateOnly bool) (int16, *string) {
	// The cluster says whether the topic exists (in the metadata store, not this broker's view).
	ctx, cancel := context.WithTimeout(b.ctx, 10*time.Second)
	defer cancel()
	if err := b.cluster.SetTopicConfigs(ctx, topic, changes, replace, validateOnly); err != nil {
		return clusterErrCode(err)
	}
	if !validateOnly {
		b.log.Info("altered topic configs", "topic", topic)
	}
	return 0, nil
}

func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}

// applyListOp applies IncrementalAlterConfigs APPEND/SUBTRACT to a
// comma-separated list value.
func applyListOp(cur string, op kmsg.IncrementalAlterConfigOp, v string) string {
	items := splitList(cur)
	for _, x := range splitList(v) {
		switch op {
		case kmsg.IncrementalAlterConfigOpAppend:
			if !slices.Contains(items, x) {
				items = append(items, x)
			}
		case kmsg.IncrementalAlterConfigOpSubtract:
			items = slices.DeleteFunc(items, func(s string) bool { return s == x })
		}
	}
	return strings.Join(items, ",")
}
