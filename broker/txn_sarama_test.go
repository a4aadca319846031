package broker

import (
	"slices"
	"testing"
	"time"

	"github.com/IBM/sarama"
)

// TestTxnSaramaTransactionalProducer runs sarama's transactional producer
// (a second client implementation of the transaction protocol): a
// committed and an aborted transaction, read back by sarama's consumer with
// read_committed and by franz-go with read_uncommitted.
func TestTxnSaramaTransactionalProducer(t *testing.T) {
	b := newTestBroker(t, withTxnTest)
	seeds := []string{b.Addr()}
	createTopic(t, seeds, "txn-sarama", 1, 1)
	cfg := sarama.NewConfig()
	cfg.Version = sarama.V2_8_0_0
	cfg.Producer.Idempotent = true
	cfg.Producer.RequiredAcks = sarama.WaitForAll
	cfg.Producer.Return.Successes = true
	cfg.Producer.Transaction.ID = "sarama-tx"
	cfg.Producer.Transaction.Retry.Backoff = 50 * time.Millisecond
	cfg.Net.MaxOpenRequests = 1
	cfg.Consumer.IsolationLevel = sarama.ReadCommitted
	cfg.Consumer.MaxWaitTime = 100 * time.Millisecond
	prod, err := sarama.NewSyncProducer(seeds, cfg)
	if err != nil {
		t.Fatalf("transactional producer: %v", err)
	}
	defer prod.Close()
	for i, commit := range []bool{true, false, true} {
		if err := prod.BeginTxn(); err != nil {
			t.Fatal(err)
		}
		for j := range 2 {
			msg := &sarama.ProducerMessage{Topic: "txn-sarama", Value: sarama.StringEncoder(string(rune('a'+i)) + string(rune('0'+j)))}
			if _, _, err := prod.SendMessage(msg); err != nil {
				t.Fatalf("send in transaction %d: %v", i, err)
			}
		}
		if commit {
			err = prod.CommitTxn()
		} else {
			err = prod.AbortTxn()
		}
		if err != nil {
			t.Fatalf("end transaction %d (commit=%v): %v", i, commit, err)
		}
	}

	cons, err := sarama.NewConsumer(seeds, cfg)
	if err != nil {
		t.Fatal(err)
	}
	defer cons.Close()
	pc, err := cons.ConsumePartition("txn-sarama", 0, sarama.OffsetOldest)
	if err != nil {
		t.Fatal(err)
	}
	defer pc.Close()
	var got []string
	timeout := time.After(20 * time.Second)
	for len(got) < 4 {
		select {
		case m := <-pc.Messages():
			got = append(got, string(m.Value))
		case err := <-pc.Errors():
			t.Fatalf("consume: %v", err)
		case <-timeout:
			t.Fatalf("sarama read_committed consumer got %v, want 4 records", got)
		}
	}
	if want := []string{"a0", "a1", "c0", "c1"}; !slices.Equal(got, want) {
		t.Fatalf("sarama read_committed consumer got %v, want %v", got, want)
	}
	all := consumeTxnTopic(t, seeds, "txn-sarama", false, 1)[0]
	if want := []string{"a0", "a1", "b0", "b1", "c0", "c1"}; !slices.Equal(all, want) {
		t.Fatalf("read_uncommitted consumer got %v, want %v", all, want)
	}
}
