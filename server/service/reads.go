package service

import (
	"cmp"
	"net/http"
	"slices"
	"strings"
	"time"

	"github.com/osprey-kafka/osprey/alert"
	"github.com/osprey-kafka/osprey/collector"
)

// Reads answer from the latest snapshot only: no Kafka call, no database query.

// ListQuery selects, orders and pages a list.
type ListQuery struct {
	// Search keeps rows whose name contains it (case-insensitive).
	Search string
	// Sort is a field name of the row; Desc reverses it.
	Sort   string
	Desc   bool
	Limit  int
	Offset int
	// Internal includes internal topics (names starting with "__").
	Internal bool
}

func (s *Service) snapshot(name string) (*collector.Snapshot, error) {
	snap, err := s.Snapshot(name)
	if err != nil {
		return nil, err
	}
	if snap == nil {
		return nil, &UserError{Status: http.StatusServiceUnavailable, Code: "not_polled",
			Message: "cluster " + name + " has not been polled yet; try again in a few seconds"}
	}
	return snap, nil
}

// BrokerRow is a broker as the API lists it.
type BrokerRow struct {
	ID         int32  `json:"id"`
	Host       string `json:"host"`
	Port       int32  `json:"port"`
	Rack       string `json:"rack"`
	Controller bool   `json:"controller"`
	Up         bool   `json:"up"`
	Error      string `json:"error,omitempty"`
	// Starting: not up yet, still registering within the collector's starting grace (not down).
	Starting bool `json:"starting"`
	Leaders  int  `json:"leaders"`
	Replicas int  `json:"replicas"`
	// LogDirBytes is null when unknown (the broker is down or its DescribeLogDirs failed).
	LogDirBytes   *int64  `json:"logDirBytes"`
	MsgsPerSec    float64 `json:"msgsPerSec"`
	BytesInPerSec float64 `json:"bytesInPerSec"`
}

// Brokers lists a cluster's brokers by id.
func (s *Service) Brokers(cluster string) ([]BrokerRow, error) {
	snap, err := s.snapshot(cluster)
	if err != nil {
		return nil, err
	}
	out := make([]BrokerRow, 0, len(snap.Brokers))
	for _, b := range snap.Brokers {
		out = append(out, BrokerRow{ID: b.ID, Host: b.Host, Port: b.Port, Rack: b.Rack, Controller: b.Controller, Up: b.Up,
			Error: b.Error, Starting: b.Starting, Leaders: b.Leaders, Replicas: b.Replicas, LogDirBytes: known(b.LogDirBytes),
			MsgsPerSec: b.MsgsPerSec, BytesInPerSec: b.BytesInPerSec})
	}
	return out, nil
}

// TopicRow is a topic as the API lists it.
type TopicRow struct {
	Name              string `json:"name"`
	Internal          bool   `json:"internal"`
	Partitions        int    `json:"partitions"`
	ReplicationFactor int    `json:"replicationFactor"`
	UnderReplicated   int    `json:"underReplicated"`
	Offline           int    `json:"offline"`
	UnderMinISR       int    `json:"underMinIsr"`
	// Starting counts partitions whose leaders are still being elected (a new topic or cluster);
	// they are not in the under-replicated / offline / under-min-ISR counts.
	Starting        int     `json:"starting"`
	MinISR          int     `json:"minIsr"`
	BrokerSpread    float64 `json:"brokerSpread"`
	BrokerSkew      float64 `json:"brokerSkew"`
	LeaderSkew      float64 `json:"leaderSkew"`
	PreferredLeader float64 `json:"preferredLeader"`
	Messages        int64   `json:"messages"`
	// SizeBytes is null when no replica's size is known.
	SizeBytes   *int64  `json:"sizeBytes"`
	MsgsPerSec  float64 `json:"msgsPerSec"`
	BytesPerSec float64 `json:"bytesPerSec"`
	Error       string  `json:"error,omitempty"`
}

func topicRow(t *collector.Topic) TopicRow {
	return TopicRow{Name: t.Name, Internal: t.Internal, Partitions: len(t.Partitions), ReplicationFactor: t.ReplicationFactor,
		UnderReplicated: t.UnderReplicated, Offline: t.Offline, UnderMinISR: t.UnderMinISR, Starting: t.Starting, MinISR: t.MinISR,
		BrokerSpread: t.BrokerSpread, BrokerSkew: t.BrokerSkew, LeaderSkew: t.LeaderSkew, PreferredLeader: t.PreferredLeader,
		Messages: t.Messages, SizeBytes: known(t.SizeBytes), MsgsPerSec: t.MsgsPerSec, BytesPerSec: t.BytesPerSec, Error: t.Error}
}

// topicSorts are the sortable topic columns.
var topicSorts = map[string]func(a, b *collector.Topic) int{
	"name":              func(a, b *collector.Topic) int { return strings.Compare(a.Name, b.Name) },
	"partitions":        func(a, b *collector.Topic) int { return cmp.Compare(len(a.Partitions), len(b.Partitions)) },
	"replicationFactor": func(a, b *collector.Topic) int { return cmp.Compare(a.ReplicationFactor, b.ReplicationFactor) },
	"underReplicated":   func(a, b *collector.Topic) int { return cmp.Compare(a.UnderReplicated, b.UnderReplicated) },
	"offline":           func(a, b *collector.Topic) int { return cmp.Compare(a.Offline, b.Offline) },
	"brokerSpread":      func(a, b *collector.Topic) int { return cmp.Compare(a.BrokerSpread, b.BrokerSpread) },
	"brokerSkew":        func(a, b *collector.Topic) int { return cmp.Compare(a.BrokerSkew, b.BrokerSkew) },
	"leaderSkew":        func(a, b *collector.Topic) int { return cmp.Compare(a.LeaderSkew, b.LeaderSkew) },
	"preferredLeader":   func(a, b *collector.Topic) int { return cmp.Compare(a.PreferredLeader, b.PreferredLeader) },
	"messages":          func(a, b *collector.Topic) int { return cmp.Compare(a.Messages, b.Messages) },
	"sizeBytes":         func(a, b *collector.Topic) int { return cmp.Compare(a.SizeBytes, b.SizeBytes) },
	"msgsPerSec":        func(a, b *collector.Topic) int { return cmp.Compare(a.MsgsPerSec, b.MsgsPerSec) },
	"bytesPerSec":       func(a, b *collector.Topic) int { return cmp.Compare(a.BytesPerSec, b.BytesPerSec) },
}

// Topics lists a cluster's topics: filtered, sorted, paged. Total counts the filtered rows.
func (s *Service) Topics(cluster string, q ListQuery) ([]TopicRow, int, error) {
	snap, err := s.snapshot(cluster)
	if err != nil {
		return nil, 0, err
	}
	less, err := sorter(topicSorts, q.Sort, "name")
	if err != nil {
		return nil, 0, err
	}
	order := s.orders.get(orderKey{cluster, "topics", cmp.Or(q.Sort, "name"), q.Desc}, snap, func() []int {
		return sortedIndexes(snap.Topics, less, q.Desc, func(t *collector.Topic) string { return t.Name })
	})
	search := strings.ToLower(q.Search)
	sel := make([]*collector.Topic, 0, len(order))
	for _, i := range order {
		t := &snap.Topics[i]
		if (!q.Internal && t.Internal) || (search != "" && !strings.Contains(strings.ToLower(t.Name), search)) {
			continue
		}
		sel = append(sel, t)
	}
	page := pageOf(sel, q.Limit, q.Offset)
	out := make([]TopicRow, 0, len(page))
	for _, t := range page {
		out = append(out, topicRow(t))
	}
	return out, len(sel), nil
}

// known maps the snapshot's "-1 = unknown" to null, so an unknown size is never shown as a number.
func known(v int64) *int64 {
	if v < 0 {
		return nil
	}
	return &v
}

// TopicDetail is one topic with its partitions and the groups that consume it.
type TopicDetail struct {
	TopicRow
	Brokers     []int32         `json:"brokers"`
	PartitionsL []PartitionRow  `json:"partitionList"`
	Consumers   []TopicConsumer `json:"consumers"`
	// CleanupPolicy is cleanup.policy (delete, compact or both); absent until the topic's configs
	// have been read. Cleaner is a compacted topic's log cleaner state: reported only by runtime
	// clusters whose brokers run in the console (Kafka exposes it through JMX alone).
	CleanupPolicy string                  `json:"cleanupPolicy,omitempty" description:"cleanup.policy: delete, compact or both; absent until the topic's configs have been read"`
	Cleaner       *collector.TopicCleaner `json:"cleaner,omitempty" description:"compacted topics only; reported false when the cluster does not report its log cleaner's state"`
}

// PartitionRow is a partition as the API shows it: offsets and size are null when unknown.
type PartitionRow struct {
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
	// Starting: the partition's leader is still being elected (a new topic or cluster); its other
	// flags stay as observed.
	Starting    bool   `json:"starting"`
	StartOffset *int64 `json:"startOffset"`
	EndOffset   *int64 `json:"endOffset"`
	// StableOffset is the last stable offset (null when unknown), below EndOffset while a
	// transaction is open; StableStuckSeconds how long it has stayed there (0 when not behind).
	StableOffset       *int64  `json:"stableOffset"`
	StableStuckSeconds float64 `json:"stableStuckSeconds"`
	SizeBytes          *int64  `json:"sizeBytes"`
	Error              string  `json:"error,omitempty"`
	// Cleaner is a compacted partition's log cleaner state on its leader, when reported.
	Cleaner *collector.PartitionCleaner `json:"cleaner,omitempty"`
}

func partitionRow(p collector.Partition) PartitionRow {
	return PartitionRow{Partition: p.Partition, Leader: p.Leader, LeaderEpoch: p.LeaderEpoch, Replicas: p.Replicas, ISR: p.ISR,
		OfflineReplicas: p.OfflineReplicas, Offline: p.Offline, UnderReplicated: p.UnderReplicated, UnderMinISR: p.UnderMinISR,
		PreferredLeader: p.PreferredLeader, Starting: p.Starting, StartOffset: known(p.StartOffset), EndOffset: known(p.EndOffset),
		StableOffset: known(p.StableOffset), StableStuckSeconds: p.StableStuckSeconds, SizeBytes: known(p.SizeBytes), Error: p.Error,
		Cleaner: p.Cleaner}
}

// TopicConsumer is a group's position on the topic.
type TopicConsumer struct {
	Group string `json:"group"`
	State string `json:"state"`
	// Lag is null when none of the group's partition lags on the topic is known.
	Lag        *int64  `json:"lag"`
	LagSeconds float64 `json:"lagSeconds"`
}

// Topic returns one topic in detail.
func (s *Service) Topic(cluster, name string) (TopicDetail, error) {
	snap, err := s.snapshot(cluster)
	if err != nil {
		return TopicDetail{}, err
	}
	t, ok := snap.Topic(name)
	if !ok {
		return TopicDetail{}, topicNotFound(cluster, name)
	}
	d := TopicDetail{TopicRow: topicRow(t), Brokers: t.Brokers, PartitionsL: make([]PartitionRow, 0, len(t.Partitions)), Consumers: []TopicConsumer{},
		CleanupPolicy: t.CleanupPolicy, Cleaner: t.Cleaner}
	for _, p := range t.Partitions {
		d.PartitionsL = append(d.PartitionsL, partitionRow(p))
	}
	for _, g := range snap.Groups {
		for _, gt := range g.Topics {
			if gt.Topic == name {
				d.Consumers = append(d.Consumers, TopicConsumer{Group: g.Name, State: g.State, Lag: known(gt.Lag), LagSeconds: gt.LagSeconds})
			}
		}
	}
	return d, nil
}

// GroupRow is a consumer group as the API lists it.
type GroupRow struct {
	Name         string `json:"name"`
	State        string `json:"state"`
	ProtocolType string `json:"protocolType"`
	Protocol     string `json:"protocol"`
	// Type is the group's protocol: "classic", "consumer" (KIP-848) or "share" (KIP-932).
	Type        string `json:"type"`
	Coordinator int32  `json:"coordinator"`
	Members     int    `json:"members"`
	Topics      int    `json:"topics"`
	// Lag sums the known partition lags; null when none is known.
	Lag        *int64  `json:"lag"`
	LagSeconds float64 `json:"lagSeconds"`
	// Status is the Burrow-style window status (OK, WARN, ERR); empty until enough polls were seen.
	Status string `json:"status,omitempty"`
	Error  string `json:"error,omitempty"`
	// CatchUp estimates when the group reaches the log end on all its topics (see docs/HISTORY.md).
	CatchUp collector.CatchUp `json:"catchUp"`
}

func groupRow(g *collector.Group) GroupRow {
	return GroupRow{Name: g.Name, State: g.State, ProtocolType: g.ProtocolType, Protocol: g.Protocol, Type: g.Type, Coordinator: g.Coordinator,
		Members: len(g.Members), Topics: len(g.Topics), Lag: known(g.TotalLag), LagSeconds: g.LagSeconds, Error: g.Error,
		CatchUp: g.CatchUp}
}

var groupSorts = map[string]func(a, b *collector.Group) int{
	"name":       func(a, b *collector.Group) int { return strings.Compare(a.Name, b.Name) },
	"state":      func(a, b *collector.Group) int { return strings.Compare(a.State, b.State) },
	"type":       func(a, b *collector.Group) int { return strings.Compare(a.Type, b.Type) },
	"members":    func(a, b *collector.Group) int { return cmp.Compare(len(a.Members), len(b.Members)) },
	"topics":     func(a, b *collector.Group) int { return cmp.Compare(len(a.Topics), len(b.Topics)) },
	"lag":        func(a, b *collector.Group) int { return cmp.Compare(a.TotalLag, b.TotalLag) },
	"lagSeconds": func(a, b *collector.Group) int { return cmp.Compare(a.LagSeconds, b.LagSeconds) },
	"catchUp":    func(a, b *collector.Group) int { return cmp.Compare(a.CatchUp.Sort(), b.CatchUp.Sort()) },
}

// Groups lists a cluster's consumer groups: filtered, sorted, paged.
func (s *Service) Groups(cluster string, q ListQuery) ([]GroupRow, int, error) {
	snap, err := s.snapshot(cluster)
	if err != nil {
		return nil, 0, err
	}
	less, err := sorter(groupSorts, q.Sort, "name")
	if err != nil {
		return nil, 0, err
	}
	order := s.orders.get(orderKey{cluster, "groups", cmp.Or(q.Sort, "name"), q.Desc}, snap, func() []int {
		return sortedIndexes(snap.Groups, less, q.Desc, func(g *collector.Group) string { return g.Name })
	})
	search := strings.ToLower(q.Search)
	sel := make([]*collector.Group, 0, len(order))
	for _, i := range order {
		g := &snap.Groups[i]
		if search != "" && !strings.Contains(strings.ToLower(g.Name), search) {
			continue
		}
		sel = append(sel, g)
	}
	page := pageOf(sel, q.Limit, q.Offset)
	var statuses map[string]string
	if s.opts.GroupStatuses != nil {
		statuses = s.opts.GroupStatuses(cluster)
	}
	out := make([]GroupRow, 0, len(page))
	for _, g := range page {
		row := groupRow(g)
		row.Status = statuses[g.Name]
		out = append(out, row)
	}
	return out, len(sel), nil
}

// GroupDetail is one group with its members and per-partition positions.
type GroupDetail struct {
	GroupRow
	MemberList []GroupMember   `json:"memberList"`
	TopicList  []GroupTopicRow `json:"topicList"`
	PolledAt   time.Time       `json:"polledAt"`
	// Status is the Burrow-style window status in detail (per-partition OK/WARN/STALL/STOP/REWIND);
	// null until enough polls have been seen. It takes the place of the list row's status name.
	Status *alert.GroupStatus `json:"status"`
	// Active says that executing an offset reset would be refused (groupActive, the rule
	// ResetOffsets applies to the same snapshot), so the page and the reset dialog show the
	// server's decision with the state and members it is based on.
	Active bool `json:"active"`
	// Consumer is set for a consumer group (KIP-848): its rebalance state.
	Consumer *ConsumerGroupState `json:"consumer,omitempty"`
	// Share is set for a share group (KIP-932): its epochs and in-flight figures.
	Share *ShareGroupState `json:"share,omitempty"`
}

// ShareGroupState is a share group's epochs, assignor and the sums of its share-partitions'
// in-flight records (Figures.Reported false: the cluster does not report them).
type ShareGroupState struct {
	GroupEpoch      int32                       `json:"groupEpoch"`
	AssignmentEpoch int32                       `json:"assignmentEpoch"`
	Assignor        string                      `json:"assignor"`
	Figures         collector.ShareGroupFigures `json:"figures"`
}

// ConsumerGroupState is a consumer group's rebalance state: the group epoch moves with every
// membership or subscription change, the assignment epoch is the group epoch the target assignment
// was computed at, and members reach their target one by one (reconciling until they do).
type ConsumerGroupState struct {
	GroupEpoch      int32  `json:"groupEpoch"`
	AssignmentEpoch int32  `json:"assignmentEpoch"`
	Assignor        string `json:"assignor"`
	Reconciling     int    `json:"reconciling"`
}

// GroupMember is a member of a consumer group with the partitions assigned to it.
type GroupMember struct {
	ID         string            `json:"id"`
	InstanceID string            `json:"instanceId,omitempty"`
	ClientID   string            `json:"clientId"`
	ClientHost string            `json:"clientHost"`
	Assignment []TopicPartitions `json:"assignment,omitempty"`
	// A consumer group's member: its epoch (-2: a static member away for now), the target
	// assignment it is moving to, its subscription and whether it has not reached the target yet.
	Epoch            *int32            `json:"epoch,omitempty"`
	Target           []TopicPartitions `json:"target,omitempty"`
	SubscribedTopics []string          `json:"subscribedTopics,omitempty"`
	SubscribedRegex  string            `json:"subscribedRegex,omitempty"`
	Reconciling      bool              `json:"reconciling,omitempty"`
	// Rack is a share group member's rack, when it sent one.
	Rack string `json:"rack,omitempty"`
}

// TopicPartitions names partitions of a topic.
type TopicPartitions struct {
	Topic      string  `json:"topic"`
	Partitions []int32 `json:"partitions"`
}

func groupMember(m collector.Member) GroupMember {
	out := GroupMember{ID: m.ID, InstanceID: m.InstanceID, ClientID: m.ClientID, ClientHost: m.ClientHost}
	for _, a := range m.Assignment {
		out.Assignment = append(out.Assignment, TopicPartitions{Topic: a.Topic, Partitions: a.Partitions})
	}
	return out
}

// consumerMember adds what a consumer group's member has beyond a classic one.
func consumerMember(out *GroupMember, m collector.Member) {
	out.Epoch = &m.Epoch
	for _, a := range m.Target {
		out.Target = append(out.Target, TopicPartitions{Topic: a.Topic, Partitions: a.Partitions})
	}
	out.SubscribedTopics, out.SubscribedRegex, out.Reconciling = m.SubscribedTopics, m.SubscribedRegex, m.Reconciling
}

// GroupTopicRow is a group's position on one topic as the API shows it: the lag is null when no
// partition's lag is known.
type GroupTopicRow struct {
	Topic        string              `json:"topic"`
	Lag          *int64              `json:"lag"`
	LagSeconds   float64             `json:"lagSeconds"`
	CommittedSum int64               `json:"committedSum"`
	CatchUp      collector.CatchUp   `json:"catchUp"`
	Partitions   []GroupPartitionRow `json:"partitions"`
}

// GroupPartitionRow is a group's position on one partition: the end offset and the lag are null
// when the partition's end offset is unknown.
type GroupPartitionRow struct {
	Partition  int32   `json:"partition"`
	Committed  int64   `json:"committed"`
	End        *int64  `json:"end"`
	Lag        *int64  `json:"lag"`
	LagSeconds float64 `json:"lagSeconds"`
	// Stable is the partition's last stable offset and StableLag a read_committed consumer's lag
	// (to the LSO); null when unknown. Below End while a transaction is open on the partition.
	Stable    *int64 `json:"stable"`
	StableLag *int64 `json:"stableLag"`
	// Member is the id of the member assigned this partition, if any.
	Member string `json:"member,omitempty"`
	// Share is a share group's state on the partition (Committed is then its share-partition
	// start offset, -1 before the group initialised it).
	Share *collector.SharePartition `json:"share,omitempty"`
}

func groupTopicRow(gt collector.GroupTopic) GroupTopicRow {
	r := GroupTopicRow{Topic: gt.Topic, Lag: known(gt.Lag), LagSeconds: gt.LagSeconds, CommittedSum: gt.CommittedSum,
		CatchUp: gt.CatchUp, Partitions: make([]GroupPartitionRow, 0, len(gt.Partitions))}
	for _, p := range gt.Partitions {
		r.Partitions = append(r.Partitions, GroupPartitionRow{Partition: p.Partition, Committed: p.Committed, End: known(p.End),
			Lag: known(p.Lag), LagSeconds: p.LagSeconds, Stable: known(p.Stable), StableLag: known(p.StableLag), Member: p.Member,
			Share: p.Share})
	}
	return r
}

// groupActive reports whether the group has members or is in a state other than Empty or Dead
// (unknown counts as inactive): Kafka refuses an administrator's offset commit then, and a running
// consumer would overwrite it. ResetOffsets refuses to execute for it,
// and the group page shows the same answer (GroupDetail.Active).
func groupActive(g *collector.Group) bool {
	return len(g.Members) > 0 || (g.State != "Empty" && g.State != "Dead" && g.State != "")
}

// Group returns one consumer group in detail.
func (s *Service) Group(cluster, name string) (GroupDetail, error) {
	snap, err := s.snapshot(cluster)
	if err != nil {
		return GroupDetail{}, err
	}
	g, ok := snap.Group(name)
	if !ok {
		return GroupDetail{}, groupNotFound(cluster, name)
	}
	members := make([]GroupMember, 0, len(g.Members))
	var cs *ConsumerGroupState
	if g.Type == "consumer" {
		cs = &ConsumerGroupState{GroupEpoch: g.GroupEpoch, AssignmentEpoch: g.AssignmentEpoch, Assignor: g.Assignor}
	}
	var ss *ShareGroupState
	if g.Type == "share" {
		ss = &ShareGroupState{GroupEpoch: g.GroupEpoch, AssignmentEpoch: g.AssignmentEpoch, Assignor: g.Assignor}
		if g.Share != nil {
			ss.Figures = *g.Share
		}
	}
	for _, m := range g.Members {
		gm := groupMember(m)
		switch {
		case cs != nil:
			consumerMember(&gm, m)
			if m.Reconciling {
				cs.Reconciling++
			}
		case ss != nil:
			gm.Epoch, gm.SubscribedTopics, gm.Rack = &m.Epoch, m.SubscribedTopics, m.Rack
		}
		members = append(members, gm)
	}
	topics := make([]GroupTopicRow, 0, len(g.Topics))
	for _, gt := range g.Topics {
		topics = append(topics, groupTopicRow(gt))
	}
	d := GroupDetail{GroupRow: groupRow(g), MemberList: members, TopicList: topics, PolledAt: snap.Cluster.LastPoll,
		Active: groupActive(g), Consumer: cs, Share: ss}
	if s.opts.GroupStatus != nil {
		if st, ok := s.opts.GroupStatus(cluster, name); ok {
			d.Status = &st
		}
	}
	return d, nil
}

func sorter[T any](sorts map[string]func(a, b *T) int, name, def string) (func(a, b *T) int, error) {
	if name == "" {
		name = def
	}
	f, ok := sorts[name]
	if !ok {
		keys := make([]string, 0, len(sorts))
		for k := range sorts {
			keys = append(keys, k)
		}
		slices.Sort(keys)
		return nil, badRequest("bad_sort", "cannot sort by %q; use one of %s", name, strings.Join(keys, ", "))
	}
	return f, nil
}

// sortedIndexes orders rows (by index) stably, with the name as tie-breaker so pages do not shuffle
// between requests.
func sortedIndexes[T any](rows []T, less func(a, b *T) int, desc bool, name func(*T) string) []int {
	idx := make([]int, len(rows))
	for i := range idx {
		idx[i] = i
	}
	slices.SortStableFunc(idx, func(i, j int) int {
		a, b := &rows[i], &rows[j]
		c := less(a, b)
		if desc {
			c = -c
		}
		if c == 0 {
			c = strings.Compare(name(a), name(b))
		}
		return c
	})
	return idx
}

func pageOf[T any](rows []T, limit, offset int) []T {
	if offset >= len(rows) {
		return nil
	}
	end := len(rows)
	if limit > 0 && offset+limit < end {
		end = offset + limit
	}
	return rows[offset:end]
}
