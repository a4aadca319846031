package broker

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kmsg"
)

// segmentFillingBatch is one record large enough that, with segment.bytes 1024, the
// next batch rolls a new segment.
func segmentFillingBatch(tag string) []byte {
	return buildBatch([]kvRecord{{key: []byte(tag), value: bytes.Repeat([]byte{'v'}, 600)}}, time.Now().UnixMilli())
}

// failNextSegment makes the segment topic-partition rolls to at base a
// symlink to /dev/full: the append that rolls into it gets ENOSPC, as on a
// full file system.
func failNextSegment(t *testing.T, dir, tp string, base int64) {
	t.Helper()
	if _, err := os.Stat("/dev/full"); err != nil {
		t.Skipf("no /dev/full to fail writes with: %v", err)
	}
	if err := os.Symlink("/dev/full", filepath.Join(dir, tp, fmt.Sprintf("%020d.log", base))); err != nil {
		t.Fatal(err)
	}
}

// dirOf is the log dir holding topic-partition tp.
func dirOf(t *testing.T, dirs []string, tp string) string {
	t.Helper()
	for _, d := range dirs {
		if _, err := os.Stat(filepath.Join(d, tp)); err == nil {
			return d
		}
	}
	t.Fatalf("%s is in none of %v", tp, dirs)
	return ""
}

func fetchCode(t *testing.T, c *rawClient, topic string, part int32, corr int32) int16 {
	t.Helper()
	req := kmsg.NewPtrFetchRequest()
	req.Version = 11
	req.ReplicaID = -1
	req.MaxWaitMillis, req.MinBytes, req.MaxBytes = 0, 0, 1<<20
	ft := kmsg.NewFetchRequestTopic()
	ft.Topic = topic
	fp := kmsg.NewFetchRequestTopicPartition()
	fp.Partition, fp.PartitionMaxBytes = part, 1<<20
	ft.Partitions = []kmsg.FetchRequestTopicPartition{fp}
	req.Topics = []kmsg.FetchRequestTopic{ft}
	return c.roundTrip(req, corr).(*kmsg.FetchResponse).Topics[0].Partitions[0].ErrorCode
}

func produceCode(t *testing.T, c *rawClient, topic string, part int32, batch []byte, corr int32) int16 {
	t.Helper()
	return c.roundTrip(produceReq(topic, part, batch), corr).(*kmsg.ProduceResponse).Topics[0].Partitions[0].ErrorCode
}

// TestLogDirFailure: an append that fails with ENOSPC takes its log dir
// offline, as Kafka does: the partitions in it answer KAFKA_STORAGE_ERROR
// to produce and fetch, DescribeLogDirs reports the dir with that error,
// and partitions in the other log dir carry on. When the last dir fails
// too, the broker halts: it closes its listener and reports why.
func TestLogDirFailure(t *testing.T) {
	dirs := []string{t.TempDir(), t.TempDir()}
	halted := make(chan error, 2)
	b, err := New(testConfig(func(c *Config) { c.LogDirs = dirs }), WithLogger(testLogger(t)),
		WithHaltHandler(func(reason error) { halted <- reason }))
	if err != nil {
		t.Fatal(err)
	}
	if err := b.Start(testCtx(t, 30*time.Second)); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { b.Close() })
	ctx := testCtx(t, 30*time.Second)
	seg := map[string]string{"segment.bytes": "1024"}
	if _, err := b.cluster.CreateTopic(ctx, TopicSpec{Name: "full", Partitions: 1, ReplicationFactor: 1, Configs: seg}, false); err != nil {
		t.Fatal(err)
	}
	// Logs go to the dir with the fewest: of two partitions created after
	// full-0, one is in the other dir.
	if _, err := b.cluster.CreateTopic(ctx, TopicSpec{Name: "spare", Partitions: 2, ReplicationFactor: 1, Configs: seg}, false); err != nil {
		t.Fatal(err)
	}
	c := dialRaw(t, b.Addr())
	if code := produceCode(t, c, "full", 0, segmentFillingBatch("first"), 1); code != 0 {
		t.Fatalf("produce to full-0: %v", kerr.ErrorForCode(code))
	}
	failed := dirOf(t, dirs, "full-0")
	spare := int32(0)
	if dirOf(t, dirs, "spare-0") == failed {
		spare = 1
	}
	spareTP := fmt.Sprintf("spare-%d", spare)
	other := dirOf(t, dirs, spareTP)
	if other == failed {
		t.Fatalf("full-0 and both spare partitions are all in %s", failed)
	}
	if code := produceCode(t, c, "spare", spare, segmentFillingBatch("first"), 2); code != 0 {
		t.Fatalf("produce to spare-%d: %v", spare, kerr.ErrorForCode(code))
	}

	failNextSegment(t, failed, "full-0", 1)
	if code := produceCode(t, c, "full", 0, segmentFillingBatch("full"), 3); code != kerr.KafkaStorageError.Code {
		t.Fatalf("produce onto a full disk: %v, want KAFKA_STORAGE_ERROR", kerr.ErrorForCode(code))
	}
	if code := produceCode(t, c, "full", 0, testBatch(-1, 0, 0, 1), 4); code != kerr.KafkaStorageError.Code {
		t.Errorf("produce to a partition of the offline dir: %v, want KAFKA_STORAGE_ERROR", kerr.ErrorForCode(code))
	}
	if code := fetchCode(t, c, "full", 0, 5); code != kerr.KafkaStorageError.Code {
		t.Errorf("fetch from a partition of the offline dir: %v, want KAFKA_STORAGE_ERROR", kerr.ErrorForCode(code))
	}
	// The other dir is online: its partitions serve, the broker runs.
	if code := produceCode(t, c, "spare", spare, testBatch(-1, 0, 0, 1), 6); code != 0 {
		t.Errorf("produce to spare-%d in the online dir: %v", spare, kerr.ErrorForCode(code))
	}
	if code := fetchCode(t, c, "spare", spare, 7); code != 0 {
		t.Errorf("fetch from spare-%d in the online dir: %v", spare, kerr.ErrorForCode(code))
	}
	req := kmsg.NewPtrDescribeLogDirsRequest()
	req.Version = 4
	got := map[string]kmsg.DescribeLogDirsResponseDir{}
	for _, d := range c.roundTrip(req, 8).(*kmsg.DescribeLogDirsResponse).Dirs {
		got[d.Dir] = d
	}
	if d := got[failed]; d.ErrorCode != kerr.KafkaStorageError.Code || len(d.Topics) != 0 {
		t.Errorf("DescribeLogDirs of the failed dir: error %v, %d topics; want KAFKA_STORAGE_ERROR and none", kerr.ErrorForCode(d.ErrorCode), len(d.Topics))
	}
	if d := got[other]; d.ErrorCode != 0 || len(d.Topics) == 0 {
		t.Errorf("DescribeLogDirs of the online dir: error %v, %d topics", kerr.ErrorForCode(d.ErrorCode), len(d.Topics))
	}
	select {
	case r := <-halted:
		t.Fatalf("the broker halted with a log dir still online: %v", r)
	default:
	}

	// The last dir fails: the broker halts.
	failNextSegment(t, other, spareTP, 2)
	// The answer races the halt, which closes the connection.
	last := produceReq("spare", spare, segmentFillingBatch("full"))
	c.send(last, 9)
	if _, body, err := c.recv(); err == nil {
		code := decodeResp(t, last, body).(*kmsg.ProduceResponse).Topics[0].Partitions[0].ErrorCode
		if code != kerr.KafkaStorageError.Code {
			t.Fatalf("produce onto the second full disk: %v, want KAFKA_STORAGE_ERROR", kerr.ErrorForCode(code))
		}
	}
	select {
	case r := <-halted:
		if !errors.Is(r, syscall.ENOSPC) || !strings.Contains(r.Error(), "all log dirs") {
			t.Errorf("halt reason %q, want every log dir failed with ENOSPC", r)
		}
	case <-time.After(20 * time.Second):
		t.Fatal("the broker did not halt after its last log dir failed")
	}
	d := net.Dialer{Timeout: time.Second}
	if nc, err := d.DialContext(context.Background(), "tcp", b.Addr()); err == nil {
		nc.Close()
		t.Fatal("the halted broker still accepts connections")
	}
}
