package broker

import (
	"github.com/osprey-kafka/osprey/broker/acl"
	"github.com/twmb/franz-go/pkg/kmsg"
)

// DeleteGroups: v0-2
//
// Behavior:
// * Only groups without members can be deleted (else GROUP_NOT_EMPTY);
//   unknown groups get GROUP_ID_NOT_FOUND.
// * Deletion writes tombstones for the group's metadata and every
//   committed offset to __consumer_offsets.
//
// Version notes:
// * v2: flexible.

func init() { regKey(42, 0, 2, handleDeleteGroups) }

func handleDeleteGroups(b *Broker, r *request) (kmsg.Response, error) {
	req := r.kreq.(*kmsg.DeleteGroupsRequest)
	resp := req.ResponseKind().(*kmsg.DeleteGroupsResponse)
	for _, name := range req.Groups {
		dg := kmsg.NewDeleteGroupsResponseGroup()
		dg.Group = name
		dg.ErrorCode = r.authzGroupErr(acl.OpDelete, name)
		if dg.ErrorCode == 0 {
			dg.ErrorCode = b.deleteGroup(name)
		}
		resp.Groups = append(resp.Groups, dg)
	}
	return resp, nil
}

func (b *Broker) deleteGroup(name string) int16 {
	if code := b.coordinatorCode(name); code != 0 {
		return code
	}
	g := b.groups.get(name, false)
	if g == nil {
		return errGroupIDNotFound
	}
	g.mu.Lock()
	if !g.emptyLocked() || g.state == groupDead {
		empty := g.emptyLocked()
		g.mu.Unlock()
		if !empty {
			return errGroupNotEmpty
		}
		return errGroupIDNotFound
	}
	recs := []kvRecord{}
	for tp := range g.offsets {
		recs = append(recs, kvRecord{key: offsetKey(name, tp)})
	}
	if g.cg != nil {
		recs = append(recs, g.consumerTombstones()...)
	} else {
		recs = append(recs, kvRecord{key: groupKey(name)})
	}
	code := b.groups.writeGroupRecords(name, recs)
	if code == 0 {
		g.state = groupDead
	}
	g.mu.Unlock()
	if code == 0 {
		b.groups.remove(name)
	}
	return code
}
