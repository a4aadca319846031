package alert

import (
	"strings"
	"testing"

	"github.com/osprey-kafka/osprey/collector"
)

// kraftQuorum is a quorum of voters 1, 2, 3 led by leader (-1: none); lags[i] is voter i+1's lag in
// records and lagSecs[i] its time since last caught up.
func kraftQuorum(leader int32, epoch int32, lags []int64, lagSecs []float64) *collector.QuorumInfo {
	q := &collector.QuorumInfo{LeaderID: leader, LeaderEpoch: epoch, HighWatermark: 1000}
	for i := range lags {
		q.Voters = append(q.Voters, collector.QuorumReplica{ID: int32(i + 1), Voter: true, LogEndOffset: 1000 - lags[i], Lag: lags[i], LagSeconds: lagSecs[i]})
	}
	return q
}

// kraftSnap is a KRaft cluster's snapshot with quorum q (nil: the cycle reached no broker).
func kraftSnap(h *harness, q *collector.QuorumInfo) *collector.Snapshot {
	s := newSnap("c1", h.now()).broker(1, true).build()
	s.Cluster.KRaft, s.Cluster.Quorum = true, q
	return s
}

func TestRuleQuorumNoLeader(t *testing.T) {
	h := newHarness(t, RuleInput{Name: "leaderless", Kind: KindQuorumNoLeader})
	h.observe(kraftSnap(h, kraftQuorum(1, 4, []int64{0, 0, 0}, []float64{0, 0, 0})))
	h.expectFiring(0)
	q := kraftQuorum(-1, 4, nil, nil)
	q.Error = "describe quorum: NOT_LEADER_OR_FOLLOWER"
	h.observe(kraftSnap(h, q))
	if a := h.expectFiring(1)[0]; !strings.Contains(a.Summary, "has no leader") || !strings.Contains(a.Summary, "NOT_LEADER_OR_FOLLOWER") {
		t.Fatalf("alert = %+v", a)
	}
	h.observe(kraftSnap(h, nil)) // unreachable: no evidence either way
	h.expectFiring(1)
	h.observe(kraftSnap(h, kraftQuorum(2, 5, []int64{0, 0, 0}, []float64{0, 0, 0})))
	h.expectFiring(0)

	// A ZooKeeper-mode cluster has no quorum and never fires.
	s := newSnap("c1", h.now()).broker(1, true).build()
	h.observe(s)
	h.expectFiring(0)
}

func TestRuleQuorumVoterLag(t *testing.T) {
	h := newHarness(t,
		RuleInput{Name: "records", Kind: KindQuorumVoterLagRecords, Threshold: 100},
		RuleInput{Name: "seconds", Kind: KindQuorumVoterLagSeconds, Threshold: 30})
	h.observe(kraftSnap(h, kraftQuorum(1, 4, []int64{0, 100, -1}, []float64{0, 30, -1})))
	h.expectFiring(0) // at the thresholds, and an unknown offset or lag time, do not fire
	h.observe(kraftSnap(h, kraftQuorum(1, 4, []int64{0, 101, 5000}, []float64{0, 31, 2})))
	f := h.expectFiring(3)
	byRule := map[string][]string{}
	for _, a := range f {
		byRule[a.RuleName] = append(byRule[a.RuleName], a.Labels["voter"])
	}
	if len(byRule["records"]) != 2 || len(byRule["seconds"]) != 1 || byRule["seconds"][0] != "2" {
		t.Fatalf("firing = %v, want records on voters 2 and 3, seconds on voter 2", byRule)
	}
	h.observe(kraftSnap(h, nil))
	h.expectFiring(3) // a cycle that reached no broker keeps them
	h.observe(kraftSnap(h, kraftQuorum(1, 4, []int64{0, 0, 0}, []float64{0, 0, 0})))
	h.expectFiring(0)
}

func TestRuleQuorumAtRisk(t *testing.T) {
	h := newHarness(t, RuleInput{Name: "risk", Kind: KindQuorumAtRisk, Threshold: 10})
	h.observe(kraftSnap(h, kraftQuorum(1, 4, []int64{0, 3, 9}, []float64{0, 1, 10})))
	h.expectFiring(0) // 3 caught up; majority 2 + 1 = 3
	h.observe(kraftSnap(h, kraftQuorum(1, 4, []int64{0, 3, 900}, []float64{0, 1, 45})))
	if a := h.expectFiring(1)[0]; a.Value != 2 || !strings.Contains(a.Summary, "Only 2 of 3") || !strings.Contains(a.Summary, "one more voter failure loses the quorum") {
		t.Fatalf("alert = %+v", a)
	}
	// The leader counts even without a lag time of its own; voter 2 never caught up.
	h.observe(kraftSnap(h, kraftQuorum(1, 4, []int64{0, 3, 900}, []float64{-1, -1, 45})))
	if a := h.expectFiring(1)[0]; a.Value != 1 || !strings.Contains(a.Summary, "lost its majority") {
		t.Fatalf("alert = %+v", a)
	}
	h.observe(kraftSnap(h, kraftQuorum(1, 4, []int64{0, 0, 0}, []float64{0, 0, 0})))
	h.expectFiring(0)
}

func TestRuleBrokerFenced(t *testing.T) {
	h := newHarness(t, RuleInput{Name: "fenced", Kind: KindBrokerFenced})
	q := kraftQuorum(1, 4, []int64{0, 0, 0}, []float64{0, 0, 0})
	h.observe(kraftSnap(h, q))
	h.expectFiring(0)
	fenced := *q
	fenced.Fenced, fenced.FencedKnown = []int32{5}, true
	h.observe(kraftSnap(h, &fenced))
	if a := h.expectFiring(1)[0]; a.Labels["broker"] != "5" || !strings.Contains(a.Summary, "Broker 5 of c1 is fenced") {
		t.Fatalf("alert = %+v", a)
	}
	h.observe(kraftSnap(h, nil))
	h.expectFiring(1)
	h.observe(kraftSnap(h, q))
	h.expectFiring(0)
}

func TestRuleQuorumLeaderFlapping(t *testing.T) {
	h := newHarness(t, RuleInput{Name: "flap", Kind: KindQuorumLeaderFlapping, Threshold: 3})
	q := func(changes int) *collector.QuorumInfo {
		q := kraftQuorum(2, 9, []int64{0, 0, 0}, []float64{0, 0, 0})
		q.EpochChanges = changes
		return q
	}
	h.observe(kraftSnap(h, q(2)))
	h.expectFiring(0)
	h.observe(kraftSnap(h, q(3)))
	if a := h.expectFiring(1)[0]; a.Value != 3 || !strings.Contains(a.Summary, "3 leader elections recently") {
		t.Fatalf("alert = %+v", a)
	}
	h.observe(kraftSnap(h, q(0)))
	h.expectFiring(0)
}

// In a KRaft cluster the controller is the quorum leader (the collector sets it): controller_changed
// names it so, a controller-only node included.
func TestRuleControllerChangedKRaft(t *testing.T) {
	h := newHarness(t, RuleInput{Name: "ctl", Kind: KindControllerChanged, WindowSamples: 3})
	snap := func(leader int32) *collector.Snapshot {
		s := kraftSnap(h, kraftQuorum(leader, leader, []int64{0, 0, 0}, []float64{0, 0, 0}))
		s.Cluster.Controller = leader
		return s
	}
	h.observe(snap(3001))
	h.expectFiring(0)
	h.observe(snap(3002))
	if a := h.expectFiring(1)[0]; !strings.Contains(a.Summary, "active controller (KRaft quorum leader) moved from node 3001 to node 3002") {
		t.Fatalf("alert = %+v", a)
	}
}

func TestQuorumRuleValidation(t *testing.T) {
	for _, c := range []struct {
		in   RuleInput
		want string
	}{
		{RuleInput{Name: "x", Kind: KindQuorumNoLeader, Threshold: 1}, "does not apply"},
		{RuleInput{Name: "x", Kind: KindQuorumVoterLagSeconds}, "seconds above 0"},
		{RuleInput{Name: "x", Kind: KindQuorumAtRisk}, "seconds above 0"},
		{RuleInput{Name: "x", Kind: KindQuorumLeaderFlapping}, "at least 1"},
		{RuleInput{Name: "x", Kind: KindBrokerFenced, Topic: "t"}, "topic"},
	} {
		if _, err := c.in.normalize(); err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s %+v: %v, want %q", c.in.Kind, c.in, err, c.want)
		}
	}
	if _, err := (RuleInput{Name: "x", Kind: KindQuorumVoterLagRecords}).normalize(); err != nil {
		t.Errorf("voter lag of 0 records: %v", err)
	}
}
