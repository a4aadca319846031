package broker

import (
	"github.com/osprey-kafka/osprey/broker/acl"
	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kmsg"
)

// DescribeACLs: v0-3
//
// Behavior:
// * Answered from this broker's authorizer (its ACLs are those of the
//   metadata store, kept current by watches or the metadata log).
// * SECURITY_DISABLED without an authorizer; CLUSTER_AUTHORIZATION_FAILED
//   without DESCRIBE on the cluster; INVALID_REQUEST for a filter with an
//   unknown resource type, pattern type, operation or permission.
// * The filter follows Kafka's rules: ANY and null match everything,
//   pattern type MATCH selects every ACL that applies to the named
//   resource (literal, the literal wildcard, prefixes of the name).
// * Resources come grouped by (type, name, pattern), sorted.
//
// Version notes:
// * v1: pattern type in the filter and the resources (v0 is LITERAL).
// * v2: flexible. v3: User resource type (not served: no ACL has it).

func init() { regKey(29, 0, 3, handleDescribeACLs) }

func handleDescribeACLs(b *Broker, r *request) (kmsg.Response, error) {
	req := r.kreq.(*kmsg.DescribeACLsRequest)
	resp := req.ResponseKind().(*kmsg.DescribeACLsResponse)
	f := acl.Filter{Type: acl.ResourceType(req.ResourceType), Name: req.ResourceName,
		Pattern: acl.PatternType(req.ResourcePatternType), Principal: req.Principal, Host: req.Host,
		Operation: acl.Operation(req.Operation), Permission: acl.Permission(req.PermissionType)}
	if req.Version == 0 {
		f.Pattern = acl.PatternLiteral
	}
	if code, msg := r.aclAPIRefusal(b, acl.OpDescribe); code != 0 {
		resp.ErrorCode = code
		if msg != "" {
			resp.ErrorMessage = strp(msg)
		}
		return resp, nil
	}
	if err := f.Validate(); err != nil {
		resp.ErrorCode, resp.ErrorMessage = kerr.InvalidRequest.Code, strp(err.Error())
		return resp, nil
	}
	for _, bd := range b.authz.Bindings(f) {
		n := len(resp.Resources)
		if n == 0 || resp.Resources[n-1].ResourceType != kmsg.ACLResourceType(bd.Type) ||
			resp.Resources[n-1].ResourceName != bd.Name || resp.Resources[n-1].ResourcePatternType != kmsg.ACLResourcePatternType(bd.Pattern) {
			res := kmsg.NewDescribeACLsResponseResource()
			res.ResourceType, res.ResourceName = kmsg.ACLResourceType(bd.Type), bd.Name
			res.ResourcePatternType = kmsg.ACLResourcePatternType(bd.Pattern)
			resp.Resources = append(resp.Resources, res)
			n++
		}
		a := kmsg.NewDescribeACLsResponseResourceACL()
		a.Principal, a.Host = bd.Principal, bd.Host
		a.Operation, a.PermissionType = kmsg.ACLOperation(bd.Operation), kmsg.ACLPermissionType(bd.Permission)
		resp.Resources[n-1].ACLs = append(resp.Resources[n-1].ACLs, a)
	}
	return resp, nil
}

func strp(s string) *string { return &s }
