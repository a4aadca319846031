package image

import (
	"testing"

	"github.com/osprey-kafka/osprey/broker/kraft/metadata"
)

func TestACLReplayAndRecords(t *testing.T) {
	mv := &metadata.FeatureLevelRecord{Name: MetadataVersionFeature, FeatureLevel: MetadataVersion35IV2}
	a1 := &metadata.AccessControlEntryRecord{ID: metadata.Uuid{1}, ResourceType: 2, ResourceName: "orders", PatternType: 3,
		Principal: "User:alice", Host: "*", Operation: 3, PermissionType: 3}
	a2 := &metadata.AccessControlEntryRecord{ID: metadata.Uuid{2}, ResourceType: 3, ResourceName: "app-", PatternType: 4,
		Principal: "User:*", Host: "*", Operation: 2, PermissionType: 2}
	im := build(t, mv, a2, a1)
	if acls := im.ACLs(); len(acls) != 2 || acls[0].ResourceName != "orders" || acls[1].PatternType != 4 {
		t.Fatalf("ACLs: %+v", acls)
	}
	d := NewDelta(im)
	if err := d.Replay(&metadata.RemoveAccessControlEntryRecord{ID: metadata.Uuid{1}}); err != nil {
		t.Fatal(err)
	}
	if !d.ACLsChanged() {
		t.Fatal("ACLsChanged false")
	}
	if err := d.Replay(&metadata.RemoveAccessControlEntryRecord{ID: metadata.Uuid{1}}); err == nil {
		t.Fatal("removing an ACL twice accepted")
	}
	next := d.Apply()
	if acls := next.ACLs(); len(acls) != 1 || acls[0].ID != (metadata.Uuid{2}) || len(im.ACLs()) != 2 {
		t.Fatalf("after remove: %+v (base %d)", acls, len(im.ACLs()))
	}
	vrs, err := next.Records()
	if err != nil {
		t.Fatal(err)
	}
	var recs []metadata.Record
	for _, vr := range vrs {
		recs = append(recs, vr.Record)
	}
	if back := build(t, recs...); !back.Equal(next) {
		t.Fatalf("records do not rebuild the image: %+v", back.ACLs())
	}
}
