package broker

import (
	"context"
	"encoding/binary"
	"log/slog"
	"net"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kmsg"
)

// seedFrames are well-formed request frames (size prefix included).
func seedFrames() [][]byte {
	f := kmsg.NewRequestFormatter(kmsg.FormatterClientID("seed"))
	av := kmsg.NewPtrApiVersionsRequest()
	av.Version = 3
	md := kmsg.NewPtrMetadataRequest()
	md.Version = 12
	md9 := kmsg.NewPtrMetadataRequest()
	md9.Version = 1
	prod := produceReq("fuzz", 0, testBatch(-1, 0, 0, 2))
	fetch := kmsg.NewPtrFetchRequest()
	fetch.Version = 12
	fetch.Topics = []kmsg.FetchRequestTopic{{Topic: "fuzz", Partitions: []kmsg.FetchRequestTopicPartition{{PartitionMaxBytes: 100}}}}
	jg := kmsg.NewPtrJoinGroupRequest()
	jg.Version = 7
	jg.Group, jg.ProtocolType = "g", "consumer"
	jg.Protocols = []kmsg.JoinGroupRequestProtocol{{Name: "range"}}
	return [][]byte{f.AppendRequest(nil, av, 1), f.AppendRequest(nil, md, 2), f.AppendRequest(nil, md9, 3),
		f.AppendRequest(nil, prod, 4), f.AppendRequest(nil, fetch, 5), f.AppendRequest(nil, jg, 6)}
}

// FuzzRequest sends arbitrary frame bodies (with a correct size prefix) to
// a running broker: each connection gets a response or is closed, and the
// broker keeps answering afterwards.
func FuzzRequest(f *testing.F) {
	for _, s := range seedFrames() {
		f.Add(s[4:])
	}
	// Bad frames are logged; testing.F may not be logged to from the
	// broker's goroutines, so the log is discarded here.
	b, err := New(testConfig(), WithLogger(slog.New(slog.DiscardHandler)))
	if err != nil {
		f.Fatal(err)
	}
	if err := b.Start(context.Background()); err != nil {
		f.Fatal(err)
	}
	f.Cleanup(func() { b.Close() })
	f.Fuzz(func(t *testing.T, body []byte) {
		nc, err := net.DialTimeout("tcp", b.Addr(), 5*time.Second)
		if err != nil {
			t.Fatal(err)
		}
		defer nc.Close()
		frame := binary.BigEndian.AppendUint32(nil, uint32(len(body)))
		nc.SetDeadline(time.Now().Add(2 * time.Second))
		if _, err := nc.Write(append(frame, body...)); err != nil {
			return // closed by the broker already
		}
		var buf [512]byte
		nc.Read(buf[:]) //nolint:errcheck // a response, EOF or a timeout (long poll) are all fine
		nc.Close()
		// The broker must still serve a fresh connection.
		c := dialRaw(t, b.Addr())
		av := kmsg.NewPtrApiVersionsRequest()
		if r := c.roundTrip(av, 1).(*kmsg.ApiVersionsResponse); r.ErrorCode != 0 {
			t.Fatalf("broker unhealthy: %d", r.ErrorCode)
		}
	})
}
