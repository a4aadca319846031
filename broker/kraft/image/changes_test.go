package image

import (
	"slices"
	"testing"

	"github.com/osprey-kafka/osprey/broker/kraft/metadata"
)

func TestTopicChanges(t *testing.T) {
	base := build(t, append(append(topicWith("a", uid(1), []int32{1}), topicWith("b", uid(2), []int32{1})...),
		topicWith("c", uid(3), []int32{1})...)...)

	cases := []struct {
		name             string
		recs             []metadata.Record
		changed, deleted []string
	}{
		{name: "nothing", recs: []metadata.Record{&metadata.NoOpRecord{}}},
		{name: "partition change", recs: []metadata.Record{partitionChange(uid(2), 0, func(r *metadata.PartitionChangeRecord) { r.Leader = -1 })},
			changed: []string{"b"}},
		{name: "new topic and a config", recs: append(topicWith("d", uid(4), []int32{1}),
			&metadata.ConfigRecord{ResourceType: 2, ResourceName: "c", Name: "retention.ms", Value: strp("1")}),
			changed: []string{"c", "d"}},
		{name: "broker config is not a topic", recs: []metadata.Record{
			&metadata.ConfigRecord{ResourceType: 4, ResourceName: "a", Name: "log.retention.ms", Value: strp("1")}}},
		{name: "removed", recs: []metadata.Record{&metadata.RemoveTopicRecord{TopicID: uid(1)}}, deleted: []string{"a"}},
		{name: "removed and created again", recs: append([]metadata.Record{&metadata.RemoveTopicRecord{TopicID: uid(1)}},
			topicWith("a", uid(9), []int32{1})...), changed: []string{"a"}, deleted: []string{"a"}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			d := NewDelta(base)
			for _, r := range tc.recs {
				if err := d.Replay(r); err != nil {
					t.Fatal(err)
				}
			}
			changed, deleted := d.TopicChanges()
			if !slices.Equal(changed, tc.changed) || !slices.Equal(deleted, tc.deleted) {
				t.Fatalf("TopicChanges = %v, %v; want %v, %v", changed, deleted, tc.changed, tc.deleted)
			}
		})
	}

	t.Run("snapshot", func(t *testing.T) {
		d := NewSnapshotDelta(base)
		for _, r := range topicWith("b", uid(2), []int32{1}) {
			if err := d.Replay(r); err != nil {
				t.Fatal(err)
			}
		}
		changed, deleted := d.TopicChanges()
		if !slices.Equal(changed, []string{"b"}) || !slices.Equal(deleted, []string{"a", "c"}) {
			t.Fatalf("TopicChanges = %v, %v; want [b], [a c]", changed, deleted)
		}
	})
}
