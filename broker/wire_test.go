package broker

import (
	"bytes"
	"encoding/binary"
	"errors"
	"hash/crc32"
	"io"
	"net"
	"sync"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kmsg"

	"github.com/osprey-kafka/osprey/internal/testenv"
)

// rawClient speaks the protocol directly, for behaviour the real clients
// never exercise (pipelining, malformed frames, sequence errors).
type rawClient struct {
	t  testing.TB
	nc net.Conn
	f  *kmsg.RequestFormatter
}

func dialRaw(t testing.TB, addr string) *rawClient {
	t.Helper()
	nc, err := net.DialTimeout("tcp", addr, 5*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { nc.Close() })
	return &rawClient{t: t, nc: nc, f: kmsg.NewRequestFormatter(kmsg.FormatterClientID("raw-test"))}
}

func (c *rawClient) send(req kmsg.Request, corr int32) {
	c.t.Helper()
	if _, err := c.nc.Write(c.f.AppendRequest(nil, req, corr)); err != nil {
		c.t.Fatal(err)
	}
}

// recv reads one response frame: correlation id and the rest.
func (c *rawClient) recv() (int32, []byte, error) {
	c.nc.SetReadDeadline(time.Now().Add(10 * time.Second))
	var sz [4]byte
	if _, err := io.ReadFull(c.nc, sz[:]); err != nil {
		return 0, nil, err
	}
	buf := make([]byte, binary.BigEndian.Uint32(sz[:]))
	if _, err := io.ReadFull(c.nc, buf); err != nil {
		return 0, nil, err
	}
	return int32(binary.BigEndian.Uint32(buf)), buf[4:], nil
}

// roundTrip sends req and decodes the response (header v0/v1 by version).
func (c *rawClient) roundTrip(req kmsg.Request, corr int32) kmsg.Response {
	c.t.Helper()
	c.send(req, corr)
	got, body, err := c.recv()
	if err != nil {
		c.t.Fatalf("reading response to %s: %v", kmsg.NameForKey(req.Key()), err)
	}
	if got != corr {
		c.t.Fatalf("correlation id %d, want %d", got, corr)
	}
	return decodeResp(c.t, req, body)
}

func decodeResp(t testing.TB, req kmsg.Request, body []byte) kmsg.Response {
	t.Helper()
	resp := req.ResponseKind()
	resp.SetVersion(req.GetVersion())
	if req.IsFlexible() && req.Key() != 18 {
		body = body[1:] // empty response-header tagged fields
	}
	if err := resp.ReadFrom(body); err != nil {
		t.Fatalf("decoding %s v%d response: %v", kmsg.NameForKey(req.Key()), req.GetVersion(), err)
	}
	return resp
}

// expectClosed asserts the broker closes the connection.
func (c *rawClient) expectClosed() {
	c.t.Helper()
	_, _, err := c.recv()
	if err == nil {
		c.t.Fatal("connection still open, want it closed")
	}
	var ne net.Error
	if errors.As(err, &ne) && ne.Timeout() {
		c.t.Fatal("connection not closed within the deadline")
	}
}

func TestApiVersionsTooNewGetsV0UnsupportedVersion(t *testing.T) {
	b := newTestBroker(t)
	c := dialRaw(t, b.Addr())
	// A v99 ApiVersions with an arbitrary body: header v1 layout, body ignored.
	frame := []byte{0, 0, 0, 0, 0, 18, 0, 99, 0, 0, 0, 7, 0, 3, 'c', 'l', 'i', 0xde, 0xad}
	binary.BigEndian.PutUint32(frame, uint32(len(frame)-4))
	if _, err := c.nc.Write(frame); err != nil {
		t.Fatal(err)
	}
	corr, body, err := c.recv()
	if err != nil || corr != 7 {
		t.Fatalf("response: corr %d err %v", corr, err)
	}
	var resp kmsg.ApiVersionsResponse // v0
	if err := resp.ReadFrom(body); err != nil {
		t.Fatalf("v0 decode: %v", err)
	}
	if resp.ErrorCode != errUnsupportedVersion {
		t.Fatalf("error code %d, want UNSUPPORTED_VERSION", resp.ErrorCode)
	}
	found := false
	for _, k := range resp.ApiKeys {
		if k.ApiKey == 18 && k.MinVersion == 0 && k.MaxVersion == 4 {
			found = true
		}
	}
	if !found {
		t.Fatalf("ApiVersions range missing from %+v", resp.ApiKeys)
	}
	// The connection stays usable: the client retries with a version we know.
	req := kmsg.NewPtrApiVersionsRequest()
	req.Version = 3
	req.ClientSoftwareName, req.ClientSoftwareVersion = "raw", "1"
	r3 := c.roundTrip(req, 8).(*kmsg.ApiVersionsResponse)
	if want := len(supportedAPIs(false)); r3.ErrorCode != 0 || len(r3.ApiKeys) != want {
		t.Fatalf("v3: error %d, %d keys (a broker not in KRaft mode serves %d)", r3.ErrorCode, len(r3.ApiKeys), want)
	}
}

func TestPipelinedResponsesKeepRequestOrder(t *testing.T) {
	b := newTestBroker(t)
	c := dialRaw(t, b.Addr())
	md := kmsg.NewPtrMetadataRequest()
	md.Version = 9
	t1 := kmsg.NewMetadataRequestTopic()
	t1.Topic = kmsg.StringPtr("poll")
	md.Topics = []kmsg.MetadataRequestTopic{t1}
	md.AllowAutoTopicCreation = true
	c.roundTrip(md, 1)

	// A long-poll fetch on an empty partition, then two quick requests.
	fetch := kmsg.NewPtrFetchRequest()
	fetch.Version = 11
	fetch.ReplicaID = -1
	fetch.MaxWaitMillis, fetch.MinBytes, fetch.MaxBytes = 400, 1, 1<<20
	ft := kmsg.NewFetchRequestTopic()
	ft.Topic = "poll"
	fp := kmsg.NewFetchRequestTopicPartition()
	fp.PartitionMaxBytes = 1 << 20
	ft.Partitions = []kmsg.FetchRequestTopicPartition{fp}
	fetch.Topics = []kmsg.FetchRequestTopic{ft}
	start := time.Now()
	c.send(fetch, 10)
	c.send(md, 11)
	av := kmsg.NewPtrApiVersionsRequest()
	av.Version = 2
	c.send(av, 12)
	for _, want := range []int32{10, 11, 12} {
		corr, _, err := c.recv()
		if err != nil {
			t.Fatal(err)
		}
		if corr != want {
			t.Fatalf("response %d arrived, want %d: responses must keep request order", corr, want)
		}
		if want == 10 && time.Since(start) < 350*time.Millisecond {
			t.Fatalf("fetch answered after %v, before MaxWait with no data", time.Since(start))
		}
	}
}

func TestLongPollWakesOnProduce(t *testing.T) {
	b := newTestBroker(t)
	c := dialRaw(t, b.Addr())
	p := dialRaw(t, b.Addr())
	md := kmsg.NewPtrMetadataRequest()
	t1 := kmsg.NewMetadataRequestTopic()
	t1.Topic = kmsg.StringPtr("wake")
	md.Topics = []kmsg.MetadataRequestTopic{t1}
	md.AllowAutoTopicCreation = true
	md.Version = 4
	c.roundTrip(md, 1)

	fetch := kmsg.NewPtrFetchRequest()
	fetch.Version = 4
	fetch.ReplicaID = -1
	fetch.MaxWaitMillis, fetch.MinBytes, fetch.MaxBytes = 10000, 1, 1<<20
	ft := kmsg.NewFetchRequestTopic()
	ft.Topic = "wake"
	fp := kmsg.NewFetchRequestTopicPartition()
	fp.PartitionMaxBytes = 1 << 20
	ft.Partitions = []kmsg.FetchRequestTopicPartition{fp}
	fetch.Topics = []kmsg.FetchRequestTopic{ft}
	// The produce goes out once the fetch has found nothing and is about
	// to wait, so it is the append that must wake it.
	parked := make(chan struct{})
	var once sync.Once
	hook := func() { once.Do(func() { close(parked) }) }
	b.fetchWaitHook.Store(&hook)
	start := time.Now()
	c.send(fetch, 2)
	select {
	case <-parked:
	case <-time.After(10 * time.Second):
		t.Fatal("the fetch never waited for data")
	}
	resp := p.roundTrip(produceReq("wake", 0, testBatch(-1, 0, 0, 1)), 3).(*kmsg.ProduceResponse)
	if code := resp.Topics[0].Partitions[0].ErrorCode; code != 0 {
		t.Fatalf("produce error %d", code)
	}
	corr, body, err := c.recv()
	if err != nil || corr != 2 {
		t.Fatalf("fetch response: %d %v", corr, err)
	}
	if time.Since(start) > 5*time.Second {
		t.Fatalf("long poll not woken by the append (%v)", time.Since(start))
	}
	fr := decodeResp(t, fetch, body).(*kmsg.FetchResponse)
	if n := len(fr.Topics[0].Partitions[0].RecordBatches); n == 0 {
		t.Fatal("fetch returned no records after the append")
	}
}

func TestMalformedFramesCloseOnlyThatConnection(t *testing.T) {
	cfg := testConfig()
	cfg.SocketRequestMaxBytes = 1 << 20
	b := startTestBroker(t, cfg)
	cases := map[string][]byte{
		"oversized":         {0x10, 0, 0, 0},                                         // 256 MiB > socket.request.max.bytes
		"negative size":     {0xff, 0xff, 0xff, 0xff},                                // -1
		"tiny frame":        {0, 0, 0, 2, 0, 18},                                     // shorter than a header
		"unknown api key":   {0, 0, 0, 10, 0x03, 0xe7, 0, 0, 0, 0, 0, 1, 0xff, 0xff}, // key 999
		"unsupported ver":   {0, 0, 0, 10, 0, 3, 0, 99, 0, 0, 0, 1, 0xff, 0xff},      // Metadata v99
		"truncated body":    {0, 0, 0, 12, 0, 3, 0, 4, 0, 0, 0, 1, 0xff, 0xff, 0, 0}, // Metadata v4 body too short
		"bad client id len": {0, 0, 0, 10, 0, 18, 0, 0, 0, 0, 0, 1, 0x7f, 0xff},
	}
	for name, frame := range cases {
		t.Run(name, func(t *testing.T) {
			c := dialRaw(t, b.Addr())
			if _, err := c.nc.Write(frame); err != nil {
				t.Fatal(err)
			}
			c.expectClosed()
		})
	}
	// The broker is unaffected.
	c := dialRaw(t, b.Addr())
	av := kmsg.NewPtrApiVersionsRequest()
	if r := c.roundTrip(av, 1).(*kmsg.ApiVersionsResponse); r.ErrorCode != 0 {
		t.Fatalf("broker unhealthy after malformed frames: %d", r.ErrorCode)
	}
}

// A flexible request whose top-level tagged-field count claims 2^32-1 fields
// in a frame with a few bytes left must be refused at once. kmsg before
// v1.15.1 kept looping over the claimed count after running out of input
// (about 16 s of CPU per frame). The test has no timing assertion: rawClient's
// read deadline (10 s) bounds it, so a decoder that burns CPU shows up as
// "connection not closed within the deadline".
func TestHugeTaggedFieldCountClosesConnection(t *testing.T) {
	b := newTestBroker(t)
	c := dialRaw(t, b.Addr())

	req := kmsg.NewPtrMetadataRequest()
	req.Version = 12
	frame := c.f.AppendRequest(nil, req, 1)
	// The body ends with its tagged-field count, 0 for an empty section.
	if frame[len(frame)-1] != 0 {
		t.Fatalf("Metadata v12 frame does not end with an empty tag section: % x", frame)
	}
	frame = frame[:len(frame)-1]
	frame = binary.AppendUvarint(frame, 1<<32-1)
	frame = append(frame, bytes.Repeat([]byte{0x01}, 64)...)
	binary.BigEndian.PutUint32(frame, uint32(len(frame)-4))
	if _, err := c.nc.Write(frame); err != nil {
		t.Fatal(err)
	}
	c.expectClosed()
}

func TestAcksZeroGetsNoResponse(t *testing.T) {
	b := newTestBroker(t)
	c := dialRaw(t, b.Addr())
	req := produceReq("acks0", 0, testBatch(-1, 0, 0, 3))
	req.Acks = 0
	autoCreate(t, c, "acks0")
	c.send(req, 5)
	av := kmsg.NewPtrApiVersionsRequest()
	c.send(av, 6)
	corr, _, err := c.recv()
	if err != nil || corr != 6 {
		t.Fatalf("first response after an acks=0 produce has correlation id %d (%v), want 6", corr, err)
	}
	testenv.WaitFor(t, 5*time.Second, func() error {
		if p := b.data.get("acks0", 0); p == nil || p.log.LogEndOffset() != 3 {
			return errors.New("acks=0 records not appended")
		}
		return nil
	})
}

func TestIdempotentSequenceChecks(t *testing.T) {
	b := newTestBroker(t)
	c := dialRaw(t, b.Addr())
	autoCreate(t, c, "idem")
	ip := kmsg.NewPtrInitProducerIDRequest()
	ip.Version = 2
	pr := c.roundTrip(ip, 1).(*kmsg.InitProducerIDResponse)
	if pr.ErrorCode != 0 || pr.ProducerID < 0 {
		t.Fatalf("init producer id: %+v", pr)
	}
	pid, epoch := pr.ProducerID, pr.ProducerEpoch
	produce := func(seq int32, n int, corr int32) kmsg.ProduceResponseTopicPartition {
		resp := c.roundTrip(produceReq("idem", 0, testBatch(pid, epoch, seq, n)), corr).(*kmsg.ProduceResponse)
		return resp.Topics[0].Partitions[0]
	}
	if r := produce(0, 2, 2); r.ErrorCode != 0 || r.BaseOffset != 0 {
		t.Fatalf("first batch: %+v", r)
	}
	if r := produce(2, 3, 3); r.ErrorCode != 0 || r.BaseOffset != 2 {
		t.Fatalf("second batch: %+v", r)
	}
	// A retry of the first batch: the original offset, nothing appended.
	if r := produce(0, 2, 4); r.ErrorCode != 0 || r.BaseOffset != 0 {
		t.Fatalf("duplicate batch: %+v, want offset 0 and no error", r)
	}
	if r := produce(9, 1, 5); r.ErrorCode != errOutOfOrderSeq {
		t.Fatalf("sequence gap: error %d, want OUT_OF_ORDER_SEQUENCE_NUMBER", r.ErrorCode)
	}
	if end := b.data.get("idem", 0).log.LogEndOffset(); end != 5 {
		t.Fatalf("log end %d, want 5 (duplicates and gaps must not be appended)", end)
	}
	// An epoch bump (KIP-360) restarts the sequence at 0.
	ip3 := kmsg.NewPtrInitProducerIDRequest()
	ip3.Version = 3
	ip3.ProducerID, ip3.ProducerEpoch = pid, epoch
	pr3 := c.roundTrip(ip3, 6).(*kmsg.InitProducerIDResponse)
	if pr3.ProducerID != pid || pr3.ProducerEpoch != epoch+1 {
		t.Fatalf("epoch bump: %+v", pr3)
	}
	epoch = pr3.ProducerEpoch
	if r := produce(0, 1, 7); r.ErrorCode != 0 || r.BaseOffset != 5 {
		t.Fatalf("after epoch bump: %+v", r)
	}
	epoch--
	if r := produce(1, 1, 8); r.ErrorCode != errInvalidProducerEpoch {
		t.Fatalf("old epoch: error %d, want INVALID_PRODUCER_EPOCH", r.ErrorCode)
	}
}

func autoCreate(t *testing.T, c *rawClient, topic string) {
	t.Helper()
	md := kmsg.NewPtrMetadataRequest()
	md.Version = 4
	mt := kmsg.NewMetadataRequestTopic()
	mt.Topic = kmsg.StringPtr(topic)
	md.Topics = []kmsg.MetadataRequestTopic{mt}
	md.AllowAutoTopicCreation = true
	r := c.roundTrip(md, 100).(*kmsg.MetadataResponse)
	if len(r.Topics) != 1 || r.Topics[0].ErrorCode != 0 {
		t.Fatalf("auto-create %s: %+v", topic, r.Topics)
	}
}

func produceReq(topic string, partition int32, batch []byte) *kmsg.ProduceRequest {
	req := kmsg.NewPtrProduceRequest()
	req.Version = 7
	req.Acks = -1
	req.TimeoutMillis = 5000
	rt := kmsg.NewProduceRequestTopic()
	rt.Topic = topic
	rp := kmsg.NewProduceRequestTopicPartition()
	rp.Partition = partition
	rp.Records = batch
	rt.Partitions = []kmsg.ProduceRequestTopicPartition{rp}
	req.Topics = []kmsg.ProduceRequestTopic{rt}
	return req
}

// testBatch builds a batch of n records with the given producer fields.
func testBatch(pid int64, epoch int16, seq int32, n int) []byte {
	recs := make([]kvRecord, n)
	for i := range recs {
		recs[i] = kvRecord{key: []byte{byte('a' + i)}, value: bytes.Repeat([]byte{'v'}, 10)}
	}
	b := buildBatch(recs, time.Now().UnixMilli())
	binary.BigEndian.PutUint64(b[43:], uint64(pid))
	binary.BigEndian.PutUint16(b[51:], uint16(epoch))
	binary.BigEndian.PutUint32(b[53:], uint32(seq))
	binary.BigEndian.PutUint32(b[17:], crc32.Checksum(b[21:], crc32c))
	return b
}

func TestAcksAllHonoursMinInsyncReplicas(t *testing.T) {
	b := newTestBroker(t)
	ctx := testCtx(t, 10*time.Second)
	if _, err := b.cluster.CreateTopic(ctx, TopicSpec{Name: "strict", Partitions: 1, ReplicationFactor: 1,
		Configs: map[string]string{"min.insync.replicas": "2"}}, false); err != nil {
		t.Fatal(err)
	}
	c := dialRaw(t, b.Addr())
	req := produceReq("strict", 0, testBatch(-1, 0, 0, 1))
	if code := c.roundTrip(req, 1).(*kmsg.ProduceResponse).Topics[0].Partitions[0].ErrorCode; code != errNotEnoughReplicas {
		t.Fatalf("acks=all with ISR 1 < min.insync.replicas 2: error %d, want NOT_ENOUGH_REPLICAS", code)
	}
	req = produceReq("strict", 0, testBatch(-1, 0, 0, 1))
	req.Acks = 1
	if code := c.roundTrip(req, 2).(*kmsg.ProduceResponse).Topics[0].Partitions[0].ErrorCode; code != 0 {
		t.Fatalf("acks=1: error %d", code)
	}
	if end := b.data.get("strict", 0).log.LogEndOffset(); end != 1 {
		t.Fatalf("log end %d, want 1 (only the acks=1 batch)", end)
	}
}

func TestBatchLargerThanMaxMessageBytesRefused(t *testing.T) {
	b := newTestBroker(t, func(c *Config) { c.MessageMaxBytes = 64 << 10 })
	c := dialRaw(t, b.Addr())
	autoCreate(t, c, "capped")
	r := c.roundTrip(produceReq("capped", 0, bigBatch(100<<10)), 1).(*kmsg.ProduceResponse).Topics[0].Partitions[0]
	if r.ErrorCode != errMessageTooLarge {
		t.Fatalf("100 KiB batch with message.max.bytes 64 KiB: error %d, want MESSAGE_TOO_LARGE", r.ErrorCode)
	}
	r = c.roundTrip(produceReq("capped", 0, bigBatch(10<<10)), 2).(*kmsg.ProduceResponse).Topics[0].Partitions[0]
	if r.ErrorCode != 0 || r.BaseOffset != 0 {
		t.Fatalf("10 KiB batch: %+v", r)
	}
}
