package broker

import (
	"context"
	"errors"
	"time"

	"github.com/osprey-kafka/osprey/broker/acl"
	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kmsg"
)

// CreateACLs: v0-3
//
// Behavior:
// * Needs ALTER on the cluster (else every result is
//   CLUSTER_AUTHORIZATION_FAILED); SECURITY_DISABLED without an authorizer.
// * Each creation is checked as Kafka does (a concrete resource type, a
//   LITERAL or PREFIXED pattern, a non-empty name, kafka-cluster for the
//   Cluster resource, a concrete operation, ALLOW or DENY, a Type:name
//   principal, a host): INVALID_REQUEST with the reason otherwise.
// * Stored where the metadata mode keeps ACLs: the /kafka-acl znodes and
//   their change notifications in ZooKeeper mode, AccessControlEntryRecords
//   written by the controller in KRaft mode, memory on a single broker.
//   Creating an ACL that exists succeeds without a change.
//
// Version notes:
// * v1: pattern type (v0 is LITERAL). v2: flexible. v3: User resources.

func init() { regKey(30, 0, 3, handleCreateACLs) }

func handleCreateACLs(b *Broker, r *request) (kmsg.Response, error) {
	req := r.kreq.(*kmsg.CreateACLsRequest)
	resp := req.ResponseKind().(*kmsg.CreateACLsResponse)
	resp.Results = make([]kmsg.CreateACLsResponseResult, len(req.Creations))
	for i := range resp.Results {
		resp.Results[i] = kmsg.NewCreateACLsResponseResult()
	}
	setAll := func(code int16, msg string) (kmsg.Response, error) {
		for i := range resp.Results {
			resp.Results[i].ErrorCode = code
			if msg != "" {
				resp.Results[i].ErrorMessage = strp(msg)
			}
		}
		return resp, nil
	}
	if code, msg := r.aclAPIRefusal(b, acl.OpAlter); code != 0 {
		return setAll(code, msg)
	}
	var valid []acl.Binding
	var at []int // index in the request of each valid binding
	for i, c := range req.Creations {
		bd := acl.Binding{
			Resource: acl.Resource{Type: acl.ResourceType(c.ResourceType), Name: c.ResourceName, Pattern: acl.PatternType(c.ResourcePatternType)},
			Entry: acl.Entry{Principal: c.Principal, Host: c.Host, Operation: acl.Operation(c.Operation),
				Permission: acl.Permission(c.PermissionType)},
		}
		if req.Version == 0 {
			bd.Pattern = acl.PatternLiteral
		}
		if err := bd.Validate(); err != nil {
			resp.Results[i].ErrorCode, resp.Results[i].ErrorMessage = kerr.InvalidRequest.Code, strp(err.Error())
			continue
		}
		valid, at = append(valid, bd), append(at, i)
	}
	if len(valid) == 0 {
		return resp, nil
	}
	ctx, cancel := context.WithTimeout(b.ctx, aclWriteTimeout)
	defer cancel()
	for j, err := range b.aclStore().createACLs(ctx, valid) {
		if err != nil {
			res := &resp.Results[at[j]]
			res.ErrorCode, res.ErrorMessage = aclStoreErrCode(err), strp(err.Error())
			b.log.Warn("creating ACL", "acl", valid[j].String(), "err", err)
		}
	}
	return resp, nil
}

// aclWriteTimeout bounds an ACL change in the metadata store.
const aclWriteTimeout = 30 * time.Second

// errACLNotController: the KRaft controller could not be reached.
var errACLNotController = errors.New("no active controller")

// aclStoreErrCode maps a store failure to the code the client sees.
func aclStoreErrCode(err error) int16 {
	switch {
	case errors.Is(err, context.DeadlineExceeded):
		return kerr.RequestTimedOut.Code
	case errors.Is(err, errACLNotController):
		return kerr.NotController.Code
	}
	var ke *kerr.Error
	if errors.As(err, &ke) {
		return ke.Code
	}
	return kerr.UnknownServerError.Code
}
