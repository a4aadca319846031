package broker

import (
	"errors"
	"fmt"
	"sync/atomic"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kmsg"
)

// A long-poll Fetch must be woken by an append that lands after it read
// too little but before it waits. The test hook appends exactly there, so
// a fetch that registers for the append signal after reading sleeps for its
// whole max wait (what made acks=all produce wait ~500 ms for a follower).
func TestFetchLongPollWokenByAppendBeforeWait(t *testing.T) {
	const maxWait = 4 * time.Second
	batchLen := len(testBatch(-1, 0, 0, 1))
	for _, tc := range []struct {
		name     string
		appends  int32 // the hook appends one batch at each of its first appends calls
		minBytes int32
	}{
		// The handler's first read finds nothing; the append follows it.
		{name: "after first read", appends: 1, minBytes: 1},
		// The first append wakes the fetch but is below MinBytes; the
		// second follows the re-read.
		{name: "after re-read", appends: 2, minBytes: int32(batchLen) + 1},
	} {
		t.Run(tc.name, func(t *testing.T) {
			b := newTestBroker(t, withDir(t.TempDir()))
			c := dialRaw(t, b.Addr())
			const topic = "wake"
			autoCreate(t, c, topic)
			if b.data.get(topic, 0) == nil {
				t.Fatal("partition not open after auto-create")
			}
			var calls atomic.Int32
			errs := make(chan error, 4)
			hook := func() {
				if calls.Add(1) > tc.appends {
					return
				}
				p := b.data.get(topic, 0)
				if p == nil {
					errs <- errors.New("partition gone")
					return
				}
				// As handleProduce: append, then signal.
				if res := p.produce(testBatch(-1, 0, 0, 1)); res.code != 0 {
					errs <- fmt.Errorf("append: error code %d", res.code)
					return
				}
				b.signalAppend()
			}
			b.fetchWaitHook.Store(&hook)

			req := kmsg.NewPtrFetchRequest()
			req.Version = 11
			req.ReplicaID = -1
			req.MaxWaitMillis = int32(maxWait / time.Millisecond)
			req.MinBytes, req.MaxBytes = tc.minBytes, 1<<20
			req.SessionEpoch = -1
			ft := kmsg.NewFetchRequestTopic()
			ft.Topic = topic
			fp := kmsg.NewFetchRequestTopicPartition()
			fp.PartitionMaxBytes = 1 << 20
			ft.Partitions = []kmsg.FetchRequestTopicPartition{fp}
			req.Topics = []kmsg.FetchRequestTopic{ft}

			start := time.Now()
			resp := c.roundTrip(req, 7).(*kmsg.FetchResponse)
			took := time.Since(start)
			select {
			case err := <-errs:
				t.Fatal(err)
			default:
			}
			// Woken by the append, the answer takes milliseconds; a missed
			// wake-up shows as the full max wait.
			if took >= maxWait/2 {
				t.Fatalf("fetch answered after %v (max wait %v): the append did not wake it", took, maxWait)
			}
			if got := calls.Load(); got < tc.appends {
				t.Fatalf("hook ran %d times, want at least %d", got, tc.appends)
			}
			p := resp.Topics[0].Partitions[0]
			if p.ErrorCode != 0 {
				t.Fatalf("fetch error code %d", p.ErrorCode)
			}
			if n, _ := checkBatches(t, p.RecordBatches); n != int(tc.appends) {
				t.Fatalf("fetch returned %d batches, want %d", n, tc.appends)
			}
		})
	}
}
