package broker

import (
	"context"
	"net"

	"github.com/osprey-kafka/osprey/broker/acl"
	"github.com/twmb/franz-go/pkg/kerr"
)

// Authorization on request paths. Each handler asks one of the small
// checks below about what it touches, as Kafka's KafkaApis does; without
// an authorizer (authorizer.class.name unset) every check is a nil test
// and allows.

// authorize answers whether the request's principal, from the
// connection's remote IP, may do op on the resource. A denial is logged
// at debug level with the rule that decided it.
func (r *request) authorize(op acl.Operation, rt acl.ResourceType, name string) bool {
	a := r.c.b.authz
	if a == nil {
		return true
	}
	d := a.Authorize(r.c.Principal(), clientHost(r.c.nc), op, rt, name)
	if !d.Allowed {
		r.c.log.Debug("request not authorized", "principal", r.c.Principal(), "operation", op.String(),
			"resource_type", rt.String(), "resource", name, "decision", d.String())
	}
	return d.Allowed
}

// clientHost is the client's IP address, the host ACLs match.
func clientHost(nc net.Conn) string {
	if ta, ok := nc.RemoteAddr().(*net.TCPAddr); ok {
		return ta.IP.String()
	}
	host, _, err := net.SplitHostPort(nc.RemoteAddr().String())
	if err != nil {
		return nc.RemoteAddr().String()
	}
	return host
}

func (r *request) authorizeTopic(op acl.Operation, topic string) bool {
	return r.authorize(op, acl.ResourceTopic, topic)
}

func (r *request) authorizeGroup(op acl.Operation, group string) bool {
	return r.authorize(op, acl.ResourceGroup, group)
}

func (r *request) authorizeCluster(op acl.Operation) bool {
	return r.authorize(op, acl.ResourceCluster, acl.ClusterName)
}

func (r *request) authorizeTxnID(op acl.Operation, id string) bool {
	return r.authorize(op, acl.ResourceTransactionalID, id)
}

// authzTopicErr is TOPIC_AUTHORIZATION_FAILED when the principal may not
// do op on topic, else 0: for per-topic error codes.
func (r *request) authzTopicErr(op acl.Operation, topic string) int16 {
	if r.authorizeTopic(op, topic) {
		return 0
	}
	return kerr.TopicAuthorizationFailed.Code
}

// authzGroupErr is GROUP_AUTHORIZATION_FAILED when the principal may not
// do op on group, else 0.
func (r *request) authzGroupErr(op acl.Operation, group string) int16 {
	if r.authorizeGroup(op, group) {
		return 0
	}
	return kerr.GroupAuthorizationFailed.Code
}

// authzClusterErr is CLUSTER_AUTHORIZATION_FAILED when the principal may
// not do op on the cluster, else 0.
func (r *request) authzClusterErr(op acl.Operation) int16 {
	if r.authorizeCluster(op) {
		return 0
	}
	return kerr.ClusterAuthorizationFailed.Code
}

// authzTxnIDErr is TRANSACTIONAL_ID_AUTHORIZATION_FAILED when the
// principal may not do op on the transactional id, else 0.
func (r *request) authzTxnIDErr(op acl.Operation, id string) int16 {
	if r.authorizeTxnID(op, id) {
		return 0
	}
	return kerr.TransactionalIDAuthorizationFailed.Code
}

// aclStore keeps the ACLs where the metadata mode keeps them and brings
// the broker's authorizer up to date with them. Methods may block on the
// metadata store, bounded by ctx.
type aclStore interface {
	// createACLs stores bindings (already validated): one error per
	// binding, nil when it was stored or was there already.
	createACLs(ctx context.Context, bs []acl.Binding) []error
	// deleteACLs removes the bindings each filter selects and returns
	// them per filter, or an error per filter.
	deleteACLs(ctx context.Context, fs []acl.Filter) ([][]acl.Binding, []error)
}

// aclStore is the cluster's store when it has one (ZooKeeper, KRaft),
// else the authorizer itself: a single broker keeps its ACLs in memory.
func (b *Broker) aclStore() aclStore {
	if s, ok := b.cluster.(aclStore); ok {
		return s
	}
	return memoryACLs{b.authz}
}

// memoryACLs is the ACL store of a broker without a metadata store.
type memoryACLs struct{ a *acl.Authorizer }

func (m memoryACLs) createACLs(_ context.Context, bs []acl.Binding) []error {
	m.a.Add(bs...)
	return make([]error, len(bs))
}

func (m memoryACLs) deleteACLs(_ context.Context, fs []acl.Filter) ([][]acl.Binding, []error) {
	out := make([][]acl.Binding, len(fs))
	for i, f := range fs {
		out[i] = m.a.Remove(m.a.Bindings(f)...)
	}
	return out, make([]error, len(fs))
}

// aclLoader is a cluster that feeds the authorizer from its metadata
// store: startACLs loads the ACLs before the broker serves and keeps them
// current until the broker closes.
type aclLoader interface {
	startACLs(ctx context.Context, a *acl.Authorizer) error
}

// startACLs loads the ACLs into the authorizer, when there is one.
func (b *Broker) startACLs(ctx context.Context, c Cluster) error {
	if b.authz == nil {
		return nil
	}
	if l, ok := c.(aclLoader); ok {
		return l.startACLs(ctx, b.authz)
	}
	return nil
}
