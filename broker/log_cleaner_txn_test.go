package broker

import (
	"fmt"
	"maps"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/osprey-kafka/osprey/broker/storage"
	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kgo"
)

// liveMarkers counts the control batches with a marker record in a
// partition's log.
func liveMarkers(t *testing.T, b *Broker, topic string) int {
	t.Helper()
	l := b.data.get(topic, 0).log
	n := 0
	for off, end := l.LogStartOffset(), l.LogEndOffset(); off < end; {
		r, err := l.Read(off, 1<<20, end, true)
		if err != nil {
			t.Fatalf("read at %d: %v", off, err)
		}
		buf, err := r.AppendTo(nil)
		r.Close()
		if err != nil {
			t.Fatal(err)
		}
		hs, err := storage.ParseBatchHeaders(buf)
		if err != nil || len(hs) == 0 {
			t.Fatalf("batches at %d: %d, %v", off, len(hs), err)
		}
		for _, h := range hs {
			if h.Control() && h.RecordCount > 0 {
				n++
			}
		}
		off = hs[len(hs)-1].LastOffset() + 1
	}
	return n
}

// consumeCompacted reads partition 0 of a compacted topic from the start
// and returns the values; it writes a keyed "end" record first and reads up
// to it (markers and removed records advance the position without records).
func consumeCompacted(t *testing.T, seeds []string, topic string, committed bool) []string {
	t.Helper()
	ctx := testCtx(t, 30*time.Second)
	pr, err := kgo.NewClient(kgo.SeedBrokers(seeds...), kgo.RecordPartitioner(kgo.ManualPartitioner()))
	if err != nil {
		t.Fatal(err)
	}
	endMark := fmt.Sprintf("end-%d", time.Now().UnixNano())
	if err := pr.ProduceSync(ctx, &kgo.Record{Topic: topic, Key: []byte(endMark), Value: []byte(endMark)}).FirstErr(); err != nil {
		t.Fatalf("writing end record: %v", err)
	}
	pr.Close()
	iso := kgo.ReadUncommitted()
	if committed {
		iso = kgo.ReadCommitted()
	}
	cl, err := kgo.NewClient(kgo.SeedBrokers(seeds...), kgo.ConsumeTopics(topic), kgo.FetchIsolationLevel(iso),
		kgo.ConsumeResetOffset(kgo.NewOffset().AtStart()), kgo.FetchMaxWait(100*time.Millisecond))
	if err != nil {
		t.Fatal(err)
	}
	defer cl.Close()
	var got []string
	for ended := false; !ended; {
		fs := cl.PollFetches(ctx)
		if ctx.Err() != nil {
			t.Fatalf("consuming %s (read_committed=%v): no end record", topic, committed)
		}
		fs.EachRecord(func(r *kgo.Record) {
			switch v := string(r.Value); {
			case v == endMark:
				ended = true
			case !ended && !strings.HasPrefix(v, "end-") && !strings.HasPrefix(string(r.Key), "fill-"):
				got = append(got, v)
			}
		})
	}
	return got
}

// TestCompactedTopicTransactions runs franz-go transactional producers
// against a compacted topic: committed keys survive cleaning with one value
// per key, an aborted transaction's keys (its values the newest written) are
// gone and never shadow the committed values, read_committed and
// read_uncommitted consumers see the same thing, and the markers stay until
// their transaction's data is gone and delete.retention.ms has passed.
func TestCompactedTopicTransactions(t *testing.T) {
	ctx := testCtx(t, 120*time.Second)
	b := newTestBroker(t, withDir(t.TempDir()), withTxnTest, func(c *Config) { c.LogCleaner.Backoff = 20 * time.Millisecond })
	seeds := []string{b.Addr()}
	const topic = "txn-compacted"
	cl, err := kgo.NewClient(kgo.SeedBrokers(seeds...), kgo.RecordPartitioner(kgo.ManualPartitioner()))
	if err != nil {
		t.Fatal(err)
	}
	defer cl.Close()
	if _, err := kadm.NewClient(cl).CreateTopic(ctx, 1, 1, compactedTopicConfigs("4000"), topic); err != nil {
		t.Fatal(err)
	}
	p := txnProducer(t, seeds, "compact-tx")
	pad := strings.Repeat("x", 100)
	txnRound := func(prefix string, keys int, commit bool) {
		t.Helper()
		if err := p.BeginTransaction(); err != nil {
			t.Fatal(err)
		}
		for k := range keys {
			r := &kgo.Record{Topic: topic, Key: fmt.Appendf(nil, "k%02d", k), Value: []byte(prefix + pad)}
			if err := p.ProduceSync(ctx, r).FirstErr(); err != nil {
				t.Fatal(err)
			}
		}
		if err := p.EndTransaction(ctx, kgo.TransactionEndTry(commit)); err != nil {
			t.Fatal(err)
		}
	}
	fill := func(from, n int) {
		t.Helper()
		for i := from; i < from+n; i++ {
			r := &kgo.Record{Topic: topic, Key: fmt.Appendf(nil, "fill-%03d", i), Value: []byte(pad)}
			if err := cl.ProduceSync(ctx, r).FirstErr(); err != nil {
				t.Fatal(err)
			}
		}
	}
	for round := range 3 {
		txnRound(fmt.Sprintf("committed-%d-", round), 20, true)
	}
	txnRound("aborted-", 20, false)
	if err := p.BeginTransaction(); err != nil {
		t.Fatal(err)
	}
	if err := p.ProduceSync(ctx, &kgo.Record{Topic: topic, Key: []byte("last"), Value: []byte("last")}).FirstErr(); err != nil {
		t.Fatal(err)
	}
	if err := p.EndTransaction(ctx, kgo.TryCommit); err != nil {
		t.Fatal(err)
	}
	fill(0, 80) // the markers' segments roll and become cleanable

	waitFor(t, 30*time.Second, "the cleaner to clean "+topic, func() bool {
		st, ok := cleanerState(b, topic, 0)
		return ok && st.LastCleanedMs > 0 && st.DirtyBytes == 0 && st.FirstDirtyOffset > 100
	})
	// Rounds 0 and 1 lost their data to round 2 in this clean; their
	// markers, and the abort marker, go only after a later clean finds no
	// data of theirs and delete.retention.ms has passed.
	if n := liveMarkers(t, b, topic); n != 5 {
		t.Fatalf("%d markers after the first clean, want all 5", n)
	}
	check := func() {
		t.Helper()
		for _, committed := range []bool{true, false} {
			got := consumeCompacted(t, seeds, topic, committed)
			counts := map[string]int{}
			for _, v := range got {
				switch {
				case strings.HasPrefix(v, "aborted-"):
					t.Fatalf("read_committed=%v: aborted value %q after cleaning", committed, v)
				case strings.HasPrefix(v, "committed-") && !strings.HasPrefix(v, "committed-2-"):
					t.Fatalf("read_committed=%v: superseded value %q after cleaning", committed, v)
				}
				counts[v[:min(len(v), 12)]]++
			}
			if counts["committed-2-"] != 20 || counts["last"] != 1 {
				t.Fatalf("read_committed=%v: values %v, want 20 of round 2 and last", committed, slices.Sorted(maps.Keys(counts)))
			}
		}
	}
	check()

	// More data makes the log dirty again: that clean gives the markers
	// without data their delete horizon, and a clean after it removes them;
	// the markers of round 2 and of "last" stay with their data.
	fill(100, 80)
	waitFor(t, 40*time.Second, "the markers without data to go", func() bool { return liveMarkers(t, b, topic) == 2 })
	check()
}
