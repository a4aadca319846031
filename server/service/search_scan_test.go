package service

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"strings"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kfake"
	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/osprey-kafka/osprey/admin"
	"github.com/osprey-kafka/osprey/collector"
)

// A search keeps several fetches in flight, but never more than Prefetch, never asking for more
// than Prefetch × FetchBytes at once nor, with what it has read, for more than the MaxBytes budget;
// it still finds exactly the matching records in each partition's order, and stops at the byte and
// record limits exactly where a one-fetch-at-a-time scan would.
func TestSearchPrefetchBounds(t *testing.T) {
	ctx := context.Background()
	const parts, perPart, pad = 6, 300, 1000
	kc, err := kfake.NewCluster(kfake.NumBrokers(3), kfake.SeedTopics(parts, "events"))
	if err != nil {
		t.Fatal(err)
	}
	defer kc.Close()
	cl, err := kgo.NewClient(kgo.SeedBrokers(kc.ListenAddrs()...), kgo.RecordPartitioner(kgo.ManualPartitioner()),
		kgo.ProducerBatchCompression(kgo.NoCompression()))
	if err != nil {
		t.Fatal(err)
	}
	defer cl.Close()
	// Ten records at a time and no compression, so batches are small and a fetch's size is set by
	// FetchBytes rather than by one large batch (or a small compressed one that expands).
	var size int64 // every record's size (no key, no headers)
	for i := 0; i < perPart; i += 10 {
		var recs []*kgo.Record
		for p := range int32(parts) {
			for n := i; n < i+10; n++ {
				recs = append(recs, &kgo.Record{Topic: "events", Partition: p,
					Value: fmt.Appendf(nil, `{"n":%d,"pad":%q}`, 100+n, strings.Repeat("x", pad))}) // 3 digits: one size
			}
		}
		if err := cl.ProduceSync(ctx, recs...).FirstErr(); err != nil {
			t.Fatal(err)
		}
		size = int64(len(recs[0].Value))
	}

	limits := SearchLimits{FetchBytes: 32 << 10, Prefetch: 3}
	svc := New(Options{Logger: slog.New(slog.NewTextHandler(io.Discard, nil)), Search: limits,
		Collector: collector.Config{OffsetsInterval: time.Hour, GroupsInterval: time.Hour}})
	if err := svc.AddCluster(ctx, ClusterSpec{Name: "k", Source: "config", Admin: admin.Config{Bootstrap: kc.ListenAddrs()}}); err != nil {
		t.Fatal(err)
	}
	defer svc.Stop()

	type run struct {
		done     *SearchDone
		found    []string
		maxQueue int
		maxHeld  int64
	}
	search := func(req SearchRequest) run {
		t.Helper()
		q, err := svc.PrepareSearch(ctx, Caller{}, "k", "events", req)
		if err != nil {
			t.Fatal(err)
		}
		var r run
		var read int64 // bytes read when each fetch is issued
		q.observe = func(queued int, held int64) {
			r.maxQueue, r.maxHeld = max(r.maxQueue, queued), max(r.maxHeld, held)
			if budget := q.limits.MaxBytes + 1; read+held > budget {
				t.Errorf("%d bytes read and %d asked for: over the budget of %d", read, held, budget)
			}
		}
		last := map[int32]int64{}
		err = q.Run(ctx, func(ev SearchEvent) error {
			switch ev.Type {
			case "message":
				m := ev.Message
				if m.Offset <= last[m.Partition]-1 {
					t.Errorf("partition %d: offset %d after %d", m.Partition, m.Offset, last[m.Partition]-1)
				}
				last[m.Partition] = m.Offset + 1
				r.found = append(r.found, fmt.Sprintf("%d/%d", m.Partition, m.Offset))
			case "progress":
				read = ev.Progress.Bytes
			case "done":
				r.done = ev.Done
			}
			return nil
		})
		if err != nil || r.done == nil {
			t.Fatalf("search %+v: %v, done %v", req, err, r.done)
		}
		return r
	}

	all := search(SearchRequest{Filter: `int(json.n) % 50 == 7`})
	if all.done.Reason != SearchComplete || all.done.Progress.Records != parts*perPart || len(all.found) != parts*perPart/50 {
		t.Fatalf("whole scan: %s after %d records, %d matches; want complete after %d with %d", all.done.Reason,
			all.done.Progress.Records, len(all.found), parts*perPart, parts*perPart/50)
	}
	for _, f := range all.found {
		var p, off int
		if _, err := fmt.Sscanf(f, "%d/%d", &p, &off); err != nil || off%50 != 7 {
			t.Fatalf("match %s is not a record with n %% 50 == 7", f)
		}
	}
	// Prefetch fetches queued and the one being handled.
	if bound := int64(limits.Prefetch+1) * limits.FetchBytes; all.maxQueue != limits.Prefetch || all.maxHeld > bound {
		t.Fatalf("at most %d fetches were in flight holding %d bytes; want %d (prefetching), within %d bytes",
			all.maxQueue, all.maxHeld, limits.Prefetch, bound)
	}

	maxBytes := 50*size + size/2
	byBytes := search(SearchRequest{Filter: `true`, MaxBytes: maxBytes})
	if p := byBytes.done.Progress; byBytes.done.Reason != SearchMaxBytes || p.Bytes != 51*size || p.Records != 51 || len(byBytes.found) != 51 {
		t.Fatalf("max bytes %d: %s after %d records, %d bytes, %d matches; want max_bytes after the 51 records that reach it",
			maxBytes, byBytes.done.Reason, p.Records, p.Bytes, len(byBytes.found))
	}
	if byBytes.maxHeld > maxBytes+1 {
		t.Fatalf("fetches asked for %d bytes at once under a budget of %d", byBytes.maxHeld, maxBytes)
	}

	byRecords := search(SearchRequest{Filter: `true`, MaxRecords: 130})
	if p := byRecords.done.Progress; byRecords.done.Reason != SearchMaxRecords || p.Records != 130 || len(byRecords.found) != 130 {
		t.Fatalf("max records 130: %s after %d records, %d matches", byRecords.done.Reason, p.Records, len(byRecords.found))
	}
}
