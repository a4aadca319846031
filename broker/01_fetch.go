package broker

import (
	"bytes"
	"crypto/rand"
	"encoding/binary"
	"errors"
	"io"
	"time"

	"github.com/osprey-kafka/osprey/broker/kafkawire"
	"github.com/osprey-kafka/osprey/broker/storage"
	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kmsg"
)

// Fetch: v4-13
//
// Behavior:
// * Consumers read up to the high watermark, read_committed ones
//   (isolation level 1) up to the last stable offset (below the first
//   open transaction) with the list of aborted transactions in the range
//   read, which the client uses to skip aborted records; a follower
//   (replica id >= 0) reads up to the log end offset.
// * Long poll: if fewer than MinBytes are available the answer waits up to
//   MaxWaitMillis, re-reading after every append; other requests on the
//   same connection keep being served and their answers queue behind it.
// * Size limits: each partition gets at most PartitionMaxBytes and the
//   whole response at most MaxBytes, except that the first batch of the
//   first partition with data is returned whole even if larger (KIP-74).
// * Large record sections are not copied: the response is encoded with a
//   placeholder per section and the section is streamed from the segment
//   file (sendfile) when the frame is written.
// * With an authorizer: a consumer needs READ on each topic, a follower
//   CLUSTER_ACTION on the cluster; refused partitions get
//   TOPIC_AUTHORIZATION_FAILED and no data.
// * Fetch sessions (KIP-227) are not kept: every answer has session id 0,
//   which tells the client to keep sending full requests.
//
// Version notes:
// * v4: isolation level, last stable offset, aborted transactions; v5: log start offset; v7: sessions; v9: current leader
//   epoch checked; v11: rack (ignored); v12: flexible; v13: topic ids.

func init() { regKey(1, 4, 13, handleFetch) }

const (
	// inlineRecordBytes: record sections below this are copied into the
	// response; larger ones are streamed from the log.
	inlineRecordBytes = 32 << 10
)

func handleFetch(b *Broker, r *request) (kmsg.Response, error) {
	req := r.kreq.(*kmsg.FetchRequest)
	if req.Version >= 7 && req.SessionID > 0 {
		resp := req.ResponseKind().(*kmsg.FetchResponse)
		resp.ErrorCode = errFetchSessionIDNotFound
		return resp, nil
	}
	b.clampFetchForQuota(r, req)
	// The append signal is taken before reading: an append after the read
	// closes this channel, so a fetch that read too little cannot sleep
	// through it (taken after the read, an append in between was lost and
	// the fetch, a follower's too, waited its whole max wait).
	sig := *b.appendSignal.Load()
	denied := r.fetchDenied(req)
	fr := b.readFetch(req, denied)
	wait := time.Duration(req.MaxWaitMillis) * time.Millisecond
	if fr.bytes >= int64(req.MinBytes) || fr.errored || wait <= 0 {
		b.replyFetch(r, fr)
		return nil, errDeferred
	}
	fr.close()
	b.fetchWaiting()
	// Tracked by b.wg (this runs on a connection goroutine, which holds a
	// count, so Add cannot race with Close's Wait reaching zero).
	b.wg.Add(1)
	go b.longPoll(r, req, denied, wait, sig)
	return nil, errDeferred
}

// longPoll re-reads after each append until MinBytes are there or the
// wait is over, then answers. sig is the append signal taken before the
// last read. It runs in its own goroutine and ends with the connection or
// the broker.
func (b *Broker) longPoll(r *request, req *kmsg.FetchRequest, denied []bool, wait time.Duration, sig <-chan struct{}) {
	defer b.wg.Done()
	timer := time.NewTimer(wait)
	defer timer.Stop()
	for {
		select {
		case <-timer.C:
			b.replyFetch(r, b.readFetch(req, denied))
			return
		case <-r.c.done:
			return
		case <-b.ctx.Done():
			return
		case <-sig:
		}
		sig = *b.appendSignal.Load() // before the re-read, as above
		fr := b.readFetch(req, denied)
		if fr.bytes >= int64(req.MinBytes) || fr.errored {
			b.replyFetch(r, fr)
			return
		}
		fr.close()
		b.fetchWaiting()
	}
}

// fetchWaiting runs the test hook, if any, before a fetch waits.
func (b *Broker) fetchWaiting() {
	if f := b.fetchWaitHook.Load(); f != nil {
		(*f)()
	}
}

// fetchRead is a fetch response with its record sections still open.
type fetchRead struct {
	resp    *kmsg.FetchResponse
	results []storage.ReadResult // per partition, in response order; nil = none
	bytes   int64
	errored bool
}

func (fr *fetchRead) close() {
	for _, rr := range fr.results {
		if rr != nil {
			rr.Close()
		}
	}
}

// readFetch reads every requested partition; the topics denied marks
// (by position in the request; nil: none) get TOPIC_AUTHORIZATION_FAILED. It is kept whole because it
// is the fetch hot path: each partition's read draws on the response's
// shared byte budget and running size in request order, and a split would
// pass those and the response entry by pointer for no gain in clarity.
func (b *Broker) readFetch(req *kmsg.FetchRequest, denied []bool) *fetchRead {
	fr := &fetchRead{resp: req.ResponseKind().(*kmsg.FetchResponse)}
	budget := int64(req.MaxBytes)
	if req.MaxBytes <= 0 {
		budget = 1<<31 - 1
	}
	follower := req.ReplicaID >= 0
	for ti, rt := range req.Topics {
		st := kmsg.NewFetchResponseTopic()
		st.Topic, st.TopicID = rt.Topic, rt.TopicID
		var (
			t     TopicInfo
			known bool
		)
		unknown := int16(errUnknownTopicOrPart)
		if req.Version >= 13 {
			unknown = errUnknownTopicID
			t, known = b.cluster.TopicByID(rt.TopicID)
		} else {
			t, known = b.cluster.Topic(rt.Topic)
		}
		for _, rp := range rt.Partitions {
			sp := kmsg.NewFetchResponseTopicPartition()
			sp.Partition = rp.Partition
			sp.HighWatermark, sp.LastStableOffset, sp.LogStartOffset = -1, -1, -1
			sp.PreferredReadReplica = -1
			sp.RecordBatches = []byte{} // never null: librdkafka rejects a -1 size
			var rr storage.ReadResult
			p, code := b.leaderPartition(t, known, rp.Partition)
			switch {
			case denied != nil && denied[ti]:
				sp.ErrorCode = kerr.TopicAuthorizationFailed.Code
			case !known:
				sp.ErrorCode = unknown
			case code != 0:
				sp.ErrorCode = code
			default:
				if follower {
					// The follower's fetch offset is its log end offset:
					// it may move the high watermark and the ISR.
					hwMoved, isrCheck := p.followerFetched(req.ReplicaID, rp.FetchOffset, time.Now())
					if hwMoved {
						b.signalAppend()
					}
					if isrCheck {
						b.repl.checkISR(p)
					}
				}
				hw := p.log.HighWatermark()
				lso := min(hw, p.lastStableOffset())
				sp.HighWatermark, sp.LastStableOffset, sp.LogStartOffset = hw, lso, p.log.LogStartOffset()
				if code := checkLeaderEpoch(rp.CurrentLeaderEpoch, p.epoch()); code != 0 {
					sp.ErrorCode = code
					break
				}
				maxOffset := hw
				readCommitted := !follower && req.IsolationLevel == 1
				switch {
				case follower:
					maxOffset = p.log.LogEndOffset()
				case readCommitted:
					maxOffset = lso
				}
				limit := min(int64(rp.PartitionMaxBytes), budget)
				throttled := follower && b.leaderThrottled(t, p, req.ReplicaID)
				if throttled {
					if b.repl.leaderThrottle.exceeded() {
						break // over the leader's replication quota: no data this time
					}
					limit = min(limit, int64(b.repl.leaderThrottle.available()))
				}
				if limit <= 0 && fr.bytes > 0 {
					break // response full: later partitions get nothing
				}
				res, err := p.log.Read(rp.FetchOffset, int32(max(limit, 0)), maxOffset, fr.bytes == 0)
				if err != nil {
					sp.ErrorCode = kafkaCode(err)
					break
				}
				if res.Len() == 0 {
					res.Close()
					break
				}
				rr = res
				if readCommitted {
					sp.AbortedTransactions = p.abortedIn(rp.FetchOffset, maxOffset)
				}
				if throttled {
					b.repl.leaderThrottle.record(res.Len())
				}
				fr.bytes += int64(res.Len())
				budget -= int64(res.Len())
			}
			if sp.ErrorCode != 0 {
				fr.errored = true
			}
			st.Partitions = append(st.Partitions, sp)
			fr.results = append(fr.results, rr)
		}
		fr.resp.Topics = append(fr.resp.Topics, st)
	}
	return fr
}

// replyFetch encodes the response: small record sections are copied in,
// large ones are replaced by a placeholder that is swapped for the
// streamed section when the frame is assembled.
func (b *Broker) replyFetch(r *request, fr *fetchRead) {
	fr = b.throttleFetch(r, fr)
	resp := fr.resp
	resp.SetVersion(r.hdr.Version)
	r.stampThrottle(resp)
	var nonce [8]byte
	rand.Read(nonce[:]) //nolint:errcheck // crypto/rand does not fail on Linux
	var streams []streamed
	i := 0
	for ti := range resp.Topics {
		var topicBytes int
		for pi := range resp.Topics[ti].Partitions {
			rr := fr.results[i]
			i++
			if rr == nil {
				continue
			}
			topicBytes += rr.Len()
			sp := &resp.Topics[ti].Partitions[pi]
			if rr.Len() < inlineRecordBytes {
				buf, err := rr.AppendTo(make([]byte, 0, rr.Len()))
				rr.Close()
				if err != nil {
					sp.ErrorCode = kafkaCode(err)
					continue
				}
				sp.RecordBatches = buf
				continue
			}
			m := make([]byte, 16)
			copy(m, nonce[:])
			binary.BigEndian.PutUint64(m[8:], uint64(len(streams)))
			sp.RecordBatches = m
			streams = append(streams, streamed{marker: m, rr: rr})
		}
		if topicBytes > 0 {
			name := resp.Topics[ti].Topic
			if name == "" { // v13+: by id
				t, _ := b.cluster.TopicByID(resp.Topics[ti].TopicID)
				name = t.Name
			}
			b.metrics.topicBytesOut.WithLabelValues(name).Add(float64(topicBytes))
		}
	}
	buf := kafkawire.AppendResponseHeader(nil, r.hdr)
	buf = resp.AppendTo(buf)
	if len(streams) == 0 {
		r.replyPieces(resp, []piece{{b: buf}})
		return
	}
	pieces, ok := b.splicePieces(buf, streams, r.hdr.Flexible)
	if !ok {
		r.reply(fr.resp)
		return
	}
	r.replyPieces(resp, pieces)
}

// streamed is a record section sent from its segment file in place of the
// 16-byte placeholder marker in the encoded response.
type streamed struct {
	marker []byte
	rr     storage.ReadResult
}

// splicePieces cuts the encoded response buf at each stream's placeholder
// (and its length prefix: int32 16, or uvarint 17 when flexible) and puts the
// section's real length and the section itself in its place. If a
// placeholder is missing it closes the streams and returns false, so that
// the caller never sends a broken frame.
func (b *Broker) splicePieces(buf []byte, streams []streamed, flexible bool) ([]piece, bool) {
	var pieces []piece
	pos := 0
	for si, s := range streams {
		at := bytes.Index(buf[pos:], s.marker)
		ok := at >= 0
		if ok {
			at += pos
			// The placeholder's length prefix: int32 16, or uvarint 17.
			if flexible {
				ok = at >= 1 && buf[at-1] == 17
			} else {
				ok = at >= 4 && binary.BigEndian.Uint32(buf[at-4:]) == 16
			}
		}
		if !ok {
			// Cannot happen with kmsg's encoding; never send a broken frame.
			b.log.Error("fetch placeholder not found; answering without records")
			for _, s := range streams[si:] {
				s.rr.Close()
			}
			return nil, false
		}
		n := s.rr.Len()
		if flexible {
			pieces = append(pieces, piece{b: buf[pos : at-1]}, piece{b: binary.AppendUvarint(nil, uint64(n)+1)})
		} else {
			prefix := binary.BigEndian.AppendUint32(nil, uint32(n))
			pieces = append(pieces, piece{b: buf[pos : at-4]}, piece{b: prefix})
		}
		pieces = append(pieces, piece{stream: readStream{s.rr}})
		pos = at + len(s.marker)
	}
	pieces = append(pieces, piece{b: buf[pos:]})
	return pieces, true
}

// readStream adapts a storage.ReadResult to the connection's streamer.
type readStream struct{ rr storage.ReadResult }

func (s readStream) Len() int64 { return int64(s.rr.Len()) }
func (s readStream) WriteTo(w io.Writer) (int64, error) {
	n, err := s.rr.WriteTo(w)
	if err == nil && n != int64(s.rr.Len()) {
		err = errors.New("short record section write")
	}
	return n, err
}
func (s readStream) Close() error { return s.rr.Close() }
