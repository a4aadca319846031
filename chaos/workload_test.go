package chaos

import (
	"context"
	"encoding/binary"
	"fmt"
	"hash/crc32"
	"net"
	"sync"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kgo"
	"github.com/twmb/franz-go/pkg/kmsg"

	"github.com/osprey-kafka/osprey/broker/kafkawire"
)

// recorder collects a run's history from the producer's promises, the
// consumer's polls and the commit observer. mu guards everything.
type recorder struct {
	mu      sync.Mutex
	h       History
	nextSeq map[int32]int64
	sendIdx map[string]int // value -> index in h.Sends
}

func newRecorder() *recorder {
	return &recorder{h: History{Final: map[int32][]Read{}}, nextSeq: map[int32]int64{}, sendIdx: map[string]int{}}
}

// sent registers a record about to be produced and returns its value.
func (r *recorder) sent(part int32) string {
	r.mu.Lock()
	defer r.mu.Unlock()
	seq := r.nextSeq[part]
	r.nextSeq[part]++
	v := fmt.Sprintf("p%d-%d", part, seq)
	r.sendIdx[v] = len(r.h.Sends)
	r.h.Sends = append(r.h.Sends, Send{Value: v, Partition: part, Seq: seq})
	return v
}

// outcome records the producer's answer for the record with value v.
func (r *recorder) outcome(v string, rec *kgo.Record, err error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	s := &r.h.Sends[r.sendIdx[v]]
	if err != nil {
		s.Err, s.Ambiguous = err.Error(), Ambiguous(err)
		return
	}
	s.Acked, s.Offset = true, rec.Offset
}

func (r *recorder) read(rec *kgo.Record) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.h.Reads = append(r.h.Reads, Read{Partition: rec.Partition, Offset: rec.Offset, Value: string(rec.Value)})
}

func (r *recorder) committed(p int32, off int64, at time.Time) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.h.Commits = append(r.h.Commits, CommitObservation{At: at, Partition: p, Offset: off})
}

func (r *recorder) probe(p Probe) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.h.Probes = append(r.h.Probes, p)
}

// counts are the producer's acknowledged, failed and unanswered records.
func (r *recorder) counts() (acked, failed, pending int) {
	r.mu.Lock()
	defer r.mu.Unlock()
	for _, s := range r.h.Sends {
		switch {
		case s.Acked:
			acked++
		case s.Err != "":
			failed++
		default:
			pending++
		}
	}
	return acked, failed, pending
}

// workload is the producer, the consumer group member and the commit
// observer running against one topic.
type workload struct {
	t     testing.TB
	c     *cluster
	topic string
	parts int32
	group string
	rec   *recorder

	stopProduce, stopConsume context.CancelFunc
	produced, consumed       chan struct{}
}

// clientOpts are the options every client of the suite shares: short
// metadata ages so that clients follow leadership moves quickly.
func clientOpts(seeds ...string) []kgo.Opt {
	return []kgo.Opt{kgo.SeedBrokers(seeds...), kgo.DialTimeout(2 * time.Second),
		kgo.MetadataMinAge(100 * time.Millisecond), kgo.MetadataMaxAge(2 * time.Second)}
}

// startWorkload starts producing one record every 10 ms, round robin over
// the partitions, and consuming as a group member that commits after each
// poll. The producer is idempotent with acks=all unless leaderAcks: then it
// waits for the leader alone (acks=1), which loses acknowledged records
// under faults by design; the suite's control test uses it to show the
// checker notices.
func startWorkload(t testing.TB, c *cluster, topic string, parts int32, leaderAcks bool) *workload {
	w := &workload{t: t, c: c, topic: topic, parts: parts, group: "chaos-group", rec: newRecorder(),
		produced: make(chan struct{}), consumed: make(chan struct{})}
	pctx, pcancel := context.WithCancel(context.Background())
	cctx, ccancel := context.WithCancel(context.Background())
	w.stopProduce, w.stopConsume = pcancel, ccancel
	t.Cleanup(func() { pcancel(); ccancel(); <-w.produced; <-w.consumed })
	popts := append(clientOpts(c.bootstrap()...), kgo.DefaultProduceTopic(topic),
		kgo.RecordPartitioner(kgo.ManualPartitioner()), kgo.RequiredAcks(kgo.AllISRAcks()),
		kgo.ProducerLinger(0), kgo.ProduceRequestTimeout(5*time.Second), kgo.RecordDeliveryTimeout(45*time.Second))
	if leaderAcks {
		popts = append(popts, kgo.RequiredAcks(kgo.LeaderAck()), kgo.DisableIdempotentWrite())
	}
	prod, err := kgo.NewClient(popts...)
	if err != nil {
		t.Fatal(err)
	}
	cons, err := kgo.NewClient(append(clientOpts(c.bootstrap()...), kgo.ConsumerGroup(w.group),
		kgo.ConsumeTopics(topic), kgo.FetchIsolationLevel(kgo.ReadCommitted()), kgo.DisableAutoCommit(),
		kgo.ConsumeResetOffset(kgo.NewOffset().AtStart()), kgo.FetchMaxWait(500*time.Millisecond),
		kgo.SessionTimeout(6*time.Second), kgo.HeartbeatInterval(500*time.Millisecond))...)
	if err != nil {
		prod.Close()
		t.Fatal(err)
	}
	go w.produce(pctx, prod)
	go w.consume(cctx, cons)
	return w
}

func (w *workload) produce(ctx context.Context, cl *kgo.Client) {
	defer close(w.produced)
	tick := time.NewTicker(10 * time.Millisecond)
	defer tick.Stop()
	for i := int32(0); ; i++ {
		select {
		case <-ctx.Done():
			fctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
			if err := cl.Flush(fctx); err != nil {
				w.t.Logf("producer flush: %v", err)
			}
			cancel()
			cl.Close() // fails whatever is still buffered, so every send has an outcome
			return
		case <-tick.C:
		}
		part := i % w.parts
		v := w.rec.sent(part)
		cl.Produce(context.Background(), &kgo.Record{Partition: part, Value: []byte(v)}, func(r *kgo.Record, err error) {
			w.rec.outcome(v, r, err)
		})
	}
}

func (w *workload) consume(ctx context.Context, cl *kgo.Client) {
	defer close(w.consumed)
	defer cl.Close()
	adm := kadm.NewClient(cl)
	observed := make(chan struct{})
	go func() {
		defer close(observed)
		w.observeCommits(ctx, adm)
	}()
	defer func() { <-observed }()
	failed, last := 0, ""
	for ctx.Err() == nil {
		fs := cl.PollFetches(ctx)
		fs.EachRecord(w.rec.read)
		if err := cl.CommitUncommittedOffsets(ctx); err != nil && ctx.Err() == nil {
			failed, last = failed+1, err.Error()
		}
	}
	if failed > 0 {
		w.t.Logf("consumer: %d commits failed during the faults (last: %s)", failed, last)
	}
}

// observeCommits asks the group coordinator for the group's committed
// offsets every 100 ms.
func (w *workload) observeCommits(ctx context.Context, adm *kadm.Client) {
	tick := time.NewTicker(100 * time.Millisecond)
	defer tick.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-tick.C:
		}
		rctx, cancel := context.WithTimeout(ctx, 2*time.Second)
		at := time.Now()
		offs, err := adm.FetchOffsets(rctx, w.group)
		cancel()
		if err != nil {
			continue
		}
		offs.Each(func(o kadm.OffsetResponse) {
			if o.Err == nil && o.Topic == w.topic && o.At >= 0 {
				w.rec.committed(o.Partition, o.At, at)
			}
		})
	}
}

// finish stops the producer (waiting for every outcome), waits until the
// cluster has healed and the consumer group has committed up to the end of
// every partition, stops the consumer and reads every partition's log.
func (w *workload) finish() *History {
	t := w.t
	w.stopProduce()
	<-w.produced
	acked, failed, pending := w.rec.counts()
	t.Logf("producer: %d acknowledged, %d failed, %d without an answer", acked, failed, pending)
	if acked == 0 {
		t.Errorf("the producer got no acknowledgement at all")
	}
	waitFor(t, 90*time.Second, "every partition back to a full ISR", func() error { return w.c.fullISR(w.topic, w.parts) })
	ends := w.endOffsets()
	waitFor(t, 60*time.Second, "the consumer group to commit the end of every partition", func() error {
		return w.committedUpTo(ends)
	})
	w.stopConsume()
	<-w.consumed
	w.readFinal(ends)
	w.rec.mu.Lock()
	defer w.rec.mu.Unlock()
	return &w.rec.h
}

func (w *workload) admin() (*kadm.Client, func()) {
	cl, err := kgo.NewClient(clientOpts(w.c.bootstrap()...)...)
	if err != nil {
		w.t.Fatal(err)
	}
	return kadm.NewClient(cl), cl.Close
}

func (w *workload) endOffsets() map[int32]int64 {
	adm, done := w.admin()
	defer done()
	ends := map[int32]int64{}
	waitFor(w.t, 30*time.Second, "the partitions' end offsets", func() error {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		lo, err := adm.ListEndOffsets(ctx, w.topic)
		if err != nil {
			return err
		}
		if err := lo.Error(); err != nil {
			return err
		}
		lo.Each(func(o kadm.ListedOffset) { ends[o.Partition] = o.Offset })
		if int32(len(ends)) != w.parts {
			return fmt.Errorf("end offsets of %d partitions", len(ends))
		}
		return nil
	})
	return ends
}

func (w *workload) committedUpTo(ends map[int32]int64) error {
	adm, done := w.admin()
	defer done()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	offs, err := adm.FetchOffsets(ctx, w.group)
	if err != nil {
		return err
	}
	for p, end := range ends {
		o, ok := offs.Lookup(w.topic, p)
		if !ok || o.Err != nil || o.At < end {
			return fmt.Errorf("partition %d committed %d (err %v) of %d", p, o.At, o.Err, end)
		}
	}
	return nil
}

// readFinal reads each partition from its start to ends (read_committed).
func (w *workload) readFinal(ends map[int32]int64) {
	parts := map[int32]kgo.Offset{}
	for p := range ends {
		parts[p] = kgo.NewOffset().AtStart()
	}
	cl, err := kgo.NewClient(append(clientOpts(w.c.bootstrap()...), kgo.FetchIsolationLevel(kgo.ReadCommitted()),
		kgo.ConsumePartitions(map[string]map[int32]kgo.Offset{w.topic: parts}))...)
	if err != nil {
		w.t.Fatal(err)
	}
	defer cl.Close()
	next := map[int32]int64{}
	final := map[int32][]Read{}
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	for {
		done := true
		for p, end := range ends {
			if next[p] < end {
				done = false
			}
		}
		if done {
			break
		}
		fs := cl.PollFetches(ctx)
		if ctx.Err() != nil {
			w.t.Fatalf("reading the final logs: %v (read up to %v of %v)", ctx.Err(), next, ends)
		}
		fs.EachRecord(func(r *kgo.Record) {
			final[r.Partition] = append(final[r.Partition], Read{Partition: r.Partition, Offset: r.Offset, Value: string(r.Value)})
			next[r.Partition] = r.Offset + 1
		})
	}
	w.rec.mu.Lock()
	w.rec.h.Final = final
	w.rec.mu.Unlock()
}

// waitFor is testenv.WaitFor that names what it waited for.
func waitFor(t testing.TB, timeout time.Duration, what string, cond func() error) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	var err error
	for time.Now().Before(deadline) {
		if err = cond(); err == nil {
			return
		}
		select {
		case <-time.After(100 * time.Millisecond):
		case <-t.Context().Done():
			t.Fatalf("waiting for %s: test ended", what)
		}
	}
	t.Fatalf("waiting %s for %s: %v", timeout, what, err)
}

// prober holds a connection to one broker, opened while it was healthy, on
// which a single raw acks=all Produce is sent later: to a paused broker the
// kernel still accepts the bytes, and the broker handles them first thing
// when it resumes.
type prober struct {
	m    *member
	conn net.Conn
}

func dialProbe(t testing.TB, m *member) *prober {
	conn, err := net.DialTimeout("tcp", m.addr(), 2*time.Second)
	if err != nil {
		t.Fatalf("probe connection to %s: %v", m.name, err)
	}
	t.Cleanup(func() { conn.Close() })
	return &prober{m: m, conn: conn}
}

// send writes one record with value v to topic/part as an acks=all Produce
// (v8, no producer id) and returns at once; wait reads the answer.
func (p *prober) send(topic string, part int32, v string) error {
	req := kmsg.NewPtrProduceRequest()
	req.Version = 8
	req.Acks = -1
	req.TimeoutMillis = 5000
	rt := kmsg.NewProduceRequestTopic()
	rt.Topic = topic
	rp := kmsg.NewProduceRequestTopicPartition()
	rp.Partition = part
	rp.Records = encodeBatch([]byte(v))
	rt.Partitions = append(rt.Partitions, rp)
	req.Topics = append(req.Topics, rt)
	frame := kmsg.NewRequestFormatter(kmsg.FormatterClientID("chaos-probe")).AppendRequest(nil, req, 1)
	_ = p.conn.SetWriteDeadline(time.Now().Add(5 * time.Second))
	if _, err := p.conn.Write(frame); err != nil {
		return fmt.Errorf("probe write to %s: %w", p.m.name, err)
	}
	return nil
}

// wait reads the probe's answer (up to timeout) into a Probe.
func (p *prober) wait(timeout time.Duration, part int32, v string) Probe {
	pr := Probe{Broker: p.m.id, Partition: part, Value: v}
	_ = p.conn.SetReadDeadline(time.Now().Add(timeout))
	frame, err := kafkawire.ReadFrame(p.conn, kafkawire.MinResponseFrame, 64<<20)
	if err != nil {
		pr.Err, pr.Ambiguous = "no answer: "+err.Error(), true
		return pr
	}
	req := kmsg.NewPtrProduceRequest()
	req.Version = 8
	resp, err := kafkawire.ParseResponse(frame, req, 1)
	if err != nil {
		pr.Err, pr.Ambiguous = err.Error(), true
		return pr
	}
	pres := resp.(*kmsg.ProduceResponse)
	if len(pres.Topics) != 1 || len(pres.Topics[0].Partitions) != 1 {
		pr.Err, pr.Ambiguous = "malformed answer", true
		return pr
	}
	ap := pres.Topics[0].Partitions[0]
	if err := kerr.ErrorForCode(ap.ErrorCode); err != nil {
		pr.Err, pr.Ambiguous = err.Error(), Ambiguous(err)
		return pr
	}
	pr.Acked, pr.Offset = true, ap.BaseOffset
	return pr
}

// encodeBatch is a v2 record batch of one uncompressed record with value v
// and no producer id.
func encodeBatch(v []byte) []byte {
	rec := []byte{0}                   // attributes
	rec = binary.AppendVarint(rec, 0)  // timestamp delta
	rec = binary.AppendVarint(rec, 0)  // offset delta
	rec = binary.AppendVarint(rec, -1) // null key
	rec = binary.AppendVarint(rec, int64(len(v)))
	rec = append(rec, v...)
	rec = binary.AppendVarint(rec, 0) // no headers
	now := time.Now().UnixMilli()
	b := kmsg.RecordBatch{PartitionLeaderEpoch: -1, Magic: 2, FirstTimestamp: now, MaxTimestamp: now,
		ProducerID: -1, ProducerEpoch: -1, FirstSequence: -1, NumRecords: 1,
		Records: append(binary.AppendVarint(nil, int64(len(rec))), rec...)}
	out := b.AppendTo(nil)
	binary.BigEndian.PutUint32(out[8:], uint32(len(out)-12))
	binary.BigEndian.PutUint32(out[17:], crc32.Checksum(out[21:], crc32.MakeTable(crc32.Castagnoli)))
	return out
}
