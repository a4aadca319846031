package service

import (
	"context"
	"fmt"
	"net/http"
	"slices"
	"sort"
	"strconv"
	"time"

	"github.com/osprey-kafka/osprey/admin"
	"github.com/osprey-kafka/osprey/collector"
)

// ProducerRow is one producer a partition's leader keeps state for.
type ProducerRow struct {
	ProducerID    int64 `json:"producerId"`
	ProducerEpoch int32 `json:"producerEpoch"`
	LastSequence  int32 `json:"lastSequence"`
	// LastTimestamp is the producer's last batch timestamp (Unix ms), -1 when the leader does not know it.
	LastTimestamp    int64 `json:"lastTimestamp"`
	CoordinatorEpoch int32 `json:"coordinatorEpoch" description:"Epoch of the transaction coordinator that wrote the producer's last marker; -1 when not known"`
	// CurrentTxnStartOffset is the first offset of the producer's open transaction, -1 when none is open.
	CurrentTxnStartOffset int64 `json:"currentTxnStartOffset"`
}

// PartitionProducers is one partition's producers, or the error reading them.
type PartitionProducers struct {
	Partition int32         `json:"partition"`
	Leader    int32         `json:"leader"`
	Producers []ProducerRow `json:"producers"`
	Error     string        `json:"error,omitempty"`
}

// TopicProducers is the answer of GET /topics/{t}/producers: who writes to each partition.
type TopicProducers struct {
	Topic      string               `json:"topic"`
	Partitions []PartitionProducers `json:"partitions"`
	// Active counts partitions with at least one producer; Transactional those with an open transaction.
	Active        int `json:"active"`
	Transactional int `json:"transactional"`
}

// TopicProducers reads the idempotent and transactional producers of every partition of a topic
// from the partitions' leaders (DescribeProducers).
func (s *Service) TopicProducers(ctx context.Context, cluster, topic string) (TopicProducers, error) {
	c, err := s.get(cluster)
	if err != nil {
		return TopicProducers{}, err
	}
	md, err := c.client.Metadata(ctx, []string{topic})
	if err != nil {
		return TopicProducers{}, kafkaError(opReadMetadata, "topic "+topic, err)
	}
	if len(md.Topics) == 0 || md.Topics[0].Err != nil {
		return TopicProducers{}, topicNotFound(cluster, topic)
	}
	parts, err := c.client.DescribeProducers(ctx, md, topic)
	if err != nil {
		return TopicProducers{}, kafkaError(opDescribeProducers, topic, err)
	}
	out := TopicProducers{Topic: topic, Partitions: make([]PartitionProducers, 0, len(parts))}
	for _, p := range parts {
		row := PartitionProducers{Partition: p.Partition, Leader: p.Leader, Producers: make([]ProducerRow, 0, len(p.Producers))}
		if p.Err != nil {
			s.log.Warn("describe producers", "cluster", cluster, "topic", topic, "partition", p.Partition, "err", p.Err)
			row.Error = p.Err.Error()
		}
		open := false
		for _, ps := range p.Producers {
			row.Producers = append(row.Producers, ProducerRow(ps))
			open = open || ps.CurrentTxnStartOffset >= 0
		}
		if len(row.Producers) > 0 {
			out.Active++
		}
		if open {
			out.Transactional++
		}
		out.Partitions = append(out.Partitions, row)
	}
	return out, nil
}

// defaultTxnMaxTimeoutMs is Kafka's transaction.max.timeout.ms default (15 minutes).
const defaultTxnMaxTimeoutMs = 900000

// TransactionPartition is one partition of an open transaction.
type TransactionPartition struct {
	Topic     string `json:"topic"`
	Partition int32  `json:"partition"`
}

// TransactionRow is one transactional id and its open transaction, if any.
type TransactionRow struct {
	TransactionalID string `json:"transactionalId"`
	Coordinator     int32  `json:"coordinator"`
	State           string `json:"state" description:"Kafka's state name: Empty, Ongoing, PrepareCommit, PrepareAbort, CompleteCommit, CompleteAbort, Dead, PrepareEpochFence"`
	ProducerID      int64  `json:"producerId"`
	ProducerEpoch   int16  `json:"producerEpoch"`
	TimeoutMs       int32  `json:"timeoutMs"`
	// StartMs is when the open transaction started (Unix ms), -1 with none open.
	StartMs int64 `json:"startMs"`
	// DurationMs is now − StartMs, 0 with none open.
	DurationMs int64                  `json:"durationMs"`
	Partitions []TransactionPartition `json:"partitions"`
	// Hanging: open longer than the brokers' transaction.max.timeout.ms, or holding a partition whose
	// LSO has not moved while its high watermark has for that long.
	Hanging bool   `json:"hanging"`
	Error   string `json:"error,omitempty"`
}

// TransactionsView is the answer of GET /transactions.
type TransactionsView struct {
	// MaxTimeoutMs is the transaction.max.timeout.ms a transaction is measured against (the brokers'
	// setting, or Kafka's default 900000 when it could not be read).
	MaxTimeoutMs int64            `json:"maxTimeoutMs"`
	Transactions []TransactionRow `json:"transactions"`
	// BrokerErrors names brokers whose list could not be read (their ids are missing from the list).
	BrokerErrors map[string]string `json:"brokerErrors"`
	// Held are the partitions whose last stable offset the collector's last poll saw behind the high
	// watermark: an open transaction holds them, whether or not a coordinator lists it.
	Held []HeldPartition `json:"held"`
	// Hanging counts hanging transactions and the hanging held partitions none of them holds.
	Hanging int `json:"hanging"`
}

// HeldPartition is a partition whose last stable offset is behind its high watermark.
type HeldPartition struct {
	Topic        string  `json:"topic"`
	Partition    int32   `json:"partition"`
	StableOffset int64   `json:"stableOffset"`
	EndOffset    int64   `json:"endOffset"`
	StuckSeconds float64 `json:"stuckSeconds" description:"How long the LSO has stayed at its value, over the collector's polls"`
	// WritesSince is how far the high watermark has moved since the LSO stopped.
	WritesSince int64 `json:"writesSince"`
	// Hanging: the LSO has not moved while the high watermark has, for longer than
	// transaction.max.timeout.ms.
	Hanging bool `json:"hanging"`
}

// heldPartitions lists the snapshot's partitions held behind their high watermark, flagging as
// hanging those whose LSO has not moved while the high watermark has for longer than maxTimeoutMs.
func heldPartitions(snap *collector.Snapshot, maxTimeoutMs int64) []HeldPartition {
	out := []HeldPartition{}
	if snap == nil {
		return out
	}
	for _, t := range snap.Topics {
		for _, p := range t.Partitions {
			if p.StableOffset < 0 || p.EndOffset < 0 || p.StableOffset >= p.EndOffset {
				continue
			}
			out = append(out, HeldPartition{Topic: t.Name, Partition: p.Partition, StableOffset: p.StableOffset, EndOffset: p.EndOffset,
				StuckSeconds: p.StableStuckSeconds, WritesSince: p.StableStuckWrites,
				Hanging: p.StableStuckWrites > 0 && p.StableStuckSeconds*1000 > float64(maxTimeoutMs)})
		}
	}
	return out
}

// Transactions lists every transactional id of the cluster (ListTransactions at every broker) with
// its state and open transaction (DescribeTransactions at its coordinator), flagging those open longer
// than transaction.max.timeout.ms.
func (s *Service) Transactions(ctx context.Context, cluster string) (TransactionsView, error) {
	c, err := s.get(cluster)
	if err != nil {
		return TransactionsView{}, err
	}
	md, err := c.client.Metadata(ctx, []string{})
	if err != nil {
		return TransactionsView{}, kafkaError(opReadMetadata, "cluster "+cluster, err)
	}
	listed, berrs := c.client.ListTransactions(ctx, md)
	out := TransactionsView{MaxTimeoutMs: s.txnMaxTimeoutMs(ctx, c, md), Transactions: []TransactionRow{}, BrokerErrors: map[string]string{}}
	for id, e := range berrs {
		s.log.Warn("list transactions", "cluster", cluster, "broker", id, "err", e)
		out.BrokerErrors[strconv.Itoa(int(id))] = e.Error()
	}
	byCo := map[int32][]string{}
	for _, l := range listed {
		byCo[l.Coordinator] = append(byCo[l.Coordinator], l.TransactionalID)
	}
	out.Held = heldPartitions(c.collector.Latest(), out.MaxTimeoutMs)
	hangingTP := map[TransactionPartition]bool{}
	for _, h := range out.Held {
		if h.Hanging {
			hangingTP[TransactionPartition{h.Topic, h.Partition}] = true
		}
	}
	covered := map[TransactionPartition]bool{} // partitions of the open transactions listed
	now := time.Now().UnixMilli()
	seen := map[string]bool{}
	for _, d := range c.client.DescribeTransactions(ctx, byCo) {
		if seen[d.TransactionalID] { // listed by two brokers while its coordinator moves
			continue
		}
		seen[d.TransactionalID] = true
		row := transactionRow(d, now, out.MaxTimeoutMs)
		if openState(row.State) {
			row.Hanging = row.Hanging || slices.ContainsFunc(row.Partitions, func(tp TransactionPartition) bool { return hangingTP[tp] })
			for _, tp := range row.Partitions {
				covered[tp] = true
			}
		}
		if row.Hanging {
			out.Hanging++
		}
		out.Transactions = append(out.Transactions, row)
	}
	// A hanging partition no listed transaction holds: its coordinator has lost the transaction.
	for tp := range hangingTP {
		if !covered[tp] {
			out.Hanging++
		}
	}
	return out, nil
}

func transactionRow(d admin.TransactionDescription, now, maxTimeoutMs int64) TransactionRow {
	row := TransactionRow{TransactionalID: d.TransactionalID, Coordinator: d.Coordinator, State: d.State, ProducerID: d.ProducerID,
		ProducerEpoch: d.ProducerEpoch, TimeoutMs: d.TimeoutMs, StartMs: d.StartMs, Partitions: []TransactionPartition{}}
	if d.Err != nil {
		row.Error = d.Err.Error()
	}
	if d.StartMs >= 0 {
		row.DurationMs = max(now-d.StartMs, 0)
		row.Hanging = openState(d.State) && row.DurationMs > maxTimeoutMs
	}
	for t, ps := range d.Partitions {
		for _, p := range ps {
			row.Partitions = append(row.Partitions, TransactionPartition{Topic: t, Partition: p})
		}
	}
	sort.Slice(row.Partitions, func(i, j int) bool {
		a, b := row.Partitions[i], row.Partitions[j]
		return a.Topic < b.Topic || a.Topic == b.Topic && a.Partition < b.Partition
	})
	return row
}

// openState reports the states in which a transaction holds back the last stable offset.
func openState(state string) bool {
	switch state {
	case "Ongoing", "PrepareCommit", "PrepareAbort", "PrepareEpochFence":
		return true
	}
	return false
}

// txnMaxTimeoutMs reads transaction.max.timeout.ms from the controller's (or any broker's) config;
// Kafka's default when it cannot be read.
func (s *Service) txnMaxTimeoutMs(ctx context.Context, c *cluster, md *admin.Metadata) int64 {
	ids := []int32{}
	if md.ControllerID >= 0 {
		ids = append(ids, md.ControllerID)
	}
	for _, b := range md.Brokers {
		ids = append(ids, b.ID)
	}
	for _, id := range ids {
		entries, err := c.client.DescribeBrokerConfigs(ctx, id)
		if err != nil {
			s.log.Debug("describe broker configs for transaction.max.timeout.ms", "broker", id, "err", err)
			continue
		}
		for _, e := range entries {
			if e.Name == "transaction.max.timeout.ms" {
				if v, err := strconv.ParseInt(e.Value, 10, 64); err == nil && v > 0 {
					return v
				}
			}
		}
		break
	}
	return defaultTxnMaxTimeoutMs
}

// AbortTransactionRequest is the body of POST /transactions/abort: the partition whose open
// transaction is aborted and, optionally, the producer (the partition's only open one when absent).
type AbortTransactionRequest struct {
	Topic      string `json:"topic" required:"true"`
	Partition  int32  `json:"partition" required:"true"`
	ProducerID *int64 `json:"producerId,omitempty" description:"The producer whose transaction is aborted; needed when several have one open on the partition"`
}

// AbortTransaction aborts a (hanging) open transaction on one partition as kafka-transactions.sh
// abort does: it reads the producer's epoch and coordinator epoch from the partition leader
// (DescribeProducers) and writes an abort marker there (WriteTxnMarkers). The coordinator is not
// involved: this is for transactions it no longer drives. Audited as transaction.abort.
func (s *Service) AbortTransaction(ctx context.Context, who Caller, cluster string, req AbortTransactionRequest) error {
	c, err := s.get(cluster)
	if err != nil {
		return err
	}
	if req.Topic == "" || req.Partition < 0 {
		return badRequest("invalid_partition", "give the topic and partition of the transaction to abort")
	}
	target := fmt.Sprintf("%s/%d", req.Topic, req.Partition)
	md, err := c.client.Metadata(ctx, []string{req.Topic})
	if err != nil {
		return kafkaError(opReadMetadata, "topic "+req.Topic, err)
	}
	if len(md.Topics) == 0 || md.Topics[0].Err != nil {
		return topicNotFound(cluster, req.Topic)
	}
	parts, err := c.client.DescribeProducers(ctx, md, req.Topic)
	if err != nil {
		return kafkaError(opDescribeProducers, req.Topic, err)
	}
	var part *admin.PartitionProducers
	for i := range parts {
		if parts[i].Partition == req.Partition {
			part = &parts[i]
		}
	}
	if part == nil {
		return badRequest("invalid_partition", "topic %q has no partition %d", req.Topic, req.Partition)
	}
	if part.Err != nil {
		return kafkaError(opDescribeProducers, req.Topic, part.Err)
	}
	var open []admin.ProducerState
	for _, p := range part.Producers {
		if p.CurrentTxnStartOffset >= 0 && (req.ProducerID == nil || *req.ProducerID == p.ProducerID) {
			open = append(open, p)
		}
	}
	switch {
	case len(open) == 0:
		return &UserError{Status: http.StatusNotFound, Code: "no_open_transaction", Message: fmt.Sprintf("partition %s has no open transaction to abort", target)}
	case len(open) > 1:
		return badRequest("producer_required", "partition %s has %d producers with an open transaction: give producerId", target, len(open))
	}
	p := open[0]
	// A leader that does not know the coordinator epoch answers -1; the tool sends 0 then, as here.
	p.CoordinatorEpoch = max(p.CoordinatorEpoch, 0)
	details := map[string]any{"producerId": p.ProducerID, "producerEpoch": p.ProducerEpoch, "coordinatorEpoch": p.CoordinatorEpoch, "startOffset": p.CurrentTxnStartOffset}
	return s.Audited(ctx, who, "transaction.abort", cluster, target, details, func() error {
		err := c.client.WriteAbortMarker(ctx, part.Leader, admin.AbortMarker{Topic: req.Topic, Partition: req.Partition,
			ProducerID: p.ProducerID, ProducerEpoch: int16(p.ProducerEpoch), CoordinatorEpoch: p.CoordinatorEpoch})
		if err != nil {
			return kafkaError(opAbortTransaction, target, err)
		}
		s.repoll(ctx, c)
		return nil
	})
}
