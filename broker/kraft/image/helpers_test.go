package image

import (
	"slices"
	"testing"

	"github.com/osprey-kafka/osprey/broker/kraft/metadata"
)

func uid(n byte) metadata.Uuid { return metadata.Uuid{0: 0xab, 15: n} }

func strp(s string) *string { return &s }

// build replays recs on the empty image in one delta, failing the test on an
// error.
func build(t *testing.T, recs ...metadata.Record) Image {
	t.Helper()
	return applyOn(t, Empty(), recs...)
}

func applyOn(t *testing.T, base Image, recs ...metadata.Record) Image {
	t.Helper()
	d := NewDelta(base)
	for i, r := range recs {
		if err := d.Replay(r); err != nil {
			t.Fatalf("replay record %d (%T): %v", i, r, err)
		}
	}
	return d.Apply()
}

func partitionChange(topic metadata.Uuid, partition int32, edit func(*metadata.PartitionChangeRecord)) *metadata.PartitionChangeRecord {
	r := metadata.NewPartitionChangeRecord()
	r.TopicID = topic
	r.PartitionID = partition
	if edit != nil {
		edit(&r)
	}
	return &r
}

func registerBroker(id int32, epoch int64) *metadata.RegisterBrokerRecord {
	return &metadata.RegisterBrokerRecord{
		BrokerID:      id,
		BrokerEpoch:   epoch,
		IncarnationID: uid(byte(100 + id)),
		EndPoints:     []metadata.Endpoint{{Name: "PLAINTEXT", Host: "localhost", Port: uint16(9090 + id)}},
		Fenced:        true,
	}
}

// topicWith is a topic record and one PartitionRecord per replica list, each
// led by its first replica with the whole list in the ISR.
func topicWith(name string, id metadata.Uuid, replicas ...[]int32) []metadata.Record {
	recs := []metadata.Record{&metadata.TopicRecord{Name: name, TopicID: id}}
	for i, rs := range replicas {
		recs = append(recs, &metadata.PartitionRecord{
			PartitionID: int32(i), TopicID: id, Replicas: rs, Isr: rs, Leader: rs[0],
		})
	}
	// clipped, so that cases appending to a shared list each get a copy
	return slices.Clip(recs)
}

func mustPartition(t *testing.T, im Image, topic string, index int32) Partition {
	t.Helper()
	tp, ok := im.Topic(topic)
	if !ok {
		t.Fatalf("topic %q missing", topic)
	}
	p, ok := tp.Partition(index)
	if !ok {
		t.Fatalf("partition %s-%d missing", topic, index)
	}
	return p
}
