package broker

import (
	"context"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kgo"
	"github.com/twmb/franz-go/pkg/kmsg"
)

func withShareGroups(lock time.Duration, limit int32) testBrokerOpt {
	return func(c *Config) {
		c.Share.Enable = true
		c.Share.RecordLockDuration = lock
		c.Share.DeliveryCountLimit = limit
		c.Share.HeartbeatInterval = 200 * time.Millisecond
	}
}

// shareLog records what share consumers were handed.
type shareLog struct {
	mu   sync.Mutex
	seen map[string][]string // "partition/offset" -> member@deliveryCount, in order
}

func (l *shareLog) add(who string, r *kgo.Record) {
	l.mu.Lock()
	defer l.mu.Unlock()
	k := fmt.Sprintf("%d/%d", r.Partition, r.Offset)
	l.seen[k] = append(l.seen[k], fmt.Sprintf("%s@%d", who, r.DeliveryCount()))
}

func (l *shareLog) count() int {
	l.mu.Lock()
	defer l.mu.Unlock()
	return len(l.seen)
}

// startShareConsumer polls the share group until the test ends, marking
// every record with ack (0: kgo accepts implicitly at the next poll).
func startShareConsumer(t *testing.T, addr, group, topic, name string, l *shareLog, ack kgo.AckStatus) {
	cl, err := kgo.NewClient(kgo.SeedBrokers(addr), kgo.ShareGroup(group), kgo.ConsumeTopics(topic),
		kgo.FetchMaxWait(200*time.Millisecond))
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() {
		defer close(done)
		for ctx.Err() == nil {
			fs := cl.PollFetches(ctx)
			fs.EachRecord(func(r *kgo.Record) {
				l.add(name, r)
				if ack != 0 {
					r.Ack(ack)
				}
			})
		}
	}()
	t.Cleanup(func() { cancel(); <-done; cl.Close() })
}

// waitSharePartitions waits until the group has a share-partition for each
// of the topic's partitions (they start at the log end offset).
func waitSharePartitions(t *testing.T, b *Broker, group string, n int) {
	waitFor(t, 15*time.Second, "share-partitions initialised", func() bool {
		b.shares.mu.Lock()
		defer b.shares.mu.Unlock()
		got := 0
		for k := range b.shares.parts {
			if k.group == group {
				got++
			}
		}
		return got == n
	})
}

func produceN(t *testing.T, addr, topic string, n int, partitions int) {
	cl, err := kgo.NewClient(kgo.SeedBrokers(addr), kgo.DefaultProduceTopic(topic), kgo.RecordPartitioner(kgo.ManualPartitioner()))
	if err != nil {
		t.Fatal(err)
	}
	defer cl.Close()
	for i := 0; i < n; i++ {
		if err := cl.ProduceSync(testCtx(t, 10*time.Second), &kgo.Record{Value: []byte(fmt.Sprint(i)), Partition: int32(i % partitions)}).FirstErr(); err != nil {
			t.Fatal(err)
		}
	}
}

// TestShareGroupFranzGoMembers: three franz-go share consumers share a
// three-partition topic; each record is delivered once and accepted.
func TestShareGroupFranzGoMembers(t *testing.T) {
	b := newTestBroker(t, withShareGroups(30*time.Second, 5))
	addr := b.Addr()
	createTopic(t, []string{addr}, "q", 3, 1)
	l := &shareLog{seen: map[string][]string{}}
	for i := 0; i < 3; i++ {
		startShareConsumer(t, addr, "sg", "q", fmt.Sprint("m", i), l, kgo.AckAccept)
	}
	waitSharePartitions(t, b, "sg", 3)
	// A classic consumer group reads the same topic beside the share group.
	classic, err := kgo.NewClient(kgo.SeedBrokers(addr), kgo.ConsumerGroup("classic"), kgo.ConsumeTopics("q"),
		kgo.ConsumeResetOffset(kgo.NewOffset().AtStart()))
	if err != nil {
		t.Fatal(err)
	}
	defer classic.Close()
	produceN(t, addr, "q", 300, 3)
	waitFor(t, 30*time.Second, "all 300 records consumed", func() bool { return l.count() == 300 })
	for n := 0; n < 300; {
		fs := classic.PollFetches(testCtx(t, 20*time.Second))
		if err := fs.Err0(); err != nil {
			t.Fatalf("classic consumer: %v", err)
		}
		n += fs.NumRecords()
	}
	checkShareGroupListedAndDescribed(t, classic, "sg", 3)
	l.mu.Lock()
	defer l.mu.Unlock()
	members := map[string]bool{}
	for k, v := range l.seen {
		if len(v) != 1 {
			t.Errorf("record %s delivered %v", k, v)
		}
		members[v[0][:2]] = true
	}
	if len(members) < 2 {
		t.Errorf("records went to %v only", members)
	}
}

// TestShareGroupFranzGoRedeliveryAndArchive: records a member releases
// are delivered again with a higher delivery count, and archived after
// group.share.delivery.count.limit deliveries; the share-partition start
// offset then moves past them.
func TestShareGroupFranzGoRedeliveryAndArchive(t *testing.T) {
	b := newTestBroker(t, withShareGroups(time.Second, 3))
	addr := b.Addr()
	createTopic(t, []string{addr}, "q", 3, 1)
	l := &shareLog{seen: map[string][]string{}}
	startShareConsumer(t, addr, "sg", "q", "rel", l, kgo.AckRelease)
	waitSharePartitions(t, b, "sg", 3)
	produceN(t, addr, "q", 30, 3)
	waitFor(t, 30*time.Second, "every record archived", func() bool {
		b.shares.mu.Lock()
		defer b.shares.mu.Unlock()
		archived := int64(0)
		for k, p := range b.shares.parts {
			s := p.Snapshot(time.Now())
			if k.group != "sg" || s.StartOffset != 10 {
				return false
			}
			archived += s.ArchivedTotal
		}
		return archived == 30
	})
	l.mu.Lock()
	defer l.mu.Unlock()
	for k, v := range l.seen {
		if want := []string{"rel@1", "rel@2", "rel@3"}; fmt.Sprint(v) != fmt.Sprint(want) {
			t.Errorf("record %s delivered %v, want %v", k, v, want)
		}
	}
}

// TestShareGroupFranzGoLockExpiry: a member that takes records and stops
// polling holds them until the acquisition lock expires; another member
// then gets them with a delivery count above 1 (the stuck client's
// background fetches may take the record again after an expiry).
func TestShareGroupFranzGoLockExpiry(t *testing.T) {
	b := newTestBroker(t, withShareGroups(time.Second, 5))
	addr := b.Addr()
	createTopic(t, []string{addr}, "q", 1, 1)
	stuck, err := kgo.NewClient(kgo.SeedBrokers(addr), kgo.ShareGroup("sg"), kgo.ConsumeTopics("q"))
	if err != nil {
		t.Fatal(err)
	}
	defer stuck.Close()
	go stuck.PollFetches(testCtx(t, 5*time.Second)) // joins and initialises the share-partition
	waitSharePartitions(t, b, "sg", 1)
	cl, err := kgo.NewClient(kgo.SeedBrokers(addr), kgo.DefaultProduceTopic("q"))
	if err != nil {
		t.Fatal(err)
	}
	defer cl.Close()
	if err := cl.ProduceSync(testCtx(t, 10*time.Second), &kgo.Record{Value: []byte("x")}).FirstErr(); err != nil {
		t.Fatal(err)
	}
	waitFor(t, 10*time.Second, "the stuck member acquired the record", func() bool {
		b.shares.mu.Lock()
		defer b.shares.mu.Unlock()
		for _, p := range b.shares.parts {
			if p.Snapshot(time.Now()).Acquired == 1 {
				return true
			}
		}
		return false
	})
	l := &shareLog{seen: map[string][]string{}}
	startShareConsumer(t, addr, "sg", "q", "m2", l, kgo.AckAccept)
	waitFor(t, 15*time.Second, "redelivery after the lock expired", func() bool { return l.count() == 1 })
	l.mu.Lock()
	defer l.mu.Unlock()
	if got := l.seen["0/0"]; len(got) != 1 || got[0] == "m2@1" {
		t.Fatalf("record 0/0 delivered %v, want once to m2 after an earlier delivery", got)
	}
}

// checkShareGroupListedAndDescribed checks that ListGroups v5 lists the
// share group with its type and that ShareGroupDescribe shows its members,
// each with its epoch, and every partition assigned.
func checkShareGroupListedAndDescribed(t *testing.T, cl *kgo.Client, group string, partitions int) {
	t.Helper()
	lreq := kmsg.NewPtrListGroupsRequest()
	lreq.TypesFilter = []string{"share"}
	lresp, err := lreq.RequestWith(testCtx(t, 10*time.Second), cl)
	if err != nil {
		t.Fatal(err)
	}
	if len(lresp.Groups) != 1 || lresp.Groups[0].Group != group || lresp.Groups[0].GroupType != "share" || lresp.Groups[0].GroupState != "Stable" {
		t.Fatalf("ListGroups types=share: %+v", lresp.Groups)
	}
	dreq := kmsg.NewPtrShareGroupDescribeRequest()
	dreq.GroupIDs = []string{group, "classic"}
	dresp, err := dreq.RequestWith(testCtx(t, 10*time.Second), cl)
	if err != nil {
		t.Fatal(err)
	}
	if len(dresp.Groups) != 2 || dresp.Groups[1].ErrorCode != kerr.GroupIDNotFound.Code {
		t.Fatalf("ShareGroupDescribe of a classic group: %+v", dresp.Groups)
	}
	d := dresp.Groups[0]
	if d.ErrorCode != 0 || d.GroupState != "Stable" || len(d.Members) != 3 {
		t.Fatalf("ShareGroupDescribe: %+v", d)
	}
	assigned := map[int32]bool{}
	for _, m := range d.Members {
		if m.MemberEpoch <= 0 || m.MemberEpoch > d.GroupEpoch {
			t.Errorf("member %s epoch %d, group epoch %d", m.MemberID, m.MemberEpoch, d.GroupEpoch)
		}
		for _, tp := range m.Assignment.TopicPartitions {
			for _, p := range tp.Partitions {
				assigned[p] = true
			}
		}
	}
	if len(assigned) != partitions {
		t.Errorf("assigned partitions %v, want %d", assigned, partitions)
	}
}

// TestShareGroupOffsetsAdmin: DescribeShareGroupOffsets shows the start
// offset and lag, AlterShareGroupOffsets is refused while the group has
// a member and moves the start offset of an empty group back (the lag
// counts the records again), and DeleteShareGroupOffsets drops the
// share-partitions.
func TestShareGroupOffsetsAdmin(t *testing.T) {
	b := newTestBroker(t, withShareGroups(30*time.Second, 5))
	addr := b.Addr()
	createTopic(t, []string{addr}, "q", 1, 1)
	cl, err := kgo.NewClient(kgo.SeedBrokers(addr))
	if err != nil {
		t.Fatal(err)
	}
	defer cl.Close()
	describe := func() (int64, int64) {
		t.Helper()
		req := kmsg.NewPtrDescribeShareGroupOffsetsRequest()
		req.Groups = []kmsg.DescribeShareGroupOffsetsRequestGroup{{GroupID: "sg", Topics: []kmsg.DescribeShareGroupOffsetsRequestGroupTopic{{Topic: "q", Partitions: []int32{0}}}}}
		resp, err := req.RequestWith(testCtx(t, 10*time.Second), cl)
		if err != nil || resp.Groups[0].ErrorCode != 0 {
			t.Fatalf("DescribeShareGroupOffsets: %+v %v", resp, err)
		}
		p := resp.Groups[0].Topics[0].Partitions[0]
		return p.StartOffset, p.Lag
	}
	alter := func(off int64) int16 {
		t.Helper()
		req := kmsg.NewPtrAlterShareGroupOffsetsRequest()
		req.GroupID = "sg"
		req.Topics = []kmsg.AlterShareGroupOffsetsRequestTopic{{Topic: "q", Partitions: []kmsg.AlterShareGroupOffsetsRequestTopicPartition{{Partition: 0, StartOffset: off}}}}
		resp, err := req.RequestWith(testCtx(t, 10*time.Second), cl)
		if err != nil {
			t.Fatal(err)
		}
		if resp.ErrorCode == 0 && resp.Topics[0].Partitions[0].ErrorCode != 0 {
			return resp.Topics[0].Partitions[0].ErrorCode
		}
		return resp.ErrorCode
	}

	l := &shareLog{seen: map[string][]string{}}
	consumer, err := kgo.NewClient(kgo.SeedBrokers(addr), kgo.ShareGroup("sg"), kgo.ConsumeTopics("q"), kgo.FetchMaxWait(200*time.Millisecond))
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() {
		defer close(done)
		for ctx.Err() == nil {
			consumer.PollFetches(ctx).EachRecord(func(r *kgo.Record) { l.add("c", r); r.Ack(kgo.AckAccept) })
		}
	}()
	waitSharePartitions(t, b, "sg", 1)
	if code := alter(0); code != errGroupNotEmpty {
		t.Errorf("alter with a member: %v", kerr.ErrorForCode(code))
	}
	produceN(t, addr, "q", 3, 1)
	waitFor(t, 10*time.Second, "records consumed", func() bool { return l.count() > 0 })
	waitFor(t, 10*time.Second, "SPSO past the accepted records", func() bool { so, lag := describe(); return so == int64(l.count()) && lag == 0 })
	cancel()
	<-done
	consumer.Close() // leaves the group
	if code := alter(0); code != 0 {
		t.Fatalf("alter of the empty group: %v", kerr.ErrorForCode(code))
	}
	if so, lag := describe(); so != 0 || lag != int64(l.count()) {
		t.Fatalf("after alter: start %d lag %d", so, lag)
	}
	del := kmsg.NewPtrDeleteShareGroupOffsetsRequest()
	del.GroupID = "sg"
	del.Topics = []kmsg.DeleteShareGroupOffsetsRequestTopic{{Topic: "q"}}
	if resp, err := del.RequestWith(testCtx(t, 10*time.Second), cl); err != nil || resp.ErrorCode != 0 || resp.Topics[0].ErrorCode != 0 {
		t.Fatalf("DeleteShareGroupOffsets: %+v %v", resp, err)
	}
	if so, _ := describe(); so != -1 {
		t.Fatalf("after delete: start %d", so)
	}
}

// TestShareVersionFeatureEnablesShareGroups: in KRaft mode share.version 1,
// set at format, serves share groups without group.share.enable (ApiVersions
// finalizes it, a franz-go share consumer gets every record); a cluster
// formatted without it refuses the share-group heartbeat as before.
func TestShareVersionFeatureEnablesShareGroups(t *testing.T) {
	stateTopic := func(c *Config) {
		c.Share.StateTopicPartitions, c.Share.StateTopicRF, c.Share.StateTopicMinISR = 3, 1, 1
		c.Share.HeartbeatInterval = 200 * time.Millisecond
	}
	t.Run("share.version=1", func(t *testing.T) {
		c := newKRaftTestClusterFeatures(t, 1, nil, map[string]int16{"share.version": 1}, stateTopic)
		b := c.brokers[0]
		if b.cfg.Share.Enable {
			t.Fatal("group.share.enable is set; the test needs it off")
		}
		addr := b.Addr()
		if sup, fin := shareVersion(apiVersionsFeatures(t, addr)); !sup || fin != 1 {
			t.Fatalf("ApiVersions: share.version supported %v, finalized %d; want true, 1", sup, fin)
		}
		createTopic(t, []string{addr}, "q", 2, 1)
		l := &shareLog{seen: map[string][]string{}}
		startShareConsumer(t, addr, "sg", "q", "m0", l, kgo.AckAccept)
		waitSharePartitions(t, b, "sg", 2)
		produceN(t, addr, "q", 20, 2)
		waitFor(t, 30*time.Second, "all 20 records consumed", func() bool { return l.count() == 20 })
	})
	t.Run("default", func(t *testing.T) {
		c := newKRaftTestClusterFeatures(t, 1, nil, nil, stateTopic)
		addr := c.brokers[0].Addr()
		if sup, fin := shareVersion(apiVersionsFeatures(t, addr)); !sup || fin != 0 {
			t.Fatalf("ApiVersions: share.version supported %v, finalized %d; want true, 0", sup, fin)
		}
		cl, err := kgo.NewClient(kgo.SeedBrokers(addr))
		if err != nil {
			t.Fatal(err)
		}
		defer cl.Close()
		req := kmsg.NewPtrShareGroupHeartbeatRequest()
		req.GroupID, req.MemberID, req.MemberEpoch, req.SubscribedTopicNames = "sg", "m0", 0, []string{"q"}
		hb, err := req.RequestWith(testCtx(t, 10*time.Second), cl)
		if err != nil {
			t.Fatal(err)
		}
		if hb.ErrorCode != kerr.UnsupportedVersion.Code {
			t.Fatalf("heartbeat error %v, want UNSUPPORTED_VERSION", kerr.ErrorForCode(hb.ErrorCode))
		}
	})
}

// apiVersionsFeatures asks addr for ApiVersions v3 (which carries features).
func apiVersionsFeatures(t *testing.T, addr string) *kmsg.ApiVersionsResponse {
	t.Helper()
	cl, err := kgo.NewClient(kgo.SeedBrokers(addr))
	if err != nil {
		t.Fatal(err)
	}
	defer cl.Close()
	req := kmsg.NewPtrApiVersionsRequest()
	req.Version = 3
	req.ClientSoftwareName, req.ClientSoftwareVersion = "osprey-test", "1"
	resp, err := req.RequestWith(testCtx(t, 10*time.Second), cl)
	if err != nil {
		t.Fatal(err)
	}
	return resp
}

// shareVersion is share.version in resp: whether it is supported at levels
// 0 to 1, and its finalized level (0 when not finalized).
func shareVersion(resp *kmsg.ApiVersionsResponse) (supported bool, finalized int16) {
	for _, f := range resp.SupportedFeatures {
		supported = supported || (f.Name == "share.version" && f.MinVersion == 0 && f.MaxVersion == 1)
	}
	for _, f := range resp.FinalizedFeatures {
		if f.Name == "share.version" {
			finalized = f.MaxVersionLevel
		}
	}
	return supported, finalized
}
