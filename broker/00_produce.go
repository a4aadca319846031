package broker

import (
	"context"
	"strconv"
	"time"

	"github.com/twmb/franz-go/pkg/kmsg"
)

// Produce: v3-12
//
// Behavior:
// * Record batches are appended as received (magic 2 only); the storage
//   layer assigns offsets and checks CRCs and sizes.
// * Idempotent producers: per-partition sequence checks under the
//   partition's lock. A retried batch already written is answered with its
//   original base offset (with acks=-1 once the high watermark has passed
//   it, like a new batch); a gap gets OUT_OF_ORDER_SEQUENCE_NUMBER; an old
//   epoch gets INVALID_PRODUCER_EPOCH.
// * acks=0 gets no response at all; acks=1 is answered once the batch is
//   in the leader's log; acks=-1 once the high watermark has passed it
//   (every replica in the ISR has it), or NOT_ENOUGH_REPLICAS_AFTER_APPEND
//   if the ISR shrank below min.insync.replicas meanwhile, or
//   REQUEST_TIMED_OUT after the request's timeout. Other acks values get
//   INVALID_REQUIRED_ACKS.
// * acks=-1 with fewer in-sync replicas than min.insync.replicas (topic
//   config, else the broker's) gets NOT_ENOUGH_REPLICAS, nothing appended.
// * With an authorizer: a transactional request needs WRITE on its
//   transactional id (else TRANSACTIONAL_ID_AUTHORIZATION_FAILED on every
//   partition), each topic needs WRITE (else TOPIC_AUTHORIZATION_FAILED);
//   refused partitions append nothing, whether the topic exists or not.
// * Transactional batches open their producer's transaction on the
//   partition (partition_txn.go) until the coordinator's marker; control
//   batches from clients get INVALID_RECORD. The first transactional batch
//   of a producer on a partition is verified with its coordinator first
//   (KIP-890's verification): not in the open transaction gets INVALID_TXN_STATE
//   (a stale epoch INVALID_PRODUCER_EPOCH), a coordinator that cannot
//   answer NOT_ENOUGH_REPLICAS, which the client retries.
//
// Version notes:
// * v3: record batch v2 only (older message formats are not supported).
// * v5: log start offset; v8: per-record errors (not produced); v9: flexible.
// * v13 (topic ids) is not supported.

func init() { regKey(0, 3, 12, handleProduce) }

func handleProduce(b *Broker, r *request) (kmsg.Response, error) {
	req := r.kreq.(*kmsg.ProduceRequest)
	b.throttleProduce(r, req)
	var verified map[topicPartition]int16
	if need, pid, epoch := b.txnPartitionsToVerify(req); len(need) > 0 {
		// A producer's first transactional batch on a partition waits
		// for its coordinator to confirm the partition is in the open
		// transaction (txn_verify.go). The wait is on the connection's
		// goroutine, on purpose: the producer's next requests, already
		// in flight with the next sequence numbers, must not be
		// appended before this one.
		verified = b.verifyTxnPartitions(*req.TransactionID, pid, epoch, need)
	}
	return b.produce(r, req, verified)
}

// produce appends the request's batches and answers (or arranges the
// acks=all answer). verified holds the error codes of partitions whose
// transaction verification failed.
func (b *Broker) produce(r *request, req *kmsg.ProduceRequest, verified map[topicPartition]int16) (kmsg.Response, error) {
	resp := req.ResponseKind().(*kmsg.ProduceResponse)
	denied := r.produceDenied(req)
	appended := false
	var waits []ackWait
	for _, rt := range req.Topics {
		st := kmsg.NewProduceResponseTopic()
		st.Topic = rt.Topic
		t, known := b.cluster.Topic(rt.Topic)
		minISR := b.minInsyncReplicas(t.Configs)
		for _, rp := range rt.Partitions {
			sp := kmsg.NewProduceResponseTopicPartition()
			sp.Partition = rp.Partition
			sp.BaseOffset, sp.LogAppendTime, sp.LogStartOffset = -1, -1, -1
			switch {
			case req.Acks != 0 && req.Acks != 1 && req.Acks != -1:
				sp.ErrorCode = errInvalidRequiredAcks
			case denied[rt.Topic] != 0:
				sp.ErrorCode = denied[rt.Topic]
			case rt.Topic == offsetsTopic || rt.Topic == txnStateTopic || rt.Topic == shareStateTopic:
				// Clients must not write the coordinators' topics.
				sp.ErrorCode = errInvalidTopic
			case b.leaderCode(t, known, rp.Partition) != 0:
				sp.ErrorCode = b.leaderCode(t, known, rp.Partition)
			case req.Acks == -1 && int32(len(t.Partitions[rp.Partition].ISR)) < minISR:
				// acks=all needs min.insync.replicas in the ISR.
				sp.ErrorCode = errNotEnoughReplicas
			case verified[topicPartition{rt.Topic, rp.Partition}] != 0:
				sp.ErrorCode = verified[topicPartition{rt.Topic, rp.Partition}]
			default:
				p := b.data.get(rt.Topic, rp.Partition)
				if p == nil {
					sp.ErrorCode = errUnknownTopicOrPart
					break
				}
				res := p.produce(rp.Records)
				sp.ErrorCode = res.code
				if res.code == 0 {
					sp.BaseOffset, sp.LogAppendTime, sp.LogStartOffset = res.baseOffset, res.logAppendTime, res.logStartOffset
					if res.records > 0 {
						appended = true
						b.metrics.messagesIn.Add(float64(res.records))
						b.metrics.topicMessagesIn.WithLabelValues(rt.Topic).Add(float64(res.records))
						b.metrics.topicBytesIn.WithLabelValues(rt.Topic).Add(float64(res.bytes))
					}
					if req.Acks == -1 && (res.records > 0 || res.duplicate) {
						waits = append(waits, ackWait{ti: len(resp.Topics), pi: len(st.Partitions), p: p,
							offset: res.lastOffset + 1, epoch: res.epoch, minISR: minISR})
					}
				}
			}
			st.Partitions = append(st.Partitions, sp)
		}
		resp.Topics = append(resp.Topics, st)
	}
	if appended {
		b.signalAppend()
	}
	if req.Acks == 0 {
		return nil, errNoResponse
	}
	if len(waits) == 0 {
		return resp, nil
	}
	b.replyWhenAcked(r, resp, waits, time.Duration(max(req.TimeoutMillis, 0))*time.Millisecond)
	return nil, errDeferred
}

// ackWait is an acks=all partition whose answer waits until the high
// watermark passes offset; ti and pi locate its entry in the response.
type ackWait struct {
	ti, pi int
	p      *partition
	offset int64
	epoch  int32
	minISR int32
}

// minInsyncReplicas is the topic's min.insync.replicas, else the broker's.
func (b *Broker) minInsyncReplicas(topicConfigs map[string]string) int32 {
	if v, ok := topicConfigs["min.insync.replicas"]; ok {
		if n, err := strconv.Atoi(v); err == nil {
			return int32(n)
		}
	}
	return b.cfg.MinInsyncReplicas
}

// replyWhenAcked answers an acks=all request once the ISR has every batch
// (the high watermark passed it) or timeout passes, without holding up the
// connection's other requests.
func (b *Broker) replyWhenAcked(r *request, resp *kmsg.ProduceResponse, waits []ackWait, timeout time.Duration) {
	b.wg.Add(1)
	go func() {
		defer b.wg.Done()
		ctx, cancel := context.WithTimeout(b.ctx, timeout)
		defer cancel()
		for _, w := range waits {
			if code := w.p.waitHW(ctx, w.offset, w.epoch, w.minISR); code != 0 {
				resp.Topics[w.ti].Partitions[w.pi].ErrorCode = code
			}
		}
		r.reply(resp)
	}()
}
