package broker

import (
	"context"
	"errors"
	"math"
	"time"

	"github.com/osprey-kafka/osprey/broker/acl"
	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kmsg"
)

// Metadata: v0-12
//
// Behavior:
// * Brokers, cluster id and controller come from the ClusterView.
// * A null topic list (v1+) or an empty one (v0) lists every topic.
// * Unknown topics are created when auto.create.topics.enable is set and
//   the request allows it (always before v4), with num.partitions and
//   default.replication.factor capped at the number of brokers; their
//   partitions are charged to the controller_mutation_rate quota, never
//   refused (quota_mutation.go).
// * With an authorizer: the topic list holds only the topics the
//   principal may DESCRIBE; a named topic it may not describe gets
//   TOPIC_AUTHORIZATION_FAILED, existing or not; auto-creation needs
//   CREATE on the cluster or the topic (else TOPIC_AUTHORIZATION_FAILED).
// * Topics may be asked for by id (v10+); an unknown id gets
//   UNKNOWN_TOPIC_ID.
//
// Version notes:
// * v4: AllowAutoTopicCreation.
// * v7: leader epoch; v9: flexible; v10: topic ids.
// * v8+: include_topic_authorized_operations, v8-10
//   include_cluster_authorized_operations: bit fields of the operations
//   the principal may do (authz_operations.go); INT32_MIN when not asked.

func init() { regKey(3, 0, 12, handleMetadata) }

func handleMetadata(b *Broker, r *request) (kmsg.Response, error) {
	req := r.kreq.(*kmsg.MetadataRequest)
	resp := req.ResponseKind().(*kmsg.MetadataResponse)
	view := b.cluster

	for _, bi := range view.Brokers() {
		mb := kmsg.NewMetadataResponseBroker()
		mb.NodeID = bi.ID
		mb.Host, mb.Port = bi.at(r.clientListener())
		if bi.Rack != "" {
			mb.Rack = kmsg.StringPtr(bi.Rack)
		}
		resp.Brokers = append(resp.Brokers, mb)
	}
	live := map[int32]bool{}
	for _, bi := range view.Brokers() {
		live[bi.ID] = true
	}
	resp.ClusterID = kmsg.StringPtr(view.ClusterID())
	resp.ControllerID = view.ControllerID()

	all := req.Topics == nil || (req.Version == 0 && len(req.Topics) == 0)
	if all {
		for _, t := range view.Topics() {
			if !r.authorizeTopic(acl.OpDescribe, t.Name) {
				continue // listed only to those who may describe it
			}
			resp.Topics = append(resp.Topics, metadataTopic(t, req.Version, live))
		}
		r.fillMetadataAuthorizedOperations(req, resp)
		return resp, nil
	}
	allowCreate := b.cfg.AutoCreateTopics && (req.Version < 4 || req.AllowAutoTopicCreation)
	for _, rt := range req.Topics {
		var (
			t  TopicInfo
			ok bool
		)
		if rt.Topic == nil {
			t, ok = view.TopicByID(rt.TopicID)
			if !ok {
				mt := kmsg.NewMetadataResponseTopic()
				mt.TopicID = rt.TopicID
				mt.ErrorCode = errUnknownTopicID
				resp.Topics = append(resp.Topics, mt)
				continue
			}
		} else {
			t, ok = view.Topic(*rt.Topic)
		}
		if name := topicName(rt.Topic, t); !r.authorizeTopic(acl.OpDescribe, name) {
			// Whether it exists is not told either.
			mt := kmsg.NewMetadataResponseTopic()
			mt.Topic, mt.TopicID, mt.ErrorCode = rt.Topic, rt.TopicID, kerr.TopicAuthorizationFailed.Code
			resp.Topics = append(resp.Topics, mt)
			continue
		}
		if !ok {
			mt := kmsg.NewMetadataResponseTopic()
			mt.Topic = rt.Topic
			switch {
			case !validTopicName(*rt.Topic):
				mt.ErrorCode = errInvalidTopic
			case !allowCreate || isInternalTopic(*rt.Topic):
				mt.ErrorCode = errUnknownTopicOrPart
			case !r.mayCreateTopic(*rt.Topic):
				mt.ErrorCode = kerr.TopicAuthorizationFailed.Code
			default:
				created, code := b.autoCreate(*rt.Topic)
				if code != 0 {
					mt.ErrorCode = code
				} else {
					t, ok = created, true
					// Charged to controller_mutation_rate, never refused, and
					// not throttling this response: Kafka's permissive quota
					// for auto-created topics.
					b.mutationQuotaFor(r, math.MaxInt16).charge(float64(len(created.Partitions)))
				}
			}
			if !ok {
				resp.Topics = append(resp.Topics, mt)
				continue
			}
		}
		resp.Topics = append(resp.Topics, metadataTopic(t, req.Version, live))
	}
	r.fillMetadataAuthorizedOperations(req, resp)
	return resp, nil
}

// fillMetadataAuthorizedOperations answers include_cluster_authorized_operations
// (v8-10) and include_topic_authorized_operations (v8+) as Kafka does: the
// topics the principal may describe get their bit field, whatever their
// error; topics refused (TOPIC_AUTHORIZATION_FAILED) and unknown topic ids
// keep the default.
func (r *request) fillMetadataAuthorizedOperations(req *kmsg.MetadataRequest, resp *kmsg.MetadataResponse) {
	if req.Version < 8 {
		return
	}
	if req.Version <= 10 && req.IncludeClusterAuthorizedOperations {
		resp.AuthorizedOperations = r.clusterAuthorizedOperations()
	}
	if !req.IncludeTopicAuthorizedOperations {
		return
	}
	for i := range resp.Topics {
		mt := &resp.Topics[i]
		if mt.Topic == nil || mt.ErrorCode == kerr.TopicAuthorizationFailed.Code || mt.ErrorCode == errUnknownTopicID {
			continue
		}
		mt.AuthorizedOperations = r.authorizedOperations(acl.ResourceTopic, *mt.Topic)
	}
}

// autoCreate creates a topic with the broker defaults (Metadata and
// FindCoordinator paths). A concurrent creation of the same name is fine.
func (b *Broker) autoCreate(name string) (TopicInfo, int16) {
	rf := b.cfg.DefaultReplicationFactor
	if n := int16(len(b.cluster.Brokers())); rf > n {
		rf = n
	}
	ctx, cancel := context.WithTimeout(b.ctx, 10*time.Second)
	defer cancel()
	t, err := b.cluster.CreateTopic(ctx, TopicSpec{Name: name, Partitions: b.cfg.NumPartitions, ReplicationFactor: rf}, false)
	if errors.Is(err, ErrTopicExists) {
		if t, ok := b.cluster.Topic(name); ok {
			return t, 0
		}
	}
	if err != nil {
		b.log.Warn("auto-creating topic", "topic", name, "err", err)
		return TopicInfo{}, errLeaderNotAvailable
	}
	b.log.Info("auto-created topic", "topic", name, "partitions", b.cfg.NumPartitions)
	return t, 0
}

// metadataTopic answers for one topic; replicas on brokers not in live are
// listed as offline (v5+).
func metadataTopic(t TopicInfo, version int16, live map[int32]bool) kmsg.MetadataResponseTopic {
	mt := kmsg.NewMetadataResponseTopic()
	mt.Topic = kmsg.StringPtr(t.Name)
	mt.TopicID = t.ID
	mt.IsInternal = t.Internal
	for _, p := range t.Partitions {
		mp := kmsg.NewMetadataResponseTopicPartition()
		mp.Partition = p.Partition
		mp.Leader = p.Leader
		mp.LeaderEpoch = p.LeaderEpoch
		mp.Replicas = p.Replicas
		mp.ISR = p.ISR
		mp.OfflineReplicas = []int32{}
		for _, r := range p.Replicas {
			if !live[r] {
				mp.OfflineReplicas = append(mp.OfflineReplicas, r)
			}
		}
		if p.Leader < 0 {
			mp.ErrorCode = errLeaderNotAvailable
		}
		mt.Partitions = append(mt.Partitions, mp)
	}
	return mt
}
