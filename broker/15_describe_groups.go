package broker

import (
	"github.com/osprey-kafka/osprey/broker/acl"
	"github.com/twmb/franz-go/pkg/kmsg"
)

// DescribeGroups: v0-6
//
// Behavior:
// * State, protocol type and protocol, members with client id and host;
//   member metadata and assignments while Stable.
// * Unknown groups are described as Dead with no members (as Kafka does).
//
// Version notes:
// * v3: authorized operations when asked for (bit field of the group
//   operations the principal may do; INT32_MIN when not asked);
//   v4: instance ids; v5: flexible; v6: error message, and unknown groups
//   and consumer groups get GROUP_ID_NOT_FOUND (before v6 they are Dead).

func init() { regKey(15, 0, 6, handleDescribeGroups) }

func handleDescribeGroups(b *Broker, r *request) (kmsg.Response, error) {
	req := r.kreq.(*kmsg.DescribeGroupsRequest)
	resp := req.ResponseKind().(*kmsg.DescribeGroupsResponse)
	for _, name := range req.Groups {
		if code := r.groupCode(acl.OpDescribe, name); code != 0 {
			d := kmsg.NewDescribeGroupsResponseGroup()
			d.Group, d.ErrorCode = name, code
			resp.Groups = append(resp.Groups, d)
			continue
		}
		d := b.describeClassicGroup(b.groups.get(name, false), name, req.Version)
		if req.IncludeAuthorizedOperations && req.Version >= 3 && d.ErrorCode == 0 {
			d.AuthorizedOperations = r.authorizedOperations(acl.ResourceGroup, name)
		}
		resp.Groups = append(resp.Groups, d)
	}
	return resp, nil
}
