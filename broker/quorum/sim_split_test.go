package quorum

import (
	"fmt"
	"slices"
	"testing"
	"time"
)

// TestQuorumSplitTimings is the chaos suite's quorum-split fault on the simulated network: the
// leader is cut off from the other voters while the observer (a broker) still reaches every
// voter, the old leader included. It checks Kafka's timings, in multiples of the fetch timeout F:
//
//   - check quorum (KAFKA-15489): the cut-off leader resigns once 1.5 F pass without a majority
//     of the voters fetching from it, so at most 1.5 F after the cut;
//   - the observer's fetches succeed until then; once the resigned leader refuses them, the
//     observer's fetch timeout runs out F later and it asks the voters at random until one names
//     the new leader (KafkaRaftClient.pollFollowerAsObserver), so it follows the new leader
//     2.5 F after the cut, plus a few round trips to the voters.
//
// A broker answers DescribeQuorum from the leader its observer follows, so these are how long an
// operator sees the cut-off controller named as the active one, and when the new one appears.
func TestQuorumSplitTimings(t *testing.T) {
	var worstResign, worstMoved time.Duration
	for seed := uint64(1); seed <= 20; seed++ {
		t.Run(fmt.Sprintf("seed=%d", seed), func(t *testing.T) {
			s := newSim(t, seed, 3)
			resigned, moved, f := s.splitLeader()
			// Slack: the leader resigns on its first tick past 1.5 F (a simulated step is at
			// most 16 ms); the observer needs a few round trips (≤ 20 ms each, FetchBackoff
			// 20 ms apart) to land on a voter other than the old leader.
			if limit := f*3/2 + 50*time.Millisecond; resigned > limit {
				t.Errorf("seed %d: the cut-off leader led for %v after the cut; Kafka's check quorum resigns it within 1.5 × fetch timeout (%v; limit with slack %v)", seed, resigned, f*3/2, limit)
			}
			if limit := f*5/2 + f/2; moved > limit {
				t.Errorf("seed %d: the observer followed the new leader %v after the cut; want within 2.5 × fetch timeout (%v; limit with slack %v)", seed, moved, f*5/2, limit)
			}
			t.Logf("resigned after %v, observer moved after %v", resigned, moved)
			worstResign, worstMoved = max(worstResign, resigned), max(worstMoved, moved)
		})
	}
	t.Logf("worst of 20 seeds: the old leader resigned %v after the cut, the observer followed the new one after %v", worstResign, worstMoved)
}

// splitLeader settles the quorum, cuts the leader off from the other voters (not from the
// observer) and runs until the leader has resigned and the observer follows a newer epoch's
// leader. It returns both times, measured from the cut, and the fetch timeout.
func (s *sim) splitLeader() (resigned, moved, fetchTimeout time.Duration) {
	s.t.Helper()
	s.dropP, s.dupP, s.maxDelay = 0, 0, 10*time.Millisecond
	obs := s.node(100)
	var old *Node
	settled := time.Time{}
	for deadline := s.clock.Now().Add(20 * time.Second); ; {
		s.quietStep()
		if s.clock.Now().After(deadline) {
			s.fail("no settled quorum within 20 s")
		}
		l := s.leader()
		if l == nil || obs.node.State() != Follower || obs.node.LeaderID() != l.ID() || l.HighWatermark() < 5 {
			settled = time.Time{}
			continue
		}
		if settled.IsZero() {
			settled = s.clock.Now()
		}
		// A second of steady fetching, so that the cut finds every timer in its usual place.
		if s.clock.Now().Sub(settled) >= time.Second {
			old = l
			break
		}
	}
	oldID, oldEpoch := old.ID(), old.Epoch()
	s.cut = func(from, to int32) bool {
		voters := slices.Contains(s.voters, from) && slices.Contains(s.voters, to)
		return voters && (from == oldID) != (to == oldID)
	}
	s.event("cut leader %d of epoch %d off from the other voters", oldID, oldEpoch)
	cut := s.clock.Now()
	resigned, moved = -1, -1
	for resigned < 0 || moved < 0 {
		s.quietStep()
		since := s.clock.Now().Sub(cut)
		if since > 20*time.Second {
			s.fail("20 s after the cut: leader %d resigned after %v, observer moved after %v (-1: not yet)", oldID, resigned, moved)
		}
		if resigned < 0 && old.State() != Leader {
			resigned = since
			s.event("leader %d is %s", oldID, old.State())
		}
		if moved < 0 && obs.node.State() == Follower && obs.node.Epoch() > oldEpoch {
			if l := s.node(obs.node.LeaderID()); l.node.State() == Leader && l.node.Epoch() == obs.node.Epoch() {
				moved = since
				s.event("observer follows leader %d of epoch %d", l.id, l.node.Epoch())
			}
		}
	}
	return resigned, moved, old.cfg.FetchTimeout
}

// quietStep is one step of the simulation without its random faults: the clock moves, due
// messages arrive, every node ticks, the leader sometimes appends, and the invariants are checked.
func (s *sim) quietStep() {
	s.step++
	s.clock.Advance(time.Millisecond + time.Duration(s.rng.Int64N(int64(15*time.Millisecond))))
	s.deliver()
	for _, sn := range s.nodes {
		if sn.node != nil {
			sn.node.Tick()
		}
	}
	if l := s.leader(); l != nil && s.rng.Float64() < 0.2 {
		s.appended++
		if _, err := l.Append(fmt.Appendf(nil, "e%d", s.appended)); err != nil {
			s.fail("append on leader %d: %v", l.ID(), err)
		}
	}
	s.check()
}
