package broker

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"sync"

	"github.com/osprey-kafka/osprey/broker/acl"
	"github.com/osprey-kafka/osprey/internal/atomicfile"
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

// clientHost is the client's IP address as Kafka's authorizer sees it
// (InetAddress.getHostAddress(): ::1 is 0:0:0:0:0:0:0:1), the host ACLs
// match and member descriptions show.
func clientHost(nc net.Conn) string {
	if ta, ok := nc.RemoteAddr().(*net.TCPAddr); ok {
		return acl.JavaHostAddress(ta.IP, ta.Zone)
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

// aclAPIRefusal says why an ACL API may not run at all, as Kafka answers it:
// SECURITY_DISABLED without an authorizer, CLUSTER_AUTHORIZATION_FAILED
// without op on the cluster; code 0 lets it run.
func (r *request) aclAPIRefusal(b *Broker, op acl.Operation) (code int16, msg string) {
	switch {
	case b.authz == nil:
		return kerr.SecurityDisabled.Code, "no authorizer is configured (authorizer.class.name)"
	case !r.authorizeCluster(op):
		return kerr.ClusterAuthorizationFailed.Code, ""
	}
	return 0, ""
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
// else the single broker's file (set by startACLs).
func (b *Broker) aclStore() aclStore {
	if s, ok := b.cluster.(aclStore); ok {
		return s
	}
	return b.localACLs
}

// localACLs is the ACL store of a broker without a metadata store: the
// authorizer's ACLs, written to <first log dir>/osprey-acls.json (no log
// dir: memory only) before the authorizer changes. mu serializes changes
// and the file.
type localACLs struct {
	mu   sync.Mutex
	a    *acl.Authorizer
	path string // "" = not persisted
}

// aclFileName is the single broker's ACL file, next to its topic file.
const aclFileName = "osprey-acls.json"

// persistedACL is one ACL in osprey-acls.json, with Kafka's names.
type persistedACL struct {
	ResourceType string `json:"resource_type"`
	Name         string `json:"name"`
	PatternType  string `json:"pattern_type"`
	Principal    string `json:"principal"`
	Host         string `json:"host"`
	Operation    string `json:"operation"`
	Permission   string `json:"permission"`
}

// load reads the file into the authorizer, if there is one.
func (l *localACLs) load() error {
	if l.path == "" {
		return nil
	}
	data, err := os.ReadFile(l.path)
	if errors.Is(err, os.ErrNotExist) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("reading ACLs: %w", err)
	}
	var ps []persistedACL
	if err := json.Unmarshal(data, &ps); err != nil {
		return fmt.Errorf("decoding %s: %w", l.path, err)
	}
	bs := make([]acl.Binding, 0, len(ps))
	for _, p := range ps {
		rt, ok1 := acl.ParseResourceType(p.ResourceType)
		pt, ok2 := acl.ParsePatternType(p.PatternType)
		op, ok3 := acl.ParseOperation(p.Operation)
		perm, ok4 := acl.ParsePermission(p.Permission)
		b := acl.Binding{Resource: acl.Resource{Type: rt, Name: p.Name, Pattern: pt},
			Entry: acl.Entry{Principal: p.Principal, Host: p.Host, Operation: op, Permission: perm}}
		if !ok1 || !ok2 || !ok3 || !ok4 || b.Validate() != nil {
			return fmt.Errorf("%s: invalid ACL %+v", l.path, p)
		}
		bs = append(bs, b)
	}
	l.a.Replace(bs)
	return nil
}

func (l *localACLs) save(bs []acl.Binding) error {
	if l.path == "" {
		return nil
	}
	ps := make([]persistedACL, 0, len(bs))
	for _, b := range bs {
		ps = append(ps, persistedACL{ResourceType: b.Type.String(), Name: b.Name, PatternType: b.Pattern.String(),
			Principal: b.Principal, Host: b.Host, Operation: b.Operation.String(), Permission: b.Permission.String()})
	}
	data, err := json.MarshalIndent(ps, "", "  ")
	if err != nil {
		return err
	}
	if err := atomicfile.Write(l.path, data, 0o600); err != nil {
		return fmt.Errorf("saving ACLs: %w", err)
	}
	return nil
}

func (l *localACLs) createACLs(_ context.Context, bs []acl.Binding) []error {
	l.mu.Lock()
	defer l.mu.Unlock()
	errs := make([]error, len(bs))
	all := l.a.Bindings(acl.MatchAll)
	have := map[acl.Binding]bool{}
	for _, b := range all {
		have[b] = true
	}
	for _, b := range bs {
		if !have[b] {
			have[b] = true
			all = append(all, b)
		}
	}
	if err := l.save(all); err != nil {
		for i := range errs {
			errs[i] = err
		}
		return errs
	}
	l.a.Add(bs...)
	return errs
}

func (l *localACLs) deleteACLs(_ context.Context, fs []acl.Filter) ([][]acl.Binding, []error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	out, errs := make([][]acl.Binding, len(fs)), make([]error, len(fs))
	gone := map[acl.Binding]bool{}
	for i, f := range fs {
		out[i] = l.a.Bindings(f)
		for _, b := range out[i] {
			gone[b] = true
		}
	}
	if len(gone) == 0 {
		return out, errs
	}
	var keep, drop []acl.Binding
	for _, b := range l.a.Bindings(acl.MatchAll) {
		if gone[b] {
			drop = append(drop, b)
		} else {
			keep = append(keep, b)
		}
	}
	if err := l.save(keep); err != nil {
		for i := range errs {
			out[i], errs[i] = nil, err
		}
		return out, errs
	}
	l.a.Remove(drop...)
	return out, errs
}

// aclLoader is a cluster that feeds the authorizer from its metadata
// store: startACLs loads the ACLs before the broker serves and keeps them
// current until the broker closes.
type aclLoader interface {
	startACLs(ctx context.Context, a *acl.Authorizer) error
}

// startACLs loads the ACLs into the authorizer, when there is one: from
// the metadata store, or from the single broker's file.
func (b *Broker) startACLs(ctx context.Context, c Cluster) error {
	if b.authz == nil {
		return nil
	}
	if l, ok := c.(aclLoader); ok {
		return l.startACLs(ctx, b.authz)
	}
	b.localACLs = &localACLs{a: b.authz}
	if len(b.cfg.LogDirs) > 0 {
		b.localACLs.path = filepath.Join(b.cfg.LogDirs[0], aclFileName)
	}
	return b.localACLs.load()
}
