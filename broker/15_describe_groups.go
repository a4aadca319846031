package broker

import "github.com/twmb/franz-go/pkg/kmsg"

// DescribeGroups: v0-5
//
// Behavior:
// * State, protocol type and protocol, members with client id and host;
//   member metadata and assignments while Stable.
// * Unknown groups are described as Dead with no members (as Kafka does).
//
// Version notes:
// * v3: authorized operations (INT32_MIN: not computed, no ACLs);
//   v4: instance ids; v5: flexible.

func init() { regKey(15, 0, 5, handleDescribeGroups) }

func handleDescribeGroups(b *Broker, r *request) (kmsg.Response, error) {
	req := r.kreq.(*kmsg.DescribeGroupsRequest)
	resp := req.ResponseKind().(*kmsg.DescribeGroupsResponse)
	for _, name := range req.Groups {
		if code := b.coordinatorCode(name); code != 0 {
			d := kmsg.NewDescribeGroupsResponseGroup()
			d.Group, d.ErrorCode = name, code
			resp.Groups = append(resp.Groups, d)
			continue
		}
		g := b.groups.get(name, false)
		if g == nil {
			d := kmsg.NewDescribeGroupsResponseGroup()
			d.Group, d.State = name, groupDead.String()
			resp.Groups = append(resp.Groups, d)
			continue
		}
		resp.Groups = append(resp.Groups, g.describe())
	}
	return resp, nil
}
