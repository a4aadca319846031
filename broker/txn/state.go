// Package txn is the transaction coordinator's state machine and the
// on-disk formats of transactions, free of any I/O: the broker drives it,
// writes what it returns to __transaction_state and the partitions, and
// answers the clients.
//
// A transactional id moves through Kafka's states
//
//	Empty → Ongoing → PrepareCommit → CompleteCommit → Ongoing …
//	                 ↘ PrepareAbort  → CompleteAbort  ↗
//
// and every transition that the coordinator acknowledges is first written
// to the transactional id's __transaction_state partition (encoded by
// Key/Value in Kafka's TransactionLogKey/TransactionLogValue format), so
// that a new coordinator reading the partition knows where each
// transaction stands.
package txn

import (
	"slices"
	"strings"

	"github.com/twmb/franz-go/pkg/kerr"
)

// State is a transaction's state; the values are Kafka's, as written in
// TransactionLogValue.TransactionStatus.
type State int8

// Kafka's transaction states.
const (
	Empty State = iota
	Ongoing
	PrepareCommit
	PrepareAbort
	CompleteCommit
	CompleteAbort
	Dead
	PrepareEpochFence
)

func (s State) String() string {
	names := [...]string{"Empty", "Ongoing", "PrepareCommit", "PrepareAbort", "CompleteCommit", "CompleteAbort", "Dead", "PrepareEpochFence"}
	if s < 0 || int(s) >= len(names) {
		return "Unknown"
	}
	return names[s]
}

// Preparing reports whether the transaction is ending: its markers are
// being written.
func (s State) Preparing() bool { return s == PrepareCommit || s == PrepareAbort }

// TP is a topic partition taking part in a transaction.
type TP struct {
	Topic     string
	Partition int32
}

// Metadata is the coordinator's record of one transactional id.
type Metadata struct {
	TxnID      string
	ProducerID int64
	Epoch      int16
	TimeoutMs  int32
	State      State
	// Partitions are the partitions written in the current transaction,
	// sorted by topic then partition.
	Partitions []TP
	StartMs    int64 // when the current transaction went Ongoing; -1 when none
	UpdateMs   int64
}

// Clone returns a copy that shares nothing with m.
func (m Metadata) Clone() Metadata {
	m.Partitions = slices.Clone(m.Partitions)
	return m
}

// maxEpoch is the last epoch handed out before a producer id is replaced
// by a new one (Kafka keeps Short.MaxValue free as "no epoch" sentinel
// headroom and bumps the id at MaxValue-1).
const maxEpoch = 1<<15 - 2

// Error codes the state machine answers with (kerr's, by name).
var (
	codeConcurrent       = kerr.ConcurrentTransactions.Code
	codeFenced           = kerr.ProducerFenced.Code
	codeInvalidMapping   = kerr.InvalidProducerIDMapping.Code
	codeInvalidTxnState  = kerr.InvalidTxnState.Code
	codeInvalidTimeout   = kerr.InvalidTransactionTimeout.Code
	codeInvalidEpoch     = kerr.InvalidProducerEpoch.Code
	codeProducerFencedV0 = kerr.InvalidProducerEpoch.Code
)

// InitRequest is an InitProducerId for a transactional id.
type InitRequest struct {
	TimeoutMs    int32
	MaxTimeoutMs int32
	// ProducerID and Epoch are the producer's current ones (KIP-360, v3+),
	// -1 when it has none.
	ProducerID int64
	Epoch      int16
	NowMs      int64
}

// InitResult is what Init decided.
type InitResult struct {
	// Next is the metadata to write; nil when nothing is written (Code
	// set, or an abort is needed first).
	Next *Metadata
	// Abort is set when an ongoing transaction must be aborted first: Next
	// holds it in PrepareAbort with the bumped epoch (so the old producer
	// is fenced at once) and the client gets CONCURRENT_TRANSACTIONS and
	// retries.
	Abort bool
	Code  int16
}

// Init handles InitProducerId for a transactional id whose metadata is cur
// (nil for an id never seen). allocate hands out a fresh producer id.
func Init(txnID string, cur *Metadata, r InitRequest, allocate func() int64) InitResult {
	if r.TimeoutMs <= 0 || r.TimeoutMs > r.MaxTimeoutMs {
		return InitResult{Code: codeInvalidTimeout}
	}
	if cur == nil || cur.State == Dead {
		return InitResult{Next: &Metadata{TxnID: txnID, ProducerID: allocate(), Epoch: 0, TimeoutMs: r.TimeoutMs,
			State: Empty, StartMs: -1, UpdateMs: r.NowMs}}
	}
	switch cur.State {
	case PrepareCommit, PrepareAbort, PrepareEpochFence:
		return InitResult{Code: codeConcurrent}
	}
	if r.ProducerID >= 0 && (r.ProducerID != cur.ProducerID || r.Epoch != cur.Epoch) {
		// A producer that is not the latest incarnation asks to bump: it
		// is a zombie.
		return InitResult{Code: codeFenced}
	}
	next := cur.Clone()
	next.UpdateMs = r.NowMs
	next.TimeoutMs = r.TimeoutMs
	if cur.State == Ongoing {
		// A new producer instance takes over a transactional id with an
		// open transaction: abort it under a bumped epoch, which fences
		// the old instance's writes and markers.
		bumpAbortEpoch(&next)
		next.State = PrepareAbort
		return InitResult{Next: &next, Abort: true, Code: codeConcurrent}
	}
	bumpEpoch(&next, allocate)
	next.State, next.Partitions, next.StartMs = Empty, nil, -1
	return InitResult{Next: &next}
}

// bumpAbortEpoch bumps the epoch for the abort of an open transaction. The
// markers must carry the producer id that wrote the data, so an exhausted
// epoch is kept (the next InitProducerId moves to a new producer id).
func bumpAbortEpoch(m *Metadata) {
	if m.Epoch < maxEpoch {
		m.Epoch++
	}
}

func bumpEpoch(m *Metadata, allocate func() int64) {
	if m.Epoch >= maxEpoch {
		m.ProducerID, m.Epoch = allocate(), 0
		return
	}
	m.Epoch++
}

// checkProducer validates the producer id and epoch a request carries.
func checkProducer(cur *Metadata, pid int64, epoch int16) int16 {
	switch {
	case cur == nil || cur.State == Dead || cur.ProducerID != pid:
		return codeInvalidMapping
	case epoch != cur.Epoch:
		return codeFenced
	}
	return 0
}

// AddPartitions handles AddPartitionsToTxn (and AddOffsetsToTxn, whose
// partition is the group's __consumer_offsets partition). It returns the
// metadata to write (nil when nothing changes) and an error code.
func AddPartitions(cur *Metadata, pid int64, epoch int16, tps []TP, nowMs int64) (*Metadata, int16) {
	if code := checkProducer(cur, pid, epoch); code != 0 {
		return nil, code
	}
	switch cur.State {
	case PrepareCommit, PrepareAbort:
		return nil, codeConcurrent
	case PrepareEpochFence:
		return nil, codeInvalidEpoch
	}
	next := cur.Clone()
	if cur.State != Ongoing {
		next.Partitions, next.StartMs = nil, nowMs
	}
	changed := cur.State != Ongoing
	for _, tp := range tps {
		i, found := slices.BinarySearchFunc(next.Partitions, tp, cmpTP)
		if !found {
			next.Partitions = slices.Insert(next.Partitions, i, tp)
			changed = true
		}
	}
	if !changed {
		return nil, 0
	}
	next.State, next.UpdateMs = Ongoing, nowMs
	return &next, 0
}

func cmpTP(a, b TP) int {
	if c := strings.Compare(a.Topic, b.Topic); c != 0 {
		return c
	}
	return int(a.Partition) - int(b.Partition)
}

// EndResult is what End decided.
type EndResult struct {
	// Next is the Prepare state to write before the markers; nil when the
	// answer is immediate (Code, or a retry of an end already completed).
	Next *Metadata
	Code int16
}

// End handles EndTxn.
func End(cur *Metadata, pid int64, epoch int16, commit bool, nowMs int64) EndResult {
	if code := checkProducer(cur, pid, epoch); code != 0 {
		return EndResult{Code: code}
	}
	switch cur.State {
	case Ongoing:
		next := cur.Clone()
		next.State, next.UpdateMs = PrepareAbort, nowMs
		if commit {
			next.State = PrepareCommit
		}
		return EndResult{Next: &next}
	case CompleteCommit:
		if commit {
			return EndResult{} // a retry of a commit that finished
		}
	case CompleteAbort:
		if !commit {
			return EndResult{}
		}
	case PrepareCommit:
		if commit {
			return EndResult{Code: codeConcurrent}
		}
	case PrepareAbort:
		if !commit {
			return EndResult{Code: codeConcurrent}
		}
	case PrepareEpochFence:
		return EndResult{Code: codeInvalidEpoch}
	}
	return EndResult{Code: codeInvalidTxnState}
}

// Complete is the state written once every marker of a Prepare state is
// in its partition.
func Complete(cur Metadata, nowMs int64) Metadata {
	next := cur.Clone()
	next.State = CompleteAbort
	if cur.State == PrepareCommit {
		next.State = CompleteCommit
	}
	next.Partitions, next.UpdateMs = nil, nowMs
	return next
}

// Expired returns the abort of a transaction open longer than its
// timeout: the epoch is bumped so the producer that let it expire is
// fenced, as Kafka's coordinator does. ok is false when cur has not
// expired.
func Expired(cur Metadata, nowMs int64) (Metadata, bool) {
	if cur.State != Ongoing || cur.StartMs < 0 || nowMs-cur.StartMs <= int64(cur.TimeoutMs) {
		return Metadata{}, false
	}
	next := cur.Clone()
	bumpAbortEpoch(&next)
	next.State, next.UpdateMs = PrepareAbort, nowMs
	return next, true
}

// FencedCode maps PRODUCER_FENCED to INVALID_PRODUCER_EPOCH for request
// versions older than the ones KIP-588 introduced it in (fencedSince).
func FencedCode(code int16, version, fencedSince int16) int16 {
	if code == codeFenced && version < fencedSince {
		return codeProducerFencedV0
	}
	return code
}

// Verify answers a partition leader asking (AddPartitionsToTxn v4+
// VerifyOnly, KIP-890's server-side check) whether tp is part of the producer's open
// transaction before it appends the producer's first transactional batch
// there: 0 if it is, else the error the produce gets.
func Verify(cur *Metadata, pid int64, epoch int16, tp TP) int16 {
	switch {
	case cur == nil || cur.State == Dead || cur.ProducerID != pid:
		return codeInvalidMapping
	case epoch != cur.Epoch:
		return codeInvalidEpoch
	case cur.State != Ongoing:
		return codeInvalidTxnState
	}
	if _, found := slices.BinarySearchFunc(cur.Partitions, tp, cmpTP); !found {
		return codeInvalidTxnState
	}
	return 0
}

// IDExpired reports whether a transactional id with no transaction open
// has been idle longer than transactional.id.expiration.ms, so its
// coordinator removes it (a tombstone in __transaction_state), as Kafka
// does.
func IDExpired(cur Metadata, nowMs, expirationMs int64) bool {
	switch cur.State {
	case Empty, CompleteCommit, CompleteAbort:
		return nowMs-cur.UpdateMs > expirationMs
	}
	return false
}
