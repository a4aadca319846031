package image

import (
	"fmt"
	"testing"

	"github.com/osprey-kafka/osprey/broker/kraft/metadata"
)

// bigImage is 1,000 topics of 100 partitions on 3 brokers.
func bigImage(b *testing.B) (Image, []metadata.Uuid) {
	b.Helper()
	d := NewDelta(Empty())
	var ids []metadata.Uuid
	for i := range 1000 {
		id := metadata.Uuid{0: 1, 14: byte(i >> 8), 15: byte(i)}
		ids = append(ids, id)
		if err := d.Replay(&metadata.TopicRecord{Name: fmt.Sprintf("topic-%04d", i), TopicID: id}); err != nil {
			b.Fatal(err)
		}
		for p := range 100 {
			r := []int32{int32(p % 3), int32((p + 1) % 3), int32((p + 2) % 3)}
			if err := d.Replay(&metadata.PartitionRecord{PartitionID: int32(p), TopicID: id, Replicas: r, Isr: r, Leader: r[0]}); err != nil {
				b.Fatal(err)
			}
		}
	}
	return d.Apply(), ids
}

// BenchmarkBuild100kPartitions replays 1,000 topics × 100 partitions in one
// delta, as a broker catching up on a topic-creation burst.
func BenchmarkBuild100kPartitions(b *testing.B) {
	for b.Loop() {
		bigImage(b)
	}
}

// BenchmarkApplyLeaderChange is one leader change applied to an image of
// 100,000 partitions, with the local changes of one broker.
func BenchmarkApplyLeaderChange(b *testing.B) {
	im, ids := bigImage(b)
	i := 0
	for b.Loop() {
		d := NewDelta(im)
		if err := d.Replay(partitionChange(ids[i%len(ids)], int32(i%100), func(r *metadata.PartitionChangeRecord) { r.Leader = 1 })); err != nil {
			b.Fatal(err)
		}
		d.LocalChanges(1)
		im = d.Apply()
		i++
	}
}
