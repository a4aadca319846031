package broker

import (
	"bytes"
	"encoding/binary"
	"hash/crc32"
	"testing"

	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kmsg"
)

// Large record sections are streamed from the segment files in place of a
// placeholder; every fetch version's framing must come out right.
func TestFetchStreamsLargeSectionsAtEveryVersion(t *testing.T) {
	b := newTestBroker(t, withDir(t.TempDir()))
	c := dialRaw(t, b.Addr())
	autoCreate(t, c, "big")
	autoCreate(t, c, "small")
	var want int64
	for i := 0; i < 20; i++ { // 20 batches of 4 KiB values: 80 KiB > inlineRecordBytes
		batch := bigBatch(4 << 10)
		r := c.roundTrip(produceReq("big", 0, batch), int32(10+i)).(*kmsg.ProduceResponse)
		if r.Topics[0].Partitions[0].ErrorCode != 0 {
			t.Fatalf("produce: %+v", r.Topics[0].Partitions[0])
		}
		want++
	}
	c.roundTrip(produceReq("small", 0, testBatch(-1, 0, 0, 2)), 40)
	big, _ := b.cluster.Topic("big")
	small, _ := b.cluster.Topic("small")
	for _, v := range []int16{4, 7, 11, 12, 13} {
		req := kmsg.NewPtrFetchRequest()
		req.Version = v
		req.ReplicaID = -1
		req.MaxBytes, req.MinBytes = 1<<20, 1
		req.SessionEpoch = -1
		for _, tp := range []TopicInfo{big, small} {
			ft := kmsg.NewFetchRequestTopic()
			ft.Topic, ft.TopicID = tp.Name, tp.ID
			fp := kmsg.NewFetchRequestTopicPartition()
			fp.PartitionMaxBytes = 1 << 20
			ft.Partitions = []kmsg.FetchRequestTopicPartition{fp}
			req.Topics = append(req.Topics, ft)
		}
		resp := c.roundTrip(req, int32(100+v)).(*kmsg.FetchResponse)
		if len(resp.Topics) != 2 {
			t.Fatalf("v%d: %d topics", v, len(resp.Topics))
		}
		for i, name := range []string{"big", "small"} {
			p := resp.Topics[i].Partitions[0]
			if p.ErrorCode != 0 {
				t.Fatalf("v%d %s: error %d", v, name, p.ErrorCode)
			}
			n, last := checkBatches(t, p.RecordBatches)
			if name == "big" && (n != int(want) || len(p.RecordBatches) < inlineRecordBytes) {
				t.Fatalf("v%d: %d batches / %d bytes, want %d streamed batches", v, n, len(p.RecordBatches), want)
			}
			if last+1 != p.HighWatermark {
				t.Fatalf("v%d %s: last offset %d, high watermark %d", v, name, last, p.HighWatermark)
			}
		}
	}
}

// checkBatches verifies every batch's CRC and returns the count and the
// last offset.
func checkBatches(t *testing.T, b []byte) (int, int64) {
	t.Helper()
	n, last := 0, int64(-1)
	for len(b) > 0 {
		h, err := parseBatchHeader(b)
		if err != nil {
			t.Fatal(err)
		}
		size := int(h.length) + 12
		if size > len(b) {
			t.Fatalf("batch %d truncated: %d of %d bytes", n, len(b), size)
		}
		if crc32.Checksum(b[21:size], crc32c) != binary.BigEndian.Uint32(b[17:]) {
			t.Fatalf("batch %d: bad CRC", n)
		}
		last = int64(binary.BigEndian.Uint64(b)) + int64(h.lastOffsetDelta)
		b = b[size:]
		n++
	}
	return n, last
}

func bigBatch(valueSize int) []byte {
	return buildBatch([]kvRecord{{key: []byte("k"), value: bytes.Repeat([]byte{'x'}, valueSize)}}, 1)
}

// Clients may not write the coordinators' topics, and a fetch of a topic the
// broker does not know names the error rather than answering empty.
func TestProduceToCoordinatorTopicAndFetchOfUnknownTopic(t *testing.T) {
	b := newTestBroker(t, withDir(t.TempDir()))
	c := dialRaw(t, b.Addr())
	pr := c.roundTrip(produceReq(offsetsTopic, 0, testBatch(-1, 0, 0, 1)), 1).(*kmsg.ProduceResponse)
	if got := pr.Topics[0].Partitions[0].ErrorCode; got != errInvalidTopic {
		t.Fatalf("produce to %s: error %d, want INVALID_TOPIC_EXCEPTION (%d)", offsetsTopic, got, errInvalidTopic)
	}
	req := kmsg.NewPtrFetchRequest()
	req.Version = 11
	req.ReplicaID = -1
	req.MaxBytes, req.MinBytes = 1<<20, 1
	req.SessionEpoch = -1
	ft := kmsg.NewFetchRequestTopic()
	ft.Topic = "never-created"
	fp := kmsg.NewFetchRequestTopicPartition()
	fp.PartitionMaxBytes = 1 << 20
	ft.Partitions = []kmsg.FetchRequestTopicPartition{fp}
	req.Topics = append(req.Topics, ft)
	fr := c.roundTrip(req, 2).(*kmsg.FetchResponse)
	if got := fr.Topics[0].Partitions[0].ErrorCode; got != kerr.UnknownTopicOrPartition.Code {
		t.Fatalf("fetch of an unknown topic: error %d, want UNKNOWN_TOPIC_OR_PARTITION", got)
	}
}
