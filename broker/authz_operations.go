package broker

import "github.com/osprey-kafka/osprey/broker/acl"

// Authorized operations, as Kafka's AuthHelper.authorizedOperations fills
// the *_authorized_operations fields of Metadata, DescribeCluster,
// DescribeGroups and ConsumerGroupDescribe: a bit field with bit op set for
// every operation of the resource type's supported set the principal may
// do on the resource (implied operations count: READ gives DESCRIBE).
// Without an authorizer every supported operation is set. A field the
// request did not ask for keeps the schema default, math.MinInt32.

// supportedOperations are Kafka's AclEntry.supportedOperations.
var supportedOperations = map[acl.ResourceType][]acl.Operation{
	acl.ResourceTopic: {acl.OpRead, acl.OpWrite, acl.OpCreate, acl.OpDescribe, acl.OpDelete, acl.OpAlter,
		acl.OpDescribeConfigs, acl.OpAlterConfigs},
	acl.ResourceGroup: {acl.OpRead, acl.OpDescribe, acl.OpDelete, acl.OpDescribeConfigs, acl.OpAlterConfigs},
	acl.ResourceCluster: {acl.OpCreate, acl.OpClusterAction, acl.OpDescribeConfigs, acl.OpAlterConfigs,
		acl.OpIdempotentWrite, acl.OpAlter, acl.OpDescribe},
	acl.ResourceTransactionalID: {acl.OpDescribe, acl.OpWrite},
	acl.ResourceDelegationToken: {acl.OpDescribe},
}

// authorizedOperations is the bit field of the operations the request's
// principal may do on the resource.
func (r *request) authorizedOperations(rt acl.ResourceType, name string) int32 {
	var bits int32
	for _, op := range supportedOperations[rt] {
		if r.allowedQuietly(op, rt, name) {
			bits |= 1 << op
		}
	}
	return bits
}

// allowedQuietly is authorize without logging a denial, for the checks
// Kafka makes with logIfDenied=false (authorized operations, topics a
// regex subscription matches).
func (r *request) allowedQuietly(op acl.Operation, rt acl.ResourceType, name string) bool {
	a := r.c.b.authz
	return a == nil || a.Authorize(r.c.Principal(), clientHost(r.c.nc), op, rt, name).Allowed
}

// clusterAuthorizedOperations is the cluster's field as Metadata (v8-10)
// and DescribeCluster fill it: 0 without DESCRIBE on the cluster.
func (r *request) clusterAuthorizedOperations() int32 {
	if !r.authorizeCluster(acl.OpDescribe) {
		return 0
	}
	return r.authorizedOperations(acl.ResourceCluster, acl.ClusterName)
}
