package service

import (
	"testing"

	"github.com/osprey-kafka/osprey/admin"
)

// TestTransactionRowHanging: a transaction is hanging when it holds the last stable offset back
// (an open state) for longer than transaction.max.timeout.ms; one without an open transaction never is.
func TestTransactionRowHanging(t *testing.T) {
	const now, maxMs = 10_000_000, 900_000
	for _, c := range []struct {
		name    string
		state   string
		start   int64
		hanging bool
		dur     int64
	}{
		{"ongoing within the limit", "Ongoing", now - 899_000, false, 899_000},
		{"ongoing past the limit", "Ongoing", now - 900_001, true, 900_001},
		{"prepare commit past the limit", "PrepareCommit", now - 2_000_000, true, 2_000_000},
		{"complete", "CompleteCommit", now - 2_000_000, false, 2_000_000},
		{"empty", "Empty", -1, false, 0},
	} {
		row := transactionRow(admin.TransactionDescription{TransactionalID: "t", State: c.state, StartMs: c.start,
			Partitions: map[string][]int32{"b": {1, 0}, "a": {2}}}, now, maxMs)
		if row.Hanging != c.hanging || row.DurationMs != c.dur {
			t.Errorf("%s: hanging %v duration %d, want %v %d", c.name, row.Hanging, row.DurationMs, c.hanging, c.dur)
		}
		if len(row.Partitions) != 3 || row.Partitions[0] != (TransactionPartition{"a", 2}) || row.Partitions[1] != (TransactionPartition{"b", 0}) {
			t.Errorf("%s: partitions %v not sorted", c.name, row.Partitions)
		}
	}
}
