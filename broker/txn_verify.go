package broker

import (
	"context"
	"net"
	"strconv"
	"time"

	"github.com/osprey-kafka/osprey/broker/txn"
	"github.com/twmb/franz-go/pkg/kmsg"
)

// Produce-side transaction verification (KIP-890's server-side check): before a
// partition leader appends a producer's first transactional batch of a
// transaction, it asks the coordinator (AddPartitionsToTxn v4 VerifyOnly)
// whether the partition is in the producer's open transaction. A late
// write of a transaction already ended, or of a fenced producer, is then
// refused instead of opening a transaction on the partition that no
// marker will ever close, pinning its last stable offset.

// txnPartitionsToVerify lists the partitions of a transactional produce
// request led here where the producer has no open transaction yet, with
// the producer's id and epoch.
func (b *Broker) txnPartitionsToVerify(req *kmsg.ProduceRequest) (need []txn.TP, pid int64, epoch int16) {
	if req.TransactionID == nil || req.Acks == 0 {
		return nil, -1, -1
	}
	for _, rt := range req.Topics {
		for _, rp := range rt.Partitions {
			h, err := parseBatchHeader(rp.Records)
			if err != nil || !h.isTransactional() || h.isControl() || h.producerID < 0 {
				continue
			}
			p := b.data.get(rt.Topic, rp.Partition)
			if p == nil {
				continue
			}
			p.mu.Lock()
			_, open := p.txn.ongoing[h.producerID]
			leader := p.rep.isLeader
			p.mu.Unlock()
			if leader && !open {
				need = append(need, txn.TP{Topic: rt.Topic, Partition: rp.Partition})
				pid, epoch = h.producerID, h.producerEpoch
			}
		}
	}
	return need, pid, epoch
}

// verifyTxnPartitions asks txnID's coordinator about tps and returns the
// produce error code of each partition that failed.
func (b *Broker) verifyTxnPartitions(txnID string, pid int64, epoch int16, tps []txn.TP) map[topicPartition]int16 {
	out := map[topicPartition]int16{}
	all := func(code int16) map[topicPartition]int16 {
		for _, tp := range tps {
			out[topicPartition{tp.Topic, tp.Partition}] = code
		}
		return out
	}
	bi, ok := b.txnCoordinatorFor(txnID)
	if !ok {
		return all(errNotEnoughReplicas)
	}
	var codes []int16
	if bi.ID == b.cfg.BrokerID {
		codes = b.txns.verify(txnID, pid, epoch, tps)
	} else {
		var err error
		if codes, err = b.verifyRemote(net.JoinHostPort(bi.Host, strconv.Itoa(int(bi.Port))), txnID, pid, epoch, tps); err != nil {
			b.log.Warn("verifying a transactional produce", "coordinator", bi.ID, "err", err)
			return all(errNotEnoughReplicas)
		}
	}
	for i, tp := range tps {
		code := codes[i]
		switch code {
		case 0:
			continue
		case errNotCoordinator, errCoordinatorNotAvail, errCoordinatorLoading:
			// Kafka answers these as NOT_ENOUGH_REPLICAS: the client
			// retries the produce.
			code = errNotEnoughReplicas
		}
		out[topicPartition{tp.Topic, tp.Partition}] = code
	}
	return out
}

// verifyRemote sends AddPartitionsToTxn v4 VerifyOnly to the coordinator
// at addr and returns a code per partition of tps.
func (b *Broker) verifyRemote(addr, txnID string, pid int64, epoch int16, tps []txn.TP) ([]int16, error) {
	ctx, cancel := context.WithTimeout(b.ctx, 10*time.Second)
	defer cancel()
	kc, err := dialKafka(ctx, addr, "osprey-txn-verify", b.interBroker)
	if err != nil {
		return nil, err
	}
	defer kc.Close()
	req := kmsg.NewPtrAddPartitionsToTxnRequest()
	req.Version = 4
	rt := kmsg.NewAddPartitionsToTxnRequestTransaction()
	rt.TransactionalID, rt.ProducerID, rt.ProducerEpoch, rt.VerifyOnly = txnID, pid, epoch, true
	for _, tp := range tps {
		t := kmsg.NewAddPartitionsToTxnRequestTransactionTopic()
		t.Topic, t.Partitions = tp.Topic, []int32{tp.Partition}
		rt.Topics = append(rt.Topics, t)
	}
	req.Transactions = append(req.Transactions, rt)
	resp := kmsg.NewPtrAddPartitionsToTxnResponse()
	if err := kc.Do(ctx, req, resp); err != nil {
		return nil, err
	}
	got := map[txn.TP]int16{}
	for _, t := range resp.Transactions {
		for _, rt := range t.Topics {
			for _, rp := range rt.Partitions {
				got[txn.TP{Topic: rt.Topic, Partition: rp.Partition}] = rp.ErrorCode
			}
		}
	}
	codes := make([]int16, len(tps))
	for i, tp := range tps {
		c, ok := got[tp]
		if !ok {
			c = resp.ErrorCode
			if c == 0 {
				c = errCoordinatorNotAvail
			}
		}
		codes[i] = c
	}
	return codes, nil
}
