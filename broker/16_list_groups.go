package broker

import (
	"slices"
	"strings"

	"github.com/osprey-kafka/osprey/broker/acl"
	"github.com/twmb/franz-go/pkg/kmsg"
)

// ListGroups: v0-5
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
// * v3: flexible; v4: states filter and state; v5: types filter and group
//   type (classic, consumer or share; KIP-1043), consumer groups' states
//   being Empty, Assigning, Reconciling and Stable, share groups' Empty
//   and Stable.

func init() { regKey(16, 0, 5, handleListGroups) }

func handleListGroups(b *Broker, r *request) (kmsg.Response, error) {
	req := r.kreq.(*kmsg.ListGroupsRequest)
	resp := req.ResponseKind().(*kmsg.ListGroupsResponse)
	if b.groups.loading() {
		resp.ErrorCode = errCoordinatorLoading
	}
	// DESCRIBE on the cluster shows every group, else those the
	// principal may describe.
	seeAll := r.authorizeCluster(acl.OpDescribe)
	for _, g := range b.groups.coordinated() {
		g.mu.Lock()
		state, ptype, gtype := g.stateName(), g.listedProtocolType(), g.groupType()
		g.mu.Unlock()
		if !seeAll && !r.authorizeGroup(acl.OpDescribe, g.name) {
			continue
		}
		if len(req.StatesFilter) > 0 && !slices.ContainsFunc(req.StatesFilter, func(s string) bool { return strings.EqualFold(s, state) }) {
			continue
		}
		if len(req.TypesFilter) > 0 && !slices.ContainsFunc(req.TypesFilter, func(s string) bool { return strings.EqualFold(s, gtype) }) {
			continue
		}
		lg := kmsg.NewListGroupsResponseGroup()
		lg.Group, lg.ProtocolType, lg.GroupState, lg.GroupType = g.name, ptype, state, gtype
		resp.Groups = append(resp.Groups, lg)
	}
	resp.Groups = append(resp.Groups, b.listShareGroups(r, req, seeAll)...)
	return resp, nil
}
