package broker

import (
	"fmt"
	"slices"
	"testing"
	"time"

	"github.com/osprey-kafka/osprey/broker/sharegroup"
	"github.com/osprey-kafka/osprey/broker/sharestate"
	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kgo"
	"github.com/twmb/franz-go/pkg/kmsg"
)

// rawShareMember drives one share-group member with raw requests.
type rawShareMember struct {
	t      *testing.T
	cl     *kgo.Client
	group  string
	id     string
	epoch  int32 // the share session's next epoch
	member int32 // the member epoch
}

func (m *rawShareMember) join(topics ...string) {
	m.t.Helper()
	waitFor(m.t, 15*time.Second, "member joined", func() bool {
		resp := shareHeartbeat(m.t, m.cl, m.group, m.id, 0, topics...)
		m.member = resp.MemberEpoch
		return resp.ErrorCode == 0
	})
	m.epoch = 0
}

// fetch sends a ShareFetch for the partitions with acks piggy-backed and
// returns the acquired ranges of the first partition as
// "first-last@count".
func (m *rawShareMember) fetch(topicID [16]byte, partition int32, acks ...kmsg.ShareFetchRequestTopicPartitionAcknowledgementBatch) []string {
	m.t.Helper()
	req := kmsg.NewPtrShareFetchRequest()
	req.GroupID, req.MemberID, req.ShareSessionEpoch = &m.group, &m.id, m.epoch
	req.MaxRecords, req.MaxBytes, req.MaxWaitMillis, req.BatchSize = 100, 1<<20, 0, 100
	rt := kmsg.NewShareFetchRequestTopic()
	rt.TopicID = topicID
	rp := kmsg.NewShareFetchRequestTopicPartition()
	rp.Partition, rp.AcknowledgementBatches = partition, acks
	rt.Partitions = append(rt.Partitions, rp)
	req.Topics = append(req.Topics, rt)
	resp, err := req.RequestWith(testCtx(m.t, 10*time.Second), m.cl)
	if err != nil {
		m.t.Fatal(err)
	}
	if err := kerr.ErrorForCode(resp.ErrorCode); err != nil {
		m.t.Fatalf("ShareFetch: %v", err)
	}
	m.epoch = nextSessionEpoch(m.epoch)
	var out []string
	for _, t := range resp.Topics {
		for _, p := range t.Partitions {
			if err := kerr.ErrorForCode(p.ErrorCode); err != nil {
				m.t.Fatalf("ShareFetch partition %d: %v", p.Partition, err)
			}
			if err := kerr.ErrorForCode(p.AcknowledgeErrorCode); err != nil {
				m.t.Fatalf("ShareFetch acknowledgement of partition %d: %v", p.Partition, err)
			}
			for _, a := range p.AcquiredRecords {
				out = append(out, fmt.Sprintf("%d-%d@%d", a.FirstOffset, a.LastOffset, a.DeliveryCount))
			}
		}
	}
	return out
}

func ackBatch(first, last int64, typ int8) kmsg.ShareFetchRequestTopicPartitionAcknowledgementBatch {
	return kmsg.ShareFetchRequestTopicPartitionAcknowledgementBatch{FirstOffset: first, LastOffset: last, AcknowledgeTypes: []int8{typ}}
}

// TestShareStateSurvivesRestart: a share group's acknowledged and archived
// records and its delivery counts are in __share_group_state, so a
// restarted broker resumes where the group was: accepted and rejected
// records are not delivered again, released ones are, with their
// delivery count carried over.
func TestShareStateSurvivesRestart(t *testing.T) {
	dir := t.TempDir()
	opts := []testBrokerOpt{withDir(dir), withShareGroups(30*time.Second, 5), func(c *Config) { c.Share.StateTopicPartitions = 3 }}
	b1 := startTestBroker(t, testConfig(opts...))
	createTopic(t, []string{b1.Addr()}, "q", 1, 1)
	info, _ := b1.cluster.Topic("q")
	cl, err := kgo.NewClient(kgo.SeedBrokers(b1.Addr()))
	if err != nil {
		t.Fatal(err)
	}
	m := &rawShareMember{t: t, cl: cl, group: "sg", id: "member-one"}
	m.join("q")
	if got := m.fetch(info.ID, 0); len(got) != 0 { // initialises the share-partition at the log end (0)
		t.Fatalf("acquired %v from an empty topic", got)
	}
	produceN(t, b1.Addr(), "q", 10, 1)
	if got := m.fetch(info.ID, 0); !slices.Equal(got, []string{"0-9@1"}) {
		t.Fatalf("first delivery %v, want 0-9@1", got)
	}
	// Accept 0-3, reject 4, release 5-6 (delivered again at once); 7-9
	// stay acquired.
	if got := m.fetch(info.ID, 0, ackBatch(0, 3, 1), ackBatch(4, 4, 3), ackBatch(5, 6, 2)); !slices.Equal(got, []string{"5-6@2"}) {
		t.Fatalf("after the acknowledgements %v, want 5-6@2", got)
	}
	cl.Close()
	if err := b1.Close(); err != nil {
		t.Fatal(err)
	}

	b2 := startTestBroker(t, testConfig(opts...))
	cl2, err := kgo.NewClient(kgo.SeedBrokers(b2.Addr()))
	if err != nil {
		t.Fatal(err)
	}
	defer cl2.Close()
	m = &rawShareMember{t: t, cl: cl2, group: "sg", id: "member-two"}
	m.join("q")
	var got []string
	waitFor(t, 15*time.Second, "records delivered after the restart", func() bool {
		got = append(got, m.fetch(info.ID, 0)...)
		return len(got) > 0
	})
	// Records still acquired at the restart are delivered again, counted.
	if !slices.Equal(got, []string{"5-6@3", "7-9@2"}) {
		t.Fatalf("after the restart acquired %v, want 5-6@3 7-9@2 (0-4 done)", got)
	}
	st, _, ok := b2.shares.offsetAndLag(sharePartKey{"sg", info.ID, 0}, b2.data.get("q", 0).epoch(), 10)
	if st != 5 || !ok {
		t.Fatalf("start offset after the restart %d (%v), want 5", st, ok)
	}
	var snaps []string
	b2.ShareSnapshots(time.Now(), func(group, topic string, partition int32, s sharegroup.Snapshot) {
		snaps = append(snaps, fmt.Sprintf("%s/%s/%d start %d acquired %d", group, topic, partition, s.StartOffset, s.Acquired))
	})
	if !slices.Equal(snaps, []string{"sg/q/0 start 5 acquired 5"}) {
		t.Fatalf("ShareSnapshots after the restart: %v", snaps)
	}
	checkShareStateRecords(t, b2, sharestate.PartKey{Group: "sg", TopicID: info.ID, Partition: 0})
}

// checkShareStateRecords reads __share_group_state with a client and
// checks that the share-partition's records are in the partition Kafka
// places its key in, a ShareSnapshot first, each decodable.
func checkShareStateRecords(t *testing.T, b *Broker, k sharestate.PartKey) {
	t.Helper()
	n := b.shareState.partitions()
	want := sharePartitionFor(k.CoordinatorKey(), n)
	cl, err := kgo.NewClient(kgo.SeedBrokers(b.Addr()), kgo.ConsumeTopics(shareStateTopic),
		kgo.ConsumeResetOffset(kgo.NewOffset().AtStart()))
	if err != nil {
		t.Fatal(err)
	}
	defer cl.Close()
	var types []int16
	waitFor(t, 15*time.Second, "share state records read", func() bool {
		fs := cl.PollFetches(testCtx(t, 2*time.Second))
		fs.EachRecord(func(r *kgo.Record) {
			key, err := sharestate.ReadKey(r.Key)
			if err != nil {
				t.Errorf("record at %d: %v", r.Offset, err)
				return
			}
			if key.Group != k.Group || key.TopicID != k.TopicID || key.Partition != k.Partition {
				return
			}
			if r.Partition != want {
				t.Errorf("record in partition %d, Kafka places %q in %d", r.Partition, k.CoordinatorKey(), want)
			}
			if r.Value != nil {
				if _, err := sharestate.ReadValue(key.Type, r.Value); err != nil {
					t.Errorf("value at %d: %v", r.Offset, err)
				}
			}
			types = append(types, key.Type)
		})
		return len(types) >= 3
	})
	if types[0] != sharestate.RecordSnapshot || !slices.Contains(types, sharestate.RecordUpdate) {
		t.Fatalf("record types %v: want a ShareSnapshot first, then ShareUpdates", types)
	}
}

// TestSharePersisterAPIs: FindCoordinator key type SHARE and the persister
// APIs over the wire: a write read back, an older leader fenced, the
// summary, a delete; all refused without CLUSTER_ACTION.
func TestSharePersisterAPIs(t *testing.T) {
	b := newTestBroker(t, withShareGroups(30*time.Second, 5), func(c *Config) { c.Share.StateTopicPartitions = 2 })
	createTopic(t, []string{b.Addr()}, "q", 1, 1)
	info, _ := b.cluster.Topic("q")
	cl, err := kgo.NewClient(kgo.SeedBrokers(b.Addr()))
	if err != nil {
		t.Fatal(err)
	}
	defer cl.Close()
	ctx := testCtx(t, 30*time.Second)
	key := sharestate.CoordinatorKey("g", info.ID, 0)
	waitFor(t, 15*time.Second, "share coordinator found", func() bool {
		req := kmsg.NewPtrFindCoordinatorRequest()
		req.CoordinatorType, req.CoordinatorKeys = 2, []string{key}
		resp, err := req.RequestWith(ctx, cl)
		return err == nil && resp.Coordinators[0].ErrorCode == 0 && resp.Coordinators[0].NodeID == b.BrokerID()
	})
	write := func(leaderEpoch int32, start int64, bs ...kmsg.WriteShareGroupStateRequestTopicPartitionStateBatch) int16 {
		req := kmsg.NewPtrWriteShareGroupStateRequest()
		req.GroupID = "g"
		req.Topics = []kmsg.WriteShareGroupStateRequestTopic{{TopicID: info.ID, Partitions: []kmsg.WriteShareGroupStateRequestTopicPartition{
			{Partition: 0, StateEpoch: 0, LeaderEpoch: leaderEpoch, StartOffset: start, DeliveryCompleteCount: -1, StateBatches: bs}}}}
		resp, err := req.RequestWith(ctx, cl)
		if err != nil {
			t.Fatal(err)
		}
		return resp.Topics[0].Partitions[0].ErrorCode
	}
	if code := write(3, 5, kmsg.WriteShareGroupStateRequestTopicPartitionStateBatch{FirstOffset: 5, LastOffset: 6, DeliveryState: 2, DeliveryCount: 1},
		kmsg.WriteShareGroupStateRequestTopicPartitionStateBatch{FirstOffset: 7, LastOffset: 7, DeliveryState: 0, DeliveryCount: 2}); code != 0 {
		t.Fatalf("write: %v", kerr.ErrorForCode(code))
	}
	if code := write(2, 5); code != kerr.FencedLeaderEpoch.Code {
		t.Fatalf("write of an older leader: %v", kerr.ErrorForCode(code))
	}
	read := kmsg.NewPtrReadShareGroupStateRequest()
	read.GroupID = "g"
	read.Topics = []kmsg.ReadShareGroupStateRequestTopic{{TopicID: info.ID, Partitions: []kmsg.ReadShareGroupStateRequestTopicPartition{{Partition: 0, LeaderEpoch: 3}}}}
	rresp, err := read.RequestWith(ctx, cl)
	if err != nil {
		t.Fatal(err)
	}
	rp := rresp.Topics[0].Partitions[0]
	if rp.ErrorCode != 0 || rp.StartOffset != 5 || len(rp.StateBatches) != 2 || rp.StateBatches[1].DeliveryCount != 2 {
		t.Fatalf("read back %+v", rp)
	}
	summary := func() kmsg.ReadShareGroupStateSummaryResponseTopicPartition {
		req := kmsg.NewPtrReadShareGroupStateSummaryRequest()
		req.GroupID = "g"
		req.Topics = []kmsg.ReadShareGroupStateSummaryRequestTopic{{TopicID: info.ID, Partitions: []kmsg.ReadShareGroupStateSummaryRequestTopicPartition{{Partition: 0, LeaderEpoch: -1}}}}
		resp, err := req.RequestWith(ctx, cl)
		if err != nil {
			t.Fatal(err)
		}
		return resp.Topics[0].Partitions[0]
	}
	if s := summary(); s.ErrorCode != 0 || s.StartOffset != 5 || s.LeaderEpoch != 3 {
		t.Fatalf("summary %+v", s)
	}
	del := kmsg.NewPtrDeleteShareGroupStateRequest()
	del.GroupID = "g"
	del.Topics = []kmsg.DeleteShareGroupStateRequestTopic{{TopicID: info.ID, Partitions: []kmsg.DeleteShareGroupStateRequestTopicPartition{{Partition: 0}}}}
	if resp, err := del.RequestWith(ctx, cl); err != nil || resp.Topics[0].Partitions[0].ErrorCode != 0 {
		t.Fatalf("delete: %+v %v", resp, err)
	}
	if s := summary(); s.ErrorCode != 0 || s.StartOffset != -1 {
		t.Fatalf("summary after delete %+v", s)
	}

	// With an authorizer and no ACL, clients are refused.
	secured := newTestBroker(t, withAuthorizer(), withShareGroups(30*time.Second, 5))
	scl, err := kgo.NewClient(kgo.SeedBrokers(secured.Addr()))
	if err != nil {
		t.Fatal(err)
	}
	defer scl.Close()
	fc := kmsg.NewPtrFindCoordinatorRequest()
	fc.CoordinatorType, fc.CoordinatorKeys = 2, []string{key}
	if resp, err := fc.RequestWith(ctx, scl); err != nil || resp.Coordinators[0].ErrorCode != kerr.ClusterAuthorizationFailed.Code {
		t.Fatalf("FindCoordinator SHARE without CLUSTER_ACTION: %+v %v", resp, err)
	}
	if resp, err := read.RequestWith(ctx, scl); err != nil || resp.Topics[0].Partitions[0].ErrorCode != kerr.ClusterAuthorizationFailed.Code {
		t.Fatalf("ReadShareGroupState without CLUSTER_ACTION: %+v %v", resp, err)
	}
}
