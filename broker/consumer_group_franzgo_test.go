package broker

import (
	"context"
	"fmt"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/osprey-kafka/osprey/internal/testenv"
	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kgo"
	"github.com/twmb/franz-go/pkg/kmsg"
)

// withFastConsumerGroups shortens the consumer protocol's heartbeat so that
// reconciliations take a fraction of a second (the bounds allow it).
func withFastConsumerGroups(c *Config) {
	c.Consumer.MinHeartbeatInterval = 50 * time.Millisecond
	c.Consumer.HeartbeatInterval = 200 * time.Millisecond
	c.Consumer.MinSessionTimeout = time.Second
	c.Consumer.SessionTimeout = 10 * time.Second
}

// ownership records which consumer owns each partition, as the consumers'
// own rebalance callbacks and polls report it, and every violation.
type ownership struct {
	mu         sync.Mutex
	owner      map[int32]string
	consumed   map[int32]map[int64]int
	violations []string
}

func newOwnership() *ownership {
	return &ownership{owner: map[int32]string{}, consumed: map[int32]map[int64]int{}}
}

func (o *ownership) assigned(who string, ps map[string][]int32) {
	o.mu.Lock()
	defer o.mu.Unlock()
	for _, parts := range ps {
		for _, p := range parts {
			if cur, ok := o.owner[p]; ok && cur != who {
				o.violations = append(o.violations, fmt.Sprintf("partition %d assigned to %s while %s owns it", p, who, cur))
			}
			o.owner[p] = who
		}
	}
}

func (o *ownership) released(who string, ps map[string][]int32) {
	o.mu.Lock()
	defer o.mu.Unlock()
	for _, parts := range ps {
		for _, p := range parts {
			if o.owner[p] == who {
				delete(o.owner, p)
			}
		}
	}
}

func (o *ownership) polled(who string, recs []*kgo.Record) {
	o.mu.Lock()
	defer o.mu.Unlock()
	for _, r := range recs {
		if cur := o.owner[r.Partition]; cur != who {
			o.violations = append(o.violations, fmt.Sprintf("%s polled partition %d owned by %q", who, r.Partition, cur))
		}
		if o.consumed[r.Partition] == nil {
			o.consumed[r.Partition] = map[int64]int{}
		}
		o.consumed[r.Partition][r.Offset]++
	}
}

// missing counts produced records not consumed yet.
func (o *ownership) missing(produced map[int32]int64) int64 {
	o.mu.Lock()
	defer o.mu.Unlock()
	var n int64
	for p, end := range produced {
		for off := int64(0); off < end; off++ {
			if o.consumed[p][off] == 0 {
				n++
			}
		}
	}
	return n
}

// startKIP848Consumer runs a franz-go consumer with the consumer group
// protocol; polls and rebalances are serialised (BlockRebalanceOnPoll), so
// a poll's records belong to partitions the consumer owns.
func startKIP848Consumer(t *testing.T, addr, group, name string, o *ownership, opts ...kgo.Opt) (stop func()) {
	t.Helper()
	var cl *kgo.Client
	commit := func(ctx context.Context) {
		if err := cl.CommitUncommittedOffsets(ctx); err != nil && ctx.Err() == nil {
			t.Logf("%s: commit: %v", name, err)
		}
	}
	base := []kgo.Opt{kgo.SeedBrokers(addr), kgo.ConsumerGroup(group), kgo.ServerSideBalancer(),
		kgo.Balancers(kgo.CooperativeStickyBalancer()), kgo.ClientID(name), kgo.DisableAutoCommit(),
		kgo.BlockRebalanceOnPoll(), kgo.FetchMaxWait(100 * time.Millisecond),
		kgo.ConsumeResetOffset(kgo.NewOffset().AtStart()),
		kgo.OnPartitionsAssigned(func(_ context.Context, _ *kgo.Client, ps map[string][]int32) { o.assigned(name, ps) }),
		kgo.OnPartitionsRevoked(func(ctx context.Context, _ *kgo.Client, ps map[string][]int32) {
			commit(ctx)
			o.released(name, ps)
		}),
		kgo.OnPartitionsLost(func(_ context.Context, _ *kgo.Client, ps map[string][]int32) { o.released(name, ps) }),
	}
	cl, err := kgo.NewClient(append(base, opts...)...)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() {
		defer close(done)
		for ctx.Err() == nil {
			fs := cl.PollFetches(ctx)
			o.polled(name, fs.Records())
			if len(fs.Records()) > 0 {
				commit(ctx)
			}
			cl.AllowRebalance()
		}
	}()
	var once sync.Once
	return func() {
		once.Do(func() {
			cancel()
			<-done
			cc, ccancel := context.WithTimeout(context.Background(), 10*time.Second)
			defer ccancel()
			commit(cc)
			cl.Close() // leaves the group (epoch -1) after revoking
		})
	}
}

// TestFranzGoConsumerGroupProtocol runs franz-go consumers with the KIP-848
// protocol while records are produced: three join one after the other, one
// leaves, another joins; no partition is ever owned by two of them at
// once (per their own callbacks and polls) and every record is consumed.
// A classic franz-go consumer on another group keeps working beside them.
func TestFranzGoConsumerGroupProtocol(t *testing.T) {
	b := newTestBroker(t, withFastConsumerGroups)
	adm, err := kgo.NewClient(kgo.SeedBrokers(b.Addr()))
	if err != nil {
		t.Fatal(err)
	}
	defer adm.Close()
	ctx := testCtx(t, 120*time.Second)
	if _, err := kadm.NewClient(adm).CreateTopic(ctx, 6, 1, nil, "kip848"); err != nil {
		t.Fatal(err)
	}

	produced := map[int32]int64{}
	var pmu sync.Mutex
	prodCtx, stopProducing := context.WithCancel(ctx)
	prodDone := make(chan struct{})
	go func() {
		defer close(prodDone)
		prod, err := kgo.NewClient(kgo.SeedBrokers(b.Addr()), kgo.DefaultProduceTopic("kip848"),
			kgo.RecordPartitioner(kgo.RoundRobinPartitioner()))
		if err != nil {
			t.Error(err)
			return
		}
		defer prod.Close()
		// Paced so that members join and leave while records keep coming.
		pace := time.NewTicker(2 * time.Millisecond)
		defer pace.Stop()
		for i := 0; prodCtx.Err() == nil; i++ {
			rs := prod.ProduceSync(ctx, &kgo.Record{Value: []byte(strconv.Itoa(i))})
			if rs.FirstErr() != nil {
				t.Errorf("produce: %v", rs.FirstErr())
				return
			}
			pmu.Lock()
			produced[rs[0].Record.Partition] = rs[0].Record.Offset + 1
			pmu.Unlock()
			select {
			case <-pace.C:
			case <-prodCtx.Done():
			}
		}
	}()

	o := newOwnership()
	owners := func() int {
		o.mu.Lock()
		defer o.mu.Unlock()
		return len(o.owner)
	}
	classic := newOwnership()
	stopClassic := startClassicConsumer(t, b.Addr(), "classic-beside", classic)
	defer stopClassic()

	stop1 := startKIP848Consumer(t, b.Addr(), "g848", "c1", o, kgo.ConsumeTopics("kip848"))
	defer stop1()
	waitFor(t, 20*time.Second, "c1 to own all six partitions", func() bool { return owners() == 6 })
	stop2 := startKIP848Consumer(t, b.Addr(), "g848", "c2", o, kgo.ConsumeTopics("kip848"))
	defer stop2()
	stop3 := startKIP848Consumer(t, b.Addr(), "g848", "c3", o, kgo.ConsumeTopics("kip848"))
	defer stop3()
	waitForStable(t, adm, "g848", 3)
	stop1()
	waitForStable(t, adm, "g848", 2)
	stop4 := startKIP848Consumer(t, b.Addr(), "g848", "c4", o, kgo.ConsumeTopics("kip848"))
	defer stop4()
	waitForStable(t, adm, "g848", 3)

	waitFor(t, 60*time.Second, "1,000 records produced", func() bool {
		pmu.Lock()
		defer pmu.Unlock()
		var n int64
		for _, e := range produced {
			n += e
		}
		return n >= 1000
	})
	stopProducing()
	<-prodDone
	pmu.Lock()
	final := produced
	pmu.Unlock()
	waitFor(t, 30*time.Second, "every record consumed", func() bool { return o.missing(final) == 0 })
	waitFor(t, 30*time.Second, "the classic group to consume every record", func() bool { return classic.missing(final) == 0 })
	// librdkafka's classic consumer (kcat) on a third group reads them all
	// too, while the consumer group is live.
	kc := parseKcatJSON(t, runKcat(t, ctx, "", "-b", b.Addr(), "-G", "kcat-beside", "kip848", "-e", "-J", "-X", "auto.offset.reset=earliest"))
	var total int64
	for _, n := range final {
		total += n
	}
	if int64(len(kc)) != total {
		t.Fatalf("kcat consumed %d records, want %d", len(kc), total)
	}
	o.mu.Lock()
	violations := o.violations
	o.mu.Unlock()
	if len(violations) > 0 {
		t.Fatalf("partitions owned by two consumers at once:\n%v", violations)
	}
	t.Logf("%d records produced and consumed while consumers joined and left", total)

	// ListGroups v5 tells the two kinds apart and filters by type.
	lg := kmsg.NewPtrListGroupsRequest()
	lresp, err := lg.RequestWith(ctx, adm)
	if err != nil {
		t.Fatal(err)
	}
	types := map[string]string{}
	for _, g := range lresp.Groups {
		types[g.Group] = g.GroupType + "/" + g.ProtocolType
	}
	if types["g848"] != "consumer/consumer" || types["classic-beside"] != "classic/consumer" || types["kcat-beside"] != "classic/consumer" {
		t.Fatalf("ListGroups types: %v", types)
	}
	lg.TypesFilter = []string{"Consumer"}
	if lresp, err = lg.RequestWith(ctx, adm); err != nil || len(lresp.Groups) != 1 || lresp.Groups[0].Group != "g848" {
		t.Fatalf("ListGroups types filter consumer: %+v %v", lresp, err)
	}
	// DescribeGroups (classic) sees the consumer group as Dead, and from v6
	// as GROUP_ID_NOT_FOUND.
	dg := kmsg.NewPtrDescribeGroupsRequest()
	dg.Groups = []string{"g848"}
	dresp, err := dg.RequestWith(ctx, adm)
	if err != nil || len(dresp.Groups) != 1 || dresp.Groups[0].State != "Dead" || dresp.Groups[0].ErrorCode != kerr.GroupIDNotFound.Code {
		t.Fatalf("DescribeGroups of a consumer group: %+v %v", dresp, err)
	}
	// A classic member of another protocol type than "consumer" cannot
	// join the live consumer group.
	jg := kmsg.NewPtrJoinGroupRequest()
	jg.Group, jg.SessionTimeoutMillis, jg.RebalanceTimeoutMillis, jg.ProtocolType = "g848", 10000, 10000, "connect"
	jg.Protocols = []kmsg.JoinGroupRequestProtocol{{Name: "sessioned", Metadata: []byte{0, 0}}}
	jresp, err := jg.RequestWith(ctx, adm)
	if err != nil || jresp.ErrorCode != kerr.InconsistentGroupProtocol.Code {
		t.Fatalf("JoinGroup to a consumer group: %+v %v", jresp, err)
	}
}

// waitForStable waits until ConsumerGroupDescribe shows the group Stable
// with n members, each at the assignment epoch with its target assigned.
func waitForStable(t *testing.T, cl *kgo.Client, group string, n int) {
	t.Helper()
	testenv.WaitFor(t, 30*time.Second, func() error {
		req := kmsg.NewPtrConsumerGroupDescribeRequest()
		req.Groups = []string{group}
		resp, err := req.RequestWith(context.Background(), cl)
		if err != nil || len(resp.Groups) != 1 {
			return fmt.Errorf("group %s: describe: %v", group, err)
		}
		g := resp.Groups[0]
		total := 0
		for _, m := range g.Members {
			for _, tp := range m.Assignment.TopicPartitions {
				total += len(tp.Partitions)
			}
		}
		if g.ErrorCode != 0 || g.State != "Stable" || len(g.Members) != n || total != 6 {
			return fmt.Errorf("group %s not Stable with %d members holding 6 partitions: state %s epoch %d/%d members %d partitions %d (error %d)",
				group, n, g.State, g.Epoch, g.AssignmentEpoch, len(g.Members), total, g.ErrorCode)
		}
		return nil
	})
}

// startClassicConsumer runs a classic-protocol franz-go group consumer.
func startClassicConsumer(t *testing.T, addr, group string, o *ownership) func() {
	t.Helper()
	cl, err := kgo.NewClient(kgo.SeedBrokers(addr), kgo.ConsumerGroup(group), kgo.ConsumeTopics("kip848"),
		kgo.FetchMaxWait(100*time.Millisecond), kgo.ConsumeResetOffset(kgo.NewOffset().AtStart()))
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() {
		defer close(done)
		for ctx.Err() == nil {
			fs := cl.PollFetches(ctx)
			o.mu.Lock()
			for _, r := range fs.Records() {
				if o.consumed[r.Partition] == nil {
					o.consumed[r.Partition] = map[int64]int{}
				}
				o.consumed[r.Partition][r.Offset]++
			}
			o.mu.Unlock()
		}
	}()
	return func() {
		cancel()
		<-done
		cl.Close()
	}
}

// A regex subscription is resolved by the broker: a topic created later
// that matches is assigned to the group and consumed.
func TestFranzGoConsumerGroupRegex(t *testing.T) {
	b := newTestBroker(t, withFastConsumerGroups)
	c := newCGClient(t, b.Addr())
	c.createTopic("rx-1", 2)
	c.createTopic("other", 1)
	produceFranz(t, b.Addr(), "rx-1", 4)
	produceFranz(t, b.Addr(), "other", 3)
	consumed := map[string]int{}
	var mu sync.Mutex
	cl, err := kgo.NewClient(kgo.SeedBrokers(b.Addr()), kgo.ConsumerGroup("rx"), kgo.ServerSideBalancer(),
		kgo.Balancers(kgo.CooperativeStickyBalancer()), kgo.ConsumeRegex(), kgo.ConsumeTopics("rx-.*"),
		kgo.ConsumeResetOffset(kgo.NewOffset().AtStart()), kgo.FetchMaxWait(100*time.Millisecond),
		kgo.MetadataMinAge(100*time.Millisecond), kgo.MetadataMaxAge(time.Second))
	if err != nil {
		t.Fatal(err)
	}
	defer cl.Close()
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() {
		defer close(done)
		for ctx.Err() == nil {
			fs := cl.PollFetches(ctx)
			mu.Lock()
			for _, r := range fs.Records() {
				consumed[r.Topic]++
			}
			mu.Unlock()
		}
	}()
	defer func() { cancel(); <-done }()
	count := func(topic string) int {
		mu.Lock()
		defer mu.Unlock()
		return consumed[topic]
	}
	waitFor(t, 30*time.Second, "rx-1 consumed", func() bool { return count("rx-1") == 4 })
	c.createTopic("rx-2", 3)
	produceFranz(t, b.Addr(), "rx-2", 6)
	waitFor(t, 30*time.Second, "rx-2, created later, consumed", func() bool { return count("rx-2") == 6 })
	if n := count("other"); n != 0 {
		t.Fatalf("consumed %d records of a topic the regex does not match", n)
	}
	d := c.describe("rx")
	if len(d.Members) != 1 || deref(d.Members[0].SubscribedTopicRegex) == "" || len(d.Members[0].Assignment.TopicPartitions) != 2 {
		t.Fatalf("describe: %+v", d)
	}
}

// franz-go's consume-transform-produce loop (GroupTransactSession) on a
// consumer-protocol group: its transactional offset commits carry the
// member's epoch and are accepted, so every input is committed once.
func TestFranzGoTransactSessionConsumerProtocol(t *testing.T) {
	b := newTestBroker(t, withFastConsumerGroups, withTxnTest, func(c *Config) { c.Txn.StateLogRF = 1 })
	seeds := []string{b.Addr()}
	createTopic(t, seeds, "eos-in", 2, 1)
	createTopic(t, seeds, "eos-out", 2, 1)
	const n = 60
	produceFranz(t, b.Addr(), "eos-in", n)
	ctx := testCtx(t, 60*time.Second)
	s, err := kgo.NewGroupTransactSession(kgo.SeedBrokers(seeds...), kgo.TransactionalID("eos-848"),
		kgo.ConsumerGroup("eos-848"), kgo.ConsumeTopics("eos-in"), kgo.ServerSideBalancer(),
		kgo.Balancers(kgo.CooperativeStickyBalancer()), kgo.FetchIsolationLevel(kgo.ReadCommitted()),
		kgo.ConsumeResetOffset(kgo.NewOffset().AtStart()), kgo.DefaultProduceTopic("eos-out"),
		kgo.FetchMaxWait(100*time.Millisecond))
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	for {
		sum, err := groupCommittedSum(ctx, seeds, "eos-848", "eos-in")
		if err == nil && sum == n {
			break
		}
		if ctx.Err() != nil {
			t.Fatalf("committed %d of %d (%v)", sum, n, err)
		}
		fs := s.PollRecords(ctx, 20)
		if fs.Empty() {
			continue
		}
		if err := s.Begin(); err != nil {
			t.Fatal(err)
		}
		fs.EachRecord(func(r *kgo.Record) { s.Produce(ctx, &kgo.Record{Key: r.Key, Value: r.Value}, nil) })
		if committed, err := s.End(ctx, kgo.TryCommit); err != nil || !committed {
			t.Fatalf("end: committed=%v %v", committed, err)
		}
	}
	c := newCGClient(t, b.Addr())
	if d := c.describe("eos-848"); d.ErrorCode != 0 || len(d.Members) != 1 {
		t.Fatalf("the session's group is not a consumer-protocol group: %+v", d)
	}
}
