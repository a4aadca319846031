package broker

import (
	"strconv"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kgo"
)

// produceFranz writes n records with keys k<i>, values v<i> and a header,
// through an idempotent producer, and returns them with their offsets.
func produceFranz(t *testing.T, addr, topic string, n int, extra ...kgo.Opt) []*kgo.Record {
	t.Helper()
	opts := append([]kgo.Opt{kgo.SeedBrokers(addr), kgo.DefaultProduceTopic(topic),
		kgo.RecordPartitioner(kgo.RoundRobinPartitioner())}, extra...)
	cl, err := kgo.NewClient(opts...)
	if err != nil {
		t.Fatal(err)
	}
	defer cl.Close()
	ctx := testCtx(t, 30*time.Second)
	var recs []*kgo.Record
	for i := 0; i < n; i++ {
		recs = append(recs, &kgo.Record{Key: []byte("k" + strconv.Itoa(i)), Value: []byte("v" + strconv.Itoa(i)),
			Headers: []kgo.RecordHeader{{Key: "h", Value: []byte("x" + strconv.Itoa(i))}}})
	}
	if err := cl.ProduceSync(ctx, recs...).FirstErr(); err != nil {
		t.Fatalf("produce: %v", err)
	}
	return recs
}

// checkRecord compares a consumed record with the produced one.
func checkRecord(t *testing.T, got, want *kgo.Record) {
	t.Helper()
	if string(got.Key) != string(want.Key) || string(got.Value) != string(want.Value) {
		t.Fatalf("record at %s/%d@%d: got key %q value %q, want %q %q", got.Topic, got.Partition, got.Offset,
			got.Key, got.Value, want.Key, want.Value)
	}
	if len(got.Headers) != 1 || got.Headers[0].Key != "h" || string(got.Headers[0].Value) != string(want.Headers[0].Value) {
		t.Fatalf("record %q: headers %v, want %v", got.Key, got.Headers, want.Headers)
	}
	if got.Partition != want.Partition || got.Offset != want.Offset {
		t.Fatalf("record %q at %d@%d, produced at %d@%d", got.Key, got.Partition, got.Offset, want.Partition, want.Offset)
	}
}

func TestFranzGoProduceGroupConsume(t *testing.T) {
	b := newTestBroker(t)
	adm, err := kgo.NewClient(kgo.SeedBrokers(b.Addr()))
	if err != nil {
		t.Fatal(err)
	}
	defer adm.Close()
	ka := kadm.NewClient(adm)
	ctx := testCtx(t, 60*time.Second)
	if _, err := ka.CreateTopic(ctx, 3, 1, nil, "orders"); err != nil {
		t.Fatalf("create topic: %v", err)
	}
	recs := produceFranz(t, b.Addr(), "orders", 90)
	byKey := map[string]*kgo.Record{}
	perPart := map[int32]int64{}
	for _, r := range recs {
		byKey[string(r.Key)] = r
		if r.Offset != perPart[r.Partition] {
			t.Fatalf("partition %d: offset %d, want %d (offsets must be dense)", r.Partition, r.Offset, perPart[r.Partition])
		}
		perPart[r.Partition]++
	}

	cons, err := kgo.NewClient(kgo.SeedBrokers(b.Addr()), kgo.ConsumerGroup("g1"), kgo.ConsumeTopics("orders"),
		kgo.DisableAutoCommit(), kgo.FetchMaxWait(200*time.Millisecond))
	if err != nil {
		t.Fatal(err)
	}
	defer cons.Close()
	seen := map[string]bool{}
	last := map[int32]int64{}
	for len(seen) < len(recs) {
		fs := cons.PollFetches(ctx)
		if err := ctx.Err(); err != nil {
			t.Fatalf("consumed %d of %d: %v", len(seen), len(recs), err)
		}
		fs.EachError(func(topic string, p int32, err error) { t.Fatalf("fetch %s/%d: %v", topic, p, err) })
		fs.EachRecord(func(r *kgo.Record) {
			want := byKey[string(r.Key)]
			if want == nil {
				t.Fatalf("unexpected record %q", r.Key)
			}
			checkRecord(t, r, want)
			if prev, ok := last[r.Partition]; ok && r.Offset != prev+1 {
				t.Fatalf("partition %d: offset %d after %d", r.Partition, r.Offset, prev)
			}
			last[r.Partition] = r.Offset
			seen[string(r.Key)] = true
		})
	}
	if err := cons.CommitUncommittedOffsets(ctx); err != nil {
		t.Fatalf("commit: %v", err)
	}
	offs, err := ka.FetchOffsets(ctx, "g1")
	if err != nil {
		t.Fatalf("fetch offsets: %v", err)
	}
	for p, n := range perPart {
		o, ok := offs.Lookup("orders", p)
		if !ok || o.At != n {
			t.Fatalf("committed offset of orders/%d = %+v, want %d", p, o, n)
		}
	}
	groups, err := ka.DescribeGroups(ctx, "g1")
	if err != nil {
		t.Fatal(err)
	}
	if g := groups["g1"]; g.State != "Stable" || len(g.Members) != 1 {
		t.Fatalf("group g1: state %s, %d members; want Stable with 1", g.State, len(g.Members))
	}
}
