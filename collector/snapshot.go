package collector

import (
	"sort"
	"time"
)

// Snapshot is one cluster's state after a poll cycle. It is immutable once
// published: readers may share it freely and must not modify it. Slices are
// sorted (brokers by id, topics and groups by name, partitions by number) so
// handlers can paginate; the lookup methods are O(1).
type Snapshot struct {
	Cluster ClusterInfo `json:"cluster"`
	Brokers []Broker    `json:"brokers"`
	Topics  []Topic     `json:"topics"`
	Groups  []Group     `json:"groups"`
	Totals  Totals      `json:"totals"`
	// Storage is the log directories' and topics' storage figures (in a snapshot of an
	// unreachable cluster, the previous ones with every directory's Error set; nil before any).
	// The API serves it on its own (not in snapshot events).
	Storage *Storage `json:"-"`
	// Security is the failed authentications and client quota throttling since the previous
	// cycle (security.go), nil when the cluster does not report them; for alert rules only.
	Security *SecurityActivity `json:"-"`

	brokerIdx map[int32]int
	topicIdx  map[string]int
	groupIdx  map[string]int
}

// ClusterInfo describes the cluster and the poll that produced the snapshot.
type ClusterInfo struct {
	Name         string        `json:"name"`
	ID           string        `json:"id"`
	Controller   int32         `json:"controller"` // -1 unknown
	LastPoll     time.Time     `json:"lastPoll"`
	PollDuration time.Duration `json:"pollDuration"`
	// Partial is true when some part of the cycle failed (see Errors).
	Partial bool        `json:"partial"`
	Errors  []PollError `json:"errors,omitempty"`
	// StaleSince is set while the cluster does not answer (no broker gave its metadata): the
	// start of the last cycle that reached it, whose topics and groups the snapshot still shows
	// (the first failed cycle's start when none did).
	StaleSince *time.Time `json:"staleSince,omitempty"`
	// Requests counts the Kafka requests this cycle sent, per API.
	Requests  map[string]int64 `json:"requests,omitempty"`
	ZooKeeper *ZooKeeperInfo   `json:"zookeeper,omitempty"`
	// Quorum is the KRaft metadata quorum (nil for ZooKeeper-mode clusters, and while a KRaft
	// cluster's quorum has not been read). KRaft says the brokers answer DescribeQuorum: it stays
	// true in the snapshots of a cycle that reached no broker.
	Quorum *QuorumInfo `json:"quorum,omitempty"`
	KRaft  bool        `json:"kraft"`
	// Sequence increases by one per published snapshot.
	Sequence uint64 `json:"sequence"`
	// Starting is true while some partition or broker is starting (see Config.StartingGrace):
	// the cluster or a topic was created moments ago and its leaders are being elected.
	Starting bool `json:"starting"`
	// Shared is true for a snapshot another console polled (the holder of the cluster's lease when
	// several consoles share one database), read from the database: this console neither evaluates
	// alerts on it nor records anything from it.
	Shared bool `json:"shared,omitempty"`
}

// PollError is one failure during a cycle. Broker is -1 when not broker-specific.
type PollError struct {
	Source  string `json:"source"` // metadata, offsets, groups, offsetFetch, logDirs, configs, zookeeper
	Broker  int32  `json:"broker"`
	Message string `json:"message"`
}

// ZooKeeperInfo is what the ZooKeeper reader saw (ZooKeeper-mode clusters).
type ZooKeeperInfo struct {
	Servers         []string  `json:"servers"`
	Connected       bool      `json:"connected"`
	Controller      int32     `json:"controller"`
	ControllerEpoch int64     `json:"controllerEpoch"`
	ControllerSince time.Time `json:"controllerSince"`
	// RegisteredBrokers are the ids under /brokers/ids.
	RegisteredBrokers    []int32  `json:"registeredBrokers"`
	PendingReassignments int      `json:"pendingReassignments"`
	PendingElections     int      `json:"pendingElections"`
	PendingDeletes       []string `json:"pendingDeletes,omitempty"`
	Error                string   `json:"error,omitempty"`
	// ReadAt is when the figures above were read: while ZooKeeper cannot be reached, the last
	// read that reached it.
	ReadAt time.Time `json:"readAt"`
	// UnreachableSince is set while ZooKeeper cannot be reached (no session, or the reads got no
	// answer): the first read that failed.
	UnreachableSince *time.Time `json:"unreachableSince,omitempty"`
	// Ensemble is each server's own view (its srvr answer).
	Ensemble []ZooKeeperServer `json:"ensemble"`
}

// ZooKeeperServer is one ensemble member's answer to srvr; OK is false (and
// Error set) when it did not answer or does not serve.
type ZooKeeperServer struct {
	Address      string  `json:"address"`
	OK           bool    `json:"ok"`
	Mode         string  `json:"mode,omitempty"` // leader, follower, observer, standalone
	Version      string  `json:"version,omitempty"`
	AvgLatencyMs float64 `json:"avgLatencyMs"`
	MaxLatencyMs int64   `json:"maxLatencyMs"`
	Connections  int64   `json:"connections"`
	Outstanding  int64   `json:"outstanding"`
	NodeCount    int64   `json:"nodeCount"`
	Zxid         int64   `json:"zxid"`
	Error        string  `json:"error,omitempty"`
}

// Broker is one broker as seen in this cycle.
type Broker struct {
	ID         int32  `json:"id"`
	Host       string `json:"host"`
	Port       int32  `json:"port"`
	Rack       string `json:"rack,omitempty"`
	Controller bool   `json:"controller"`
	// Up is false when the broker is missing from metadata (but still named
	// in replica lists or seen before) or its requests failed this cycle.
	Up    bool   `json:"up"`
	Error string `json:"error,omitempty"`
	// Starting is true for a broker that is not up and has not been up since it was first seen,
	// less than Config.StartingGrace ago (still registering); it is not reported down.
	Starting    bool    `json:"starting"`
	Leaders     int     `json:"leaders"`
	Replicas    int     `json:"replicas"`
	LogDirBytes int64   `json:"logDirBytes"` // -1 unknown
	MsgsPerSec  float64 `json:"msgsPerSec"`
	// BytesInPerSec is the growth of the log size of partitions it leads.
	BytesInPerSec float64 `json:"bytesInPerSec"`
}

// Topic is one topic with its partitions and derived figures.
type Topic struct {
	Name              string      `json:"name"`
	Internal          bool        `json:"internal"`
	Error             string      `json:"error,omitempty"`
	Partitions        []Partition `json:"partitions"`
	ReplicationFactor int         `json:"replicationFactor"`
	// MinISR is min.insync.replicas (described, else 1: Kafka's default).
	MinISR int `json:"minIsr"`
	// CleanupPolicy is cleanup.policy (delete, compact or both, comma-separated) as described;
	// "" until the topic's configs have been read.
	CleanupPolicy string `json:"cleanupPolicy,omitempty"`
	// Cleaner is a compacted topic's log cleaner state (cleaner.go); nil for other topics.
	Cleaner *TopicCleaner `json:"cleaner,omitempty"`
	// UnderReplicated, Offline and UnderMinISR count partitions that are not starting; Starting
	// counts the partitions whose leaders are still being elected (see Partition.Starting).
	UnderReplicated int `json:"underReplicated"`
	Offline         int `json:"offline"`
	UnderMinISR     int `json:"underMinIsr"`
	Starting        int `json:"starting"`
	// Brokers holding at least one replica, sorted.
	Brokers []int32 `json:"brokers"`
	// Percentages, CMAK definitions (see derive.go).
	BrokerSpread    float64 `json:"brokerSpread"`
	BrokerSkew      float64 `json:"brokerSkew"`
	LeaderSkew      float64 `json:"leaderSkew"`
	PreferredLeader float64 `json:"preferredLeader"`
	StartOffsetSum  int64   `json:"startOffsetSum"`
	EndOffsetSum    int64   `json:"endOffsetSum"`
	// Messages is EndOffsetSum − StartOffsetSum over partitions with both known.
	Messages    int64   `json:"messages"`
	SizeBytes   int64   `json:"sizeBytes"` // -1 unknown
	MsgsPerSec  float64 `json:"msgsPerSec"`
	BytesPerSec float64 `json:"bytesPerSec"`
}

// Partition is one partition. Offsets and size are -1 when unknown.
type Partition struct {
	Partition       int32   `json:"partition"`
	Leader          int32   `json:"leader"`
	LeaderEpoch     int32   `json:"leaderEpoch"`
	Replicas        []int32 `json:"replicas"`
	ISR             []int32 `json:"isr"`
	OfflineReplicas []int32 `json:"offlineReplicas,omitempty"`
	Offline         bool    `json:"offline"`
	UnderReplicated bool    `json:"underReplicated"`
	UnderMinISR     bool    `json:"underMinIsr"`
	PreferredLeader bool    `json:"preferredLeader"`
	// Starting is true for a partition that is offline, under-replicated or under min ISR but has
	// not been healthy since it was first seen, less than Config.StartingGrace ago: a new topic or
	// cluster whose leaders are being elected. Its other flags stay as observed.
	Starting bool `json:"starting"`
	// ISRChanges counts the polls within Config.FlapWindow at which the ISR differed from the one
	// before (a shrink and an expand are two changes).
	ISRChanges  int   `json:"isrChanges"`
	StartOffset int64 `json:"startOffset"`
	EndOffset   int64 `json:"endOffset"`
	// StableOffset is the last stable offset (LSO, ListOffsets at read_committed): what a
	// read_committed consumer can read up to. Below EndOffset while a transaction is open; -1 unknown.
	StableOffset int64 `json:"stableOffset"`
	// StableStuckSeconds is how long the LSO has stayed at its value while behind EndOffset (0 when
	// it is not behind), over consecutive cycles.
	StableStuckSeconds float64 `json:"stableStuckSeconds"`
	// StableStuckWrites is how far the high watermark has moved since the LSO stopped at its value:
	// above 0, the LSO has not moved while the high watermark has (a hanging transaction's sign).
	StableStuckWrites int64  `json:"stableStuckWrites"`
	SizeBytes         int64  `json:"sizeBytes"`
	Error             string `json:"error,omitempty"`
	// Cleaner is the log cleaner's state of a compacted partition on its leader; nil when the
	// leader does not report it.
	Cleaner *PartitionCleaner `json:"cleaner,omitempty"`
}

// Group is one consumer group.
type Group struct {
	Name         string `json:"name"`
	State        string `json:"state"`
	ProtocolType string `json:"protocolType"`
	Protocol     string `json:"protocol"`
	// Type is "classic", "consumer" (KIP-848) or "share" (KIP-932); classic when the broker's
	// ListGroups predates v5.
	Type string `json:"type"`
	// GroupEpoch, AssignmentEpoch and Assignor describe a consumer or share group's rebalance state.
	GroupEpoch      int32        `json:"groupEpoch,omitempty"`
	AssignmentEpoch int32        `json:"assignmentEpoch,omitempty"`
	Assignor        string       `json:"assignor,omitempty"`
	Coordinator     int32        `json:"coordinator"`
	Members         []Member     `json:"members"`
	Topics          []GroupTopic `json:"topics"`
	// TotalLag sums the known partition lags (-1 when none is known); LagSeconds is the largest.
	TotalLag   int64   `json:"lag"`
	LagSeconds float64 `json:"lagSeconds"`
	// CatchUp is the estimate over all its topics together (their summed offsets).
	CatchUp CatchUp `json:"catchUp"`
	Error   string  `json:"error,omitempty"`
	// Share sums a share group's in-flight figures (share.go); nil for other groups.
	Share *ShareGroupFigures `json:"share,omitempty"`
}

// Member is one group member. Assignment is decoded for "consumer" groups.
type Member struct {
	ID         string            `json:"id"`
	InstanceID string            `json:"instanceId,omitempty"`
	ClientID   string            `json:"clientId"`
	ClientHost string            `json:"clientHost"`
	Rack       string            `json:"rack,omitempty"`
	Assignment []TopicPartitions `json:"assignment,omitempty"`
	// Consumer group members: epoch, target assignment, subscription and whether the member has
	// not reached its target yet.
	Epoch            int32             `json:"epoch,omitempty"`
	Target           []TopicPartitions `json:"target,omitempty"`
	SubscribedTopics []string          `json:"subscribedTopics,omitempty"`
	SubscribedRegex  string            `json:"subscribedRegex,omitempty"`
	Reconciling      bool              `json:"reconciling,omitempty"`
}

// TopicPartitions names partitions of a topic.
type TopicPartitions struct {
	Topic      string  `json:"topic"`
	Partitions []int32 `json:"partitions"`
}

// GroupTopic is a group's position on one topic.
type GroupTopic struct {
	Topic string `json:"topic"`
	// Lag sums the known partition lags; -1 when no partition's lag is known.
	Lag          int64            `json:"lag"`
	LagSeconds   float64          `json:"lagSeconds"`
	CommittedSum int64            `json:"committedSum"`
	CatchUp      CatchUp          `json:"catchUp"`
	Partitions   []GroupPartition `json:"partitions"`
}

// GroupPartition is a group's committed offset and lag on one partition.
// End and Lag are -1 when the partition's end offset is unknown; such a lag is left out of the
// topic's, group's and cluster's sums.
type GroupPartition struct {
	Partition  int32   `json:"partition"`
	Committed  int64   `json:"committed"`
	End        int64   `json:"end"`
	Lag        int64   `json:"lag"`
	LagSeconds float64 `json:"lagSeconds"`
	// Stable is the partition's last stable offset (-1 unknown) and StableLag the lag of a
	// read_committed consumer at the committed offset: Stable − Committed, never negative (-1
	// unknown). Kafka does not tell which isolation level a group reads at, so both are given.
	Stable    int64 `json:"stable"`
	StableLag int64 `json:"stableLag"`
	// Member is the id of the member assigned this partition, if any (for a share group, one of
	// the members assigned it: several may share a partition).
	Member string `json:"member,omitempty"`
	// Share is a share group's state on the partition, whose Committed is then the
	// share-partition start offset (share.go); nil for other groups.
	Share *SharePartition `json:"share,omitempty"`
}

// Totals are cluster-wide sums over every topic, internal topics included. Internal is the internal
// topics' share of the topic figures; the console leaves internal topics out of the totals it shows
// unless asked (UserTopics), so its pages add up to what the topics list shows.
type Totals struct {
	Brokers   int `json:"brokers"`
	BrokersUp int `json:"brokersUp"`
	// BrokersStarting are brokers not up yet but still within their starting grace (not down).
	BrokersStarting int `json:"brokersStarting"`
	Topics          int `json:"topics"`
	Partitions      int `json:"partitions"`
	Replicas        int `json:"replicas"`
	// UnderReplicated, Offline and UnderMinISR leave out starting partitions, counted in Starting.
	UnderReplicated int     `json:"underReplicated"`
	Offline         int     `json:"offline"`
	UnderMinISR     int     `json:"underMinIsr"`
	Starting        int     `json:"starting"`
	Groups          int     `json:"groups"`
	Lag             int64   `json:"lag"`
	Messages        int64   `json:"messages"`
	SizeBytes       int64   `json:"sizeBytes"`
	MsgsPerSec      float64 `json:"msgsPerSec"`
	BytesPerSec     float64 `json:"bytesPerSec"`
	// Internal is the internal topics' (__consumer_offsets, __transaction_state, …) part of the figures above.
	Internal TopicSums `json:"internal"`
}

// TopicSums are the figures Totals sums over topics.
type TopicSums struct {
	Topics          int     `json:"topics"`
	Partitions      int     `json:"partitions"`
	UnderReplicated int     `json:"underReplicated"`
	Offline         int     `json:"offline"`
	UnderMinISR     int     `json:"underMinIsr"`
	Starting        int     `json:"starting"`
	Messages        int64   `json:"messages"`
	SizeBytes       int64   `json:"sizeBytes"`
	MsgsPerSec      float64 `json:"msgsPerSec"`
	BytesPerSec     float64 `json:"bytesPerSec"`
}

// UserTopics returns the totals without the internal topics' share (Internal is then zero).
func (t Totals) UserTopics() Totals {
	in := t.Internal
	t.Topics -= in.Topics
	t.Partitions -= in.Partitions
	t.UnderReplicated -= in.UnderReplicated
	t.Offline -= in.Offline
	t.UnderMinISR -= in.UnderMinISR
	t.Starting -= in.Starting
	t.Messages -= in.Messages
	t.SizeBytes -= in.SizeBytes
	t.MsgsPerSec -= in.MsgsPerSec
	t.BytesPerSec -= in.BytesPerSec
	t.Internal = TopicSums{}
	return t
}

// Broker returns the broker with id.
func (s *Snapshot) Broker(id int32) (*Broker, bool) {
	i, ok := s.brokerIdx[id]
	if !ok {
		return nil, false
	}
	return &s.Brokers[i], true
}

// Topic returns the topic named name.
func (s *Snapshot) Topic(name string) (*Topic, bool) {
	i, ok := s.topicIdx[name]
	if !ok {
		return nil, false
	}
	return &s.Topics[i], true
}

// Group returns the group named name.
func (s *Snapshot) Group(name string) (*Group, bool) {
	i, ok := s.groupIdx[name]
	if !ok {
		return nil, false
	}
	return &s.Groups[i], true
}

// index sorts the slices and builds the lookup maps; called once before publishing.
func (s *Snapshot) index() {
	// Check before sorting: slices shared with the previous (published)
	// snapshot are already sorted and must not be written to (sort.Slice
	// makes no promise not to swap on sorted input).
	if less := func(i, j int) bool { return s.Brokers[i].ID < s.Brokers[j].ID }; !sort.SliceIsSorted(s.Brokers, less) {
		sort.Slice(s.Brokers, less)
	}
	if less := func(i, j int) bool { return s.Topics[i].Name < s.Topics[j].Name }; !sort.SliceIsSorted(s.Topics, less) {
		sort.Slice(s.Topics, less)
	}
	if less := func(i, j int) bool { return s.Groups[i].Name < s.Groups[j].Name }; !sort.SliceIsSorted(s.Groups, less) {
		sort.Slice(s.Groups, less)
	}
	s.brokerIdx = make(map[int32]int, len(s.Brokers))
	for i, b := range s.Brokers {
		s.brokerIdx[b.ID] = i
	}
	s.topicIdx = make(map[string]int, len(s.Topics))
	for i, t := range s.Topics {
		s.topicIdx[t.Name] = i
	}
	s.groupIdx = make(map[string]int, len(s.Groups))
	for i, g := range s.Groups {
		s.groupIdx[g.Name] = i
	}
}
