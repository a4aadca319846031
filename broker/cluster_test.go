package broker

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kmsg"

	"github.com/osprey-kafka/osprey/internal/testenv"
)

// twoBrokerView is a fixed two-broker layout: topic "split" has partition 0
// led here (broker 0) and partition 1 led by broker 1, which this broker
// does not replicate.
type twoBrokerView struct {
	mu      sync.Mutex
	self    BrokerInfo
	topics  map[string]TopicInfo
	changed func(TopicInfo, bool)
}

func (v *twoBrokerView) ClusterID() string   { return "two-brokers" }
func (v *twoBrokerView) ControllerID() int32 { return 1 }
func (v *twoBrokerView) Brokers() []BrokerInfo {
	return []BrokerInfo{v.self, {ID: 1, Host: "other.example", Port: 9092, Rack: "r2"}}
}
func (v *twoBrokerView) Topic(name string) (TopicInfo, bool) {
	v.mu.Lock()
	defer v.mu.Unlock()
	t, ok := v.topics[name]
	return t, ok
}
func (v *twoBrokerView) TopicByID(id [16]byte) (TopicInfo, bool) {
	v.mu.Lock()
	defer v.mu.Unlock()
	for _, t := range v.topics {
		if t.ID == id {
			return t, true
		}
	}
	return TopicInfo{}, false
}
func (v *twoBrokerView) Topics() []TopicInfo {
	v.mu.Lock()
	defer v.mu.Unlock()
	var out []TopicInfo
	for _, t := range v.topics {
		out = append(out, t)
	}
	return out
}
func (v *twoBrokerView) CreateTopic(_ context.Context, s TopicSpec, validateOnly bool) (TopicInfo, error) {
	if validateOnly {
		return TopicInfo{Name: s.Name}, nil
	}
	t := TopicInfo{Name: s.Name, ID: [16]byte{byte(len(s.Name))}, Internal: s.Internal, Configs: s.Configs}
	for p := int32(0); p < s.Partitions; p++ {
		t.Partitions = append(t.Partitions, PartitionInfo{Partition: p, Leader: 0, LeaderEpoch: 0, Replicas: []int32{0}, ISR: []int32{0}})
	}
	v.mu.Lock()
	if _, ok := v.topics[s.Name]; ok {
		v.mu.Unlock()
		return TopicInfo{}, ErrTopicExists
	}
	v.topics[s.Name] = t
	v.mu.Unlock()
	v.changed(t, false)
	return t, nil
}
func (v *twoBrokerView) DeleteTopic(context.Context, string) error {
	return errors.New("not in this test")
}
func (v *twoBrokerView) CreatePartitions(context.Context, string, int32, bool) error {
	return errors.New("not in this test")
}
func (v *twoBrokerView) SetTopicConfigs(context.Context, string, map[string]*string, bool, bool) error {
	return errors.New("not in this test")
}

// A broker fed by a ClusterView it does not own (as the controller feeds
// it in cluster mode) hosts only its replicas and refuses requests for
// partitions it does not lead.
func TestClusterViewDrivesHostingAndLeadership(t *testing.T) {
	view := &twoBrokerView{topics: map[string]TopicInfo{"split": {Name: "split", ID: [16]byte{9}, Configs: map[string]string{},
		Partitions: []PartitionInfo{
			{Partition: 0, Leader: 0, LeaderEpoch: 4, Replicas: []int32{0, 1}, ISR: []int32{0, 1}},
			{Partition: 1, Leader: 1, LeaderEpoch: 2, Replicas: []int32{1}, ISR: []int32{1}},
		}}}}
	cfg := testConfig()
	cfg.MinInsyncReplicas = 1
	b, err := New(cfg, WithLogger(testLogger(t)), WithCluster(func(_ context.Context, self BrokerInfo, _ string, changed func(TopicInfo, bool)) (Cluster, error) {
		view.self, view.changed = self, changed
		return view, nil
	}))
	if err != nil {
		t.Fatal(err)
	}
	if err := b.Start(testCtx(t, 10e9)); err != nil {
		t.Fatal(err)
	}
	defer b.Close()
	if b.data.get("split", 0) == nil || b.data.get("split", 1) != nil {
		t.Fatal("broker 0 must host split/0 (a replica) and not split/1")
	}
	if e := b.data.get("split", 0).epoch(); e != 4 {
		t.Fatalf("leader epoch %d, want 4 from the view", e)
	}
	c := dialRaw(t, b.Addr())
	md := kmsg.NewPtrMetadataRequest()
	md.Version = 7
	mr := c.roundTrip(md, 1).(*kmsg.MetadataResponse)
	if len(mr.Brokers) != 2 || mr.ControllerID != 1 || deref(mr.ClusterID) != "two-brokers" {
		t.Fatalf("metadata: %+v", mr)
	}
	pr := c.roundTrip(produceReq("split", 1, testBatch(-1, 0, 0, 1)), 2).(*kmsg.ProduceResponse)
	if code := pr.Topics[0].Partitions[0].ErrorCode; code != errNotLeader {
		t.Fatalf("produce to a partition led elsewhere: %d, want NOT_LEADER_OR_FOLLOWER", code)
	}
	// acks=1: the follower (broker 1) does not exist here, so acks=all
	// would wait for it until the request timeout.
	req := produceReq("split", 0, testBatch(-1, 0, 0, 1))
	req.Acks = 1
	pr = c.roundTrip(req, 3).(*kmsg.ProduceResponse)
	if code := pr.Topics[0].Partitions[0].ErrorCode; code != 0 {
		t.Fatalf("produce to the local leader: %d", code)
	}
	// The internal topic was created through the view.
	if _, ok := view.Topic(offsetsTopic); !ok {
		t.Fatal("__consumer_offsets not created through the ClusterFactory's Cluster")
	}
}

// A leader whose replica is moved away (reassignment, StopReplica with
// delete) answers the acks=all produce still waiting for its followers at
// once with NOT_LEADER_OR_FOLLOWER, so the producer retries at the new
// leader, instead of holding it until the request timeout.
func TestDroppedLeaderAnswersWaitingProduce(t *testing.T) {
	split := TopicInfo{Name: "split", ID: [16]byte{9}, Configs: map[string]string{},
		Partitions: []PartitionInfo{{Partition: 0, Leader: 0, LeaderEpoch: 4, Replicas: []int32{0, 1}, ISR: []int32{0, 1}}}}
	view := &twoBrokerView{topics: map[string]TopicInfo{"split": split}}
	cfg := testConfig()
	cfg.MinInsyncReplicas = 1
	b, err := New(cfg, WithLogger(testLogger(t)), WithCluster(func(_ context.Context, self BrokerInfo, _ string, changed func(TopicInfo, bool)) (Cluster, error) {
		view.self, view.changed = self, changed
		return view, nil
	}))
	if err != nil {
		t.Fatal(err)
	}
	if err := b.Start(testCtx(t, 10e9)); err != nil {
		t.Fatal(err)
	}
	defer b.Close()
	p := b.data.get("split", 0)
	if p == nil {
		t.Fatal("split/0 not hosted")
	}
	// Broker 1 never fetches: the high watermark stays where it is and the
	// produce waits for it (for up to a minute).
	c := dialRaw(t, b.Addr())
	req := produceReq("split", 0, testBatch(-1, 0, 0, 1))
	req.TimeoutMillis = 60_000
	c.send(req, 1)
	testenv.WaitFor(t, 5*time.Second, func() error {
		if end := p.log.LogEndOffset(); end != 1 {
			return fmt.Errorf("log end %d, want 1", end)
		}
		return nil
	})
	moved := split
	moved.Partitions = []PartitionInfo{{Partition: 0, Leader: 1, LeaderEpoch: 5, Replicas: []int32{1}, ISR: []int32{1}}}
	view.mu.Lock()
	view.topics["split"] = moved
	view.mu.Unlock()
	view.changed(moved, false)
	if b.data.get("split", 0) != nil {
		t.Fatal("split/0 still hosted after its replica moved away")
	}
	got, body, err := c.recv() // 10s read deadline
	if err != nil {
		t.Fatalf("no answer to the waiting produce: %v", err)
	}
	if got != 1 {
		t.Fatalf("correlation id %d", got)
	}
	pr := decodeResp(t, req, body).(*kmsg.ProduceResponse)
	if code := pr.Topics[0].Partitions[0].ErrorCode; code != errNotLeader {
		t.Fatalf("waiting produce answered %d, want NOT_LEADER_OR_FOLLOWER", code)
	}
}

// A retried idempotent batch that is already in the leader's log is, under
// acks=all, answered only once the ISR has it, like the first write: here
// the follower never fetches, so the retry times out instead of being
// acknowledged while only the leader holds the batch.
func TestDuplicateWaitsForISRUnderAcksAll(t *testing.T) {
	view := &twoBrokerView{topics: map[string]TopicInfo{"split": {Name: "split", ID: [16]byte{9}, Configs: map[string]string{},
		Partitions: []PartitionInfo{{Partition: 0, Leader: 0, LeaderEpoch: 4, Replicas: []int32{0, 1}, ISR: []int32{0, 1}}}}}}
	cfg := testConfig()
	cfg.MinInsyncReplicas = 1
	b, err := New(cfg, WithLogger(testLogger(t)), WithCluster(func(_ context.Context, self BrokerInfo, _ string, changed func(TopicInfo, bool)) (Cluster, error) {
		view.self, view.changed = self, changed
		return view, nil
	}))
	if err != nil {
		t.Fatal(err)
	}
	if err := b.Start(testCtx(t, 10e9)); err != nil {
		t.Fatal(err)
	}
	defer b.Close()
	c := dialRaw(t, b.Addr())
	batch := testBatch(7, 0, 0, 2)
	first := produceReq("split", 0, batch)
	first.Acks = 1
	pr := c.roundTrip(first, 1).(*kmsg.ProduceResponse)
	if sp := pr.Topics[0].Partitions[0]; sp.ErrorCode != 0 || sp.BaseOffset != 0 {
		t.Fatalf("first write: code %d offset %d", sp.ErrorCode, sp.BaseOffset)
	}
	retry := produceReq("split", 0, batch)
	retry.TimeoutMillis = 300
	pr = c.roundTrip(retry, 2).(*kmsg.ProduceResponse)
	if code := pr.Topics[0].Partitions[0].ErrorCode; code != errRequestTimedOut {
		t.Fatalf("retry of an uncommitted batch under acks=all: code %d, want REQUEST_TIMED_OUT", code)
	}
	if end := b.data.get("split", 0).log.LogEndOffset(); end != 2 {
		t.Fatalf("log end %d after the retry, want 2 (nothing appended)", end)
	}
}
