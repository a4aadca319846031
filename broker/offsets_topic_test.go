package broker

import (
	"testing"

	"github.com/twmb/franz-go/pkg/kmsg"
)

func TestJavaStringHashAndGroupPartition(t *testing.T) {
	// Values of Java's String.hashCode.
	for s, want := range map[string]int32{"": 0, "hello": 99162322, "console-consumer-12345": javaRef("console-consumer-12345")} {
		if got := javaStringHash(s); got != want {
			t.Errorf("hash(%q) = %d, want %d", s, got, want)
		}
	}
	for _, g := range []string{"a", "group-1", "ünïcode", "very-long-group-name-with-many-characters"} {
		p := groupPartition(g, 50)
		if p < 0 || p >= 50 {
			t.Errorf("partition of %q = %d", g, p)
		}
	}
}

// javaRef is an independent String.hashCode: s[0]*31^(n-1) + ... + s[n-1].
func javaRef(s string) int32 {
	var h int64
	for _, c := range s {
		h = (h*31 + int64(c)) & 0xffffffff
	}
	return int32(uint32(h))
}

func TestOffsetsTopicRecordsUseKafkaSchemas(t *testing.T) {
	batch := buildBatch([]kvRecord{
		{key: offsetKey("g", topicPartition{"t", 3}), value: offsetValue(offsetCommit{offset: 99, leaderEpoch: 4, metadata: "m", commitMs: 1234})},
		{key: groupKey("g")},
	}, 1234)
	var got int
	err := decodeBatchRecords(batch, func(k, v []byte) {
		got++
		switch got {
		case 1:
			var key kmsg.OffsetCommitKey
			var val kmsg.OffsetCommitValue
			if key.ReadFrom(k) != nil || val.ReadFrom(v) != nil {
				t.Fatal("offset commit record does not decode with kmsg's schemas")
			}
			if key.Version != 1 || key.Group != "g" || key.Topic != "t" || key.Partition != 3 ||
				val.Version != 3 || val.Offset != 99 || val.LeaderEpoch != 4 || val.Metadata != "m" || val.CommitTimestamp != 1234 {
				t.Fatalf("decoded %+v %+v", key, val)
			}
		case 2:
			var key kmsg.GroupMetadataKey
			if key.ReadFrom(k) != nil || key.Version != 2 || key.Group != "g" || v != nil {
				t.Fatalf("group tombstone: %+v value %v", key, v)
			}
		}
	})
	if err != nil || got != 2 {
		t.Fatalf("decoded %d records: %v", got, err)
	}
	// The batch is a valid v2 batch for the storage layer too (CRC, counts).
	if h, err := parseBatchHeader(batch); err != nil || h.records != 2 || h.magic != 2 {
		t.Fatalf("header %+v %v", h, err)
	}
}
