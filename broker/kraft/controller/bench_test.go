package controller

import (
	"fmt"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kmsg"

	"github.com/osprey-kafka/osprey/broker/kraft/image"
)

// bigCluster is 3 brokers and topics×partitions partitions of RF 3, built
// through the controller (records applied without the harness's checks).
func bigCluster(b *testing.B, topics, partitions int) (*Controller, image.Image, time.Time) {
	b.Helper()
	c := New(testConfig())
	img := newHarness(b, testConfig(), 0).img
	c.Activate(t0, img)
	apply := func(recs []image.VersionedRecord) {
		d := image.NewDelta(img)
		for _, r := range recs {
			if err := d.Replay(r.Record); err != nil {
				b.Fatal(err)
			}
		}
		img = d.Apply()
	}
	for id := int32(1); id <= 3; id++ {
		recs, _, err := c.Handle(t0, img, registration(id, 1))
		if err != nil {
			b.Fatal(err)
		}
		apply(recs)
		recs, _, _ = c.Handle(t0, img, heartbeatReq(id, int64(id), 1, false, false))
		apply(recs)
	}
	for i := range topics {
		recs, _, err := c.Handle(t0, img, createTopicReq(fmt.Sprintf("topic-%04d", i), int32(partitions), 3))
		if err != nil {
			b.Fatal(err)
		}
		apply(recs)
	}
	return c, img, t0
}

func BenchmarkTickLargeCluster(b *testing.B) {
	c, img, now := bigCluster(b, 1000, 100)
	b.ResetTimer()
	for range b.N {
		now = now.Add(time.Second)
		for id := int32(1); id <= 3; id++ {
			c.session(id, int64(id), now).lastSeen = now
		}
		if recs := c.Tick(now, img); recs != nil {
			b.Fatalf("tick wrote %d records", len(recs))
		}
	}
}

func BenchmarkFenceLargeCluster(b *testing.B) {
	c, img, now := bigCluster(b, 1000, 100)
	now = now.Add(time.Minute)
	b.ResetTimer()
	for range b.N {
		c.Activate(now.Add(-10*time.Second), img)
		c.session(2, 2, now).lastSeen = now
		c.session(3, 3, now).lastSeen = now
		if recs := c.Tick(now, img); len(recs) != 10000 {
			b.Fatalf("fencing tick wrote %d records", len(recs))
		}
	}
}

func BenchmarkAlterPartition1000(b *testing.B) {
	c, img, now := bigCluster(b, 1000, 100)
	req := kmsg.NewPtrAlterPartitionRequest()
	req.Version, req.BrokerID, req.BrokerEpoch = 3, 1, 1
	for _, t := range img.Topics()[:30] {
		rt := kmsg.NewAlterPartitionRequestTopic()
		rt.TopicID = t.ID
		for _, p := range t.Partitions() {
			if p.Leader != 1 {
				continue
			}
			rp := kmsg.NewAlterPartitionRequestTopicPartition()
			rp.Partition, rp.LeaderEpoch, rp.PartitionEpoch = p.Index, p.LeaderEpoch, p.PartitionEpoch
			for _, r := range p.Replicas[:2] {
				m := kmsg.NewAlterPartitionRequestTopicPartitionNewEpochISR()
				m.BrokerID, m.BrokerEpoch = r, int64(r)
				rp.NewEpochISR = append(rp.NewEpochISR, m)
			}
			rt.Partitions = append(rt.Partitions, rp)
		}
		req.Topics = append(req.Topics, rt)
	}
	b.ResetTimer()
	for range b.N {
		recs, _, err := c.Handle(now, img, req)
		if err != nil || len(recs) < 900 {
			b.Fatalf("%d records, %v", len(recs), err)
		}
	}
}

// BenchmarkCreate99Topics is one CreateTopics of 99 topics of 100
// partitions (RF 3) on 3 brokers in a cluster of 1000 such topics: about the
// most one request may create (10,000 records).
func BenchmarkCreate99Topics(b *testing.B) {
	c, img, now := bigCluster(b, 1000, 100)
	req := kmsg.NewPtrCreateTopicsRequest()
	req.Version = 7
	for i := range 99 {
		req.Topics = append(req.Topics, createTopicReq(fmt.Sprintf("new-%04d", i), 100, 3).Topics[0])
	}
	b.ResetTimer()
	for range b.N {
		recs, _, err := c.Handle(now, img, req)
		if err != nil || len(recs) != 9999 {
			b.Fatalf("%d records, %v", len(recs), err)
		}
	}
}
