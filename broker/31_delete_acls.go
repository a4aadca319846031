package broker

import (
	"context"

	"github.com/osprey-kafka/osprey/broker/acl"
	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kmsg"
)

// DeleteACLs: v0-3
//
// Behavior:
// * Needs ALTER on the cluster (else every filter's result is
//   CLUSTER_AUTHORIZATION_FAILED); SECURITY_DISABLED without an authorizer.
// * A filter with an unknown resource type, pattern type, operation or
//   permission is INVALID_REQUEST; the others delete the ACLs they select
//   (Kafka's matching: ANY / null match everything, MATCH selects every
//   ACL that applies to the named resource) and list them.
// * Deleted where the metadata mode keeps ACLs (see CreateACLs).
//
// Version notes:
// * v1: pattern type (v0 is LITERAL). v2: flexible. v3: User resources.

func init() { regKey(31, 0, 3, handleDeleteACLs) }

func handleDeleteACLs(b *Broker, r *request) (kmsg.Response, error) {
	req := r.kreq.(*kmsg.DeleteACLsRequest)
	resp := req.ResponseKind().(*kmsg.DeleteACLsResponse)
	resp.Results = make([]kmsg.DeleteACLsResponseResult, len(req.Filters))
	for i := range resp.Results {
		resp.Results[i] = kmsg.NewDeleteACLsResponseResult()
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
	var valid []acl.Filter
	var at []int
	for i, rf := range req.Filters {
		f := acl.Filter{Type: acl.ResourceType(rf.ResourceType), Name: rf.ResourceName,
			Pattern: acl.PatternType(rf.ResourcePatternType), Principal: rf.Principal, Host: rf.Host,
			Operation: acl.Operation(rf.Operation), Permission: acl.Permission(rf.PermissionType)}
		if req.Version == 0 {
			f.Pattern = acl.PatternLiteral
		}
		if err := f.Validate(); err != nil {
			resp.Results[i].ErrorCode, resp.Results[i].ErrorMessage = kerr.InvalidRequest.Code, strp(err.Error())
			continue
		}
		valid, at = append(valid, f), append(at, i)
	}
	if len(valid) == 0 {
		return resp, nil
	}
	ctx, cancel := context.WithTimeout(b.ctx, aclWriteTimeout)
	defer cancel()
	deleted, errs := b.aclStore().deleteACLs(ctx, valid)
	for j := range valid {
		res := &resp.Results[at[j]]
		if errs[j] != nil {
			res.ErrorCode, res.ErrorMessage = aclStoreErrCode(errs[j]), strp(errs[j].Error())
			continue
		}
		for _, bd := range deleted[j] {
			m := kmsg.NewDeleteACLsResponseResultMatchingACL()
			m.ResourceType, m.ResourceName = kmsg.ACLResourceType(bd.Type), bd.Name
			m.ResourcePatternType = kmsg.ACLResourcePatternType(bd.Pattern)
			m.Principal, m.Host = bd.Principal, bd.Host
			m.Operation, m.PermissionType = kmsg.ACLOperation(bd.Operation), kmsg.ACLPermissionType(bd.Permission)
			res.MatchingACLs = append(res.MatchingACLs, m)
		}
	}
	return resp, nil
}
