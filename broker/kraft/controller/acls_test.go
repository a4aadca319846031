package controller

import (
	"testing"

	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kmsg"
)

func aclCreation(rt kmsg.ACLResourceType, name string, pt kmsg.ACLResourcePatternType, principal string, op kmsg.ACLOperation) kmsg.CreateACLsRequestCreation {
	c := kmsg.NewCreateACLsRequestCreation()
	c.ResourceType, c.ResourceName, c.ResourcePatternType = rt, name, pt
	c.Principal, c.Host, c.Operation, c.PermissionType = principal, "*", op, kmsg.ACLPermissionTypeAllow
	return c
}

func TestCreateAndDeleteACLs(t *testing.T) {
	h := newHarness(t, testConfig(), 0)
	req := kmsg.NewPtrCreateACLsRequest()
	req.Version = 3
	req.Creations = append(req.Creations,
		aclCreation(kmsg.ACLResourceTypeTopic, "orders", kmsg.ACLResourcePatternTypeLiteral, "User:alice", kmsg.ACLOperationRead),
		aclCreation(kmsg.ACLResourceTypeTopic, "orders", kmsg.ACLResourcePatternTypeLiteral, "User:alice", kmsg.ACLOperationRead),
		aclCreation(kmsg.ACLResourceTypeGroup, "app-", kmsg.ACLResourcePatternTypePrefixed, "User:alice", kmsg.ACLOperationRead),
		aclCreation(kmsg.ACLResourceTypeCluster, "not-the-cluster", kmsg.ACLResourcePatternTypeLiteral, "User:alice", kmsg.ACLOperationAlter),
		aclCreation(kmsg.ACLResourceTypeTopic, "x", kmsg.ACLResourcePatternTypeLiteral, "alice", kmsg.ACLOperationRead),
	)
	resp, recs := h.handle(req)
	codes := []int16{}
	for _, r := range resp.(*kmsg.CreateACLsResponse).Results {
		codes = append(codes, r.ErrorCode)
	}
	inv := kerr.InvalidRequest.Code
	if want := []int16{0, 0, 0, inv, inv}; len(codes) != len(want) || codes[3] != inv || codes[4] != inv || codes[0] != 0 || codes[1] != 0 || codes[2] != 0 {
		t.Fatalf("codes %v, want %v", codes, want)
	}
	if len(recs) != 2 || len(h.img.ACLs()) != 2 {
		t.Fatalf("%d records, %d ACLs; want 2 (the duplicate makes none)", len(recs), len(h.img.ACLs()))
	}

	// Two filters selecting the same ACL remove it once, list it twice.
	del := kmsg.NewPtrDeleteACLsRequest()
	del.Version = 3
	f := kmsg.NewDeleteACLsRequestFilter()
	f.ResourceType, f.ResourcePatternType = kmsg.ACLResourceTypeAny, kmsg.ACLResourcePatternTypeAny
	f.Operation, f.PermissionType = kmsg.ACLOperationAny, kmsg.ACLPermissionTypeAny
	orders := "orders"
	f2 := f
	f2.ResourceName, f2.ResourcePatternType = &orders, kmsg.ACLResourcePatternTypeMatch
	bad := f
	bad.Operation = kmsg.ACLOperationUnknown
	del.Filters = append(del.Filters, f2, f, bad)
	dresp, drecs := h.handle(del)
	res := dresp.(*kmsg.DeleteACLsResponse).Results
	if len(res) != 3 || len(res[0].MatchingACLs) != 1 || len(res[1].MatchingACLs) != 2 || res[2].ErrorCode != inv {
		t.Fatalf("delete results %+v", res)
	}
	if len(drecs) != 2 || len(h.img.ACLs()) != 0 {
		t.Fatalf("%d remove records, %d ACLs left", len(drecs), len(h.img.ACLs()))
	}
}
