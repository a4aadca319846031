package image

import (
	"bytes"
	"fmt"
	"maps"
	"slices"

	"github.com/osprey-kafka/osprey/broker/kraft/metadata"
)

// ACL is one access control entry as an AccessControlEntryRecord sets it;
// the enums carry Kafka's wire codes.
type ACL struct {
	ID             metadata.Uuid
	ResourceType   int8
	ResourceName   string
	PatternType    int8
	Principal      string
	Host           string
	Operation      int8
	PermissionType int8
}

// ACLs lists every ACL, by id.
func (im Image) ACLs() []ACL {
	out := make([]ACL, 0, len(im.acls))
	for _, a := range im.acls {
		out = append(out, *a)
	}
	slices.SortFunc(out, func(a, b ACL) int { return bytes.Compare(a.ID[:], b.ID[:]) })
	return out
}

// replayACL records an ACL added or removed in the delta. As in Kafka's
// AclsDelta, removing an id that is not there is an error.
func (d *Delta) replayACL(rec metadata.Record) error {
	if d.acls == nil {
		d.acls = map[metadata.Uuid]*ACL{}
	}
	switch r := rec.(type) {
	case *metadata.AccessControlEntryRecord:
		d.acls[r.ID] = &ACL{ID: r.ID, ResourceType: r.ResourceType, ResourceName: r.ResourceName, PatternType: r.PatternType,
			Principal: r.Principal, Host: r.Host, Operation: r.Operation, PermissionType: r.PermissionType}
	case *metadata.RemoveAccessControlEntryRecord:
		cur, inDelta := d.acls[r.ID]
		_, inBase := d.base.acls[r.ID]
		if (inDelta && cur == nil) || (!inDelta && !inBase) {
			return fmt.Errorf("RemoveAccessControlEntryRecord: no ACL with id %s", r.ID)
		}
		d.acls[r.ID] = nil
	}
	return nil
}

// ACLsChanged reports whether the delta added or removed an ACL.
func (d *Delta) ACLsChanged() bool { return len(d.acls) > 0 }

func (d *Delta) applyACLs() map[metadata.Uuid]*ACL {
	out := maps.Clone(d.base.acls)
	if out == nil {
		out = map[metadata.Uuid]*ACL{}
	}
	for id, a := range d.acls {
		if a == nil {
			delete(out, id)
		} else {
			out[id] = a
		}
	}
	return nilIfEmpty(out)
}

// aclRecords writes the ACLs as AccessControlEntryRecords, by id.
func (im Image) aclRecords() []VersionedRecord {
	var out []VersionedRecord
	for _, a := range im.ACLs() {
		out = append(out, VersionedRecord{Record: &metadata.AccessControlEntryRecord{ID: a.ID, ResourceType: a.ResourceType,
			ResourceName: a.ResourceName, PatternType: a.PatternType, Principal: a.Principal, Host: a.Host,
			Operation: a.Operation, PermissionType: a.PermissionType}})
	}
	return out
}
