package txn

import (
	"slices"
	"testing"

	"github.com/twmb/franz-go/pkg/kerr"
)

func counter(start int64) func() int64 {
	n := start
	return func() int64 { n++; return n }
}

func initReq(timeout int32) InitRequest {
	return InitRequest{TimeoutMs: timeout, MaxTimeoutMs: 900000, ProducerID: -1, Epoch: -1, NowMs: 1000}
}

func TestInitAllocatesThenBumpsEpoch(t *testing.T) {
	alloc := counter(100)
	r := Init("tx", nil, initReq(60000), alloc)
	if r.Code != 0 || r.Next == nil || r.Next.ProducerID != 101 || r.Next.Epoch != 0 || r.Next.State != Empty {
		t.Fatalf("first init: %+v", r)
	}
	r2 := Init("tx", r.Next, initReq(60000), alloc)
	if r2.Code != 0 || r2.Next.ProducerID != 101 || r2.Next.Epoch != 1 {
		t.Fatalf("second init: %+v, want same id, epoch 1", r2.Next)
	}
	exhausted := r2.Next.Clone()
	exhausted.Epoch = maxEpoch
	r3 := Init("tx", &exhausted, initReq(60000), alloc)
	if r3.Next.ProducerID != 102 || r3.Next.Epoch != 0 {
		t.Fatalf("init at the last epoch: %+v, want a new producer id at epoch 0", r3.Next)
	}
}

func TestInitValidatesTimeoutAndFencesStaleProducer(t *testing.T) {
	alloc := counter(0)
	if r := Init("tx", nil, initReq(900001), alloc); r.Code != kerr.InvalidTransactionTimeout.Code {
		t.Fatalf("timeout above the max: code %d, want INVALID_TRANSACTION_TIMEOUT", r.Code)
	}
	if r := Init("tx", nil, initReq(0), alloc); r.Code != kerr.InvalidTransactionTimeout.Code {
		t.Fatalf("zero timeout: code %d, want INVALID_TRANSACTION_TIMEOUT", r.Code)
	}
	cur := &Metadata{TxnID: "tx", ProducerID: 7, Epoch: 3, TimeoutMs: 1000, State: CompleteCommit}
	req := initReq(1000)
	req.ProducerID, req.Epoch = 7, 2
	if r := Init("tx", cur, req, alloc); r.Code != kerr.ProducerFenced.Code {
		t.Fatalf("bump from an old epoch: code %d, want PRODUCER_FENCED", r.Code)
	}
	req.Epoch = 3
	if r := Init("tx", cur, req, alloc); r.Code != 0 || r.Next.Epoch != 4 {
		t.Fatalf("bump from the current epoch: %+v", r)
	}
}

func TestInitAbortsOngoingTransaction(t *testing.T) {
	cur := &Metadata{TxnID: "tx", ProducerID: 7, Epoch: 3, TimeoutMs: 1000, State: Ongoing,
		Partitions: []TP{{"a", 0}}, StartMs: 10}
	r := Init("tx", cur, initReq(1000), counter(0))
	if !r.Abort || r.Code != kerr.ConcurrentTransactions.Code || r.Next.State != PrepareAbort || r.Next.Epoch != 4 {
		t.Fatalf("init over an open transaction: %+v %+v", r, r.Next)
	}
	if !slices.Equal(r.Next.Partitions, cur.Partitions) {
		t.Fatalf("the abort must keep the partitions to mark: %v", r.Next.Partitions)
	}
	for _, s := range []State{PrepareCommit, PrepareAbort} {
		c := cur.Clone()
		c.State = s
		if r := Init("tx", &c, initReq(1000), counter(0)); r.Code != kerr.ConcurrentTransactions.Code || r.Next != nil {
			t.Fatalf("init during %v: %+v", s, r)
		}
	}
}

func TestAddPartitionsEndAndComplete(t *testing.T) {
	m := &Metadata{TxnID: "tx", ProducerID: 7, Epoch: 1, TimeoutMs: 1000, State: Empty, StartMs: -1}
	if _, code := AddPartitions(m, 8, 1, []TP{{"a", 0}}, 5); code != kerr.InvalidProducerIDMapping.Code {
		t.Fatalf("other producer id: %d", code)
	}
	if _, code := AddPartitions(m, 7, 0, []TP{{"a", 0}}, 5); code != kerr.ProducerFenced.Code {
		t.Fatalf("old epoch: %d", code)
	}
	if r := End(m, 7, 1, true, 5); r.Code != kerr.InvalidTxnState.Code {
		t.Fatalf("end with no transaction: %+v", r)
	}
	next, code := AddPartitions(m, 7, 1, []TP{{"b", 1}, {"a", 2}, {"a", 0}}, 5)
	if code != 0 || next.State != Ongoing || next.StartMs != 5 {
		t.Fatalf("first add: %+v %d", next, code)
	}
	want := []TP{{"a", 0}, {"a", 2}, {"b", 1}}
	if !slices.Equal(next.Partitions, want) {
		t.Fatalf("partitions %v, want sorted %v", next.Partitions, want)
	}
	if again, code := AddPartitions(next, 7, 1, []TP{{"a", 2}}, 6); code != 0 || again != nil {
		t.Fatalf("adding a partition already in: %+v %d, want no write", again, code)
	}
	end := End(next, 7, 1, true, 7)
	if end.Code != 0 || end.Next.State != PrepareCommit {
		t.Fatalf("end commit: %+v", end)
	}
	if _, code := AddPartitions(end.Next, 7, 1, []TP{{"c", 0}}, 8); code != kerr.ConcurrentTransactions.Code {
		t.Fatalf("add while committing: %d", code)
	}
	if r := End(end.Next, 7, 1, false, 8); r.Code != kerr.InvalidTxnState.Code {
		t.Fatalf("abort while committing: %+v", r)
	}
	if r := End(end.Next, 7, 1, true, 8); r.Code != kerr.ConcurrentTransactions.Code {
		t.Fatalf("commit retried while committing: %+v", r)
	}
	done := Complete(*end.Next, 9)
	if done.State != CompleteCommit || len(done.Partitions) != 0 {
		t.Fatalf("complete: %+v", done)
	}
	if r := End(&done, 7, 1, true, 10); r.Code != 0 || r.Next != nil {
		t.Fatalf("retried commit after completion: %+v", r)
	}
	if r := End(&done, 7, 1, false, 10); r.Code != kerr.InvalidTxnState.Code {
		t.Fatalf("abort after a commit: %+v", r)
	}
	reopened, code := AddPartitions(&done, 7, 1, []TP{{"z", 0}}, 11)
	if code != 0 || reopened.State != Ongoing || !slices.Equal(reopened.Partitions, []TP{{"z", 0}}) || reopened.StartMs != 11 {
		t.Fatalf("next transaction: %+v", reopened)
	}
}

func TestExpiredTransactionAbortsWithBumpedEpoch(t *testing.T) {
	m := Metadata{TxnID: "tx", ProducerID: 7, Epoch: 1, TimeoutMs: 1000, State: Ongoing, StartMs: 100, Partitions: []TP{{"a", 0}}}
	if _, ok := Expired(m, 1100); ok {
		t.Fatal("expired at exactly its timeout")
	}
	next, ok := Expired(m, 1101)
	if !ok || next.State != PrepareAbort || next.Epoch != 2 || len(next.Partitions) != 1 {
		t.Fatalf("expired: %+v %v", next, ok)
	}
	// The producer that let it expire is fenced.
	if r := End(&next, 7, 1, true, 1200); r.Code != kerr.ProducerFenced.Code {
		t.Fatalf("commit by the expired producer: %+v", r)
	}
	exhausted := m.Clone()
	exhausted.Epoch = maxEpoch
	if next, ok := Expired(exhausted, 1101); !ok || next.ProducerID != 7 || next.Epoch != maxEpoch {
		t.Fatalf("expired at the last epoch: %+v, want the same producer id and epoch (its markers)", next)
	}
	m.State = CompleteCommit
	if _, ok := Expired(m, 1e9); ok {
		t.Fatal("a completed transaction expired")
	}
}

func TestFencedCodeByVersion(t *testing.T) {
	if c := FencedCode(kerr.ProducerFenced.Code, 1, 2); c != kerr.InvalidProducerEpoch.Code {
		t.Fatalf("v1: %d", c)
	}
	if c := FencedCode(kerr.ProducerFenced.Code, 2, 2); c != kerr.ProducerFenced.Code {
		t.Fatalf("v2: %d", c)
	}
	if c := FencedCode(kerr.ConcurrentTransactions.Code, 0, 2); c != kerr.ConcurrentTransactions.Code {
		t.Fatalf("other code changed: %d", c)
	}
}

func TestVerifyPartitionInTransaction(t *testing.T) {
	m := &Metadata{TxnID: "tx", ProducerID: 7, Epoch: 1, State: Ongoing, Partitions: []TP{{"a", 0}, {"b", 3}}}
	cases := []struct {
		pid   int64
		epoch int16
		tp    TP
		want  int16
	}{
		{7, 1, TP{"b", 3}, 0},
		{7, 1, TP{"b", 2}, kerr.InvalidTxnState.Code},
		{7, 0, TP{"a", 0}, kerr.InvalidProducerEpoch.Code},
		{8, 1, TP{"a", 0}, kerr.InvalidProducerIDMapping.Code},
	}
	for _, c := range cases {
		if got := Verify(m, c.pid, c.epoch, c.tp); got != c.want {
			t.Errorf("Verify(%d, %d, %v) = %d, want %d", c.pid, c.epoch, c.tp, got, c.want)
		}
	}
	done := Complete(*m, 5)
	if got := Verify(&done, 7, 1, TP{"a", 0}); got != kerr.InvalidTxnState.Code {
		t.Errorf("after the end: %d, want INVALID_TXN_STATE", got)
	}
}

func TestIdleTransactionalIDExpires(t *testing.T) {
	m := Metadata{State: CompleteCommit, UpdateMs: 1000}
	if IDExpired(m, 2000, 1000) {
		t.Fatal("expired at exactly the expiration")
	}
	if !IDExpired(m, 2001, 1000) {
		t.Fatal("idle id not expired")
	}
	m.State = Ongoing
	if IDExpired(m, 1e9, 1000) {
		t.Fatal("an id with an open transaction expired")
	}
}
