package broker

import (
	"context"
	"fmt"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/osprey-kafka/osprey/broker/cgroup"
	"github.com/osprey-kafka/osprey/internal/testenv"
	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kgo"
	"github.com/twmb/franz-go/pkg/kmsg"
)

// pacedProducer produces to topic round robin, a record every 2 ms, until
// stopped; produced reports each partition's end offset so far.
type pacedProducer struct {
	mu       sync.Mutex
	produced map[int32]int64
	stop     context.CancelFunc
	done     chan struct{}
}

func startPacedProducer(t *testing.T, ctx context.Context, addr, topic string) *pacedProducer {
	t.Helper()
	pctx, cancel := context.WithCancel(ctx)
	p := &pacedProducer{produced: map[int32]int64{}, stop: cancel, done: make(chan struct{})}
	prod, err := kgo.NewClient(kgo.SeedBrokers(addr), kgo.DefaultProduceTopic(topic),
		kgo.RecordPartitioner(kgo.RoundRobinPartitioner()))
	if err != nil {
		t.Fatal(err)
	}
	go func() {
		defer close(p.done)
		defer prod.Close()
		pace := time.NewTicker(2 * time.Millisecond)
		defer pace.Stop()
		for i := 0; pctx.Err() == nil; i++ {
			rs := prod.ProduceSync(pctx, &kgo.Record{Value: []byte(strconv.Itoa(i))})
			if err := rs.FirstErr(); err != nil {
				if pctx.Err() == nil {
					t.Errorf("produce: %v", err)
				}
				return
			}
			p.mu.Lock()
			p.produced[rs[0].Record.Partition] = rs[0].Record.Offset + 1
			p.mu.Unlock()
			select {
			case <-pace.C:
			case <-pctx.Done():
			}
		}
	}()
	return p
}

// finish stops producing and returns what was produced.
func (p *pacedProducer) finish() map[int32]int64 {
	p.stop()
	<-p.done
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.produced
}

func (p *pacedProducer) total() int64 {
	p.mu.Lock()
	defer p.mu.Unlock()
	var n int64
	for _, e := range p.produced {
		n += e
	}
	return n
}

// startTrackedClassicConsumer runs a classic-protocol franz-go consumer
// with the given balancer whose callbacks and polls feed o, like
// startKIP848Consumer's.
func startTrackedClassicConsumer(t *testing.T, addr, group, name string, o *ownership, balancer kgo.GroupBalancer) (stop func()) {
	t.Helper()
	var cl *kgo.Client
	commit := func(ctx context.Context) {
		if err := cl.CommitUncommittedOffsets(ctx); err != nil && ctx.Err() == nil {
			t.Logf("%s: commit: %v", name, err)
		}
	}
	cl, err := kgo.NewClient(kgo.SeedBrokers(addr), kgo.ConsumerGroup(group), kgo.ConsumeTopics("mig"),
		kgo.Balancers(balancer), kgo.ClientID(name), kgo.DisableAutoCommit(), kgo.BlockRebalanceOnPoll(),
		kgo.FetchMaxWait(100*time.Millisecond), kgo.ConsumeResetOffset(kgo.NewOffset().AtStart()),
		kgo.HeartbeatInterval(200*time.Millisecond), kgo.SessionTimeout(10*time.Second),
		kgo.OnPartitionsAssigned(func(_ context.Context, _ *kgo.Client, ps map[string][]int32) { o.assigned(name, ps) }),
		kgo.OnPartitionsRevoked(func(ctx context.Context, _ *kgo.Client, ps map[string][]int32) {
			commit(ctx)
			o.released(name, ps)
		}),
		kgo.OnPartitionsLost(func(_ context.Context, _ *kgo.Client, ps map[string][]int32) { o.released(name, ps) }),
	)
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
			cl.Close()
		})
	}
}

// groupKind is the group's type and state as ListGroups shows them.
func groupKind(ctx context.Context, cl *kgo.Client, group string) (string, error) {
	resp, err := kmsg.NewPtrListGroupsRequest().RequestWith(ctx, cl)
	if err != nil {
		return "", err
	}
	for _, g := range resp.Groups {
		if g.Group == group {
			return g.GroupType + "/" + g.GroupState, nil
		}
	}
	return "", fmt.Errorf("group %s not listed", group)
}

// waitForClassicStable waits until DescribeGroups shows the classic group
// Stable with n members.
func waitForClassicStable(t *testing.T, cl *kgo.Client, group string, n int) {
	t.Helper()
	testenv.WaitFor(t, 30*time.Second, func() error {
		req := kmsg.NewPtrDescribeGroupsRequest()
		req.Groups = []string{group}
		resp, err := req.RequestWith(context.Background(), cl)
		if err != nil {
			return err
		}
		if d := resp.Groups[0]; d.ErrorCode != 0 || d.State != "Stable" || len(d.Members) != n {
			return fmt.Errorf("classic group %s: %v state %s, %d members; want Stable with %d", group, kerr.ErrorForCode(d.ErrorCode), d.State, len(d.Members), n)
		}
		return nil
	})
}

// TestFranzGoOnlineMigration: classic franz-go consumers (eager range, and
// cooperative-sticky) consume a topic while records are produced; two
// KIP-848 consumers join the same group, which becomes a consumer group
// keeping the classic members (they keep consuming through JoinGroup,
// SyncGroup and Heartbeat); the KIP-848 consumers leave and the group goes
// back to the classic protocol. No partition is ever owned by two
// consumers at once (per their callbacks and polls), every record is
// consumed, and the committed offsets carry across both conversions.
func TestFranzGoOnlineMigration(t *testing.T) {
	for _, c := range []struct {
		name     string
		balancer kgo.GroupBalancer
	}{
		{"eager", kgo.RangeBalancer()},
		{"cooperative", kgo.CooperativeStickyBalancer()},
	} {
		t.Run(c.name, func(t *testing.T) { testOnlineMigration(t, c.balancer) })
	}
}

func testOnlineMigration(t *testing.T, balancer kgo.GroupBalancer) {
	b := newTestBroker(t, withFastConsumerGroups)
	adm, err := kgo.NewClient(kgo.SeedBrokers(b.Addr()))
	if err != nil {
		t.Fatal(err)
	}
	defer adm.Close()
	ctx := testCtx(t, 120*time.Second)
	if _, err := kadm.NewClient(adm).CreateTopic(ctx, 6, 1, nil, "mig"); err != nil {
		t.Fatal(err)
	}
	prod := startPacedProducer(t, ctx, b.Addr(), "mig")
	defer prod.finish()
	o := newOwnership()
	owners := func() int {
		o.mu.Lock()
		defer o.mu.Unlock()
		return len(o.owner)
	}

	stopC1 := startTrackedClassicConsumer(t, b.Addr(), "mig", "classic-1", o, balancer)
	defer stopC1()
	stopC2 := startTrackedClassicConsumer(t, b.Addr(), "mig", "classic-2", o, balancer)
	defer stopC2()
	waitForClassicStable(t, adm, "mig", 2)
	waitFor(t, 20*time.Second, "the classic members to own all six partitions", func() bool { return owners() == 6 })

	// Upgrade: KIP-848 members join the live classic group.
	stopK1 := startKIP848Consumer(t, b.Addr(), "mig", "kip848-1", o, kgo.ConsumeTopics("mig"))
	defer stopK1()
	stopK2 := startKIP848Consumer(t, b.Addr(), "mig", "kip848-2", o, kgo.ConsumeTopics("mig"))
	defer stopK2()
	waitForStable(t, adm, "mig", 4)
	d := newCGClient(t, b.Addr()).describe("mig")
	types := map[int8]int{}
	for _, m := range d.Members {
		types[m.MemberType]++
	}
	if types[0] != 2 || types[1] != 2 {
		t.Fatalf("consumer group members by type (0 classic, 1 consumer): %v", types)
	}
	waitFor(t, 20*time.Second, "all six partitions owned by the four members", func() bool { return owners() == 6 })
	if k, err := groupKind(ctx, adm, "mig"); err != nil || k != "consumer/Stable" {
		t.Fatalf("after the upgrade ListGroups shows %q (%v)", k, err)
	}
	mark, upTo := prod.total(), prod.snapshot()
	waitFor(t, 30*time.Second, "the records produced up to the upgrade consumed, and more produced", func() bool {
		return prod.total() > mark+100 && o.missing(upTo) == 0
	})

	// Downgrade: the KIP-848 members leave; the classic ones carry on.
	stopK1()
	stopK2()
	waitForClassicStable(t, adm, "mig", 2)
	if k, err := groupKind(ctx, adm, "mig"); err != nil || k != "classic/Stable" {
		t.Fatalf("after the downgrade ListGroups shows %q (%v)", k, err)
	}
	waitFor(t, 20*time.Second, "the classic members to own all six partitions again", func() bool { return owners() == 6 })
	mark = prod.total()
	waitFor(t, 30*time.Second, "records produced after the downgrade", func() bool { return prod.total() > mark+100 })

	final := prod.finish()
	waitFor(t, 30*time.Second, "every record consumed", func() bool { return o.missing(final) == 0 })
	o.mu.Lock()
	violations := o.violations
	o.mu.Unlock()
	if len(violations) > 0 {
		t.Fatalf("partitions owned by two consumers at once:\n%v", violations)
	}
	var total int64
	for _, n := range final {
		total += n
	}
	t.Logf("%d records produced and consumed across the upgrade and the downgrade", total)
}

// snapshot copies the end offsets produced so far.
func (p *pacedProducer) snapshot() map[int32]int64 {
	p.mu.Lock()
	defer p.mu.Unlock()
	out := make(map[int32]int64, len(p.produced))
	for k, v := range p.produced {
		out[k] = v
	}
	return out
}

// classicJoinSync makes member a classic member (protocol "range") of
// group at the generation answered, assigning it the partitions of topic t
// given; it returns the member id and generation.
func (c *cgClient) classicJoinSync(group, topic string, partitions ...int32) (string, int32) {
	c.t.Helper()
	jg := kmsg.NewPtrJoinGroupRequest()
	jg.Group, jg.ProtocolType, jg.SessionTimeoutMillis, jg.RebalanceTimeoutMillis = group, "consumer", 10000, 10000
	meta := kmsg.NewConsumerMemberMetadata()
	meta.Topics = []string{topic}
	jg.Protocols = []kmsg.JoinGroupRequestProtocol{{Name: "range", Metadata: meta.AppendTo(nil)}}
	r, err := jg.RequestWith(c.ctx, c.cl)
	if err != nil || r.ErrorCode != errMemberIDRequired {
		c.t.Fatalf("first join: %+v %v", r, err)
	}
	jg.MemberID = r.MemberID
	if r, err = jg.RequestWith(c.ctx, c.cl); err != nil || r.ErrorCode != 0 {
		c.t.Fatalf("join: %+v %v", r, err)
	}
	a := kmsg.NewConsumerMemberAssignment()
	a.Topics = []kmsg.ConsumerMemberAssignmentTopic{{Topic: topic, Partitions: partitions}}
	sg := kmsg.NewPtrSyncGroupRequest()
	sg.Group, sg.MemberID, sg.Generation = group, jg.MemberID, r.Generation
	sg.ProtocolType, sg.Protocol = kmsg.StringPtr("consumer"), kmsg.StringPtr("range")
	sg.GroupAssignment = []kmsg.SyncGroupRequestGroupAssignment{{MemberID: jg.MemberID, MemberAssignment: a.AppendTo(nil)}}
	if s, err := sg.RequestWith(c.ctx, c.cl); err != nil || s.ErrorCode != 0 {
		c.t.Fatalf("sync: %+v %v", s, err)
	}
	return jg.MemberID, r.Generation
}

func (c *cgClient) classicHeartbeat(group, member string, generation int32) int16 {
	c.t.Helper()
	hb := kmsg.NewPtrHeartbeatRequest()
	hb.Group, hb.MemberID, hb.Generation = group, member, generation
	r, err := hb.RequestWith(c.ctx, c.cl)
	if err != nil {
		c.t.Fatal(err)
	}
	return r.ErrorCode
}

// group.consumer.migration.policy decides whether a live classic group is
// upgraded (bidirectional, upgrade) and whether a consumer group left with
// classic members only is downgraded (bidirectional, downgrade).
func TestConsumerGroupMigrationPolicy(t *testing.T) {
	for _, c := range []struct {
		policy             cgroup.MigrationPolicy
		upgrade, downgrade bool
	}{
		{cgroup.MigrationDowngrade, false, true},
		{cgroup.MigrationUpgrade, true, false},
		{cgroup.MigrationBidirectional, true, true},
	} {
		t.Run(string(c.policy), func(t *testing.T) {
			b := newTestBroker(t, withFastConsumerGroups, func(cfg *Config) { cfg.Consumer.Migration = c.policy })
			cl := newCGClient(t, b.Addr())
			cl.createTopic("t", 2)
			id, gen := cl.classicJoinSync("g", "t", 0, 1)
			r := cl.join("g", "k1", nil, "t")
			if !c.upgrade {
				wantCode(t, "consumer member joining a live classic group", r.ErrorCode, kerr.GroupIDNotFound)
				wantCode(t, "the classic member's heartbeat", cl.classicHeartbeat("g", id, gen), nil)
				return
			}
			wantCode(t, "consumer member joining a live classic group", r.ErrorCode, nil)
			d := cl.describe("g")
			if d.Epoch != gen+1 || len(d.Members) != 2 {
				t.Fatalf("upgraded group: epoch %d (generation %d), %d members", d.Epoch, gen, len(d.Members))
			}
			wantCode(t, "the classic member's heartbeat after the upgrade", cl.classicHeartbeat("g", id, gen), kerr.RebalanceInProgress)
			leave := kmsg.NewPtrConsumerGroupHeartbeatRequest()
			leave.Group, leave.MemberID, leave.MemberEpoch = "g", "k1", -1
			wantCode(t, "leave", cl.hb(leave).ErrorCode, nil)
			k, err := groupKind(cl.ctx, cl.cl, "g")
			want := "consumer/"
			if c.downgrade {
				want = "classic/PreparingRebalance"
			}
			if err != nil || !strings.HasPrefix(k, want) {
				t.Fatalf("after the consumer member left: %q (%v), want %s…", k, err, want)
			}
		})
	}
}

// Classic members of a consumer group are durable: after a restart they
// are classic members still (ClassicMemberMetadata in their records), and
// heartbeat on at their generation; after the downgrade the group is
// rebuilt as a classic group with them.
func TestConsumerGroupClassicMembersDurable(t *testing.T) {
	dir := t.TempDir()
	b1 := startTestBroker(t, testConfig(withDir(dir), withFastConsumerGroups))
	c := newCGClient(t, b1.Addr())
	c.createTopic("t", 2)
	id, gen := c.classicJoinSync("g", "t", 0, 1)
	wantCode(t, "upgrade", c.join("g", "k1", nil, "t").ErrorCode, nil)
	c.cl.Close()
	if err := b1.Close(); err != nil {
		t.Fatal(err)
	}
	b2 := startTestBroker(t, testConfig(withDir(dir), withFastConsumerGroups))
	c2 := newCGClient(t, b2.Addr())
	d := c2.describe("g")
	types := map[string]int8{}
	for _, m := range d.Members {
		types[m.MemberID] = m.MemberType
	}
	if d.ErrorCode != 0 || len(types) != 2 || types[id] != 0 || types["k1"] != 1 {
		t.Fatalf("after restart: %v members %v", kerr.ErrorForCode(d.ErrorCode), types)
	}
	wantCode(t, "the classic member's heartbeat after restart", c2.classicHeartbeat("g", id, gen), kerr.RebalanceInProgress)

	// The consumer member leaves: the group is classic again, and stays so
	// across the next restart.
	leave := kmsg.NewPtrConsumerGroupHeartbeatRequest()
	leave.Group, leave.MemberID, leave.MemberEpoch = "g", "k1", -1
	wantCode(t, "leave", c2.hb(leave).ErrorCode, nil)
	c2.cl.Close()
	if err := b2.Close(); err != nil {
		t.Fatal(err)
	}
	b3 := startTestBroker(t, testConfig(withDir(dir), withFastConsumerGroups))
	c3 := newCGClient(t, b3.Addr())
	dg := kmsg.NewPtrDescribeGroupsRequest()
	dg.Groups = []string{"g"}
	dr, err := dg.RequestWith(c3.ctx, c3.cl)
	if err != nil {
		t.Fatal(err)
	}
	if g := dr.Groups[0]; g.ErrorCode != 0 || g.ProtocolType != "consumer" || len(g.Members) != 1 || g.Members[0].MemberID != id {
		t.Fatalf("after the downgrade and a restart: %v type %q members %+v", kerr.ErrorForCode(g.ErrorCode), g.ProtocolType, g.Members)
	}
	if d := c3.describe("g"); d.ErrorCode != kerr.GroupIDNotFound.Code {
		t.Fatalf("ConsumerGroupDescribe after the downgrade: %v", kerr.ErrorForCode(d.ErrorCode))
	}
}
