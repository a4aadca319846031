package broker

import (
	"github.com/osprey-kafka/osprey/broker/acl"
	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kmsg"
)

// The authorization checks of requests that touch many resources at once:
// each returns nil when no authorizer is configured, so the handlers'
// hot paths pay one nil test.

// produceDenied gives the error code of each topic of a Produce the
// principal may not write to: every topic when the request is
// transactional and the principal may not WRITE its transactional id.
func (r *request) produceDenied(req *kmsg.ProduceRequest) map[string]int16 {
	if r.c.b.authz == nil {
		return nil
	}
	txnDenied := req.TransactionID != nil && !r.authorizeTxnID(acl.OpWrite, *req.TransactionID)
	var out map[string]int16
	for _, rt := range req.Topics {
		code := kerr.TransactionalIDAuthorizationFailed.Code
		if !txnDenied {
			code = r.authzTopicErr(acl.OpWrite, rt.Topic)
		}
		if code != 0 {
			if out == nil {
				out = map[string]int16{}
			}
			out[rt.Topic] = code
		}
	}
	return out
}

// fetchDenied marks, by position in the request, the topics of a Fetch
// the principal may not read: a follower needs CLUSTER_ACTION (else every
// topic is refused), a consumer READ on each topic. Topics unknown by id
// are left to the unknown-topic answer.
func (r *request) fetchDenied(req *kmsg.FetchRequest) []bool {
	b := r.c.b
	if b.authz == nil {
		return nil
	}
	denied := make([]bool, len(req.Topics))
	if req.ReplicaID >= 0 {
		if !r.authorizeCluster(acl.OpClusterAction) {
			for i := range denied {
				denied[i] = true
			}
		}
		return denied
	}
	for i, rt := range req.Topics {
		name := rt.Topic
		if req.Version >= 13 {
			t, ok := b.cluster.TopicByID(rt.TopicID)
			if !ok {
				continue
			}
			name = t.Name
		}
		denied[i] = !r.authorizeTopic(acl.OpRead, name)
	}
	return denied
}

// mayCreateTopic: CREATE on the cluster or on the topic.
func (r *request) mayCreateTopic(name string) bool {
	return r.c.b.authz == nil || r.authorizeCluster(acl.OpCreate) || r.authorizeTopic(acl.OpCreate, name)
}

// topicName is the name a Metadata topic entry asks about: the name given,
// else that of the topic its id resolved to ("" when unknown).
func topicName(name *string, t TopicInfo) string {
	if name != nil {
		return *name
	}
	return t.Name
}

// groupCode is GROUP_AUTHORIZATION_FAILED when the principal may not do
// op on the group, else the coordinator check's code (NOT_COORDINATOR,
// COORDINATOR_LOAD_IN_PROGRESS or 0): authorization comes first, so a
// principal learns nothing about a group it may not use.
func (r *request) groupCode(op acl.Operation, group string) int16 {
	if code := r.authzGroupErr(op, group); code != 0 {
		return code
	}
	return r.c.b.coordinatorCode(group)
}

// commitTopics splits an OffsetCommit: the request without the topics the
// principal may not READ, and TOPIC_AUTHORIZATION_FAILED for each of
// their partitions.
func (r *request) commitTopics(req *kmsg.OffsetCommitRequest) (*kmsg.OffsetCommitRequest, map[topicPartition]int16) {
	if r.c.b.authz == nil {
		return req, nil
	}
	var denied map[topicPartition]int16
	allowed := *req
	allowed.Topics = nil
	for _, rt := range req.Topics {
		if r.authorizeTopic(acl.OpRead, rt.Topic) {
			allowed.Topics = append(allowed.Topics, rt)
			continue
		}
		if denied == nil {
			denied = map[topicPartition]int16{}
		}
		for _, rp := range rt.Partitions {
			denied[topicPartition{rt.Topic, rp.Partition}] = kerr.TopicAuthorizationFailed.Code
		}
	}
	return &allowed, denied
}

// txnCommitDenied is TOPIC_AUTHORIZATION_FAILED for each partition of a
// TxnOffsetCommit whose topic the principal may not READ.
func (r *request) txnCommitDenied(req *kmsg.TxnOffsetCommitRequest) map[topicPartition]int16 {
	if r.c.b.authz == nil {
		return nil
	}
	var denied map[topicPartition]int16
	for _, rt := range req.Topics {
		if r.authorizeTopic(acl.OpRead, rt.Topic) {
			continue
		}
		if denied == nil {
			denied = map[topicPartition]int16{}
		}
		for _, rp := range rt.Partitions {
			denied[topicPartition{rt.Topic, rp.Partition}] = kerr.TopicAuthorizationFailed.Code
		}
	}
	return denied
}

// authorizedGroupOffsets is fetchGroupOffsets for a principal: DESCRIBE
// on the group (else GROUP_AUTHORIZATION_FAILED); of all the group's
// offsets only the topics it may DESCRIBE, and for named topics it may
// not describe TOPIC_AUTHORIZATION_FAILED.
func (r *request) authorizedGroupOffsets(group string, topics map[string][]int32, order []string, requireStable bool) ([]offsetFetchTopic, int16) {
	if code := r.authzGroupErr(acl.OpDescribe, group); code != 0 {
		return nil, code
	}
	res, code := r.c.b.fetchGroupOffsets(group, topics, order, requireStable)
	if r.c.b.authz == nil || code != 0 {
		return res, code
	}
	out := res[:0]
	for _, ft := range res {
		if r.authorizeTopic(acl.OpDescribe, ft.topic) {
			out = append(out, ft)
			continue
		}
		if topics == nil {
			continue // listing all: the topic is not shown
		}
		for i := range ft.parts {
			ft.parts[i] = offsetFetchPart{partition: ft.parts[i].partition, offset: -1, leaderEpoch: -1,
				code: kerr.TopicAuthorizationFailed.Code}
		}
		out = append(out, ft)
	}
	return out, 0
}

// coordinatorKeyDenied is the FindCoordinator check: DESCRIBE on the
// group (type 0) or the transactional id (type 1).
func (r *request) coordinatorKeyDenied(typ int8, key string) int16 {
	switch typ {
	case 0:
		return r.authzGroupErr(acl.OpDescribe, key)
	case 1:
		return r.authzTxnIDErr(acl.OpDescribe, key)
	case 2: // SHARE: only brokers look up share coordinators
		return r.authzClusterErr(acl.OpClusterAction)
	}
	return 0
}

// configDenied checks a config resource: DESCRIBE_CONFIGS or
// ALTER_CONFIGS on the topic (TOPIC_AUTHORIZATION_FAILED) or on the
// cluster for broker resources (CLUSTER_AUTHORIZATION_FAILED).
func (r *request) configDenied(op acl.Operation, typ kmsg.ConfigResourceType, name string) int16 {
	switch typ {
	case resourceTopic:
		return r.authzTopicErr(op, name)
	case resourceBroker, kmsg.ConfigResourceTypeBrokerLogger:
		return r.authzClusterErr(op)
	}
	return 0
}

// initProducerDenied is the InitProducerId check: WRITE on the
// transactional id, or for an idempotent producer IDEMPOTENT_WRITE on the
// cluster or WRITE on some topic (as Kafka allows since 2.8).
func (r *request) initProducerDenied(txnID *string) int16 {
	a := r.c.b.authz
	if a == nil {
		return 0
	}
	if txnID != nil {
		return r.authzTxnIDErr(acl.OpWrite, *txnID)
	}
	if r.authorizeCluster(acl.OpIdempotentWrite) ||
		a.AuthorizeAny(r.c.Principal(), clientHost(r.c.nc), acl.OpWrite, acl.ResourceTopic) {
		return 0
	}
	return kerr.ClusterAuthorizationFailed.Code
}

// addPartitionsDenied gives the code of each topic of an
// AddPartitionsToTxn (v0-3) the principal may not use: every topic when
// it may not WRITE the transactional id, else those it may not WRITE.
func (r *request) addPartitionsDenied(req *kmsg.AddPartitionsToTxnRequest) map[string]int16 {
	if r.c.b.authz == nil {
		return nil
	}
	txnDenied := r.authzTxnIDErr(acl.OpWrite, req.TransactionalID)
	var out map[string]int16
	for _, rt := range req.Topics {
		code := txnDenied
		if code == 0 {
			code = r.authzTopicErr(acl.OpWrite, rt.Topic)
		}
		if code != 0 {
			if out == nil {
				out = map[string]int16{}
			}
			out[rt.Topic] = code
		}
	}
	return out
}
