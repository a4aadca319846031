package controller

import (
	"crypto/rand"

	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kmsg"

	"github.com/osprey-kafka/osprey/broker/acl"
	"github.com/osprey-kafka/osprey/broker/kraft/image"
	"github.com/osprey-kafka/osprey/broker/kraft/metadata"
)

// ACLs in KRaft mode (Kafka's AclControlManager): each ACL is one
// AccessControlEntryRecord with an id the controller picks; brokers build
// their authorizer from the image. The brokers check the requester's
// authorization before forwarding; the controller validates and writes.

// bindingOf is an image ACL as an acl.Binding.
func bindingOf(a image.ACL) acl.Binding {
	return acl.Binding{
		Resource: acl.Resource{Type: acl.ResourceType(a.ResourceType), Name: a.ResourceName, Pattern: acl.PatternType(a.PatternType)},
		Entry: acl.Entry{Principal: a.Principal, Host: a.Host, Operation: acl.Operation(a.Operation),
			Permission: acl.Permission(a.PermissionType)},
	}
}

// createACLs adds an AccessControlEntryRecord per new valid binding; a
// binding already stored succeeds without a record, an invalid one gets
// INVALID_REQUEST.
func (c *Controller) createACLs(b *batch, r *kmsg.CreateACLsRequest) *kmsg.CreateACLsResponse {
	resp := r.ResponseKind().(*kmsg.CreateACLsResponse)
	img := b.image()
	have := map[acl.Binding]bool{}
	ids := map[metadata.Uuid]bool{}
	for _, a := range img.ACLs() {
		have[bindingOf(a)] = true
		ids[a.ID] = true
	}
	for _, cr := range r.Creations {
		res := kmsg.NewCreateACLsResponseResult()
		bd := acl.Binding{
			Resource: acl.Resource{Type: acl.ResourceType(cr.ResourceType), Name: cr.ResourceName, Pattern: acl.PatternType(cr.ResourcePatternType)},
			Entry: acl.Entry{Principal: cr.Principal, Host: cr.Host, Operation: acl.Operation(cr.Operation),
				Permission: acl.Permission(cr.PermissionType)},
		}
		if r.Version == 0 {
			bd.Pattern = acl.PatternLiteral
		}
		if err := bd.Validate(); err != nil {
			res.ErrorCode, res.ErrorMessage = kerr.InvalidRequest.Code, kmsg.StringPtr(err.Error())
			resp.Results = append(resp.Results, res)
			continue
		}
		if !have[bd] {
			have[bd] = true
			id := newACLID(ids)
			b.add(&metadata.AccessControlEntryRecord{ID: id, ResourceType: int8(bd.Type), ResourceName: bd.Name,
				PatternType: int8(bd.Pattern), Principal: bd.Principal, Host: bd.Host, Operation: int8(bd.Operation),
				PermissionType: int8(bd.Permission)}, 0)
		}
		resp.Results = append(resp.Results, res)
	}
	return resp
}

// newACLID is a random id not zero and not among ids (which it joins).
func newACLID(ids map[metadata.Uuid]bool) metadata.Uuid {
	for {
		var id metadata.Uuid
		rand.Read(id[:]) //nolint:errcheck // crypto/rand never fails on Linux
		if !id.IsZero() && !ids[id] {
			ids[id] = true
			return id
		}
	}
}

// deleteACLs removes every ACL each valid filter selects (one
// RemoveAccessControlEntryRecord per ACL, even when several filters select
// it) and lists them per filter.
func (c *Controller) deleteACLs(b *batch, r *kmsg.DeleteACLsRequest) *kmsg.DeleteACLsResponse {
	resp := r.ResponseKind().(*kmsg.DeleteACLsResponse)
	acls := b.image().ACLs()
	removed := map[metadata.Uuid]bool{}
	for _, rf := range r.Filters {
		res := kmsg.NewDeleteACLsResponseResult()
		f := acl.Filter{Type: acl.ResourceType(rf.ResourceType), Name: rf.ResourceName,
			Pattern: acl.PatternType(rf.ResourcePatternType), Principal: rf.Principal, Host: rf.Host,
			Operation: acl.Operation(rf.Operation), Permission: acl.Permission(rf.PermissionType)}
		if r.Version == 0 {
			f.Pattern = acl.PatternLiteral
		}
		if err := f.Validate(); err != nil {
			res.ErrorCode, res.ErrorMessage = kerr.InvalidRequest.Code, kmsg.StringPtr(err.Error())
			resp.Results = append(resp.Results, res)
			continue
		}
		for _, a := range acls {
			if !f.Matches(bindingOf(a)) {
				continue
			}
			if !removed[a.ID] {
				removed[a.ID] = true
				b.add(&metadata.RemoveAccessControlEntryRecord{ID: a.ID}, 0)
			}
			m := kmsg.NewDeleteACLsResponseResultMatchingACL()
			m.ResourceType, m.ResourceName = kmsg.ACLResourceType(a.ResourceType), a.ResourceName
			m.ResourcePatternType = kmsg.ACLResourcePatternType(a.PatternType)
			m.Principal, m.Host = a.Principal, a.Host
			m.Operation, m.PermissionType = kmsg.ACLOperation(a.Operation), kmsg.ACLPermissionType(a.PermissionType)
			res.MatchingACLs = append(res.MatchingACLs, m)
		}
		resp.Results = append(resp.Results, res)
	}
	return resp
}
