package image

import (
	"cmp"
	"slices"

	"github.com/osprey-kafka/osprey/broker/kraft/metadata"
)

// MetadataVersionFeature is the name of the feature whose level is the
// cluster's metadata.version.
const MetadataVersionFeature = "metadata.version"

// The metadata.version feature levels (Kafka's MetadataVersion) at which the
// records an Image is written as gained the fields it may hold.
const (
	// MetadataVersion33IV0 (3.3-IV0) is the oldest level a snapshot can be
	// written at: older levels have no FeatureLevelRecord.
	MetadataVersion33IV0 int16 = 4
	// MetadataVersion33IV3: RegisterBrokerRecord v1 (InControlledShutdown).
	MetadataVersion33IV3 int16 = 7
	// MetadataVersion34IV0: RegisterBrokerRecord v2 (IsMigratingZkBroker).
	MetadataVersion34IV0 int16 = 8
	// MetadataVersion37IV0: RegisterControllerRecord (KIP-919).
	MetadataVersion37IV0 int16 = 15
	// MetadataVersion37IV2: replica directories (KIP-858): RegisterBrokerRecord
	// v3, PartitionRecord and PartitionChangeRecord v1.
	MetadataVersion37IV2 int16 = 17
	// MetadataVersion40IV1: eligible leader replicas (KIP-966):
	// PartitionRecord and PartitionChangeRecord v2.
	MetadataVersion40IV1 int16 = 23
)

// NoLeader is a partition's leader when it has none.
const NoLeader int32 = -1

// Leader recovery states (PartitionRecord.LeaderRecoveryState).
const (
	LeaderRecovered  int8 = 0
	LeaderRecovering int8 = 1
)

// Configuration resource types (Kafka's ConfigResource.Type ids).
const (
	ResourceTopic        int8 = 2
	ResourceBroker       int8 = 4
	ResourceBrokerLogger int8 = 8
)

// ConfigResource names the owner of dynamic configurations: a topic, a broker
// (Name is its id in decimal) or, with Type ResourceBroker and Name "", the
// cluster-wide broker default.
type ConfigResource struct {
	Type int8
	Name string
}

// Listener is one endpoint of a broker or controller.
type Listener struct {
	Name             string
	Host             string
	Port             uint16
	SecurityProtocol int16 // 0 PLAINTEXT, 1 SSL, 2 SASL_PLAINTEXT, 3 SASL_SSL
}

// FeatureRange is the range of levels of a feature a node supports.
type FeatureRange struct {
	Name     string
	MinLevel int16
	MaxLevel int16
}

// Broker is a registered broker. As in Kafka's BrokerRegistration its
// listeners and features are keyed by name: a registration naming one twice
// keeps the last, and they are held sorted by name.
type Broker struct {
	ID                   int32
	Epoch                int64
	IncarnationID        metadata.Uuid
	Listeners            []Listener
	Features             []FeatureRange
	Rack                 *string // nil: no rack
	Fenced               bool
	InControlledShutdown bool
	IsMigratingZkBroker  bool
	LogDirs              []metadata.Uuid // the broker's online log directories (KIP-858)
}

// Listener returns the broker's listener called name.
func (b Broker) Listener(name string) (Listener, bool) { return findListener(b.Listeners, name) }

// Controller is a registered controller (KIP-919).
type Controller struct {
	ID               int32
	IncarnationID    metadata.Uuid
	ZkMigrationReady bool
	Listeners        []Listener // sorted by name, one per name
	Features         []FeatureRange
}

// Listener returns the controller's listener called name.
func (c Controller) Listener(name string) (Listener, bool) { return findListener(c.Listeners, name) }

func findListener(ls []Listener, name string) (Listener, bool) {
	i, ok := slices.BinarySearchFunc(ls, name, func(l Listener, n string) int { return cmp.Compare(l.Name, n) })
	if !ok {
		return Listener{}, false
	}
	return ls[i], true
}

// Partition is one partition's state (Kafka's PartitionRegistration). Empty
// lists are nil. Directories always has one entry per replica; the zero Uuid
// (Kafka's DirectoryId.MIGRATING) means the replica's directory is not known.
type Partition struct {
	Index                  int32
	Replicas               []int32
	Directories            []metadata.Uuid
	Isr                    []int32
	RemovingReplicas       []int32
	AddingReplicas         []int32
	Leader                 int32 // NoLeader when none
	LeaderRecoveryState    int8
	LeaderEpoch            int32
	PartitionEpoch         int32
	EligibleLeaderReplicas []int32
	LastKnownElr           []int32
}

// HasReplica reports whether broker is one of the partition's replicas.
func (p Partition) HasReplica(broker int32) bool { return slices.Contains(p.Replicas, broker) }

// Directory returns the log directory of broker's replica.
func (p Partition) Directory(broker int32) (metadata.Uuid, bool) {
	i := slices.Index(p.Replicas, broker)
	if i < 0 {
		return metadata.Uuid{}, false
	}
	return p.Directories[i], true
}

// IsReassigning reports whether a reassignment (KIP-455) is under way.
func (p Partition) IsReassigning() bool {
	return len(p.AddingReplicas) > 0 || len(p.RemovingReplicas) > 0
}

// Topic is a topic and its partitions.
type Topic struct {
	Name       string
	ID         metadata.Uuid
	partitions map[int32]*Partition
}

// Partition returns partition index of the topic.
func (t Topic) Partition(index int32) (Partition, bool) {
	p, ok := t.partitions[index]
	if !ok {
		return Partition{}, false
	}
	return *p, true
}

// NumPartitions is the number of partitions of the topic.
func (t Topic) NumPartitions() int { return len(t.partitions) }

// Partitions returns the topic's partitions ordered by index.
func (t Topic) Partitions() []Partition {
	out := make([]Partition, 0, len(t.partitions))
	for _, p := range t.partitions {
		out = append(out, *p)
	}
	slices.SortFunc(out, func(a, b Partition) int { return cmp.Compare(a.Index, b.Index) })
	return out
}

// Image is the cluster metadata after some prefix of the metadata log. The
// zero Image is not valid; start from Empty. Images are values that never
// change: Delta.Apply makes a new one, sharing what did not change.
type Image struct {
	metadataVersion int16 // 0: never set
	features        map[string]int16
	brokers         map[int32]*Broker
	controllers     map[int32]*Controller
	topicsByID      map[metadata.Uuid]*Topic
	topicsByName    map[string]*Topic
	configs         map[ConfigResource]map[string]string
	nextProducerID  int64
	scram           map[scramKey]*ScramCredential
	acls            map[metadata.Uuid]*ACL
	quotas          map[QuotaEntity]map[string]float64
}

// Empty returns the image before the first record: no metadata.version, and
// no producer id handed out (NextProducerID -1).
func Empty() Image { return Image{nextProducerID: -1} }

// MetadataVersion is the finalized level of metadata.version; 0 until a
// FeatureLevelRecord sets it.
func (im Image) MetadataVersion() int16 { return im.metadataVersion }

// Feature returns the finalized level of a feature, metadata.version
// included; a feature that is not finalized has none.
func (im Image) Feature(name string) (int16, bool) {
	if name == MetadataVersionFeature {
		return im.metadataVersion, im.metadataVersion != 0
	}
	l, ok := im.features[name]
	return l, ok
}

// FinalizedFeatures returns a copy of the finalized feature levels,
// metadata.version included when it is set.
func (im Image) FinalizedFeatures() map[string]int16 {
	out := make(map[string]int16, len(im.features)+1)
	for k, v := range im.features {
		out[k] = v
	}
	if im.metadataVersion != 0 {
		out[MetadataVersionFeature] = im.metadataVersion
	}
	return out
}

// Broker returns the registration of broker id.
func (im Image) Broker(id int32) (Broker, bool) {
	b, ok := im.brokers[id]
	if !ok {
		return Broker{}, false
	}
	return *b, true
}

// Brokers returns the registered brokers ordered by id.
func (im Image) Brokers() []Broker { return sortedValues(im.brokers) }

// Controller returns the registration of controller id.
func (im Image) Controller(id int32) (Controller, bool) {
	c, ok := im.controllers[id]
	if !ok {
		return Controller{}, false
	}
	return *c, true
}

// Controllers returns the registered controllers ordered by id.
func (im Image) Controllers() []Controller { return sortedValues(im.controllers) }

// Topic returns the topic called name.
func (im Image) Topic(name string) (Topic, bool) {
	t, ok := im.topicsByName[name]
	if !ok {
		return Topic{}, false
	}
	return *t, true
}

// TopicByID returns the topic with id.
func (im Image) TopicByID(id metadata.Uuid) (Topic, bool) {
	t, ok := im.topicsByID[id]
	if !ok {
		return Topic{}, false
	}
	return *t, true
}

// NumTopics is the number of topics.
func (im Image) NumTopics() int { return len(im.topicsByID) }

// Topics returns the topics ordered by name.
func (im Image) Topics() []Topic {
	out := make([]Topic, 0, len(im.topicsByName))
	for _, t := range im.topicsByName {
		out = append(out, *t)
	}
	slices.SortFunc(out, func(a, b Topic) int { return cmp.Compare(a.Name, b.Name) })
	return out
}

// Configs returns a copy of the dynamic configuration of r (nil when it has
// none).
func (im Image) Configs(r ConfigResource) map[string]string {
	c, ok := im.configs[r]
	if !ok {
		return nil
	}
	out := make(map[string]string, len(c))
	for k, v := range c {
		out[k] = v
	}
	return out
}

// Config returns one dynamic configuration value of r.
func (im Image) Config(r ConfigResource, key string) (string, bool) {
	v, ok := im.configs[r][key]
	return v, ok
}

// ConfigResources returns the resources that have dynamic configuration,
// ordered by type then name.
func (im Image) ConfigResources() []ConfigResource {
	out := make([]ConfigResource, 0, len(im.configs))
	for r := range im.configs {
		out = append(out, r)
	}
	slices.SortFunc(out, compareResources)
	return out
}

// NextProducerID is the first producer id no broker has been handed yet, -1
// before the first block.
func (im Image) NextProducerID() int64 { return im.nextProducerID }

func compareResources(a, b ConfigResource) int {
	if c := cmp.Compare(a.Type, b.Type); c != 0 {
		return c
	}
	return cmp.Compare(a.Name, b.Name)
}

func sortedValues[V any](m map[int32]*V) []V {
	ids := make([]int32, 0, len(m))
	for id := range m {
		ids = append(ids, id)
	}
	slices.Sort(ids)
	out := make([]V, len(ids))
	for i, id := range ids {
		out[i] = *m[id]
	}
	return out
}
