package broker

import (
	"slices"
	"strings"

	"github.com/twmb/franz-go/pkg/kmsg"
)

// ListGroups: v0-4
//
// Behavior:
// * Every group this broker coordinates, with its protocol type and (v4+)
//   state; a states filter (case-insensitive) limits the list.
//
// Version notes:
// * v3: flexible; v4: states filter and state.

func init() { regKey(16, 0, 4, handleListGroups) }

func handleListGroups(b *Broker, r *request) (kmsg.Response, error) {
	req := r.kreq.(*kmsg.ListGroupsRequest)
	resp := req.ResponseKind().(*kmsg.ListGroupsResponse)
	for _, g := range b.groups.list() {
		g.mu.Lock()
		state, ptype := g.state.String(), g.protocolType
		g.mu.Unlock()
		if len(req.StatesFilter) > 0 && !slices.ContainsFunc(req.StatesFilter, func(s string) bool { return strings.EqualFold(s, state) }) {
			continue
		}
		lg := kmsg.NewListGroupsResponseGroup()
		lg.Group, lg.ProtocolType, lg.GroupState = g.name, ptype, state
		resp.Groups = append(resp.Groups, lg)
	}
	return resp, nil
}
