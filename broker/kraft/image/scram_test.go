package image

import (
	"errors"
	"testing"

	"github.com/osprey-kafka/osprey/broker/kraft/metadata"
)

func TestScramReplayAndRecords(t *testing.T) {
	mv := &metadata.FeatureLevelRecord{Name: MetadataVersionFeature, FeatureLevel: MetadataVersion35IV2}
	alice256 := &metadata.UserScramCredentialRecord{Name: "alice", Mechanism: 1, Salt: []byte("s1"),
		StoredKey: []byte("k1"), ServerKey: []byte("v1"), Iterations: 4096}
	alice512 := &metadata.UserScramCredentialRecord{Name: "alice", Mechanism: 2, Salt: []byte("s2"),
		StoredKey: []byte("k2"), ServerKey: []byte("v2"), Iterations: 8192}
	bob := &metadata.UserScramCredentialRecord{Name: "bob", Mechanism: 1, Salt: []byte("s3"),
		StoredKey: []byte("k3"), ServerKey: []byte("v3"), Iterations: 4096}
	im := build(t, mv, bob, alice512, alice256)

	c, ok := im.ScramCredential("alice", 2)
	if !ok || c.Iterations != 8192 || string(c.StoredKey) != "k2" {
		t.Fatalf("alice/512 = %+v, %v", c, ok)
	}
	if all := im.ScramCredentials(); len(all) != 3 || all[0].User != "alice" || all[0].Mechanism != 1 || all[2].User != "bob" {
		t.Fatalf("ScramCredentials order: %+v", all)
	}

	// Rotation and removal in a later delta; removing what is not there is fine.
	d := NewDelta(im)
	for _, r := range []metadata.Record{
		&metadata.UserScramCredentialRecord{Name: "bob", Mechanism: 1, Salt: []byte("new"), StoredKey: []byte("k"), ServerKey: []byte("v"), Iterations: 5000},
		&metadata.RemoveUserScramCredentialRecord{Name: "alice", Mechanism: 2},
		&metadata.RemoveUserScramCredentialRecord{Name: "nobody", Mechanism: 1},
	} {
		if err := d.Replay(r); err != nil {
			t.Fatal(err)
		}
	}
	if !d.ScramChanged() {
		t.Fatal("ScramChanged false")
	}
	next := d.Apply()
	if _, ok := next.ScramCredential("alice", 2); ok {
		t.Fatal("removed credential still there")
	}
	if c, _ := next.ScramCredential("bob", 1); c.Iterations != 5000 {
		t.Fatalf("bob not rotated: %+v", c)
	}
	if _, ok := im.ScramCredential("alice", 2); !ok {
		t.Fatal("the base image changed")
	}

	// The image writes itself back as records that rebuild it.
	vrs, err := next.Records()
	if err != nil {
		t.Fatal(err)
	}
	var recs []metadata.Record
	for _, vr := range vrs {
		recs = append(recs, vr.Record)
	}
	if again := build(t, recs...); !again.Equal(next) {
		t.Fatal("records do not rebuild the image")
	}
	if next.Equal(im) {
		t.Fatal("Equal ignores SCRAM credentials")
	}

	old := build(t, &metadata.FeatureLevelRecord{Name: MetadataVersionFeature, FeatureLevel: MetadataVersion35IV2 - 1}, bob)
	if _, err := old.Records(); !errors.Is(err, ErrUnwritable) {
		t.Fatalf("credentials at 3.5-IV1: %v, want ErrUnwritable", err)
	}
}
