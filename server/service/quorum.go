package service

import (
	"context"
	"net/http"
	"slices"
	"time"

	"github.com/osprey-kafka/osprey/collector"
	"github.com/osprey-kafka/osprey/store"
)

// QuorumCaughtUpWithin is how recently a voter must have caught up with the leader for the Quorum page
// to count it caught up (the alert rules set their own bound).
const QuorumCaughtUpWithin = 10 * time.Second

// QuorumView is a KRaft cluster's metadata quorum as the last poll saw it.
type QuorumView struct {
	LeaderID           int32 `json:"leaderId" description:"The active controller; -1 while the quorum has no leader"`
	LeaderEpoch        int32 `json:"leaderEpoch"`
	HighWatermark      int64 `json:"highWatermark"`
	LeaderLogEndOffset int64 `json:"leaderLogEndOffset" description:"What lags are measured against"`
	// Voters and Majority: the quorum commits with Majority voters; CaughtUpVoters counts those caught
	// up within CaughtUpWithinSeconds (the leader included).
	Voters                []QuorumReplicaView `json:"voters"`
	Observers             []QuorumReplicaView `json:"observers"`
	Majority              int                 `json:"majority"`
	CaughtUpVoters        int                 `json:"caughtUpVoters"`
	CaughtUpWithinSeconds float64             `json:"caughtUpWithinSeconds"`
	Nodes                 []QuorumNodeView    `json:"nodes" description:"The voters' listeners (DescribeQuorum v2, Kafka 3.9+)"`
	Features              []QuorumFeatureView `json:"features"`
	FeaturesEpoch         int64               `json:"featuresEpoch" description:"-1 when unknown"`
	Brokers               []QuorumBrokerView  `json:"brokers"`
	FencedKnown           bool                `json:"fencedKnown" description:"The brokers report fencing (DescribeCluster v2, Kafka 4.0+)"`
	EpochChanges          int                 `json:"epochChanges" description:"Leader epoch changes within FlapWindowSeconds"`
	FlapWindowSeconds     float64             `json:"flapWindowSeconds"`
	Version               int16               `json:"version" description:"DescribeQuorum version answered; lag times need v1"`
	Error                 string              `json:"error,omitempty"`
	ReadAt                time.Time           `json:"readAt"`
}

// QuorumReplicaView is one voter or observer. LagSeconds and LastFetchAgeSeconds are -1 when unknown.
type QuorumReplicaView struct {
	ID                  int32   `json:"id"`
	Voter               bool    `json:"voter"`
	Leader              bool    `json:"leader"`
	CaughtUp            bool    `json:"caughtUp"`
	DirectoryID         string  `json:"directoryId,omitempty"`
	LogEndOffset        int64   `json:"logEndOffset"`
	Lag                 int64   `json:"lag" description:"Records behind the leader's log end offset; -1 when the leader does not know the replica's offset"`
	LagSeconds          float64 `json:"lagSeconds" description:"Since it was last caught up, on the leader's clock; -1 unknown"`
	LastFetchAgeSeconds float64 `json:"lastFetchAgeSeconds" description:"Since its last fetch, on the leader's clock; -1 unknown"`
}

// QuorumNodeView is one voter's listeners.
type QuorumNodeView struct {
	ID        int32                `json:"id"`
	Listeners []QuorumListenerView `json:"listeners"`
}

// QuorumListenerView is one named endpoint of a controller.
type QuorumListenerView struct {
	Name string `json:"name"`
	Host string `json:"host"`
	Port int32  `json:"port"`
}

// QuorumFeatureView is one finalized feature level and the supported range of the broker asked.
type QuorumFeatureView struct {
	Name         string `json:"name"`
	Level        int16  `json:"level"`
	SupportedMin int16  `json:"supportedMin"`
	SupportedMax int16  `json:"supportedMax"`
}

// QuorumBrokerView is a broker's registration state with the controller.
type QuorumBrokerView struct {
	ID       int32  `json:"id"`
	Host     string `json:"host"`
	Port     int32  `json:"port"`
	Up       bool   `json:"up"`
	Fenced   bool   `json:"fenced"`
	Observer bool   `json:"observer" description:"Fetches the metadata log as an observer"`
	Voter    bool   `json:"voter" description:"A combined node: broker and voting controller"`
}

var errNoQuorum = &UserError{Status: http.StatusNotFound, Code: "no_quorum",
	Message: "this cluster has no KRaft quorum (its brokers do not answer DescribeQuorum: ZooKeeper mode)"}

// Quorum reports the KRaft quorum from the latest snapshot.
func (s *Service) Quorum(cluster string) (QuorumView, error) {
	c, err := s.get(cluster)
	if err != nil {
		return QuorumView{}, err
	}
	snap, err := s.snapshot(cluster)
	if err != nil {
		return QuorumView{}, err
	}
	if !snap.Cluster.KRaft {
		return QuorumView{}, errNoQuorum
	}
	q := snap.Cluster.Quorum
	if q == nil { // the cluster was unreachable this cycle
		return QuorumView{LeaderID: -1, FeaturesEpoch: -1, Voters: []QuorumReplicaView{}, Observers: []QuorumReplicaView{},
			Nodes: []QuorumNodeView{}, Features: []QuorumFeatureView{}, Brokers: []QuorumBrokerView{},
			Error: "cluster unreachable", ReadAt: snap.Cluster.LastPoll}, nil
	}
	return quorumView(q, snap, c.collector.Config().FlapWindow), nil
}

func quorumView(q *collector.QuorumInfo, snap *collector.Snapshot, flap time.Duration) QuorumView {
	v := QuorumView{LeaderID: q.LeaderID, LeaderEpoch: q.LeaderEpoch, HighWatermark: q.HighWatermark,
		LeaderLogEndOffset: q.LeaderLogEndOffset, Majority: len(q.Voters)/2 + 1,
		CaughtUpVoters: q.CaughtUpVoters(QuorumCaughtUpWithin), CaughtUpWithinSeconds: QuorumCaughtUpWithin.Seconds(),
		FeaturesEpoch: q.FeaturesEpoch, FencedKnown: q.FencedKnown, EpochChanges: q.EpochChanges,
		FlapWindowSeconds: flap.Seconds(), Version: q.Version, Error: q.Error, ReadAt: q.ReadAt,
		Nodes: make([]QuorumNodeView, 0, len(q.Nodes)), Features: make([]QuorumFeatureView, 0, len(q.Features)),
		Brokers: make([]QuorumBrokerView, 0, len(snap.Brokers))}
	replica := func(r collector.QuorumReplica) QuorumReplicaView {
		caught := r.ID == q.LeaderID || (r.LagSeconds >= 0 && r.LagSeconds <= QuorumCaughtUpWithin.Seconds())
		return QuorumReplicaView{ID: r.ID, Voter: r.Voter, Leader: r.ID == q.LeaderID, CaughtUp: caught, DirectoryID: r.DirectoryID,
			LogEndOffset: r.LogEndOffset, Lag: r.Lag, LagSeconds: r.LagSeconds, LastFetchAgeSeconds: r.LastFetchAgeSeconds}
	}
	v.Voters = make([]QuorumReplicaView, 0, len(q.Voters))
	voters := map[int32]bool{}
	for _, r := range q.Voters {
		v.Voters = append(v.Voters, replica(r))
		voters[r.ID] = true
	}
	v.Observers = make([]QuorumReplicaView, 0, len(q.Observers))
	observers := map[int32]bool{}
	for _, r := range q.Observers {
		v.Observers = append(v.Observers, replica(r))
		observers[r.ID] = true
	}
	for _, n := range q.Nodes {
		nv := QuorumNodeView{ID: n.ID, Listeners: make([]QuorumListenerView, 0, len(n.Listeners))}
		for _, l := range n.Listeners {
			nv.Listeners = append(nv.Listeners, QuorumListenerView(l))
		}
		v.Nodes = append(v.Nodes, nv)
	}
	for _, f := range q.Features {
		v.Features = append(v.Features, QuorumFeatureView(f))
	}
	for _, b := range snap.Brokers {
		v.Brokers = append(v.Brokers, QuorumBrokerView{ID: b.ID, Host: b.Host, Port: b.Port, Up: b.Up,
			Fenced: slices.Contains(q.Fenced, b.ID), Observer: observers[b.ID], Voter: voters[b.ID]})
	}
	return v
}

// QuorumHistoryView is the quorum's history over a window: its figures per point and every leader
// change, oldest first.
type QuorumHistoryView struct {
	From          time.Time            `json:"from"`
	To            time.Time            `json:"to"`
	Points        []QuorumHistoryPoint `json:"points"`
	LeaderChanges []QuorumLeaderChange `json:"leaderChanges"`
}

// QuorumHistoryPoint is one poll's figures, or the worst of several polls when the window holds more
// than maxQuorumPoints (largest lags; the leader and epoch of the bucket's last poll).
type QuorumHistoryPoint struct {
	Time               time.Time `json:"time"`
	LeaderID           int32     `json:"leaderId"`
	LeaderEpoch        int32     `json:"leaderEpoch"`
	HighWatermark      int64     `json:"highWatermark"`
	MaxVoterLag        int64     `json:"maxVoterLag"`
	MaxVoterLagSeconds float64   `json:"maxVoterLagSeconds"`
}

// QuorumLeaderChange is a poll that saw a new leader epoch (an election) or lost the leader.
type QuorumLeaderChange struct {
	Time  time.Time `json:"time"`
	From  int32     `json:"from" description:"-1: no leader"`
	To    int32     `json:"to" description:"-1: no leader"`
	Epoch int32     `json:"epoch"`
}

// Bounds of a history answer: the polls read (7 days at a 15 s poll is 40320) and the points drawn.
const (
	maxQuorumRows   = 50000
	maxQuorumPoints = 360
)

// QuorumHistory reads the stored quorum samples of [from, to].
func (s *Service) QuorumHistory(ctx context.Context, cluster string, from, to time.Time) (QuorumHistoryView, error) {
	if _, err := s.get(cluster); err != nil {
		return QuorumHistoryView{}, err
	}
	if !to.After(from) {
		return QuorumHistoryView{}, badRequest("bad_window", "from must be before to")
	}
	out := QuorumHistoryView{From: from, To: to, Points: []QuorumHistoryPoint{}, LeaderChanges: []QuorumLeaderChange{}}
	if s.opts.Store == nil {
		return out, nil
	}
	rows, err := s.opts.Store.QuorumHistory(ctx, cluster, from, to, maxQuorumRows)
	if err != nil {
		return QuorumHistoryView{}, &UserError{Status: http.StatusServiceUnavailable, Code: "store_error", Message: "reading the quorum history failed", Cause: err}
	}
	out.LeaderChanges = leaderChanges(rows)
	out.Points = bucketQuorum(rows, from, to, maxQuorumPoints)
	return out, nil
}

// leaderChanges lists the polls whose leader or epoch differs from the poll before.
func leaderChanges(rows []store.QuorumPoint) []QuorumLeaderChange {
	out := []QuorumLeaderChange{}
	for i := 1; i < len(rows); i++ {
		p, r := rows[i-1], rows[i]
		if r.LeaderEpoch != p.LeaderEpoch || r.LeaderID != p.LeaderID {
			out = append(out, QuorumLeaderChange{Time: time.UnixMilli(r.Ts).UTC(), From: p.LeaderID, To: r.LeaderID, Epoch: r.LeaderEpoch})
		}
	}
	return out
}

// bucketQuorum returns rows as points, merged into at most n equal buckets of [from, to] when there
// are more rows: each bucket keeps its largest lags and its last poll's leader, epoch and watermark.
func bucketQuorum(rows []store.QuorumPoint, from, to time.Time, n int) []QuorumHistoryPoint {
	point := func(r store.QuorumPoint) QuorumHistoryPoint {
		return QuorumHistoryPoint{Time: time.UnixMilli(r.Ts).UTC(), LeaderID: r.LeaderID, LeaderEpoch: r.LeaderEpoch,
			HighWatermark: r.HighWatermark, MaxVoterLag: r.MaxVoterLag, MaxVoterLagSeconds: r.MaxVoterLagSec}
	}
	out := make([]QuorumHistoryPoint, 0, min(len(rows), n))
	if len(rows) <= n {
		for _, r := range rows {
			out = append(out, point(r))
		}
		return out
	}
	width := max(to.Sub(from).Milliseconds()/int64(n), 1)
	bucket := int64(-1)
	for _, r := range rows {
		b := (r.Ts - from.UnixMilli()) / width
		p := point(r)
		if b != bucket || len(out) == 0 {
			bucket = b
			out = append(out, p)
			continue
		}
		last := &out[len(out)-1]
		p.MaxVoterLag = max(p.MaxVoterLag, last.MaxVoterLag)
		p.MaxVoterLagSeconds = max(p.MaxVoterLagSeconds, last.MaxVoterLagSeconds)
		*last = p
	}
	return out
}

// quorumPoint converts a cycle's quorum sample for the store.
func quorumPoint(cluster string, at time.Time, q *collector.QuorumSample) (store.QuorumPoint, []store.QuorumReplicaPoint) {
	p := store.QuorumPoint{Cluster: cluster, Ts: at.UnixMilli(), LeaderID: q.LeaderID, LeaderEpoch: q.LeaderEpoch,
		HighWatermark: q.HighWatermark, Voters: q.Voters, MaxVoterLag: q.MaxVoterLag, MaxVoterLagSec: q.MaxVoterLagSec}
	reps := make([]store.QuorumReplicaPoint, 0, len(q.Replicas))
	for _, r := range q.Replicas {
		reps = append(reps, store.QuorumReplicaPoint{Cluster: cluster, Ts: p.Ts, ReplicaID: r.ID, Voter: r.Voter,
			LogEndOffset: r.LogEndOffset, Lag: r.Lag, LagSec: r.LagSeconds, FetchAgeSec: r.LastFetchAgeSeconds})
	}
	return p, reps
}
