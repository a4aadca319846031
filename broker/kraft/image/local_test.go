package image

import (
	"fmt"
	"reflect"
	"slices"
	"testing"

	"github.com/osprey-kafka/osprey/broker/kraft/metadata"
)

// localSummary is LocalChanges as "topic-partition" names.
type localSummary struct {
	Deletes, Leaders, Elected, Followers, Dirs []string
}

func summarize(c LocalChanges) localSummary {
	var s localSummary
	for _, tp := range c.Deletes {
		s.Deletes = append(s.Deletes, fmt.Sprintf("%s-%d", tp.Topic, tp.Partition))
	}
	names := func(ps []LocalPartition) []string {
		var out []string
		for _, p := range ps {
			out = append(out, fmt.Sprintf("%s-%d", p.Topic, p.Index))
		}
		return out
	}
	s.Leaders, s.Elected, s.Followers = names(c.Leaders), names(c.ElectedLeaders), names(c.Followers)
	for _, d := range c.Directories {
		s.Dirs = append(s.Dirs, fmt.Sprintf("%s-%d", d.Topic, d.Partition))
	}
	return s
}

func TestLocalChanges(t *testing.T) {
	a, b := uid(1), uid(2)
	base := build(t, slices.Concat(
		topicWith("a", a, []int32{1, 2, 3}, []int32{2, 1, 3}, []int32{2, 3, 4}),
		topicWith("b", b, []int32{1, 2}),
	)...)
	change := func(topic metadata.Uuid, p int32, edit func(*metadata.PartitionChangeRecord)) metadata.Record {
		return partitionChange(topic, p, edit)
	}
	for _, tc := range []struct {
		name   string
		recs   []metadata.Record
		broker int32 // 1 unless set
		want   localSummary
	}{
		{name: "nothing replayed"},
		{name: "leader moves away: now a follower",
			recs: []metadata.Record{change(a, 0, func(r *metadata.PartitionChangeRecord) { r.Leader = 2 })},
			want: localSummary{Followers: []string{"a-0"}}},
		{name: "leader moves here: elected",
			recs: []metadata.Record{change(a, 1, func(r *metadata.PartitionChangeRecord) { r.Leader = 1 })},
			want: localSummary{Leaders: []string{"a-1"}, Elected: []string{"a-1"}}},
		{name: "same leader chosen again: a new leader epoch to start",
			recs: []metadata.Record{change(a, 0, func(r *metadata.PartitionChangeRecord) { r.Leader = 1 })},
			want: localSummary{Leaders: []string{"a-0"}, Elected: []string{"a-0"}}},
		{name: "ISR shrinks under this leader: leader, not newly elected",
			recs: []metadata.Record{change(a, 0, func(r *metadata.PartitionChangeRecord) { r.Isr = []int32{1, 2} })},
			want: localSummary{Leaders: []string{"a-0"}}},
		{name: "ISR shrinks where this broker follows",
			recs: []metadata.Record{change(a, 1, func(r *metadata.PartitionChangeRecord) { r.Isr = []int32{2, 3} })},
			want: localSummary{Followers: []string{"a-1"}}},
		{name: "a partition this broker has no replica of",
			recs: []metadata.Record{change(a, 2, func(r *metadata.PartitionChangeRecord) { r.Isr = []int32{2} })}},
		{name: "reassignment adds this broker: follower, needs a directory",
			recs: []metadata.Record{change(a, 2, func(r *metadata.PartitionChangeRecord) {
				r.Replicas, r.AddingReplicas = []int32{2, 3, 4, 1}, []int32{1}
			})},
			want: localSummary{Followers: []string{"a-2"}, Dirs: []string{"a-2"}}},
		{name: "reassignment adds this broker, seen by another replica: a follower change there",
			broker: 4,
			recs: []metadata.Record{change(a, 2, func(r *metadata.PartitionChangeRecord) {
				r.Replicas, r.AddingReplicas = []int32{2, 3, 4, 1}, []int32{1}
			})},
			want: localSummary{Followers: []string{"a-2"}}},
		{name: "reassignment completes and removes this broker: delete",
			recs: []metadata.Record{
				change(a, 1, func(r *metadata.PartitionChangeRecord) {
					r.Replicas, r.AddingReplicas, r.RemovingReplicas = []int32{2, 1, 3, 4}, []int32{4}, []int32{1}
				}),
				change(a, 1, func(r *metadata.PartitionChangeRecord) {
					r.Replicas, r.Isr, r.AddingReplicas, r.RemovingReplicas = []int32{2, 3, 4}, []int32{2, 3, 4}, []int32{}, []int32{}
				}),
			},
			want: localSummary{Deletes: []string{"a-1"}}},
		{name: "topic deleted: every replica here deleted",
			recs: []metadata.Record{&metadata.RemoveTopicRecord{TopicID: a}},
			want: localSummary{Deletes: []string{"a-0", "a-1"}}},
		{name: "topic deleted, seen by a broker with no replica of it", broker: 5,
			recs: []metadata.Record{&metadata.RemoveTopicRecord{TopicID: b}}},
		{name: "topic deleted and re-created under the same name",
			recs: slices.Concat([]metadata.Record{&metadata.RemoveTopicRecord{TopicID: b}}, topicWith("b", uid(3), []int32{1})),
			want: localSummary{Deletes: []string{"b-0"}, Leaders: []string{"b-0"}, Elected: []string{"b-0"}, Dirs: []string{"b-0"}}},
		{name: "new topic and new partition",
			recs: slices.Concat(topicWith("c", uid(4), []int32{1, 2}, []int32{2, 1}),
				[]metadata.Record{&metadata.PartitionRecord{PartitionID: 3, TopicID: a, Replicas: []int32{3, 1}, Isr: []int32{3, 1}, Leader: 3}}),
			want: localSummary{Leaders: []string{"c-0"}, Elected: []string{"c-0"}, Followers: []string{"a-3", "c-1"}, Dirs: []string{"a-3", "c-0", "c-1"}}},
		{name: "directory assigned",
			recs: []metadata.Record{change(a, 0, func(r *metadata.PartitionChangeRecord) {
				r.Directories = []metadata.Uuid{uid(9), {}, {}}
			})},
			want: localSummary{Leaders: []string{"a-0"}, Dirs: []string{"a-0"}}},
		{name: "partition record restating the same epoch: nothing to do",
			recs: []metadata.Record{&metadata.PartitionRecord{PartitionID: 0, TopicID: b, Replicas: []int32{1, 2}, Isr: []int32{1, 2}, Leader: 1}}},
		{name: "several changes: ordered by topic then partition",
			recs: []metadata.Record{
				change(b, 0, func(r *metadata.PartitionChangeRecord) { r.Leader = 2 }),
				change(a, 1, func(r *metadata.PartitionChangeRecord) { r.Leader = 1 }),
				change(a, 0, func(r *metadata.PartitionChangeRecord) { r.Leader = 3 }),
			},
			want: localSummary{Leaders: []string{"a-1"}, Elected: []string{"a-1"}, Followers: []string{"a-0", "b-0"}}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			d := NewDelta(base)
			for i, r := range tc.recs {
				if err := d.Replay(r); err != nil {
					t.Fatalf("record %d: %v", i, err)
				}
			}
			broker := tc.broker
			if broker == 0 {
				broker = 1
			}
			c := d.LocalChanges(broker)
			if got := summarize(c); !reflect.DeepEqual(got, tc.want) {
				t.Fatalf("LocalChanges(%d) =\n%+v\nwant\n%+v", broker, got, tc.want)
			}
			if c.Empty() != reflect.DeepEqual(tc.want, localSummary{}) {
				t.Fatalf("Empty() = %v", c.Empty())
			}
			// What a broker acts on is the partition's state after the delta.
			next := d.Apply()
			for _, lp := range append(append(c.Leaders, c.Followers...), c.ElectedLeaders...) {
				tp, _ := next.TopicByID(lp.TopicID)
				if p, _ := tp.Partition(lp.Index); !reflect.DeepEqual(p, lp.Partition) || tp.Name != lp.Topic {
					t.Fatalf("%s-%d: reported %+v, image has %+v", lp.Topic, lp.Index, lp.Partition, p)
				}
			}
		})
	}
}

// Loading a snapshot replaces the image; what the broker must do is measured
// against the image it had.
func TestSnapshotDelta(t *testing.T) {
	a, b := uid(1), uid(2)
	mv := &metadata.FeatureLevelRecord{Name: MetadataVersionFeature, FeatureLevel: MetadataVersion37IV2}
	prev := build(t, slices.Concat(
		[]metadata.Record{mv, registerBroker(1, 1), &metadata.FeatureLevelRecord{Name: "kraft.version", FeatureLevel: 1},
			&metadata.ConfigRecord{ResourceType: ResourceTopic, ResourceName: "b", Name: "x", Value: strp("1")}},
		topicWith("a", a, []int32{1, 2}, []int32{2, 1}),
		topicWith("b", b, []int32{1}),
	)...)
	snapshot := slices.Concat(
		[]metadata.Record{mv, registerBroker(2, 7)},
		topicWith("a", a, []int32{2, 3}, []int32{2, 1}),
		topicWith("c", uid(3), []int32{1}),
	)
	d := NewSnapshotDelta(prev)
	for i, r := range snapshot {
		if err := d.Replay(r); err != nil {
			t.Fatalf("record %d: %v", i, err)
		}
	}
	want := build(t, snapshot...)
	if got := d.Apply(); !got.Equal(want) {
		t.Fatal("a snapshot delta's image is not the snapshot's image")
	}
	if _, ok := d.Apply().Broker(1); ok {
		t.Fatal("broker 1, absent from the snapshot, is still registered")
	}
	got := summarize(d.LocalChanges(1))
	exp := localSummary{
		Deletes:   []string{"a-0", "b-0"},
		Leaders:   []string{"c-0"},
		Elected:   []string{"c-0"},
		Followers: []string{"a-1"},
		Dirs:      []string{"a-1", "c-0"},
	}
	if !reflect.DeepEqual(got, exp) {
		t.Fatalf("LocalChanges(1) =\n%+v\nwant\n%+v", got, exp)
	}
}
