package chaos

import (
	"errors"
	"fmt"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"
)

// Environment variables that choose what TestFaults runs.
const (
	// envSeed reproduces one schedule: OSPREY_CHAOS_SEED=<seed> (with -run
	// naming the mode and fault).
	envSeed = "OSPREY_CHAOS_SEED"
	// envSeeds is how many seeds each fault runs with (default 1, seed 1;
	// more draws random seeds): make test-chaos sets it.
	envSeeds = "OSPREY_CHAOS_SEEDS"
	// envCycles is how many times each run injects its fault, waiting
	// for a full ISR in between (default 1): make test-chaos sets it.
	envCycles = "OSPREY_CHAOS_CYCLES"
	// envSkip set to 1 skips the suite on purpose where it cannot run (not
	// root); without it a missing prerequisite fails the test.
	envSkip = "OSPREY_CHAOS_SKIP"
)

const topic = "chaos"
const numParts = 3

// scenario is one fault run: a cluster, a workload and the schedule's
// random source.
type scenario struct {
	t   *testing.T
	c   *cluster
	w   *workload
	rng *rand.Rand
}

// fault is one kind of failure the suite injects, on a cluster laid out
// for it.
type fault struct {
	name   string
	layout layout
	run    func(s *scenario)
}

var faults = []fault{
	{"zombie-leader", layout{quorum: 1}, zombieLeader},
	{"leader-paused-briefly", layout{quorum: 1}, leaderPausedBriefly},
	{"zombie-cut-off", layout{quorum: 1}, zombieCutOff},
	{"leader-partitioned", layout{quorum: 1}, leaderPartitioned},
	{"metadata-restart", layout{quorum: 1}, metadataRestart},
	{"quorum-split", layout{quorum: 3}, quorumSplit},
	{"disk-full", layout{quorum: 1, diskMB: 32}, diskFull},
}

// TestFaults runs every fault in both metadata modes, with one seed each or
// OSPREY_CHAOS_SEEDS seeds, and checks each run's history. A failing run
// prints the command that reproduces its schedule.
func TestFaults(t *testing.T) {
	requirePrerequisites(t)
	for _, mode := range []string{modeZooKeeper, modeKRaft} {
		t.Run(mode, func(t *testing.T) {
			// The two modes run side by side: each has its own network,
			// and most of a run is spent waiting out a fault.
			t.Parallel()
			for _, f := range faults {
				t.Run(f.name, func(t *testing.T) {
					for _, seed := range seeds(t) {
						t.Run("seed="+strconv.FormatUint(seed, 10), func(t *testing.T) {
							if v := runScenario(t, mode, f, seed, false); len(v) > 0 {
								t.Errorf("the history breaks the guarantees (%d):\n%s", len(v), strings.Join(v, "\n"))
							}
						})
					}
				})
			}
		})
	}
}

func requirePrerequisites(t *testing.T) {
	var missing []string
	if os.Geteuid() != 0 {
		missing = append(missing, "root (network namespaces, iptables)")
	}
	for _, prog := range []string{"ip", "iptables", "java"} {
		if _, err := exec.LookPath(prog); err != nil {
			missing = append(missing, prog+" (deploy/scripts/install-deps.sh installs it)")
		}
	}
	if len(missing) == 0 {
		return
	}
	msg := "the fault suite needs " + strings.Join(missing, ", ")
	if os.Getenv(envSkip) == "1" {
		t.Skip(msg + "; skipped because " + envSkip + "=1")
	}
	t.Fatal(msg + "; set " + envSkip + "=1 to skip it on purpose")
}

// cycles is OSPREY_CHAOS_CYCLES, default 1.
func cycles(t *testing.T) int {
	s := os.Getenv(envCycles)
	if s == "" {
		return 1
	}
	n, err := strconv.Atoi(s)
	if err != nil || n < 1 {
		t.Fatalf("%s=%q: want a positive number", envCycles, s)
	}
	return n
}

// seeds are the schedules to run: OSPREY_CHAOS_SEED alone, else seed 1, or
// OSPREY_CHAOS_SEEDS random ones.
func seeds(t *testing.T) []uint64 {
	if s := os.Getenv(envSeed); s != "" {
		seed, err := strconv.ParseUint(s, 10, 64)
		if err != nil {
			t.Fatalf("%s=%q: %v", envSeed, s, err)
		}
		return []uint64{seed}
	}
	n := 1
	if s := os.Getenv(envSeeds); s != "" {
		var err error
		if n, err = strconv.Atoi(s); err != nil || n < 1 {
			t.Fatalf("%s=%q: want a positive number", envSeeds, s)
		}
	}
	if n == 1 {
		return []uint64{1}
	}
	out := make([]uint64, n)
	for i := range out {
		out[i] = rand.Uint64() % 1_000_000
	}
	return out
}

// TestFaultsCatchLoss is the suite's control: the same partition fault
// under an acks=1 producer, which the leader acknowledges before any
// follower has the record. The cut-off leader acknowledges writes the new
// leader never gets, so the checker must report acknowledged records lost.
func TestFaultsCatchLoss(t *testing.T) {
	requirePrerequisites(t)
	v := runScenario(t, modeZooKeeper, fault{"leader-partitioned", layout{quorum: 1}, leaderPartitioned}, 1, true)
	lost := 0
	for _, line := range v {
		if strings.HasPrefix(line, "lost: ") {
			lost++
		}
	}
	if lost == 0 {
		t.Fatalf("acks=1 through a partitioned leader: the checker reported no lost record; violations: %q", v)
	}
	t.Logf("the checker caught the acks=1 loss (%d violations, first: %s)", len(v), v[0])
}

// runScenario runs fault f in mode with the given seed and returns the
// history's violations.
func runScenario(t *testing.T, mode string, f fault, seed uint64, leaderAcks bool) []string {
	t.Cleanup(func() {
		if t.Failed() {
			t.Logf("reproduce with: %s=%d go test -count=1 -run 'TestFaults/%s/%s/' ./chaos/", envSeed, seed, mode, f.name)
		}
	})
	t.Logf("%s %s, seed %d", mode, f.name, seed)
	c := newCluster(t, mode, f.layout)
	c.createTopic(topic, numParts)
	s := &scenario{t: t, c: c, rng: rand.New(rand.NewPCG(seed, 0x05b7e1))}
	s.w = startWorkload(t, c, topic, numParts, leaderAcks)
	s.sleep("warm-up", 500*time.Millisecond+s.jitter(time.Second))
	for i := range cycles(t) {
		if i > 0 {
			waitFor(t, 90*time.Second, "a full ISR before the next cycle", func() error { return c.fullISR(topic, numParts) })
			s.sleep("between cycles", 500*time.Millisecond+s.jitter(time.Second))
		}
		f.run(s)
	}
	s.sleep("after the fault", 500*time.Millisecond+s.jitter(time.Second))
	h := s.w.finish()
	for _, m := range c.brokers {
		if m.proc.exited() {
			t.Errorf("%s exited during the run:\n%s", m.name, m.proc.logTail(30))
		}
	}
	t.Logf("history: %d sends, %d reads, %d commit observations, %d probes %+v",
		len(h.Sends), len(h.Reads), len(h.Commits), len(h.Probes), h.Probes)
	return CheckHistory(h)
}

// jitter is a random duration in [0, d) from the schedule's seed.
func (s *scenario) jitter(d time.Duration) time.Duration {
	return time.Duration(s.rng.Int64N(int64(d)))
}

// sleep lets the workload run for d: faults are defined by how long they
// last, so this is the one place the suite waits on the clock.
func (s *scenario) sleep(what string, d time.Duration) {
	s.t.Logf("%s: %v", what, d.Round(time.Millisecond))
	select {
	case <-time.After(d):
	case <-s.t.Context().Done():
	}
}

// target picks a partition from the seed and returns it with its leader.
// In ZooKeeper mode the seed may instead pick the partition the controller
// leads: a paused or cut-off controller is deposed as controller and as
// leader at once.
func (s *scenario) target() (int32, *member) {
	part := s.rng.Int32N(numParts)
	if s.c.mode == modeZooKeeper && s.rng.IntN(2) == 0 {
		if ctl := s.c.controller(); ctl > 0 {
			for p := range int32(numParts) {
				if s.leaderOf(p) == ctl {
					part = p
					s.t.Logf("target: the partition the controller (broker %d) leads", ctl)
					break
				}
			}
		}
	}
	leader := s.leaderOf(part)
	s.t.Logf("target: %s/%d, leader broker %d", topic, part, leader)
	return part, s.c.broker(leader)
}

// leaderOf is part's leader as the broker with the highest leader epoch for
// it says.
func (s *scenario) leaderOf(part int32) int32 {
	var leader int32
	waitFor(s.t, 30*time.Second, "a leader for the target partition", func() error {
		epoch := int32(-1)
		for _, m := range s.c.brokers {
			pd, err := s.c.partitionState(m, topic, part)
			if err != nil {
				return err
			}
			if pd.LeaderEpoch > epoch && pd.Leader > 0 {
				leader, epoch = pd.Leader, pd.LeaderEpoch
			}
		}
		if leader < 1 {
			return fmt.Errorf("no leader for %s/%d", topic, part)
		}
		return nil
	})
	return leader
}

// waitMoved waits until every other broker names a leader other than old
// for part: the controller has moved the leadership.
func (s *scenario) waitMoved(part int32, old *member) { s.waitMovedWithin(part, old, 60*time.Second) }

// waitMovedWithin is waitMoved bounded by d; it returns the new leaders the
// other brokers name.
func (s *scenario) waitMovedWithin(part int32, old *member, d time.Duration) []int32 {
	var leaders []int32
	waitFor(s.t, d, fmt.Sprintf("leadership of %s/%d to move off %s", topic, part, old.name), func() error {
		leaders = leaders[:0]
		for _, m := range s.c.brokers {
			if m == old {
				continue
			}
			pd, err := s.c.partitionState(m, topic, part)
			if err != nil {
				return err
			}
			if pd.Leader == old.id || pd.Leader < 1 {
				return fmt.Errorf("%s says the leader is %d", m.name, pd.Leader)
			}
			leaders = append(leaders, pd.Leader)
		}
		return nil
	})
	return leaders
}

// zombieLeader pauses a partition leader with SIGSTOP for longer than its
// session and replica.lag.time.max.ms, waits until the controller has
// moved the leadership, sends the paused broker an acks=all write on a
// connection it accepted before the pause, and resumes it: the write is
// the first thing the zombie handles, and it must not acknowledge it unless
// it keeps it.
func zombieLeader(s *scenario) {
	part, leader := s.target()
	pr := dialProbe(s.t, leader)
	if err := leader.proc.signal(syscall.SIGSTOP); err != nil {
		s.t.Fatal(err)
	}
	stopped := time.Now()
	s.t.Logf("SIGSTOP %s", leader.name)
	s.waitMoved(part, leader)
	// Past both the session and the lag time, whichever the move took.
	if d := max(sessionTimeout, replicaLagMax) + s.jitter(2*time.Second) - time.Since(stopped); d > 0 {
		s.sleep("paused", d)
	}
	if err := pr.send(topic, part, "probe-zombie"); err != nil {
		s.t.Fatal(err)
	}
	if err := leader.proc.signal(syscall.SIGCONT); err != nil {
		s.t.Fatal(err)
	}
	s.t.Logf("SIGCONT %s after %v", leader.name, time.Since(stopped).Round(time.Millisecond))
	probe := pr.wait(30*time.Second, part, "probe-zombie")
	s.t.Logf("zombie's answer to the probe: acked=%v offset=%d err=%q", probe.Acked, probe.Offset, probe.Err)
	s.w.rec.probe(probe)
}

// zombieCutOff is the zombie leader that wakes up where it cannot learn
// it was deposed: paused past its session until the leadership has moved,
// cut off from the other brokers and the metadata server while still
// paused, sent an acks=all write by a client that still reaches it, and
// resumed. Nothing can tell it that it no longer leads; it must still not
// acknowledge the write. Then the network heals.
func zombieCutOff(s *scenario) {
	part, leader := s.target()
	pr := dialProbe(s.t, leader)
	if err := leader.proc.signal(syscall.SIGSTOP); err != nil {
		s.t.Fatal(err)
	}
	stopped := time.Now()
	s.waitMoved(part, leader)
	if d := max(sessionTimeout, replicaLagMax) - time.Since(stopped); d > 0 {
		s.sleep("paused", d)
	}
	s.c.net.cut(leader.ns, s.c.others(leader)...)
	if err := pr.send(topic, part, "probe-zombie-cut-off"); err != nil {
		s.t.Fatal(err)
	}
	if err := leader.proc.signal(syscall.SIGCONT); err != nil {
		s.t.Fatal(err)
	}
	s.t.Logf("SIGCONT %s, cut off, after %v", leader.name, time.Since(stopped).Round(time.Millisecond))
	probe := pr.wait(15*time.Second, part, "probe-zombie-cut-off")
	s.t.Logf("cut-off zombie's answer to the probe: acked=%v offset=%d err=%q", probe.Acked, probe.Offset, probe.Err)
	s.w.rec.probe(probe)
	s.sleep("cut off", s.jitter(2*time.Second))
	s.c.net.heal(leader.ns)
	s.t.Logf("healed %s", leader.name)
}

// leaderPausedBriefly pauses a partition leader for 1–3 s: past the lag
// time perhaps, but inside its session, so it stays the leader. Its
// followers' fetches and the producer's requests queue up; when it
// resumes it may shrink the ISR over followers it did not hear from (the
// clock moved on while it was stopped) and must then add them back, and
// an acks=all write it acknowledges must be on min.insync.replicas brokers
// all the same.
func leaderPausedBriefly(s *scenario) {
	_, leader := s.target()
	if err := leader.proc.signal(syscall.SIGSTOP); err != nil {
		s.t.Fatal(err)
	}
	s.sleep("paused", time.Second+s.jitter(2*time.Second))
	if err := leader.proc.signal(syscall.SIGCONT); err != nil {
		s.t.Fatal(err)
	}
}

// leaderPartitioned cuts a partition leader off from the other brokers and
// the metadata server (ZooKeeper or the controller) while the clients still
// reach it; once the leadership has moved, the cut-off broker is sent an
// acks=all write, then the network heals.
func leaderPartitioned(s *scenario) {
	part, leader := s.target()
	pr := dialProbe(s.t, leader)
	s.c.net.cut(leader.ns, s.c.others(leader)...)
	cut := time.Now()
	s.t.Logf("cut %s off from %v", leader.name, s.c.others(leader))
	s.waitMoved(part, leader)
	if err := pr.send(topic, part, "probe-partitioned"); err != nil {
		s.t.Fatal(err)
	}
	probe := pr.wait(15*time.Second, part, "probe-partitioned")
	s.t.Logf("cut-off leader's answer to the probe: acked=%v offset=%d err=%q", probe.Acked, probe.Offset, probe.Err)
	s.w.rec.probe(probe)
	if d := max(sessionTimeout, replicaLagMax) + s.jitter(3*time.Second) - time.Since(cut); d > 0 {
		s.sleep("partitioned", d)
	}
	s.c.net.heal(leader.ns)
	s.t.Logf("healed %s after %v", leader.name, time.Since(cut).Round(time.Millisecond))
}

// metadataRestart kills ZooKeeper (or the KRaft controller) with SIGKILL
// while the workload runs, keeps it down past the brokers' session timeout
// or not (from the seed), and starts it again on the same data.
func metadataRestart(s *scenario) {
	down := 2*time.Second + s.jitter(2*sessionTimeout)
	m := s.c.metas[0]
	m.proc.kill()
	s.t.Logf("SIGKILL %s (%s)", m.name, s.c.mode)
	before, _, _ := s.w.rec.counts()
	s.sleep("metadata server down", down)
	after, _, _ := s.w.rec.counts()
	s.t.Logf("acknowledged while %s was down: %d records", m.name, after-before)
	if after == before {
		s.t.Errorf("no write was acknowledged in the %v %s was down", down, m.name)
	}
	s.c.startMeta(m)
	s.t.Logf("%s restarted", m.name)
	waitFor(s.t, 60*time.Second, "every broker registered again", s.c.allRegistered)
}

// quorumSplit cuts the leader of the metadata quorum (the ZooKeeper
// ensemble's leader, or the active KRaft controller) off from the other
// two voters, while brokers and clients still reach every server; the two
// elect a new leader, and the old one must not go on deciding alone. Then
// the network heals.
func quorumSplit(s *scenario) {
	old := s.c.quorumLeader()
	var peers []string
	for _, m := range s.c.metas {
		if m != old {
			peers = append(peers, m.ip)
		}
	}
	s.c.net.cut(old.ns, peers...)
	cut := time.Now()
	s.t.Logf("cut quorum leader %s off from %v", old.name, peers)
	var lastOld time.Duration // when the cut-off leader was last named
	waitFor(s.t, 60*time.Second, "a new quorum leader on the majority side", func() error {
		switch m := s.c.quorumLeader(); m {
		case nil:
			return errors.New("no quorum leader")
		case old:
			lastOld = time.Since(cut)
			return fmt.Errorf("%s still leads", old.name)
		}
		return nil
	})
	moved := time.Since(cut)
	s.t.Logf("new quorum leader after %v (%s last named after %v)", moved.Round(time.Millisecond), old.name, lastOld.Round(time.Millisecond))
	if s.c.mode == modeKRaft {
		checkKRaftSplitTimes(s.t, lastOld, moved)
	}
	if d := 2*sessionTimeout + s.jitter(2*time.Second) - time.Since(cut); d > 0 {
		s.sleep("quorum split", d)
	}
	s.c.net.heal(old.ns)
	s.t.Logf("healed %s after %v", old.name, time.Since(cut).Round(time.Millisecond))
	if s.c.mode == modeZooKeeper {
		for _, m := range s.c.metas {
			waitFor(s.t, 60*time.Second, m.name+" serving again", s.c.zkServing(m))
		}
	}
	waitFor(s.t, 60*time.Second, "every broker registered again", s.c.allRegistered)
}

// KRaft's timings in a quorum split follow from Kafka's rules and the suite's
// controller.quorum.fetch.timeout.ms, F: the cut-off controller resigns once
// 1.5 F pass without a majority of the voters fetching from it (check
// quorum), and a broker, an observer whose fetches it then refuses, asks the
// voters who leads now when its own fetch timeout runs out, F later.
// DescribeQuorum through the brokers therefore names the cut-off controller
// for at most 1.5 F after the cut (3 s), and the new leader after at most
// 2.5 F (5 s). The slack covers a broker's retries of DescribeQuorum while
// no leader answers (pauses growing to 1 s), this test's polling and a
// loaded machine.
const (
	splitOldNamedMax = quorumFetchTimeout*3/2 + time.Second
	splitNewNamedMax = quorumFetchTimeout*5/2 + 2*time.Second
)

// checkKRaftSplitTimes fails the test when DescribeQuorum named the cut-off
// controller, or went without naming the new one, for longer than Kafka's
// timeouts allow.
func checkKRaftSplitTimes(t testing.TB, lastOld, moved time.Duration) {
	t.Helper()
	if lastOld > splitOldNamedMax {
		t.Errorf("DescribeQuorum named the cut-off controller %v after the cut; Kafka's check quorum resigns it within 1.5 × controller.quorum.fetch.timeout.ms (limit with slack %v)", lastOld.Round(time.Millisecond), splitOldNamedMax)
	}
	if moved > splitNewNamedMax {
		t.Errorf("DescribeQuorum named the new quorum leader %v after the cut; brokers find it within 2.5 × controller.quorum.fetch.timeout.ms (limit with slack %v)", moved.Round(time.Millisecond), splitNewNamedMax)
	}
}

// moveSlack is how long after a halted broker's session (ZooKeeper) or
// heartbeats (KRaft) time out its leaderships may take to move: the
// controller's reaction (a controller election first if the halted broker
// was the ZooKeeper-mode controller) and the brokers' metadata updates, on a
// loaded two-core machine.
const moveSlack = 10 * time.Second

// diskFull fills the log dir of a partition leader (a small tmpfs) to the
// last few KiB while the workload runs. The broker's next write there fails
// with ENOSPC: it takes the dir offline and, that being its only log dir,
// halts as Kafka does (exit status 1, a fatal line, no controlled
// shutdown). Its leaderships must move to in-sync replicas within the
// session timeout plus moveSlack, and nothing it acknowledged may be lost.
// Then the space is freed and the broker restarted, as an operator would:
// it must recover whatever the failed writes left half done and catch up.
func diskFull(s *scenario) {
	_, leader := s.target()
	led := map[int32][]int32{} // partitions leader leads -> their ISR
	for p := range int32(numParts) {
		if s.leaderOf(p) != leader.id {
			continue
		}
		pd, err := s.c.partitionState(leader, topic, p)
		if err != nil {
			s.t.Fatal(err)
		}
		led[p] = pd.ISR
	}
	fillDisk(s, leader)
	filled := time.Now()

	waitFor(s.t, 60*time.Second, leader.name+" to halt on its full log dir", func() error {
		if !leader.proc.exited() {
			return errors.New("still running")
		}
		return nil
	})
	halted := time.Now()
	s.t.Logf("%s halted %v after its log dir filled", leader.name, halted.Sub(filled).Round(time.Millisecond))
	if code := leader.proc.exitCode(); code != 1 {
		s.t.Errorf("%s exited with status %d, want 1", leader.name, code)
	}
	if tail := leader.proc.logTail(40); !strings.Contains(tail, "Shutdown broker because all log dirs") {
		s.t.Errorf("%s's log has no fatal line for the failed log dir:\n%s", leader.name, tail)
	}
	for p, isr := range led {
		for _, nl := range s.waitMovedWithin(p, leader, sessionTimeout+moveSlack) {
			if !slices.Contains(isr, nl) {
				s.t.Errorf("%s/%d moved to broker %d, not one of its in-sync replicas %v", topic, p, nl, isr)
			}
		}
		s.t.Logf("%s/%d moved off %s %v after it halted", topic, p, leader.name, time.Since(halted).Round(time.Millisecond))
	}

	s.sleep("broker down", s.jitter(2*time.Second))
	if err := os.Remove(filepath.Join(leader.dir, "data", "filler")); err != nil {
		s.t.Fatal(err)
	}
	s.c.startNode(leader)
	s.t.Logf("freed %s's log dir and restarted it", leader.name)
	waitFor(s.t, 90*time.Second, leader.name+" back in every ISR", func() error { return s.c.fullISR(topic, numParts) })
}

// fillDisk fills broker m's log dir (a tmpfs) to the last 16 KiB with a
// file named filler.
func fillDisk(s *scenario, m *member) {
	dir := filepath.Join(m.dir, "data")
	filler := filepath.Join(dir, "filler")
	var st syscall.Statfs_t
	if err := syscall.Statfs(dir, &st); err != nil {
		s.t.Fatal(err)
	}
	free := int64(st.Bavail) * st.Bsize
	f, err := os.Create(filler)
	if err != nil {
		s.t.Fatal(err)
	}
	// Written, not truncated up: tmpfs counts only pages that hold data.
	chunk := make([]byte, 1<<20)
	for left := free - 16<<10; left > 0; {
		n := min(left, int64(len(chunk)))
		if _, err := f.Write(chunk[:n]); err != nil {
			break // full already: the broker's own writes raced the filler
		}
		left -= n
	}
	if err := f.Close(); err != nil {
		s.t.Logf("closing the filler: %v", err)
	}
	s.t.Logf("filled %s's log dir (%d MiB were free)", m.name, free>>20)
}
