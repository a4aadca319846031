package broker

import (
	"github.com/osprey-kafka/osprey/broker/acl"
	"github.com/osprey-kafka/osprey/broker/cgroup"
)

// describableTopics is the cluster's topics as seen by the member whose
// ConsumerGroupHeartbeat is being handled: topics its regex subscription
// matches count only if it may DESCRIBE them (cgroup.TopicAuthorizer),
// as Kafka filters a group's resolved regular expressions.
type describableTopics struct {
	clusterTopics
	r *request
}

func (d describableTopics) MayDescribe(topic string) bool {
	return d.r.allowedQuietly(acl.OpDescribe, acl.ResourceTopic, topic)
}

// heartbeatTopics is the metadata a heartbeat from r (or a classic
// member's JoinGroup into a consumer group) resolves the group's
// subscriptions against.
func (b *Broker) heartbeatTopics(r *request) cgroup.Metadata {
	if b.authz == nil {
		return clusterTopics{b.cluster}
	}
	return describableTopics{clusterTopics{b.cluster}, r}
}
