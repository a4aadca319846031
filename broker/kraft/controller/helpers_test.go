package controller

import (
	"fmt"
	"math/rand"
	"reflect"
	"slices"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kmsg"

	"github.com/osprey-kafka/osprey/broker/kraft/image"
	"github.com/osprey-kafka/osprey/broker/kraft/metadata"
)

// harness drives a Controller the way the node does: every record it
// returns is encoded at its version, decoded, replayed through image.Delta
// and applied, and the partition invariants are checked on the result.
type harness struct {
	t   testing.TB
	c   *Controller
	img image.Image
	now time.Time
}

var t0 = time.Date(2026, 12, 6, 8, 0, 0, 0, time.UTC)

func testConfig() Config {
	return Config{
		NodeID: 3000, ClusterID: "test-cluster", SessionTimeout: 9 * time.Second,
		DefaultPartitions: 1, DefaultReplicationFactor: 1, ImbalancePercentage: 10,
		Rand: rand.New(rand.NewSource(1)),
	}
}

// newHarness starts at metadata.version mv (0: 4.0-IV3, level 25) and
// activates the controller.
func newHarness(t testing.TB, cfg Config, mv int16) *harness {
	t.Helper()
	if mv == 0 {
		mv = 25
	}
	img, err := image.FromRecords([]metadata.Record{&metadata.FeatureLevelRecord{Name: image.MetadataVersionFeature, FeatureLevel: mv}})
	if err != nil {
		t.Fatal(err)
	}
	h := &harness{t: t, c: New(cfg), img: img, now: t0}
	h.c.Activate(h.now, h.img)
	return h
}

// apply replays recs as the brokers will: through the wire format.
func (h *harness) apply(recs []image.VersionedRecord) {
	h.t.Helper()
	prev := h.img
	d := image.NewDelta(h.img)
	for i, vr := range recs {
		raw, err := metadata.Marshal(vr.Record, vr.Version)
		if err != nil {
			h.t.Fatalf("record %d (%T v%d) does not encode: %v", i, vr.Record, vr.Version, err)
		}
		rec, _, err := metadata.Unmarshal(raw)
		if err != nil {
			h.t.Fatalf("record %d (%T) does not decode: %v", i, vr.Record, err)
		}
		if err := d.Replay(rec); err != nil {
			h.t.Fatalf("record %d (%T) does not replay: %v", i, vr.Record, err)
		}
	}
	h.img = d.Apply()
	if err := checkInvariants(prev, h.img, recs); err != nil {
		h.t.Fatal(err)
	}
}

func (h *harness) handle(req kmsg.Request) (kmsg.Response, []image.VersionedRecord) {
	h.t.Helper()
	recs, resp, err := h.c.Handle(h.now, h.img, req)
	if err != nil {
		h.t.Fatalf("Handle %T: %v", req, err)
	}
	h.apply(recs)
	return resp, recs
}

func (h *harness) tick(d time.Duration) []image.VersionedRecord {
	h.t.Helper()
	h.now = h.now.Add(d)
	recs := h.c.Tick(h.now, h.img)
	h.apply(recs)
	return recs
}

func dirOf(id int32) [16]byte { return [16]byte{0: 0xd1, 14: byte(id >> 8), 15: byte(id)} }

func incarnation(id int32, n byte) [16]byte { return [16]byte{0: 0x1c, 1: n, 15: byte(id)} }

func registration(id int32, inc byte) *kmsg.BrokerRegistrationRequest {
	r := kmsg.NewPtrBrokerRegistrationRequest()
	r.Version = 4
	r.BrokerID, r.ClusterID, r.IncarnationID = id, "test-cluster", incarnation(id, inc)
	l := kmsg.NewBrokerRegistrationRequestListener()
	l.Name, l.Host, l.Port = "PLAINTEXT", "localhost", uint16(9090+id)
	r.Listeners = []kmsg.BrokerRegistrationRequestListener{l}
	f := kmsg.NewBrokerRegistrationRequestFeature()
	f.Name, f.MinSupportedVersion, f.MaxSupportedVersion = image.MetadataVersionFeature, 1, 25
	r.Features = []kmsg.BrokerRegistrationRequestFeature{f}
	r.LogDirs = [][16]byte{dirOf(id)}
	return r
}

func heartbeatReq(id int32, epoch int64, offset int64, fence, shutdown bool) *kmsg.BrokerHeartbeatRequest {
	r := kmsg.NewPtrBrokerHeartbeatRequest()
	r.Version = 1
	r.BrokerID, r.BrokerEpoch, r.CurrentMetadataOffset, r.WantFence, r.WantShutdown = id, epoch, offset, fence, shutdown
	return r
}

// register registers broker id and unfences it; it returns its epoch.
func (h *harness) register(id int32) int64 {
	h.t.Helper()
	resp, _ := h.handle(registration(id, 1))
	rr := resp.(*kmsg.BrokerRegistrationResponse)
	if rr.ErrorCode != 0 {
		h.t.Fatalf("register %d: error %d", id, rr.ErrorCode)
	}
	h.heartbeat(id, false, false)
	return rr.BrokerEpoch
}

func (h *harness) epoch(id int32) int64 {
	br, ok := h.img.Broker(id)
	if !ok {
		h.t.Fatalf("broker %d not registered", id)
	}
	return br.Epoch
}

func (h *harness) heartbeat(id int32, fence, shutdown bool) *kmsg.BrokerHeartbeatResponse {
	h.t.Helper()
	resp, _ := h.handle(heartbeatReq(id, h.epoch(id), 10, fence, shutdown))
	return resp.(*kmsg.BrokerHeartbeatResponse)
}

// expire lets the sessions of ids run out while every other broker keeps
// heartbeating, and ticks.
func (h *harness) expire(ids ...int32) []image.VersionedRecord {
	h.t.Helper()
	recs := h.tick(5 * time.Second)
	h.heartbeatAll(ids...)
	return append(recs, h.tick(5*time.Second)...)
}

// heartbeatAll keeps every live broker's session.
func (h *harness) heartbeatAll(except ...int32) {
	h.t.Helper()
	for _, br := range h.img.Brokers() {
		if !slices.Contains(except, br.ID) {
			h.heartbeat(br.ID, false, false)
		}
	}
}

func createTopicReq(name string, partitions int32, rf int16, configs ...string) *kmsg.CreateTopicsRequest {
	r := kmsg.NewPtrCreateTopicsRequest()
	r.Version = 7
	t := kmsg.NewCreateTopicsRequestTopic()
	t.Topic, t.NumPartitions, t.ReplicationFactor = name, partitions, rf
	for i := 0; i+1 < len(configs); i += 2 {
		c := kmsg.NewCreateTopicsRequestTopicConfig()
		c.Name, c.Value = configs[i], kmsg.StringPtr(configs[i+1])
		t.Configs = append(t.Configs, c)
	}
	r.Topics = []kmsg.CreateTopicsRequestTopic{t}
	return r
}

func (h *harness) createTopic(name string, partitions int32, rf int16, configs ...string) kmsg.CreateTopicsResponseTopic {
	h.t.Helper()
	resp, _ := h.handle(createTopicReq(name, partitions, rf, configs...))
	st := resp.(*kmsg.CreateTopicsResponse).Topics[0]
	if st.ErrorCode != 0 {
		h.t.Fatalf("create %s: error %d %v", name, st.ErrorCode, deref(st.ErrorMessage))
	}
	return st
}

func (h *harness) partition(topic string, idx int32) image.Partition {
	h.t.Helper()
	t, ok := h.img.Topic(topic)
	if !ok {
		h.t.Fatalf("no topic %s", topic)
	}
	p, ok := t.Partition(idx)
	if !ok {
		h.t.Fatalf("no partition %s-%d", topic, idx)
	}
	return p
}

func deref(s *string) string {
	if s == nil {
		return "<nil>"
	}
	return *s
}

// checkInvariants checks every partition of next: leader in the ISR (or
// -1) and unfenced, ISR non-empty and within the replicas, no duplicates;
// against prev: leader epochs never go down and the partition epoch went up
// by exactly the number of change records for it.
func checkInvariants(prev, next image.Image, recs []image.VersionedRecord) error {
	changes := map[metadata.Uuid]map[int32]int{}
	for _, vr := range recs {
		if r, ok := vr.Record.(*metadata.PartitionChangeRecord); ok {
			if changes[r.TopicID] == nil {
				changes[r.TopicID] = map[int32]int{}
			}
			changes[r.TopicID][r.PartitionID]++
		}
	}
	var err error
	forEachPartition(next, func(t image.Topic, p image.Partition) bool {
		err = checkPartition(next, t, p)
		if err == nil {
			err = checkAgainst(prev, t, p, changes[t.ID][p.Index])
		}
		return err == nil
	})
	return err
}

func checkPartition(img image.Image, t image.Topic, p image.Partition) error {
	where := fmt.Sprintf("%s-%d %+v", t.Name, p.Index, p)
	switch {
	case len(p.Isr) == 0:
		return fmt.Errorf("%s: empty ISR", where)
	case !containsAll(p.Replicas, p.Isr):
		return fmt.Errorf("%s: ISR not within replicas", where)
	case hasDup(p.Replicas) || hasDup(p.Isr):
		return fmt.Errorf("%s: duplicate broker", where)
	case len(p.Directories) != len(p.Replicas):
		return fmt.Errorf("%s: %d directories for %d replicas", where, len(p.Directories), len(p.Replicas))
	case !containsAll(p.Replicas, p.AddingReplicas) || !containsAll(p.Replicas, p.RemovingReplicas):
		return fmt.Errorf("%s: adding/removing not within replicas", where)
	}
	if p.Leader != image.NoLeader {
		if !slices.Contains(p.Isr, p.Leader) {
			return fmt.Errorf("%s: leader not in ISR", where)
		}
		if br, ok := img.Broker(p.Leader); !ok || br.Fenced {
			return fmt.Errorf("%s: leader %d fenced or unregistered", where, p.Leader)
		}
	}
	return nil
}

func checkAgainst(prev image.Image, t image.Topic, p image.Partition, nChanges int) error {
	pt, ok := prev.TopicByID(t.ID)
	if !ok {
		return nil
	}
	pp, ok := pt.Partition(p.Index)
	if !ok {
		return nil
	}
	where := fmt.Sprintf("%s-%d", t.Name, p.Index)
	if p.LeaderEpoch < pp.LeaderEpoch {
		return fmt.Errorf("%s: leader epoch went back from %d to %d", where, pp.LeaderEpoch, p.LeaderEpoch)
	}
	if p.PartitionEpoch != pp.PartitionEpoch+int32(nChanges) {
		return fmt.Errorf("%s: partition epoch %d after %d change(s) from %d", where, p.PartitionEpoch, nChanges, pp.PartitionEpoch)
	}
	if nChanges == 0 && !reflect.DeepEqual(p, pp) {
		return fmt.Errorf("%s changed without a record", where)
	}
	return nil
}

func hasDup(s []int32) bool {
	for i := range s {
		if slices.Contains(s[:i], s[i]) {
			return true
		}
	}
	return false
}

// recordsOf returns the records of type T in recs.
func recordsOf[T metadata.Record](recs []image.VersionedRecord) []T {
	var out []T
	for _, vr := range recs {
		if r, ok := vr.Record.(T); ok {
			out = append(out, r)
		}
	}
	return out
}
