package collector

import (
	"fmt"
	"sync/atomic"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kmsg"

	"github.com/osprey-kafka/osprey/internal/testenv"
)

// metadataStage is what the fake cluster's Metadata answers for topic "n" (3 partitions, RF 3).
type metadataStage int32

const (
	stageElecting metadataStage = iota // broker 2 not registered yet, no leaders, empty ISRs
	stageHealthy                       // every broker registered, leaders elected, full ISRs
	stageOutage                        // broker 2 gone again: partitions it led are leaderless
)

// stagedMetadata makes the cluster's Metadata answer according to *stage.
func stagedMetadata(t *testing.T, e *testEnv, stage *atomic.Int32) {
	t.Helper()
	md, err := e.ac.Metadata(testCtx(t), nil)
	if err != nil {
		t.Fatal(err)
	}
	e.kc.ControlKey(int16(kmsg.Metadata), func(req kmsg.Request) (kmsg.Response, error, bool) {
		e.kc.KeepControl()
		st := metadataStage(stage.Load())
		resp := kmsg.NewPtrMetadataResponse()
		resp.Version = req.GetVersion()
		resp.ControllerID = md.ControllerID
		for _, b := range md.Brokers {
			if b.ID == 2 && st != stageHealthy {
				continue
			}
			mb := kmsg.NewMetadataResponseBroker()
			mb.NodeID, mb.Host, mb.Port = b.ID, b.Host, b.Port
			resp.Brokers = append(resp.Brokers, mb)
		}
		mt := kmsg.NewMetadataResponseTopic()
		mt.Topic = kmsg.StringPtr("n")
		for p := int32(0); p < 3; p++ {
			mp := kmsg.NewMetadataResponseTopicPartition()
			mp.Partition = p
			mp.Replicas = []int32{p, (p + 1) % 3, (p + 2) % 3}
			mp.Leader, mp.ISR = p, mp.Replicas
			switch {
			case st == stageElecting, st == stageOutage && p == 2:
				mp.Leader, mp.ISR, mp.ErrorCode = -1, nil, kerr.LeaderNotAvailable.Code
			case st == stageOutage:
				mp.ISR = []int32{p, (p + 1) % 3}
			}
			mt.Partitions = append(mt.Partitions, mp)
		}
		resp.Topics = append(resp.Topics, mt)
		return resp, nil, true
	})
}

// A cluster whose brokers are registering and whose leaders are being elected is starting: nothing
// counts as offline, under-replicated or down, until it has been healthy; an outage after that counts.
func TestStartingClusterIsNotDegraded(t *testing.T) {
	e := newTestCollector(t, Config{})
	ctx := testCtx(t)
	var stage atomic.Int32
	stagedMetadata(t, e, &stage)

	s := e.col.PollNow(ctx)
	n, ok := s.Topic("n")
	if !ok {
		t.Fatalf("topic n missing: %+v", s.Cluster.Errors)
	}
	if !s.Cluster.Starting || s.Totals.Starting != 3 || n.Starting != 3 {
		t.Errorf("first poll: cluster starting %v, %d partitions starting (topic %d), want true, 3, 3", s.Cluster.Starting, s.Totals.Starting, n.Starting)
	}
	if s.Totals.Offline != 0 || s.Totals.UnderReplicated != 0 || s.Totals.UnderMinISR != 0 || n.Offline != 0 || n.UnderReplicated != 0 {
		t.Errorf("first poll counts starting partitions as degraded: totals %+v, topic offline %d under %d", s.Totals, n.Offline, n.UnderReplicated)
	}
	for _, p := range n.Partitions {
		if !p.Starting || !p.Offline { // the observation itself stays as it is
			t.Errorf("partition %d: starting %v offline %v, want both", p.Partition, p.Starting, p.Offline)
		}
	}
	if b, ok := s.Broker(2); !ok || b.Up || !b.Starting || s.Totals.BrokersStarting != 1 {
		t.Errorf("broker 2 (not registered yet) = %+v, brokers starting %d; want listed, not up, starting", b, s.Totals.BrokersStarting)
	}

	stage.Store(int32(stageHealthy))
	s = e.col.PollNow(ctx)
	n, _ = s.Topic("n")
	if s.Cluster.Starting || s.Totals.Starting != 0 || s.Totals.BrokersStarting != 0 || s.Totals.BrokersUp != 3 || n.Offline+n.UnderReplicated != 0 {
		t.Errorf("healthy poll: starting %v, %d partitions and %d brokers starting, %d up, topic offline %d under %d",
			s.Cluster.Starting, s.Totals.Starting, s.Totals.BrokersStarting, s.Totals.BrokersUp, n.Offline, n.UnderReplicated)
	}

	// A real outage after the cluster has been healthy is an outage at once.
	stage.Store(int32(stageOutage))
	s = e.col.PollNow(ctx)
	n, _ = s.Topic("n")
	if s.Cluster.Starting || n.Starting != 0 || n.Offline != 1 || n.UnderReplicated != 3 || s.Totals.Offline != 1 {
		t.Errorf("outage: starting %v (%d), topic offline %d under %d, totals offline %d; want false 0 1 3 1", s.Cluster.Starting, n.Starting, n.Offline, n.UnderReplicated, s.Totals.Offline)
	}
	if b, _ := s.Broker(2); b == nil || b.Up || b.Starting {
		t.Errorf("broker 2 after an outage = %+v, want down, not starting", b)
	}
}

// A partition that never becomes healthy stops being "starting" once the grace has passed.
func TestStartingEndsAfterGrace(t *testing.T) {
	const grace = 200 * time.Millisecond
	e := newTestCollector(t, Config{StartingGrace: grace})
	ctx := testCtx(t)
	var stage atomic.Int32
	stagedMetadata(t, e, &stage)
	first := e.col.PollNow(ctx)
	if first.Totals.Starting != 3 {
		t.Fatalf("first poll: %d starting, want 3", first.Totals.Starting)
	}
	var s *Snapshot
	testenv.WaitFor(t, 10*time.Second, func() error {
		if s = e.col.PollNow(ctx); s.Totals.Starting != 0 {
			return fmt.Errorf("still starting %s after the first poll", time.Since(first.Cluster.LastPoll))
		}
		return nil
	})
	if age := s.Cluster.LastPoll.Sub(first.Cluster.LastPoll); age < grace-50*time.Millisecond {
		t.Fatalf("starting ended %s after the first poll, before the %s grace", age, grace)
	}
	if s.Cluster.Starting || s.Totals.Offline != 3 || s.Totals.BrokersStarting != 0 {
		t.Fatalf("after the grace: starting %v, offline %d, brokers starting %d; want false 3 0", s.Cluster.Starting, s.Totals.Offline, s.Totals.BrokersStarting)
	}
	if b, _ := s.Broker(2); b == nil || b.Up || b.Starting {
		t.Fatalf("broker 2 after the grace = %+v, want down", b)
	}
}
