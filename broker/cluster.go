package broker

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"os"
	"slices"
	"sort"
	"strings"
	"sync"

	"github.com/osprey-kafka/osprey/internal/topicname"

	"github.com/osprey-kafka/osprey/internal/atomicfile"
)

// BrokerInfo is one broker as clients see it in Metadata.
type BrokerInfo struct {
	ID   int32
	Host string
	Port int32
	Rack string // empty = no rack
	// Endpoints are the broker's advertised listeners; Host and Port are
	// its inter-broker listener's endpoint (what other brokers dial).
	// Clients are answered with the endpoint of the listener they use.
	Endpoints []Endpoint
}

// PartitionInfo is the layout of one partition.
type PartitionInfo struct {
	Partition   int32
	Leader      int32 // -1 when offline
	LeaderEpoch int32
	Replicas    []int32
	ISR         []int32
}

// TopicInfo is one topic's metadata. Values returned by a ClusterView are
// copies the caller may keep.
type TopicInfo struct {
	Name       string
	ID         [16]byte
	Internal   bool
	Partitions []PartitionInfo
	Configs    map[string]string // topic-level overrides only
}

// ClusterView is what handlers read about the cluster layout. The
// single-broker implementation (localCluster) leads every partition; in
// cluster mode the view is the one the controller feeds (UpdateMetadata,
// LeaderAndIsr). All methods are called on request paths: they must answer from memory,
// never block on I/O or on another broker, and be safe for concurrent use.
type ClusterView interface {
	// ClusterID is the cluster's id (meta.properties, /cluster/id).
	ClusterID() string
	// ControllerID is the current controller's broker id, -1 if none.
	ControllerID() int32
	// Brokers lists the live brokers, this one included.
	Brokers() []BrokerInfo
	// Topic returns a copy of the named topic.
	Topic(name string) (TopicInfo, bool)
	// TopicByID returns a copy of the topic with that id.
	TopicByID(id [16]byte) (TopicInfo, bool)
	// Topics returns copies of all topics, sorted by name.
	Topics() []TopicInfo
}

// TopicSpec describes a topic to create.
type TopicSpec struct {
	Name              string
	Partitions        int32
	ReplicationFactor int16
	Configs           map[string]string
	Internal          bool
}

// Cluster is a ClusterView that can also change the layout. In a
// single-broker setup it applies changes itself; in cluster mode it hands
// them to the controller through the metadata store. Methods may block until the change is visible in the
// view, bounded by ctx.
type Cluster interface {
	ClusterView
	// CreateTopic validates spec and, unless validateOnly, creates the
	// topic; errors wrap ErrTopicExists, ErrInvalidTopic,
	// ErrInvalidPartitions, ErrInvalidRF or ErrInvalidConfig.
	CreateTopic(ctx context.Context, spec TopicSpec, validateOnly bool) (TopicInfo, error)
	// DeleteTopic deletes the topic (ErrUnknownTopic if absent).
	DeleteTopic(ctx context.Context, name string) error
	// CreatePartitions grows the topic to count partitions
	// (ErrInvalidPartitions if count is not larger).
	CreatePartitions(ctx context.Context, name string, count int32, validateOnly bool) error
	// SetTopicConfigs replaces (replace=true) or patches the topic's
	// overrides; a nil value deletes the key.
	SetTopicConfigs(ctx context.Context, name string, configs map[string]*string, replace, validateOnly bool) error
}

// ClusterFactory builds the Cluster a broker reads its layout from; Start
// calls it after opening the log dirs. The factory must arrange for changed
// to be called, without any Cluster lock held, after every change of a
// topic's partitions, replicas, leaders or configs (deleted=true when the
// topic is gone): the broker then opens, updates or deletes the replicas
// it hosts. The default is a single-broker Cluster that leads everything.
type ClusterFactory func(ctx context.Context, self BrokerInfo, clusterID string, changed func(t TopicInfo, deleted bool)) (Cluster, error)

// Errors a Cluster returns; handlers map them to Kafka error codes.
var (
	ErrTopicExists       = errors.New("topic already exists")
	ErrUnknownTopic      = errors.New("unknown topic")
	ErrInvalidPartitions = errors.New("invalid partition count")
	ErrInvalidRF         = errors.New("invalid replication factor")
	ErrInvalidTopic      = errors.New("invalid topic name")
	ErrInvalidConfig     = errors.New("invalid topic config")
)

// localCluster is the single-broker Cluster: this broker is the controller
// and leads every partition with itself as the only replica. Topic
// definitions are persisted in <first log dir>/osprey-topics.json.
type localCluster struct {
	self      BrokerInfo
	clusterID string
	path      string // "" = not persisted

	topicTable // its mu guards topics

	// onChange is called (without mu) after a topic is created, grown or
	// deleted so the data plane can open or drop partitions.
	onChange func(TopicInfo, bool)

	scram localScram // SCRAM credentials, in osprey-scram.json next to path
}

type persistedTopic struct {
	Name       string            `json:"name"`
	ID         string            `json:"topic_id"`
	Internal   bool              `json:"internal,omitempty"`
	Partitions int32             `json:"partitions"`
	Configs    map[string]string `json:"configs,omitempty"`
}

func newLocalCluster(self BrokerInfo, clusterID, path string) (*localCluster, error) {
	lc := &localCluster{self: self, clusterID: clusterID, path: path, topicTable: topicTable{topics: map[string]*TopicInfo{}}}
	lc.scram.path = scramPathFor(path)
	if err := lc.scram.load(); err != nil {
		return nil, err
	}
	if path == "" {
		return lc, nil
	}
	data, err := os.ReadFile(path)
	if errors.Is(err, os.ErrNotExist) {
		return lc, nil
	}
	if err != nil {
		return nil, fmt.Errorf("reading topic metadata: %w", err)
	}
	var pts []persistedTopic
	if err := json.Unmarshal(data, &pts); err != nil {
		return nil, fmt.Errorf("decoding %s: %w", path, err)
	}
	for _, pt := range pts {
		var id [16]byte
		raw, err := base64.RawURLEncoding.DecodeString(pt.ID)
		if err != nil || len(raw) != 16 {
			return nil, fmt.Errorf("%s: topic %q has a bad id %q", path, pt.Name, pt.ID)
		}
		copy(id[:], raw)
		lc.topics[pt.Name] = lc.layout(pt.Name, id, pt.Internal, pt.Partitions, pt.Configs)
	}
	return lc, nil
}

func (lc *localCluster) layout(name string, id [16]byte, internal bool, n int32, configs map[string]string) *TopicInfo {
	t := &TopicInfo{Name: name, ID: id, Internal: internal, Configs: configs}
	if t.Configs == nil {
		t.Configs = map[string]string{}
	}
	for p := int32(0); p < n; p++ {
		t.Partitions = append(t.Partitions, lc.partitionLayout(p))
	}
	return t
}

func (lc *localCluster) partitionLayout(p int32) PartitionInfo {
	return PartitionInfo{Partition: p, Leader: lc.self.ID, Replicas: []int32{lc.self.ID}, ISR: []int32{lc.self.ID}}
}

// save writes the topic list atomically. Called with mu held.
func (lc *localCluster) save() error {
	if lc.path == "" {
		return nil
	}
	pts := make([]persistedTopic, 0, len(lc.topics))
	for _, t := range lc.topics {
		pts = append(pts, persistedTopic{Name: t.Name, ID: base64.RawURLEncoding.EncodeToString(t.ID[:]),
			Internal: t.Internal, Partitions: int32(len(t.Partitions)), Configs: t.Configs})
	}
	sort.Slice(pts, func(i, j int) bool { return pts[i].Name < pts[j].Name })
	data, err := json.MarshalIndent(pts, "", "  ")
	if err != nil {
		return err
	}
	return atomicfile.Write(lc.path, data, 0o644)
}

func copyTopic(t *TopicInfo) TopicInfo {
	c := *t
	c.Partitions = make([]PartitionInfo, len(t.Partitions))
	for i, p := range t.Partitions {
		p.Replicas = slices.Clone(p.Replicas)
		p.ISR = slices.Clone(p.ISR)
		c.Partitions[i] = p
	}
	c.Configs = maps.Clone(t.Configs)
	return c
}

func (lc *localCluster) ClusterID() string     { return lc.clusterID }
func (lc *localCluster) ControllerID() int32   { return lc.self.ID }
func (lc *localCluster) Brokers() []BrokerInfo { return []BrokerInfo{lc.self} }

// topicTable is the topic cache of a Cluster implementation and the reads they share.
type topicTable struct {
	mu     sync.RWMutex // guards topics (and, in zkCluster, the fields after it)
	topics map[string]*TopicInfo
}

func (tt *topicTable) Topic(name string) (TopicInfo, bool) {
	tt.mu.RLock()
	defer tt.mu.RUnlock()
	t, ok := tt.topics[name]
	if !ok {
		return TopicInfo{}, false
	}
	return copyTopic(t), true
}

func (tt *topicTable) TopicByID(id [16]byte) (TopicInfo, bool) {
	tt.mu.RLock()
	defer tt.mu.RUnlock()
	for _, t := range tt.topics {
		if t.ID == id {
			return copyTopic(t), true
		}
	}
	return TopicInfo{}, false
}

// validateConfigChanges checks a topic config change: values set must be
// valid, keys reset (nil) must be known.
func validateConfigChanges(configs map[string]*string) error {
	for k, v := range configs {
		if v != nil {
			if err := validateTopicConfig(k, *v); err != nil {
				return err
			}
		} else if _, ok := topicConfigDefs[k]; !ok {
			return fmt.Errorf("%w: unknown key %s", ErrInvalidConfig, k)
		}
	}
	return nil
}

// applyConfigChanges returns a topic's configs after a change: values set
// (nil resets a key to its default), on top of cur or, with replace, of nothing.
func applyConfigChanges(cur map[string]string, configs map[string]*string, replace bool) map[string]string {
	next := maps.Clone(cur)
	if replace || next == nil {
		next = map[string]string{}
	}
	for k, v := range configs {
		if v == nil {
			delete(next, k)
		} else {
			next[k] = *v
		}
	}
	return next
}

// collisionLocked refuses a new topic name that differs from existing ones
// only by '.' and '_', as Kafka does: both map to the same metric names.
// The caller holds tt.mu.
func (tt *topicTable) collisionLocked(name string) error {
	if !topicname.HasCollisionChars(name) {
		return nil
	}
	var with []string
	for existing := range tt.topics {
		if existing != name && topicname.Collides(name, existing) {
			with = append(with, existing)
		}
	}
	if len(with) == 0 {
		return nil
	}
	sort.Strings(with)
	return collisionError{fmt.Sprintf("Topic '%s' collides with existing topics: %s", name, strings.Join(with, ", "))}
}

// collisionError is an ErrInvalidTopic whose text is Kafka's own.
type collisionError struct{ msg string }

func (e collisionError) Error() string        { return e.msg }
func (e collisionError) Is(target error) bool { return target == ErrInvalidTopic }

func (tt *topicTable) collision(name string) error {
	tt.mu.RLock()
	defer tt.mu.RUnlock()
	return tt.collisionLocked(name)
}

func (tt *topicTable) Topics() []TopicInfo {
	tt.mu.RLock()
	defer tt.mu.RUnlock()
	out := make([]TopicInfo, 0, len(tt.topics))
	for _, t := range tt.topics {
		out = append(out, copyTopic(t))
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Name < out[j].Name })
	return out
}

// validTopicName follows Kafka's Topic.validate (internal/topicname).
func validTopicName(name string) bool { return topicname.Validate(name) == nil }

func (lc *localCluster) CreateTopic(_ context.Context, spec TopicSpec, validateOnly bool) (TopicInfo, error) {
	if !validTopicName(spec.Name) {
		return TopicInfo{}, ErrInvalidTopic
	}
	if spec.Partitions <= 0 {
		return TopicInfo{}, ErrInvalidPartitions
	}
	if spec.ReplicationFactor != 1 {
		return TopicInfo{}, fmt.Errorf("%w: %d (this cluster has 1 broker)", ErrInvalidRF, spec.ReplicationFactor)
	}
	for k, v := range spec.Configs {
		if err := validateTopicConfig(k, v); err != nil {
			return TopicInfo{}, err
		}
	}
	lc.mu.Lock()
	if _, ok := lc.topics[spec.Name]; ok {
		lc.mu.Unlock()
		return TopicInfo{}, ErrTopicExists
	}
	if err := lc.collisionLocked(spec.Name); err != nil {
		lc.mu.Unlock()
		return TopicInfo{}, err
	}
	var id [16]byte
	if _, err := rand.Read(id[:]); err != nil {
		lc.mu.Unlock()
		return TopicInfo{}, err
	}
	t := lc.layout(spec.Name, id, spec.Internal, spec.Partitions, maps.Clone(spec.Configs))
	if validateOnly {
		lc.mu.Unlock()
		return copyTopic(t), nil
	}
	lc.topics[spec.Name] = t
	err := lc.save()
	out := copyTopic(t)
	lc.mu.Unlock()
	if err != nil {
		return TopicInfo{}, err
	}
	if lc.onChange != nil {
		lc.onChange(out, false)
	}
	return out, nil
}

func (lc *localCluster) DeleteTopic(_ context.Context, name string) error {
	lc.mu.Lock()
	t, ok := lc.topics[name]
	if !ok {
		lc.mu.Unlock()
		return ErrUnknownTopic
	}
	delete(lc.topics, name)
	err := lc.save()
	out := copyTopic(t)
	lc.mu.Unlock()
	if lc.onChange != nil {
		lc.onChange(out, true)
	}
	return err
}

func (lc *localCluster) CreatePartitions(_ context.Context, name string, count int32, validateOnly bool) error {
	lc.mu.Lock()
	t, ok := lc.topics[name]
	if !ok {
		lc.mu.Unlock()
		return ErrUnknownTopic
	}
	if count <= int32(len(t.Partitions)) {
		lc.mu.Unlock()
		return fmt.Errorf("%w: topic has %d partitions, asked for %d", ErrInvalidPartitions, len(t.Partitions), count)
	}
	if validateOnly {
		lc.mu.Unlock()
		return nil
	}
	for p := int32(len(t.Partitions)); p < count; p++ {
		t.Partitions = append(t.Partitions, lc.partitionLayout(p))
	}
	err := lc.save()
	out := copyTopic(t)
	lc.mu.Unlock()
	if lc.onChange != nil {
		lc.onChange(out, false)
	}
	return err
}

func (lc *localCluster) SetTopicConfigs(_ context.Context, name string, configs map[string]*string, replace, validateOnly bool) error {
	if err := validateConfigChanges(configs); err != nil {
		return err
	}
	lc.mu.Lock()
	t, ok := lc.topics[name]
	if !ok {
		lc.mu.Unlock()
		return ErrUnknownTopic
	}
	if validateOnly {
		lc.mu.Unlock()
		return nil
	}
	next := applyConfigChanges(t.Configs, configs, replace)
	old := t.Configs
	t.Configs = next
	if err := lc.save(); err != nil {
		t.Configs = old
		lc.mu.Unlock()
		return err
	}
	out := copyTopic(t)
	lc.mu.Unlock()
	if lc.onChange != nil {
		lc.onChange(out, false)
	}
	return nil
}

// isInternalTopic reports Kafka's internal topics.
func isInternalTopic(name string) bool {
	return name == offsetsTopic || strings.HasPrefix(name, "__transaction_state") || name == shareStateTopic
}
