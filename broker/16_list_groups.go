package broker

import (
	"slices"
	"strings"

	"github.com/twmb/franz-go/pkg/kmsg"
)

// ListGroups: v0-4
//
// Behavior:
// * Every group this broker coordinates (those of the __consumer_offsets
//   partitions it leads and has loaded), with its protocol type and (v4+)
//   state; a states filter (case-insensitive) limits the list. Groups of a
//   partition it has stopped leading are not listed, so each group is
//   listed by one broker.
// * While a partition it leads is still being loaded the answer carries
//   COORDINATOR_LOAD_IN_PROGRESS with the groups already loaded (as Kafka).
//
// Version notes:
// * v3: flexible; v4: states filter and state.

func init() { regKey(16, 0, 4, handleListGroups) }

func handleListGroups(b *Broker, r *request) (kmsg.Response, error) {
	req := r.kreq.(*kmsg.ListGroupsRequest)
	resp := req.ResponseKind().(*kmsg.ListGroupsResponse)
	if b.groups.loading() {
		resp.ErrorCode = errCoordinatorLoading
	}
	for _, g := range b.groups.coordinated() {
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
