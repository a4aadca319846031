package quorum

import (
	"bytes"
	"flag"
	"fmt"
	"math/rand/v2"
	"os"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"
)

// The simulation runs a quorum of voters and one observer on a simulated network and clock, all
// driven by one seeded random source, so that a seed replays exactly. Chaos phases drop, delay,
// duplicate and reorder messages, partition the network, crash and restart nodes (a restarted node
// keeps its log and election state) and make leaders resign; healed phases restore everything and
// must end with a leader that commits new entries. The safety invariants are checked after every
// step. Nodes also run a state machine (the committed client entries, in order), write snapshots of
// it at random, let their logs' prefixes go, and a replica behind a leader's log start catches up
// through FetchSnapshot: each snapshot a replica loads must equal the committed state at its
// offset (see sim_snapshot_test.go).

var (
	simSeedFlag  = flag.Uint64("seed", 0, "run the quorum simulation with this seed only (reproduces a failure)")
	simStepsFlag = flag.Int("sim.steps", 0, "steps per quorum simulation run (default 20000, or $OSPREY_QUORUM_SIM_STEPS)")
)

// simSeeds run in every `go test`.
var simSeeds = []uint64{1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12}

func TestQuorumSimulation(t *testing.T) {
	steps, seeds := simRunParams()
	for _, voters := range []int{3, 5} {
		installs := 0
		for _, seed := range seeds {
			t.Run(fmt.Sprintf("voters=%d/seed=%d", voters, seed), func(t *testing.T) {
				s := newSim(t, seed, voters)
				s.run(steps)
				installs += s.stats.snapshotInstalls
			})
		}
		// The fixed schedules must reach the snapshot path: a replica behind a leader's log
		// start. (Fresh random seeds are not held to it: a short run may not get there.)
		if slices.Equal(seeds, simSeeds) && installs == 0 {
			t.Errorf("voters=%d: no replica caught up through FetchSnapshot in %d runs", voters, len(seeds))
		}
	}
}

// simRunParams are the steps per run and the seeds, from the flags and the environment.
func simRunParams() (int, []uint64) {
	steps := 20000
	if raceEnabled {
		steps = 4000
	}
	if v, err := strconv.Atoi(os.Getenv("OSPREY_QUORUM_SIM_STEPS")); err == nil && v > 0 {
		steps = v
	}
	if *simStepsFlag > 0 {
		steps = *simStepsFlag
	}
	seeds := simSeeds
	if *simSeedFlag != 0 {
		seeds = []uint64{*simSeedFlag}
	} else if os.Getenv("OSPREY_QUORUM_SIM_STEPS") != "" {
		// The long run: fresh seeds each time, printed so that a failure can be replayed.
		runs := 10
		if v, err := strconv.Atoi(os.Getenv("OSPREY_QUORUM_SIM_RUNS")); err == nil && v > 0 {
			runs = v
		}
		seeds = nil
		for range runs {
			seeds = append(seeds, rand.Uint64()%1_000_000_000+1)
		}
	}
	return steps, seeds
}

// TestQuorumSimulationDynamic runs the same schedules on a dynamic quorum (kraft.version 1):
// besides the faults, the simulator acts as an admin client that adds observers as voters and
// removes voters (the leader too) at random, so the majority changes under the faults. On top of
// the safety invariants it checks that no log ever holds more than one voter change above the
// committed prefix, and that every snapshot of an offset carries the same voter set.
func TestQuorumSimulationDynamic(t *testing.T) {
	steps, seeds := simRunParams()
	for _, voters := range []int{1, 3} {
		added, removed, leaders := 0, 0, 0
		for _, seed := range seeds {
			t.Run(fmt.Sprintf("voters=%d/seed=%d", voters, seed), func(t *testing.T) {
				s := newSimMode(t, seed, voters, true)
				s.run(steps)
				added, removed, leaders = added+s.stats.votersAdded, removed+s.stats.votersRemoved, leaders+s.stats.leadersRemoved
			})
		}
		// The fixed schedules must commit additions, removals and a leader's own removal.
		if slices.Equal(seeds, simSeeds) && (added == 0 || removed == 0 || leaders == 0) {
			t.Errorf("voters=%d: %d voters added, %d removed, %d leaders removed themselves in %d runs; want each above 0", voters, added, removed, leaders, len(seeds))
		}
	}
}

type simNode struct {
	id       int32
	node     *Node // nil while crashed
	log      *MemLog
	watch    *watchedLog
	store    *MemStore
	snaps    *MemSnapshots
	sm       simSM
	maxEpoch int32
	// verified: log entries below it were found equal to the committed prefix and have not been
	// touched since, so the per-step check starts there instead of at 0.
	verified int64
}

// watchedLog is the Log a simulated node writes through: it remembers the lowest offset changed
// since the simulator last looked, so that the invariant checks need not rescan whole logs.
type watchedLog struct {
	*MemLog
	lowestTouched int64
}

func (w *watchedLog) touch(off int64) { w.lowestTouched = min(w.lowestTouched, off) }

func (w *watchedLog) Append(entries []Entry) error {
	w.touch(w.EndOffset())
	return w.MemLog.Append(entries)
}

func (w *watchedLog) Truncate(off int64) error {
	w.touch(off)
	return w.MemLog.Truncate(off)
}

func (w *watchedLog) Reset(off int64) error {
	w.touch(off)
	return w.MemLog.Reset(off)
}

// takeTouched returns the lowest offset changed since the last call.
func (w *watchedLog) takeTouched() int64 {
	t := w.lowestTouched
	w.lowestTouched = 1 << 62
	return t
}

// simStats tell, in -v output, how much of the protocol a run exercised.
type simStats struct {
	delivered, crashes, partitions, resigns, truncations, healedPhases int
	snapshotsWritten, prefixDeletes, snapshotInstalls, snapshotLoads   int
	votersAdded, votersRemoved, voterChangesRefused, leadersRemoved    int
}

type simMsg struct {
	m  Message
	at time.Time
}

type sim struct {
	t      testing.TB
	seed   uint64
	rng    *rand.Rand
	clock  *ManualClock
	voters []int32
	nodes  []*simNode
	net    []simMsg

	// Network faults of the current phase.
	dropP, dupP float64
	maxDelay    time.Duration
	group       map[int32]int // partition: messages pass only within a group
	// cut, when set, names further links that are down (a message from → to is lost), for
	// faults the groups cannot draw: a node cut off from some nodes but not from others.
	cut func(from, to int32) bool

	// dynamic: a kraft.version 1 quorum whose voter set the simulator changes (sim_voters_test.go).
	dynamic    bool
	snapVoters map[OffsetAndEpoch]VoterSet
	// snapFromLog: the snapshot's voter set came from a VotersRecord in the log.
	snapFromLog map[OffsetAndEpoch]bool
	adminCorr   int32
	// leaderRemovals: the correlations of RemoveRaftVoter requests naming the leader itself.
	leaderRemovals map[int32]bool

	healed bool
	// killLeaders: in this chaos phase every leader is crashed killAfter after its election, and
	// crashed nodes come back quickly — a run of short-lived leaders leaving uncommitted tails of
	// different epochs, which is where committing an older epoch's entries by count goes wrong.
	killLeaders bool
	killAfter   time.Duration
	phaseEnd    time.Time
	healStart   int // len(committed) when the healed phase began
	appended    int

	step      int
	steps     int
	stats     simStats
	leaders   map[int32]int32 // epoch → leader
	ledSince  time.Time       // when the newest leader was first seen
	committed []Entry         // the committed prefix of the log, as nodes reported it
	events    []string
}

func newSim(t testing.TB, seed uint64, voters int) *sim { return newSimMode(t, seed, voters, false) }

func newSimMode(t testing.TB, seed uint64, voters int, dynamic bool) *sim {
	stream := uint64(voters)
	if dynamic {
		stream += 1000
	}
	s := &sim{
		t:              t,
		seed:           seed,
		rng:            rand.New(rand.NewPCG(seed, stream)),
		clock:          NewManualClock(time.Unix(1_700_000_000, 0)),
		leaders:        map[int32]int32{},
		dynamic:        dynamic,
		snapVoters:     map[OffsetAndEpoch]VoterSet{},
		snapFromLog:    map[OffsetAndEpoch]bool{},
		leaderRemovals: map[int32]bool{},
	}
	for i := 1; i <= voters; i++ {
		s.voters = append(s.voters, int32(i))
	}
	ids := append(slices.Clone(s.voters), 100) // 100 is the observer
	if dynamic {
		ids = append(ids, 101, 102) // more observers to add as voters
	}
	for _, id := range ids {
		sn := &simNode{id: id, log: NewMemLog(), store: &MemStore{}, snaps: NewMemSnapshots()}
		sn.watch = &watchedLog{MemLog: sn.log, lowestTouched: 1 << 62}
		s.nodes = append(s.nodes, sn)
		s.start(sn)
	}
	return s
}

type simTransport struct {
	s    *sim
	from int32
}

func (tr simTransport) Send(m Message) { tr.s.send(m) }

func (s *sim) start(sn *simNode) {
	cfg := Config{
		NodeID:    sn.id,
		Voters:    s.voters,
		ClusterID: "sim-cluster",
		// Timeouts a third of Kafka's defaults: more elections per simulated second.
		ElectionTimeout:    300 * time.Millisecond,
		FetchTimeout:       600 * time.Millisecond,
		ElectionBackoffMax: 300 * time.Millisecond,
		RequestTimeout:     150 * time.Millisecond,
		FetchBackoff:       20 * time.Millisecond,
		MaxFetchEntries:    1 + s.rng.IntN(8),    // small answers split a leader's tail across fetches
		SnapshotChunkBytes: 16 + s.rng.IntN(240), // and a snapshot across many FetchSnapshots
		Snapshots:          sn.snaps,
		Log:                sn.watch,
		Store:              sn.store,
		Transport:          simTransport{s: s, from: sn.id},
		Clock:              s.clock,
		Rand:               rand.New(rand.NewPCG(s.rng.Uint64(), s.rng.Uint64())),
	}
	if s.dynamic {
		s.dynamicConfig(sn, &cfg)
	}
	n, err := New(cfg)
	if err != nil {
		s.fail("restart node %d: %v", sn.id, err)
	}
	sn.node = n
	s.restartSM(sn)
}

func (s *sim) node(id int32) *simNode {
	for _, sn := range s.nodes {
		if sn.id == id {
			return sn
		}
	}
	return nil
}

func (s *sim) send(m Message) {
	if !s.linked(m.From, m.To) || s.rng.Float64() < s.dropP {
		return
	}
	copies := 1
	if s.rng.Float64() < s.dupP {
		copies = 2
	}
	for range copies {
		delay := time.Millisecond + time.Duration(s.rng.Int64N(int64(s.maxDelay)))
		s.net = append(s.net, simMsg{m: m, at: s.clock.Now().Add(delay)})
	}
}

// linked tells whether a message from → to gets through the current partition and cut links.
func (s *sim) linked(from, to int32) bool {
	return s.group[from] == s.group[to] && (s.cut == nil || !s.cut(from, to))
}

func (s *sim) event(format string, args ...any) {
	s.events = append(s.events, fmt.Sprintf("step %d %s: ", s.step, s.clock.Now().Format("15:04:05.000"))+fmt.Sprintf(format, args...))
	if len(s.events) > 40 {
		s.events = s.events[1:]
	}
}

func (s *sim) fail(format string, args ...any) {
	s.t.Helper()
	var b strings.Builder
	fmt.Fprintf(&b, "seed %d, %d voters, step %d: %s\n", s.seed, len(s.voters), s.step, fmt.Sprintf(format, args...))
	for _, sn := range s.nodes {
		if sn.node == nil {
			fmt.Fprintf(&b, "  node %d: crashed, log end %d\n", sn.id, sn.log.EndOffset())
			continue
		}
		n := sn.node
		fmt.Fprintf(&b, "  node %d: %s epoch %d leader %d voted %d hw %d log end %d@%d voters %v\n", sn.id, n.State(), n.Epoch(), n.LeaderID(), n.VotedID(), n.HighWatermark(), sn.log.EndOffset(), sn.log.LastEpoch(), n.Voters().IDs())
	}
	b.WriteString("  recent events:\n")
	for _, e := range s.events {
		b.WriteString("    " + e + "\n")
	}
	name := "TestQuorumSimulation"
	if s.dynamic {
		name = "TestQuorumSimulationDynamic"
	}
	fmt.Fprintf(&b, "reproduce: go test ./broker/quorum -run '%s/voters=%d' -seed %d -sim.steps %d", name, len(s.voters), s.seed, s.steps)
	s.t.Fatal(b.String())
}

func (s *sim) run(steps int) {
	s.steps = steps
	s.startChaos()
	for s.step = 1; s.step <= steps; s.step++ {
		s.clock.Advance(time.Millisecond + time.Duration(s.rng.Int64N(int64(15*time.Millisecond))))
		if !s.clock.Now().Before(s.phaseEnd) {
			s.checkVotersAgree()
			if s.healed {
				s.checkLiveness()
				s.startChaos()
			} else {
				s.startHeal()
			}
		}
		s.deliver()
		for _, sn := range s.nodes {
			if sn.node != nil {
				sn.node.Tick()
			}
		}
		s.randomEvent()
		s.check()
		s.runStateMachines()
	}
	maxEpoch := int32(0)
	for e := range s.leaders {
		maxEpoch = max(maxEpoch, e)
	}
	if s.dynamic {
		s.t.Logf("voter changes: %d added, %d removed (%d leaders removing themselves), %d refused", s.stats.votersAdded, s.stats.votersRemoved, s.stats.leadersRemoved, s.stats.voterChangesRefused)
	}
	s.t.Logf("%d steps: %d epochs led (last %d), %d entries committed, %d messages delivered, %d crashes, %d partitions, %d resignations, %d truncations, %d healed phases; %d snapshots written, %d prefix deletions, %d snapshots fetched, %d loaded",
		steps, len(s.leaders), maxEpoch, len(s.committed), s.stats.delivered, s.stats.crashes, s.stats.partitions, s.stats.resigns, s.stats.truncations, s.stats.healedPhases,
		s.stats.snapshotsWritten, s.stats.prefixDeletes, s.stats.snapshotInstalls, s.stats.snapshotLoads)
}

// deliver hands every due message to its node, in a random order.
func (s *sim) deliver() {
	now := s.clock.Now()
	var due []simMsg
	rest := s.net[:0]
	for _, m := range s.net {
		if m.at.After(now) {
			rest = append(rest, m)
		} else {
			due = append(due, m)
		}
	}
	s.net = rest
	s.rng.Shuffle(len(due), func(i, j int) { due[i], due[j] = due[j], due[i] })
	for _, m := range due {
		if m.m.To == simAdmin {
			s.adminAnswer(m.m)
			continue
		}
		sn := s.node(m.m.To)
		if sn == nil {
			s.fail("node %d sent a message to node %d, which does not exist: %+v", m.m.From, m.m.To, m.m)
		}
		if sn.node == nil || !s.linked(m.m.From, m.m.To) {
			continue
		}
		end, start := sn.log.EndOffset(), sn.log.StartOffset()
		sn.node.Step(m.m)
		s.stats.delivered++
		if sn.log.StartOffset() != start {
			s.stats.snapshotInstalls++
			s.event("node %d loaded a snapshot: its log restarts at %d", sn.id, sn.log.StartOffset())
		} else if sn.log.EndOffset() < end {
			s.stats.truncations++
			s.event("node %d truncated its log from %d to %d", sn.id, end, sn.log.EndOffset())
		}
	}
}

func (s *sim) startChaos() {
	s.healed = false
	s.phaseEnd = s.clock.Now().Add(time.Duration(2000+s.rng.IntN(6000)) * time.Millisecond)
	s.dropP = s.rng.Float64() * 0.3
	s.dupP = s.rng.Float64() * 0.1
	s.maxDelay = time.Duration(5+s.rng.IntN(150)) * time.Millisecond
	s.killLeaders = s.rng.IntN(2) == 0
	s.event("chaos: drop %.2f dup %.2f delay ≤%s kill leaders %v", s.dropP, s.dupP, s.maxDelay, s.killLeaders)
}

func (s *sim) startHeal() {
	s.healed = true
	s.phaseEnd = s.clock.Now().Add(5 * time.Second)
	if s.dynamic {
		// A voter set of two may need a voter that is far behind to commit anything: it
		// catches up through a snapshot first.
		s.phaseEnd = s.phaseEnd.Add(5 * time.Second)
	}
	s.dropP, s.dupP, s.maxDelay = 0, 0, 10*time.Millisecond
	s.group = nil
	for _, sn := range s.nodes {
		if sn.node == nil {
			s.start(sn)
			s.event("restart %d", sn.id)
		}
	}
	s.healStart = len(s.committed)
	s.event("heal")
}

func (s *sim) leader() *Node {
	for _, sn := range s.nodes {
		if sn.node != nil && sn.node.State() == Leader {
			return sn.node
		}
	}
	return nil
}

func (s *sim) randomEvent() {
	if l := s.leader(); l != nil && s.rng.Float64() < 0.2 {
		s.appended++
		data := fmt.Appendf(nil, "e%d", s.appended)
		if off, err := l.Append(data); err == nil {
			s.event("append %s at %d on leader %d epoch %d", data, off, l.ID(), l.Epoch())
		}
	}
	if s.dynamic {
		s.maybeChangeVoters()
	}
	if s.healed {
		return
	}
	if s.killLeaders {
		for _, sn := range s.nodes {
			if sn.node == nil && s.rng.Float64() < 0.02 {
				s.start(sn)
				s.event("restart %d", sn.id)
			}
		}
		for _, sn := range s.nodes {
			if sn.node != nil && sn.node.State() == Leader && s.clock.Now().Sub(s.ledSince) >= s.killAfter {
				s.crash(sn)
				s.killAfter = time.Duration(s.rng.IntN(200)) * time.Millisecond
			}
		}
	}
	r := s.rng.Float64()
	switch {
	case r < 0.008: // crash a node
		s.crash(s.nodes[s.rng.IntN(len(s.nodes))])
	case r < 0.012: // crash the leader: its uncommitted tail is what followers must truncate
		for _, sn := range s.nodes {
			if sn.node != nil && sn.node.State() == Leader {
				s.crash(sn)
				break
			}
		}
	case r < 0.025: // crash a leader soon after its election, before its epoch's first entry is
		// on a majority: the case where committing an older epoch's entries by count loses them
		for _, sn := range s.nodes {
			if sn.node != nil && sn.node.State() == Leader && s.clock.Now().Sub(s.ledSince) < 300*time.Millisecond {
				s.crash(sn)
				break
			}
		}
	case r < 0.045: // restart a crashed node
		sn := s.nodes[s.rng.IntN(len(s.nodes))]
		if sn.node == nil {
			s.start(sn)
			s.event("restart %d", sn.id)
		}
	case r < 0.051: // partition into two random groups
		s.group = map[int32]int{}
		for _, sn := range s.nodes {
			s.group[sn.id] = s.rng.IntN(2)
		}
		s.stats.partitions++
		s.event("partition %v", s.group)
	case r < 0.057:
		s.group = nil
		s.event("partition healed")
	case r < 0.059:
		if l := s.leader(); l != nil {
			l.Resign()
			s.stats.resigns++
			s.event("leader %d resigns epoch %d", l.ID(), l.Epoch())
		}
	}
}

func (s *sim) crash(sn *simNode) {
	if sn.node != nil {
		sn.node = nil
		s.stats.crashes++
		s.event("crash %d", sn.id)
	}
}

// check verifies the safety invariants.
func (s *sim) check() {
	for _, sn := range s.nodes {
		n := sn.node
		if n == nil {
			continue
		}
		if err := n.Err(); err != nil {
			s.fail("node %d stopped: %v", sn.id, err)
		}
		// Epochs never go back on a node, across restarts too.
		if n.Epoch() < sn.maxEpoch {
			s.fail("node %d: epoch went back from %d to %d", sn.id, sn.maxEpoch, n.Epoch())
		}
		sn.maxEpoch = n.Epoch()
		if n.State() == Leader {
			// At most one leader per epoch.
			if l, ok := s.leaders[n.Epoch()]; ok && l != sn.id {
				s.fail("epoch %d has two leaders: %d and %d", n.Epoch(), l, sn.id)
			} else if !ok {
				s.leaders[n.Epoch()] = sn.id
				s.ledSince = s.clock.Now()
				s.event("node %d leads epoch %d", sn.id, n.Epoch())
				// A new leader holds every committed entry (Raft's leader completeness).
				s.checkRange(sn, 0, int64(len(s.committed)), "new leader of epoch "+strconv.Itoa(int(n.Epoch())))
				s.checkStartSnapshot(sn, "new leader of epoch "+strconv.Itoa(int(n.Epoch())))
			}
		}
		// Entries below a node's high watermark are committed: never lost, never changed.
		hw := n.HighWatermark()
		if hw > sn.log.EndOffset() {
			s.fail("node %d: high watermark %d is past its log end %d", sn.id, hw, sn.log.EndOffset())
		}
		sn.verified = min(sn.verified, sn.watch.takeTouched())
		upto := min(hw, int64(len(s.committed)))
		if upto > sn.verified {
			s.checkRange(sn, sn.verified, upto, "committed entries")
			sn.verified = upto
		}
		if c := int64(len(s.committed)); hw > c {
			if c < sn.log.StartOffset() {
				s.fail("node %d: high watermark %d, but its log starts at %d and only %d entries were seen committed", sn.id, hw, sn.log.StartOffset(), c)
			}
			for i := c; i < hw; i++ {
				s.committed = append(s.committed, sn.log.Entry(i))
			}
		}
	}
	if s.dynamic {
		s.checkVoterChanges()
	}
	// Live voters' logs agree up to the smallest of their high watermarks. This follows from the
	// check above (each node's log below its own high watermark is the committed prefix), which
	// looks only at what changed; the direct comparison runs at the end of each phase.
}

// checkVotersAgree compares the live voters' logs up to the smallest of their high watermarks.
func (s *sim) checkVotersAgree() {
	var live []*simNode
	minHW := int64(-1)
	for _, sn := range s.nodes {
		if sn.node != nil && sn.node.IsVoter() {
			live = append(live, sn)
			if hw := sn.node.HighWatermark(); minHW < 0 || hw < minHW {
				minHW = hw
			}
		}
	}
	for i := 1; i < len(live); i++ {
		a, b := live[0].log, live[i].log
		for j := max(a.StartOffset(), b.StartOffset()); j < minHW; j++ {
			if !sameEntry(a.Entry(j), b.Entry(j)) {
				s.fail("voters %d and %d disagree at offset %d below the high watermark %d: %+v vs %+v", live[0].id, live[i].id, j, minHW, a.Entry(j), b.Entry(j))
			}
		}
	}
}

// checkRange checks that the node's log holds committed[from:upto] unchanged (those of them
// above its log start; a snapshot holds the rest).
func (s *sim) checkRange(sn *simNode, from, upto int64, what string) {
	if sn.log.EndOffset() < upto {
		s.fail("node %d (%s) lacks committed entries: log ends at %d, %d committed", sn.id, what, sn.log.EndOffset(), upto)
	}
	for i := max(from, sn.log.StartOffset()); i < upto; i++ {
		if !sameEntry(sn.log.Entry(i), s.committed[i]) {
			s.fail("node %d (%s): committed entry at offset %d changed: %+v, committed %+v", sn.id, what, i, sn.log.Entry(i), s.committed[i])
		}
	}
}

func sameEntry(a, b Entry) bool {
	return a.Offset == b.Offset && a.Epoch == b.Epoch && a.Control == b.Control && bytes.Equal(a.Data, b.Data)
}

// checkLiveness runs at the end of a healed phase: the network has been whole and every node up
// for long enough, so a leader must be in charge of the latest epoch and entries appended in the
// phase must be committed.
func (s *sim) checkLiveness() {
	l := s.leader()
	if l == nil {
		s.fail("liveness: no leader after a healed phase")
	}
	for _, sn := range s.nodes {
		if sn.node.Epoch() > l.Epoch() {
			s.fail("liveness: node %d is in epoch %d, past leader %d's epoch %d", sn.id, sn.node.Epoch(), l.ID(), l.Epoch())
		}
		// The observer has found the leader (from whichever voter it asked) and follows it.
		if !sn.node.IsVoter() && (sn.node.State() != Follower || sn.node.LeaderID() != l.ID()) {
			s.fail("liveness: observer %d is %s with leader %d, want a follower of %d", sn.id, sn.node.State(), sn.node.LeaderID(), l.ID())
		}
	}
	newClient := 0
	for _, e := range s.committed[s.healStart:] {
		if !e.Control {
			newClient++
		}
	}
	if newClient == 0 {
		s.fail("liveness: no client entry committed during a healed phase (%d committed before it, %d now)", s.healStart, len(s.committed))
	}
	s.stats.healedPhases++
	s.event("liveness ok: leader %d epoch %d, %d entries committed in the phase", l.ID(), l.Epoch(), len(s.committed)-s.healStart)
}
