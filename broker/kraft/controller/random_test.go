package controller

import (
	"flag"
	"fmt"
	"math/rand"
	"os"
	"slices"
	"strconv"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kmsg"

	"github.com/osprey-kafka/osprey/broker/kraft/image"
)

var (
	randomSeed  = flag.Int64("controller.seed", 0, "run TestRandomOperations with this seed only")
	randomSteps = flag.Int("controller.steps", 600, "steps per seed of TestRandomOperations")
)

// TestRandomOperations drives the controller with a seeded random sequence
// of requests, broker crashes and restarts, controlled shutdowns and time,
// replaying every batch through image.Delta and checking after each step
// that every leader is in its ISR and unfenced (or -1), the ISR is a
// non-empty subset of the replicas, leader epochs never go down and the
// partition epoch goes up by one per change. A failure names its seed;
// -controller.seed N -controller.steps M replays it. OSPREY_CONTROLLER_SIM_RUNS
// runs that many fresh seeds more.
func TestRandomOperations(t *testing.T) {
	seeds := []int64{1, 2, 3, 4, 5, 6, 7, 8}
	if *randomSeed != 0 {
		seeds = []int64{*randomSeed}
	}
	if n, _ := strconv.Atoi(os.Getenv("OSPREY_CONTROLLER_SIM_RUNS")); n > 0 {
		base := time.Now().UnixNano()
		for i := range n {
			seeds = append(seeds, base+int64(i))
		}
	}
	for _, seed := range seeds {
		t.Run(fmt.Sprintf("seed=%d", seed), func(t *testing.T) {
			t.Logf("replay: go test ./broker/kraft/controller -run TestRandomOperations -controller.seed %d -controller.steps %d", seed, *randomSteps)
			newSim(t, seed).run(*randomSteps)
		})
	}
}

type sim struct {
	*harness
	rng   *rand.Rand
	alive map[int32]bool // broker processes running (they heartbeat)
	inc   map[int32]byte // current incarnation per broker
	names int
}

const simBrokers = 5

func newSim(t *testing.T, seed int64) *sim {
	rng := rand.New(rand.NewSource(seed))
	cfg := testConfig()
	cfg.Rand = rand.New(rand.NewSource(seed + 1))
	cfg.UncleanLeaderElection = rng.Intn(2) == 0
	cfg.AutoLeaderRebalance = true
	cfg.LeaderImbalanceCheckInterval = 3 * time.Second
	cfg.ImbalancePercentage = rng.Intn(30)
	s := &sim{harness: newHarness(t, cfg, []int16{7, 14, 17, 25}[rng.Intn(4)]), rng: rng,
		alive: map[int32]bool{}, inc: map[int32]byte{}}
	for id := int32(1); id <= simBrokers; id++ {
		s.start(id)
	}
	return s
}

func (s *sim) registration(id int32) *kmsg.BrokerRegistrationRequest {
	req := registration(id, s.inc[id])
	if s.img.MetadataVersion() < image.MetadataVersion37IV2 {
		req.LogDirs = nil
	}
	return req
}

// start runs a new incarnation of broker id.
func (s *sim) start(id int32) {
	s.inc[id]++
	resp, _ := s.handle(s.registration(id))
	if resp.(*kmsg.BrokerRegistrationResponse).ErrorCode == 0 {
		s.alive[id] = true
	}
}

func (s *sim) run(steps int) {
	for range steps {
		switch n := s.rng.Intn(100); {
		case n < 30:
			s.passTime()
		case n < 35:
			s.alive[s.broker()] = false
		case n < 42:
			if id := s.broker(); !s.alive[id] {
				s.start(id)
			}
		case n < 52:
			s.createTopic()
		case n < 55:
			s.deleteTopic()
		case n < 58:
			s.addPartitions()
		case n < 72:
			s.alterPartition()
		case n < 80:
			s.reassign()
		case n < 85:
			s.elect()
		case n < 89:
			s.shutdown()
		case n < 92:
			s.toggleUnclean()
		default:
			s.catchUp()
		}
	}
}

func (s *sim) broker() int32 { return int32(1 + s.rng.Intn(simBrokers)) }

func (s *sim) brokerList(n int) []int32 {
	var out []int32
	for _, i := range s.rng.Perm(simBrokers)[:n] {
		out = append(out, int32(i+1))
	}
	return out
}

// passTime lets 1-4 s go by; running brokers heartbeat (a few miss one).
func (s *sim) passTime() {
	s.now = s.now.Add(time.Duration(1+s.rng.Intn(4)) * time.Second)
	for id := int32(1); id <= simBrokers; id++ {
		br, ok := s.img.Broker(id)
		if !s.alive[id] || !ok || s.rng.Intn(10) == 0 {
			continue
		}
		resp, _ := s.handle(heartbeatReq(id, br.Epoch, 5, false, false))
		if resp.(*kmsg.BrokerHeartbeatResponse).ErrorCode != 0 {
			s.alive[id] = false
		}
	}
	s.apply(s.c.Tick(s.now, s.img))
}

func (s *sim) randomPartition() (image.Topic, image.Partition, bool) {
	ts := s.img.Topics()
	if len(ts) == 0 {
		return image.Topic{}, image.Partition{}, false
	}
	t := ts[s.rng.Intn(len(ts))]
	ps := t.Partitions()
	return t, ps[s.rng.Intn(len(ps))], true
}

func (s *sim) createTopic() {
	s.names++
	req := createTopicReq(fmt.Sprintf("t%d", s.names), int32(1+s.rng.Intn(4)), int16(1+s.rng.Intn(3)))
	if s.rng.Intn(4) == 0 {
		req.Topics[0].NumPartitions, req.Topics[0].ReplicationFactor = -1, -1
		rf := 1 + s.rng.Intn(3)
		withAssignment(req, s.brokerList(rf), s.brokerList(rf))
	}
	s.handle(req)
}

func (s *sim) deleteTopic() {
	if t, _, ok := s.randomPartition(); ok {
		s.handle(deleteReq(t.Name))
	}
}

func (s *sim) addPartitions() {
	if t, _, ok := s.randomPartition(); ok {
		s.handle(createPartitionsReq(t.Name, int32(t.NumPartitions()+1+s.rng.Intn(2))))
	}
}

// alterPartition has a partition's leader propose a random ISR around
// itself (sometimes at a stale epoch).
func (s *sim) alterPartition() {
	t, p, ok := s.randomPartition()
	if !ok || p.Leader == image.NoLeader {
		return
	}
	isr := []int32{p.Leader}
	for _, r := range p.Replicas {
		if r != p.Leader && s.rng.Intn(2) == 0 {
			isr = append(isr, r)
		}
	}
	req := alterPartitionReq(p.Leader, s.epoch(p.Leader), s.img, t.Name, p, isr)
	if s.rng.Intn(8) == 0 {
		req.Topics[0].Partitions[0].PartitionEpoch--
	}
	s.handle(req)
}

// catchUp has every reassigning partition's leader add its live replicas
// to the ISR, as replication would.
func (s *sim) catchUp() {
	forEachPartition(s.img, func(t image.Topic, p image.Partition) bool {
		if !p.IsReassigning() || p.Leader == image.NoLeader {
			return true
		}
		isr := slices.Clone(p.Isr)
		for _, r := range p.Replicas {
			if !slices.Contains(isr, r) && isActive(s.img, r) {
				isr = append(isr, r)
			}
		}
		s.handle(alterPartitionReq(p.Leader, s.epoch(p.Leader), s.img, t.Name, p, isr))
		return false
	})
}

func (s *sim) reassign() {
	t, p, ok := s.randomPartition()
	if !ok {
		return
	}
	var target []int32
	if s.rng.Intn(4) != 0 {
		target = s.brokerList(1 + s.rng.Intn(3))
	}
	s.handle(reassignReq(t.Name, p.Index, target))
}

func (s *sim) elect() {
	if t, p, ok := s.randomPartition(); ok {
		s.handle(electReq(int8(s.rng.Intn(2)), t.Name, p.Index))
	}
}

// shutdown has a running broker ask for a controlled shutdown; it stops once
// allowed.
func (s *sim) shutdown() {
	id := s.broker()
	br, ok := s.img.Broker(id)
	if !s.alive[id] || !ok {
		return
	}
	resp, _ := s.handle(heartbeatReq(id, br.Epoch, 5, false, true))
	if hb := resp.(*kmsg.BrokerHeartbeatResponse); hb.ShouldShutdown || hb.ErrorCode != 0 {
		s.alive[id] = false
	}
}

func (s *sim) toggleUnclean() {
	if t, _, ok := s.randomPartition(); ok {
		s.handle(incrementalConfig(kmsg.ConfigResourceTypeTopic, t.Name, kmsg.IncrementalAlterConfigOpSet,
			"unclean.leader.election.enable", strconv.FormatBool(s.rng.Intn(2) == 0)))
	}
}
