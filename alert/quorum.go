package alert

import (
	"fmt"
	"strconv"
	"time"

	"github.com/osprey-kafka/osprey/collector"
)

// The KRaft quorum's rules, read from the snapshot's Quorum (collector.QuorumInfo). A ZooKeeper-mode
// cluster never fires them; a KRaft cluster not reached this cycle keeps their state.
//
//	quorum_no_leader          fires per cluster while the quorum has no leader (no active controller).
//	quorum_voter_lag_records  fires per voter more than Threshold records behind the leader.
//	quorum_voter_lag_seconds  fires per voter not caught up with the leader for more than Threshold s.
//	quorum_at_risk            fires per cluster when fewer voters are caught up (within Threshold s)
//	                          than a majority + 1: one more failure loses the quorum.
//	broker_fenced             fires per broker the controller has fenced (Kafka 4.0+ reports it).
//	quorum_leader_flapping    fires per cluster when the leader epoch changed at least Threshold
//	                          times within the collector's flap window.
const (
	KindQuorumNoLeader        Kind = "quorum_no_leader"
	KindQuorumVoterLagRecords Kind = "quorum_voter_lag_records"
	KindQuorumVoterLagSeconds Kind = "quorum_voter_lag_seconds"
	KindQuorumAtRisk          Kind = "quorum_at_risk"
	KindBrokerFenced          Kind = "broker_fenced"
	KindQuorumLeaderFlapping  Kind = "quorum_leader_flapping"
)

// checkQuorumThreshold checks the threshold of the quorum kinds; false for other kinds.
func checkQuorumThreshold(ps *problems, r Rule) bool {
	switch r.Kind {
	case KindQuorumNoLeader, KindBrokerFenced:
		if r.Threshold != 0 {
			ps.add("threshold", "does not apply to %s rules; leave it 0", r.Kind)
		}
	case KindQuorumVoterLagRecords:
	case KindQuorumVoterLagSeconds, KindQuorumAtRisk:
		if r.Threshold <= 0 {
			ps.add("threshold", "must be a number of seconds above 0 for %s rules", r.Kind)
		}
	case KindQuorumLeaderFlapping:
		if r.Threshold < 1 {
			ps.add("threshold", "must be a number of leader elections, at least 1, for quorum_leader_flapping rules")
		}
	default:
		return false
	}
	return true
}

// evalQuorum evaluates the quorum kinds; handled is false for other kinds.
func evalQuorum(r Rule, c evalContext) (out []finding, handled bool) {
	var eval func(Rule, *collector.QuorumInfo, evalContext) []finding
	switch r.Kind {
	case KindQuorumNoLeader:
		eval = evalQuorumNoLeader
	case KindQuorumVoterLagRecords, KindQuorumVoterLagSeconds:
		eval = evalVoterLag
	case KindQuorumAtRisk:
		eval = evalQuorumAtRisk
	case KindBrokerFenced:
		eval = evalBrokerFenced
	case KindQuorumLeaderFlapping:
		eval = evalQuorumFlapping
	default:
		return nil, false
	}
	q := c.snap.Cluster.Quorum
	switch {
	case q != nil:
		return eval(r, q, c), true
	case c.snap.Cluster.KRaft && c.hist.quorum != nil:
		return keepQuorumAlerts(r, c.hist.quorum, c), true
	}
	return nil, true
}

// keepQuorumAlerts is a cycle that reached no broker of a KRaft cluster: every subject the rule
// could have fired for, by the last quorum seen, is unknown, so what fires keeps firing.
func keepQuorumAlerts(r Rule, last *collector.QuorumInfo, c evalContext) []finding {
	keep := func(label string, ids []int32) []finding {
		out := make([]finding, 0, len(ids))
		for _, id := range ids {
			out = append(out, finding{labels: map[string]string{label: strconv.Itoa(int(id))}, unknown: true})
		}
		return out
	}
	switch r.Kind {
	case KindQuorumVoterLagRecords, KindQuorumVoterLagSeconds:
		ids := make([]int32, 0, len(last.Voters))
		for _, v := range last.Voters {
			ids = append(ids, v.ID)
		}
		return keep("voter", ids)
	case KindBrokerFenced:
		return keep("broker", last.Fenced)
	}
	return []finding{{labels: map[string]string{}, subject: "cluster " + c.cluster, unknown: true}}
}

type quorumSamples struct {
	LeaderID       int32   `json:"leaderId"`
	LeaderEpoch    int32   `json:"leaderEpoch"`
	HighWatermark  int64   `json:"highWatermark"`
	Voters         []int32 `json:"voters"`
	CaughtUp       []int32 `json:"caughtUp,omitempty"`
	EpochChanges   int     `json:"epochChanges,omitempty"`
	Error          string  `json:"error,omitempty"`
	ReplicaLag     int64   `json:"replicaLag,omitempty"`
	ReplicaLagSecs float64 `json:"replicaLagSeconds,omitempty"`
}

func newQuorumSamples(q *collector.QuorumInfo) quorumSamples {
	s := quorumSamples{LeaderID: q.LeaderID, LeaderEpoch: q.LeaderEpoch, HighWatermark: q.HighWatermark, Error: q.Error, Voters: []int32{}}
	for _, v := range q.Voters {
		s.Voters = append(s.Voters, v.ID)
	}
	return s
}

func evalQuorumNoLeader(_ Rule, q *collector.QuorumInfo, c evalContext) []finding {
	if q.LeaderID >= 0 {
		return nil
	}
	why := "no voter has been elected"
	if q.Error != "" {
		why = "no controller answered: " + q.Error
	}
	return []finding{{labels: map[string]string{}, subject: "cluster " + c.cluster, value: 1,
		summary: fmt.Sprintf("The KRaft quorum of %s has no leader (no active controller; last epoch %d): %s", c.cluster, q.LeaderEpoch, why),
		samples: newQuorumSamples(q)}}
}

func evalVoterLag(r Rule, q *collector.QuorumInfo, c evalContext) []finding {
	var out []finding
	for _, v := range q.Voters {
		id := strconv.Itoa(int(v.ID))
		f := finding{labels: map[string]string{"voter": id}, subject: "voter " + id}
		var what string
		if r.Kind == KindQuorumVoterLagSeconds {
			if v.LagSeconds < 0 {
				continue // never caught up, or a controller before 3.3: nothing to compare
			}
			f.value = v.LagSeconds
			what = fmt.Sprintf("last caught up with the leader %s ago (threshold %s)", fmtSeconds(v.LagSeconds), fmtSeconds(r.Threshold))
		} else {
			if v.Lag < 0 {
				continue // offset unknown to this leader: quorum_at_risk sees such a voter
			}
			f.value = float64(v.Lag)
			what = fmt.Sprintf("%d records behind the leader (threshold %s)", v.Lag, fmtNum(r.Threshold))
		}
		if f.value <= r.Threshold {
			continue
		}
		f.summary = fmt.Sprintf("Quorum voter %d of %s is lagging: %s", v.ID, c.cluster, what)
		s := newQuorumSamples(q)
		s.ReplicaLag, s.ReplicaLagSecs = v.Lag, v.LagSeconds
		f.samples = s
		out = append(out, f)
	}
	return out
}

func evalQuorumAtRisk(r Rule, q *collector.QuorumInfo, c evalContext) []finding {
	if len(q.Voters) == 0 {
		return nil
	}
	within := time.Duration(r.Threshold * float64(time.Second))
	majority := len(q.Voters)/2 + 1
	caught := q.CaughtUpVoters(within)
	if caught >= majority+1 {
		return nil
	}
	s := newQuorumSamples(q)
	for _, v := range q.Voters {
		if v.ID == q.LeaderID || (v.LagSeconds >= 0 && v.LagSeconds <= within.Seconds()) {
			s.CaughtUp = append(s.CaughtUp, v.ID)
		}
	}
	state := "one more voter failure loses the quorum"
	if caught < majority {
		state = "the quorum has lost its majority"
	}
	return []finding{{labels: map[string]string{}, subject: "cluster " + c.cluster, value: float64(caught),
		summary: fmt.Sprintf("Only %d of %d quorum voters of %s are caught up (within %s; a majority is %d): %s",
			caught, len(q.Voters), c.cluster, fmtSeconds(r.Threshold), majority, state),
		samples: s}}
}

func evalBrokerFenced(_ Rule, q *collector.QuorumInfo, c evalContext) []finding {
	var out []finding
	for _, id := range q.Fenced {
		b := strconv.Itoa(int(id))
		out = append(out, finding{labels: map[string]string{"broker": b}, subject: "broker " + b, value: 1,
			summary: fmt.Sprintf("Broker %d of %s is fenced by the controller: it serves no partitions until its registration is current again", id, c.cluster),
			samples: brokerSample{Broker: id}})
	}
	return out
}

func evalQuorumFlapping(r Rule, q *collector.QuorumInfo, c evalContext) []finding {
	if float64(q.EpochChanges) < r.Threshold {
		return nil
	}
	s := newQuorumSamples(q)
	s.EpochChanges = q.EpochChanges
	return []finding{{labels: map[string]string{}, subject: "cluster " + c.cluster, value: float64(q.EpochChanges),
		summary: fmt.Sprintf("The KRaft quorum of %s is flapping: %d leader elections recently (threshold %s); now epoch %d, leader %d",
			c.cluster, q.EpochChanges, fmtNum(r.Threshold), q.LeaderEpoch, q.LeaderID),
		samples: s}}
}
