package collector

import (
	"context"
	"errors"
	"slices"
	"time"

	"github.com/osprey-kafka/osprey/admin"
)

// The KRaft metadata quorum, read each cycle with DescribeQuorum (sent through a broker, which
// forwards it to the active controller), plus the finalized features and the fenced brokers. A
// cluster whose brokers do not know DescribeQuorum is a ZooKeeper-mode cluster and is not asked again.

// QuorumInfo is the KRaft quorum as the last cycle saw it. LeaderID is the active controller.
type QuorumInfo struct {
	// LeaderID is -1 while the quorum has no leader, or when no controller answered this cycle
	// (Error says why).
	LeaderID      int32 `json:"leaderId"`
	LeaderEpoch   int32 `json:"leaderEpoch"`
	HighWatermark int64 `json:"highWatermark"`
	// LeaderLogEndOffset is the leader's own log end offset, what lags are measured against; the
	// high watermark when the answer does not list the leader.
	LeaderLogEndOffset int64           `json:"leaderLogEndOffset"`
	Voters             []QuorumReplica `json:"voters"`
	Observers          []QuorumReplica `json:"observers"`
	// Nodes are the voters' listeners (DescribeQuorum v2, Kafka 3.9+); empty when not reported.
	Nodes []QuorumNode `json:"nodes"`
	// Features are the finalized feature levels; FeaturesEpoch is -1 when unknown.
	Features      []FeatureLevel `json:"features"`
	FeaturesEpoch int64          `json:"featuresEpoch"`
	// Fenced lists the brokers the controller has fenced (DescribeCluster v2, Kafka 4.0+);
	// FencedKnown is false when the brokers do not report it.
	Fenced      []int32 `json:"fenced"`
	FencedKnown bool    `json:"fencedKnown"`
	// EpochChanges counts the leader epoch changes seen within Config.FlapWindow, this cycle's
	// included: each is an election.
	EpochChanges int `json:"epochChanges"`
	// Version is the DescribeQuorum version answered: lag times need v1.
	Version int16     `json:"version"`
	Error   string    `json:"error,omitempty"`
	ReadAt  time.Time `json:"readAt"`
}

// QuorumReplica is one voter or observer.
type QuorumReplica struct {
	ID           int32  `json:"id"`
	Voter        bool   `json:"voter"`
	DirectoryID  string `json:"directoryId,omitempty"`
	LogEndOffset int64  `json:"logEndOffset"`
	// LogEndOffset and Lag (the records behind the leader's log end offset) are -1 when the leader
	// does not know the replica's offset: it has not fetched since this leader was elected.
	Lag int64 `json:"lag"`
	// LagSeconds is how long ago it was last caught up with the leader, -1 when unknown (never
	// caught up, or a broker before Kafka 3.3). LastFetchAgeSeconds is likewise for its last fetch.
	// Both are measured on the leader's clock (the leader's own entry is stamped with its time
	// now), so the console's clock skew does not enter.
	LagSeconds          float64   `json:"lagSeconds"`
	LastFetchAgeSeconds float64   `json:"lastFetchAgeSeconds"`
	LastCaughtUp        time.Time `json:"lastCaughtUp"` // zero when unknown
	LastFetch           time.Time `json:"lastFetch"`    // zero when unknown
}

// QuorumNode is one voter's listeners.
type QuorumNode struct {
	ID        int32            `json:"id"`
	Listeners []QuorumListener `json:"listeners"`
}

// QuorumListener is one named endpoint.
type QuorumListener struct {
	Name string `json:"name"`
	Host string `json:"host"`
	Port int32  `json:"port"`
}

// FeatureLevel is one finalized feature and the supported range of the broker that answered.
type FeatureLevel struct {
	Name         string `json:"name"`
	Level        int16  `json:"level"`
	SupportedMin int16  `json:"supportedMin"`
	SupportedMax int16  `json:"supportedMax"`
}

// MaxVoterLag returns the largest lag in records and in seconds among the voters (0 when none; a
// voter's unknown lag time does not count).
func (q *QuorumInfo) MaxVoterLag() (records int64, seconds float64) {
	for _, v := range q.Voters {
		records = max(records, v.Lag)
		seconds = max(seconds, v.LagSeconds)
	}
	return records, seconds
}

// CaughtUpVoters counts the voters that were caught up with the leader within the last within:
// the leader itself always is.
func (q *QuorumInfo) CaughtUpVoters(within time.Duration) int {
	n := 0
	for _, v := range q.Voters {
		if v.ID == q.LeaderID || (v.LagSeconds >= 0 && v.LagSeconds <= within.Seconds()) {
			n++
		}
	}
	return n
}

// quorumState is what the collector keeps about the quorum between cycles; pollMu held.
type quorumState struct {
	info        *QuorumInfo
	unsupported bool // the brokers refused DescribeQuorum: ZooKeeper mode; not asked again
	kraft       bool // a broker has answered DescribeQuorum (with data or a Kafka error)
	epoch       int32
	changes     []time.Time // leader epoch changes within Config.FlapWindow, oldest first
	features    *admin.Features
	featuresAt  time.Time
}

// refreshQuorum asks for the quorum every cycle (it is one small request, and the quorum alerts
// need each cycle's leader), the fenced brokers with it, and the features at GroupsInterval.
func (c *Collector) refreshQuorum(ctx context.Context, force bool, began time.Time, fail func(string, int32, error)) {
	qs := &c.st.q
	qctx, cancel := c.callCtx(ctx)
	defer cancel()
	q, err := c.client.DescribeQuorum(qctx)
	now := c.cfg.Now()
	var kerr *admin.KafkaError
	switch {
	case errors.Is(err, admin.ErrUnsupported):
		qs.unsupported = true // ZooKeeper mode, or a broker before 3.3
		return
	case err != nil && !qs.kraft && !errors.As(err, &kerr):
		fail("quorum", -1, err) // not known to be KRaft yet: nothing to show
		return
	case err != nil:
		// A KRaft cluster whose controller cannot answer: no leader is known this cycle.
		qs.kraft = true
		fail("quorum", -1, err)
		qs.info = &QuorumInfo{LeaderID: -1, LeaderEpoch: qs.epoch, FeaturesEpoch: -1, Error: err.Error(), ReadAt: now,
			Voters: []QuorumReplica{}, Observers: []QuorumReplica{}, Nodes: []QuorumNode{}, Features: []FeatureLevel{}, Fenced: []int32{},
			EpochChanges: qs.countChanges(now, c.cfg.FlapWindow)}
		return
	}
	qs.kraft = true
	if qs.epoch != 0 && q.LeaderEpoch != qs.epoch {
		qs.changes = append(qs.changes, now)
	}
	qs.epoch = q.LeaderEpoch
	info := quorumInfo(q, now)
	info.EpochChanges = qs.countChanges(now, c.cfg.FlapWindow)

	if force || qs.features == nil || due(qs.featuresAt, c.cfg.GroupsInterval, began) {
		qs.featuresAt = now
		if f, err := c.client.FinalizedFeatures(qctx); err != nil {
			fail("features", -1, err)
		} else {
			qs.features = f
		}
	}
	info.FeaturesEpoch = -1
	if f := qs.features; f != nil {
		info.FeaturesEpoch = f.Epoch
		for _, l := range f.Finalized {
			info.Features = append(info.Features, FeatureLevel(l))
		}
	}
	if d, err := c.client.DescribeCluster(qctx); err != nil {
		fail("fenced", -1, err)
	} else {
		for id := range d.Fenced {
			info.Fenced = append(info.Fenced, id)
		}
		slices.Sort(info.Fenced)
		info.FencedKnown = d.FencedKnown
	}
	if info.Features == nil {
		info.Features = []FeatureLevel{}
	}
	if info.Fenced == nil {
		info.Fenced = []int32{}
	}
	qs.info = info
}

// countChanges drops the epoch changes older than window and returns how many remain.
func (qs *quorumState) countChanges(now time.Time, window time.Duration) int {
	cut := 0
	for cut < len(qs.changes) && !qs.changes[cut].After(now.Add(-window)) {
		cut++
	}
	qs.changes = qs.changes[cut:]
	return len(qs.changes)
}

// quorumInfo converts a DescribeQuorum answer read at now.
func quorumInfo(q *admin.QuorumState, now time.Time) *QuorumInfo {
	info := &QuorumInfo{LeaderID: q.LeaderID, LeaderEpoch: q.LeaderEpoch, HighWatermark: q.HighWatermark,
		LeaderLogEndOffset: q.HighWatermark, Version: q.Version, ReadAt: now, Nodes: []QuorumNode{}}
	// The leader stamps its own entry with its time now: the reference for the others' ages.
	ref := now
	for _, v := range q.Voters {
		if v.ID == q.LeaderID {
			info.LeaderLogEndOffset = v.LogEndOffset
			if v.LastFetchTimestamp > 0 {
				ref = time.UnixMilli(v.LastFetchTimestamp)
			}
		}
	}
	conv := func(in []admin.QuorumReplica, voter bool) []QuorumReplica {
		out := make([]QuorumReplica, 0, len(in))
		for _, r := range in {
			qr := QuorumReplica{ID: r.ID, Voter: voter, DirectoryID: r.DirectoryID, LogEndOffset: r.LogEndOffset,
				Lag: max(info.LeaderLogEndOffset-r.LogEndOffset, 0), LagSeconds: -1, LastFetchAgeSeconds: -1}
			if r.LogEndOffset < 0 {
				qr.Lag = -1 // a leader elected since the replica last fetched does not know its offset
			}
			if r.LastCaughtUpTimestamp > 0 {
				qr.LastCaughtUp = time.UnixMilli(r.LastCaughtUpTimestamp)
				qr.LagSeconds = max(ref.Sub(qr.LastCaughtUp).Seconds(), 0)
			}
			if r.LastFetchTimestamp > 0 {
				qr.LastFetch = time.UnixMilli(r.LastFetchTimestamp)
				qr.LastFetchAgeSeconds = max(ref.Sub(qr.LastFetch).Seconds(), 0)
			}
			out = append(out, qr)
		}
		return out
	}
	info.Voters, info.Observers = conv(q.Voters, true), conv(q.Observers, false)
	for _, n := range q.Nodes {
		qn := QuorumNode{ID: n.ID, Listeners: make([]QuorumListener, 0, len(n.Listeners))}
		for _, l := range n.Listeners {
			qn.Listeners = append(qn.Listeners, QuorumListener(l))
		}
		info.Nodes = append(info.Nodes, qn)
	}
	return info
}

// QuorumSample is one cycle's quorum figures for the history (see Samples.Quorum).
type QuorumSample struct {
	LeaderID       int32
	LeaderEpoch    int32
	HighWatermark  int64
	Voters         int
	MaxVoterLag    int64
	MaxVoterLagSec float64
	Replicas       []QuorumReplica
}

// quorumSample is the sample of q, nil for a ZooKeeper-mode cluster.
func quorumSample(q *QuorumInfo) *QuorumSample {
	if q == nil {
		return nil
	}
	recs, secs := q.MaxVoterLag()
	s := &QuorumSample{LeaderID: q.LeaderID, LeaderEpoch: q.LeaderEpoch, HighWatermark: q.HighWatermark,
		Voters: len(q.Voters), MaxVoterLag: recs, MaxVoterLagSec: secs}
	s.Replicas = append(append(s.Replicas, q.Voters...), q.Observers...)
	return s
}
