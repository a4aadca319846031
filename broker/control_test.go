package broker

import (
	"fmt"
	"maps"
	"reflect"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kmsg"

	"github.com/osprey-kafka/osprey/internal/testenv"
)

// controlDo sends one controller request straight to b and returns the
// answer.
func controlDo[R kmsg.Response](t *testing.T, b *Broker, req kmsg.Request) R {
	t.Helper()
	ctx := testCtx(t, 10*time.Second)
	kc, err := dialKafka(ctx, b.Addr(), "test-controller", nil)
	if err != nil {
		t.Fatal(err)
	}
	defer kc.Close()
	resp := req.ResponseKind()
	if err := kc.Do(ctx, req, resp); err != nil {
		t.Fatalf("%s: %v", kmsg.NameForKey(req.Key()), err)
	}
	return resp.(R)
}

// LeaderAndIsr, UpdateMetadata and StopReplica from a stale controller
// (older controller epoch) or for an older registration of the broker
// (older broker epoch) are refused and change nothing; a LeaderAndIsr
// state with an older leader epoch is refused for that partition.
func TestControlRequestsFenced(t *testing.T) {
	c := newTestCluster(t, 2, localConnector(t))
	adm := c.admin()
	ctx := testCtx(t, time.Minute)
	const topic = "fenced"
	if _, err := adm.CreateTopic(ctx, 1, 2, nil, topic); err != nil {
		t.Fatal(err)
	}
	c.waitFullISR(topic, 20*time.Second)
	b := c.byID(1)
	zc := b.cluster.(*zkCluster)
	testenv.WaitFor(t, 10*time.Second, func() error {
		if e := zc.seenControllerEpoch(); e < 1 {
			return fmt.Errorf("controller epoch seen %d", e)
		}
		return nil
	})
	epoch := zc.seenControllerEpoch()
	before, _ := zc.Topic(topic)
	brokersBefore := zc.Brokers()
	p0 := before.Partitions[0]
	other := p0.Replicas[0]
	if other == 1 {
		other = p0.Replicas[1]
	}

	lai := func(ctrlEpoch int32, brokerEpoch int64, leaderEpoch int32) *kmsg.LeaderAndISRRequest {
		req := kmsg.NewPtrLeaderAndISRRequest()
		req.Version, req.ControllerID, req.ControllerEpoch, req.BrokerEpoch = 6, other, ctrlEpoch, brokerEpoch
		ts := kmsg.NewLeaderAndISRRequestTopicState()
		ts.Topic, ts.TopicID = topic, before.ID
		ps := kmsg.NewLeaderAndISRRequestTopicPartition()
		ps.Partition, ps.Leader, ps.LeaderEpoch, ps.ISR, ps.ZKVersion, ps.Replicas = 0, other, leaderEpoch, []int32{other}, 1000, p0.Replicas
		ts.PartitionStates = append(ts.PartitionStates, ps)
		req.TopicStates = append(req.TopicStates, ts)
		return req
	}
	um := func(ctrlEpoch int32, brokerEpoch int64) *kmsg.UpdateMetadataRequest {
		req := kmsg.NewPtrUpdateMetadataRequest()
		req.Version, req.ControllerID, req.ControllerEpoch, req.BrokerEpoch = 7, other, ctrlEpoch, brokerEpoch
		ts := kmsg.NewUpdateMetadataRequestTopicState()
		ts.Topic, ts.TopicID = topic, before.ID
		ps := kmsg.NewUpdateMetadataRequestTopicPartition()
		ps.Partition, ps.Leader, ps.LeaderEpoch, ps.ZKVersion = 0, leaderDuringDelete, p0.LeaderEpoch+10, 1000
		ts.PartitionStates = append(ts.PartitionStates, ps)
		req.TopicStates = append(req.TopicStates, ts)
		return req // no live brokers either
	}
	sr := func(ctrlEpoch int32, brokerEpoch int64) *kmsg.StopReplicaRequest {
		req := kmsg.NewPtrStopReplicaRequest()
		req.Version, req.ControllerID, req.ControllerEpoch, req.BrokerEpoch = 3, other, ctrlEpoch, brokerEpoch
		rt := kmsg.NewStopReplicaRequestTopic()
		rt.Topic = topic
		ps := kmsg.NewStopReplicaRequestTopicPartitionState()
		ps.Partition, ps.LeaderEpoch, ps.Delete = 0, epochDuringDelete, true
		rt.PartitionStates = append(rt.PartitionStates, ps)
		req.Topics = append(req.Topics, rt)
		return req
	}
	unchanged := func(what string) {
		t.Helper()
		if got, _ := zc.Topic(topic); !reflect.DeepEqual(got, before) {
			t.Fatalf("after %s: view %+v, was %+v", what, got.Partitions, before.Partitions)
		}
		if got := zc.Brokers(); !reflect.DeepEqual(got, brokersBefore) {
			t.Fatalf("after %s: brokers %v, were %v", what, got, brokersBefore)
		}
		if b.data.get(topic, 0) == nil || !c.hasLogDir(1, topic, 0) {
			t.Fatalf("after %s: replica or log dir gone", what)
		}
		if got := b.data.get(topic, 0).epoch(); got != p0.LeaderEpoch {
			t.Fatalf("after %s: replica leader epoch %d, want %d", what, got, p0.LeaderEpoch)
		}
	}

	for _, tc := range []struct {
		name        string
		ctrlEpoch   int32
		brokerEpoch int64
		code        int16
	}{
		{"stale controller epoch", epoch - 1, -1, errStaleControllerEpoch},
		{"stale broker epoch", epoch, zc.brokerEpoch.Load() - 1, errStaleBrokerEpoch},
	} {
		r1 := controlDo[*kmsg.LeaderAndISRResponse](t, b, lai(tc.ctrlEpoch, tc.brokerEpoch, p0.LeaderEpoch+10))
		if r1.ErrorCode != tc.code || len(r1.Topics) != 1 || r1.Topics[0].Partitions[0].ErrorCode != tc.code {
			t.Fatalf("%s: LeaderAndIsr answered %+v, want %d", tc.name, r1, tc.code)
		}
		unchanged(tc.name + " LeaderAndIsr")
		r2 := controlDo[*kmsg.UpdateMetadataResponse](t, b, um(tc.ctrlEpoch, tc.brokerEpoch))
		if r2.ErrorCode != tc.code {
			t.Fatalf("%s: UpdateMetadata answered %d, want %d", tc.name, r2.ErrorCode, tc.code)
		}
		unchanged(tc.name + " UpdateMetadata")
		r3 := controlDo[*kmsg.StopReplicaResponse](t, b, sr(tc.ctrlEpoch, tc.brokerEpoch))
		if r3.ErrorCode != tc.code || len(r3.Partitions) != 1 || r3.Partitions[0].ErrorCode != tc.code {
			t.Fatalf("%s: StopReplica answered %+v, want %d", tc.name, r3, tc.code)
		}
		unchanged(tc.name + " StopReplica")
	}
	// The current controller epoch with an older leader epoch: refused for
	// the partition only.
	r := controlDo[*kmsg.LeaderAndISRResponse](t, b, lai(epoch, -1, p0.LeaderEpoch-1))
	if r.ErrorCode != 0 || r.Topics[0].Partitions[0].ErrorCode != errStaleControllerEpoch {
		t.Fatalf("older leader epoch: LeaderAndIsr answered %+v", r)
	}
	unchanged("older leader epoch")
	if e := zc.seenControllerEpoch(); e != epoch {
		t.Fatalf("controller epoch seen %d after refused requests, want %d", e, epoch)
	}
}

// controlLog records, per broker, the partitions of one topic that the
// controller's requests named.
type controlLog struct {
	mu    sync.Mutex
	lai   map[int32]map[int32]int  // broker → partition → LeaderAndIsr count
	um    map[int32]map[int32]bool // broker → partitions in an UpdateMetadata
	stops map[int32]map[int32]bool // broker → partitions in a StopReplica with delete
}

func (c *testCluster) recordControl(topic string) *controlLog {
	cl := &controlLog{lai: map[int32]map[int32]int{}, um: map[int32]map[int32]bool{}, stops: map[int32]map[int32]bool{}}
	for i := range c.brokers {
		id := int32(i + 1)
		cl.lai[id], cl.um[id], cl.stops[id] = map[int32]int{}, map[int32]bool{}, map[int32]bool{}
		f := func(req kmsg.Request) error {
			cl.mu.Lock()
			defer cl.mu.Unlock()
			switch r := req.(type) {
			case *kmsg.LeaderAndISRRequest:
				for _, ts := range r.TopicStates {
					for _, ps := range ts.PartitionStates {
						if ts.Topic == topic {
							cl.lai[id][ps.Partition]++
						}
					}
				}
			case *kmsg.UpdateMetadataRequest:
				for _, ts := range r.TopicStates {
					for _, ps := range ts.PartitionStates {
						if ts.Topic == topic {
							cl.um[id][ps.Partition] = true
						}
					}
				}
			case *kmsg.StopReplicaRequest:
				for _, rt := range r.Topics {
					for _, ps := range rt.PartitionStates {
						if rt.Topic == topic && ps.Delete {
							cl.stops[id][ps.Partition] = true
						}
					}
				}
			}
			return nil
		}
		c.byID(id).ctlHook.Store(&f)
	}
	return cl
}

// On topic creation each replica gets LeaderAndIsr for exactly its
// partitions and every broker UpdateMetadata for all of them; on deletion
// each replica gets StopReplica with delete for its partitions and the
// logs are gone.
func TestControllerRequestsOnCreateAndDelete(t *testing.T) {
	c := newTestCluster(t, 3, localConnector(t))
	const topic, parts = "announced", 6
	rec := c.recordControl(topic)
	adm := c.admin()
	ctx := testCtx(t, time.Minute)
	if _, err := adm.CreateTopic(ctx, parts, 2, nil, topic); err != nil {
		t.Fatal(err)
	}
	c.waitFullISR(topic, 20*time.Second)
	ti, _ := c.any().cluster.Topic(topic)
	hosted := map[int32][]int32{}
	for _, p := range ti.Partitions {
		for _, r := range p.Replicas {
			hosted[r] = append(hosted[r], p.Partition)
		}
	}
	all := []int32{0, 1, 2, 3, 4, 5}
	testenv.WaitFor(t, 10*time.Second, func() error {
		rec.mu.Lock()
		defer rec.mu.Unlock()
		for id := int32(1); id <= 3; id++ {
			if got := slices.Sorted(maps.Keys(rec.lai[id])); !slices.Equal(got, hosted[id]) {
				return fmt.Errorf("broker %d got LeaderAndIsr for partitions %v, hosts %v", id, got, hosted[id])
			}
			if got := slices.Sorted(maps.Keys(rec.um[id])); !slices.Equal(got, all) {
				return fmt.Errorf("broker %d got UpdateMetadata for partitions %v", id, got)
			}
		}
		return nil
	})
	if _, err := adm.DeleteTopics(ctx, topic); err != nil {
		t.Fatal(err)
	}
	testenv.WaitFor(t, 10*time.Second, func() error {
		rec.mu.Lock()
		defer rec.mu.Unlock()
		for id := int32(1); id <= 3; id++ {
			if got := slices.Sorted(maps.Keys(rec.stops[id])); !slices.Equal(got, hosted[id]) {
				return fmt.Errorf("broker %d got StopReplica(delete) for %v, hosted %v", id, got, hosted[id])
			}
			for p := int32(0); p < parts; p++ {
				if c.hasLogDir(id, topic, p) {
					return fmt.Errorf("broker %d still has %s-%d", id, topic, p)
				}
			}
		}
		return nil
	})
}

// namesTopic reports whether a LeaderAndIsr or UpdateMetadata request
// carries a state of topic.
func namesTopic(req kmsg.Request, topic string) bool {
	switch r := req.(type) {
	case *kmsg.LeaderAndISRRequest:
		return slices.ContainsFunc(r.TopicStates, func(ts kmsg.LeaderAndISRRequestTopicState) bool { return ts.Topic == topic })
	case *kmsg.UpdateMetadataRequest:
		return slices.ContainsFunc(r.TopicStates, func(ts kmsg.UpdateMetadataRequestTopicState) bool { return ts.Topic == topic })
	}
	return false
}

// A broker that loses the controller's requests (the connection drops
// before they are applied) still gets the states: the controller resends
// everything to it. Brokers do not watch partition states, so this is the
// only way it can learn them.
func TestControllerResendsLostRequests(t *testing.T) {
	c := newTestCluster(t, 3, localConnector(t))
	const topic, parts = "lost", 3
	var mu sync.Mutex
	dropped := 0
	drop := func(req kmsg.Request) error {
		mu.Lock()
		defer mu.Unlock()
		if namesTopic(req, topic) && dropped < 3 {
			dropped++
			return fmt.Errorf("test: dropping %s", kmsg.NameForKey(req.Key()))
		}
		return nil
	}
	b3 := c.byID(3)
	b3.ctlHook.Store(&drop)
	adm := c.admin()
	ctx := testCtx(t, time.Minute)
	if _, err := adm.CreateTopic(ctx, parts, 3, nil, topic); err != nil {
		t.Fatal(err)
	}
	testenv.WaitFor(t, 20*time.Second, func() error {
		mu.Lock()
		n := dropped
		mu.Unlock()
		if n < 3 {
			return fmt.Errorf("%d requests dropped", n)
		}
		want, _ := c.byID(1).cluster.Topic(topic)
		got, _ := b3.cluster.Topic(topic)
		if len(want.Partitions) != parts || !reflect.DeepEqual(got.Partitions, want.Partitions) {
			return fmt.Errorf("broker 3 sees %+v, broker 1 %+v", got.Partitions, want.Partitions)
		}
		for _, p := range want.Partitions {
			if p.Leader < 0 {
				return fmt.Errorf("partition %d has no leader", p.Partition)
			}
			rp := b3.data.get(topic, p.Partition)
			if rp == nil || rp.epoch() != p.LeaderEpoch {
				return fmt.Errorf("broker 3 replica of partition %d not at epoch %d", p.Partition, p.LeaderEpoch)
			}
		}
		return nil
	})
}
