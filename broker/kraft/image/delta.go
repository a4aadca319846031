package image

import (
	"fmt"

	"github.com/osprey-kafka/osprey/broker/kraft/metadata"
)

// Delta is a set of records replayed on a base Image (Kafka's MetadataDelta).
// Apply makes the Image with the records applied; the base is not touched, so
// a broker keeps answering from it while a delta accumulates.
//
// A Delta is owned by one goroutine (the one replaying the log); Apply may be
// called more than once and Replay may go on after it.
type Delta struct {
	base Image
	// prev is the image a snapshot delta replaces (base is then Empty):
	// LocalChanges compares with it.
	prev *Image

	metadataVersion int16 // 0: unchanged
	features        map[string]featureChange
	brokers         map[int32]*Broker // nil value: unregistered
	controllers     map[int32]*Controller
	topics          map[metadata.Uuid]*topicDelta
	createdNames    map[string]metadata.Uuid              // names of topics created in this delta
	deletedTopics   map[metadata.Uuid]struct{}            // base topics removed
	configs         map[ConfigResource]map[string]*string // nil value: deleted
	nextProducerID  *int64
	scram           map[scramKey]*ScramCredential       // nil value: removed
	acls            map[metadata.Uuid]*ACL              // nil value: removed
	quotas          map[QuotaEntity]map[string]*float64 // nil value: key removed
}

type featureChange struct {
	level   int16
	removed bool
}

// topicDelta is a topic created or changed in the delta. base is the topic's
// partitions before the delta, nil for a topic a TopicRecord (re)created.
type topicDelta struct {
	name  string
	id    metadata.Uuid
	base  map[int32]*Partition
	parts map[int32]*Partition
}

func (td *topicDelta) partition(index int32) *Partition {
	if p, ok := td.parts[index]; ok {
		return p
	}
	return td.base[index]
}

// NewDelta starts a delta on base.
func NewDelta(base Image) *Delta { return &Delta{base: base} }

// NewSnapshotDelta starts a delta for loading a snapshot on a node whose
// image is prev: the snapshot's records are replayed on the empty image, so
// Apply is the snapshot's image and whatever prev held that the snapshot does
// not is gone (Kafka's MetadataDelta.finishSnapshot), while LocalChanges
// still says what changed for a broker since prev.
func NewSnapshotDelta(prev Image) *Delta { return &Delta{base: Empty(), prev: &prev} }

// Base is the image the delta's records are applied to: the image given to
// NewDelta, or Empty for a snapshot delta.
func (d *Delta) Base() Image { return d.base }

// Replay adds one record to the delta. A record Kafka's image would refuse is
// an error, and the delta is left as it was. NoOpRecord changes nothing.
func (d *Delta) Replay(rec metadata.Record) error {
	switch r := rec.(type) {
	case *metadata.FeatureLevelRecord:
		return d.replayFeatureLevel(r)
	case *metadata.RegisterBrokerRecord:
		d.replayRegisterBroker(r)
	case *metadata.UnregisterBrokerRecord:
		if d.brokers == nil {
			d.brokers = map[int32]*Broker{}
		}
		d.brokers[r.BrokerID] = nil
	case *metadata.FenceBrokerRecord:
		return d.changeBroker(r.ID, r.Epoch, "fence", metadata.FenceChangeFence, 0, nil)
	case *metadata.UnfenceBrokerRecord:
		return d.changeBroker(r.ID, r.Epoch, "unfence", metadata.FenceChangeUnfence, 0, nil)
	case *metadata.BrokerRegistrationChangeRecord:
		return d.changeBroker(r.BrokerID, r.BrokerEpoch, "change", r.Fenced, r.InControlledShutdown, r.LogDirs)
	case *metadata.RegisterControllerRecord:
		if d.controllers == nil {
			d.controllers = map[int32]*Controller{}
		}
		d.controllers[r.ControllerID] = &Controller{
			ID:               r.ControllerID,
			IncarnationID:    r.IncarnationID,
			ZkMigrationReady: r.ZkMigrationReady,
			Listeners:        listeners(r.EndPoints),
			Features:         featureRanges(r.Features),
		}
	case *metadata.TopicRecord:
		return d.replayTopic(r)
	case *metadata.PartitionRecord:
		return d.replayPartition(r)
	case *metadata.PartitionChangeRecord:
		return d.replayPartitionChange(r)
	case *metadata.RemoveTopicRecord:
		return d.replayRemoveTopic(r)
	case *metadata.ConfigRecord:
		d.setConfig(ConfigResource{Type: r.ResourceType, Name: r.ResourceName}, r.Name, r.Value)
	case *metadata.ProducerIdsRecord:
		next := r.NextProducerID
		d.nextProducerID = &next
	case *metadata.UserScramCredentialRecord, *metadata.RemoveUserScramCredentialRecord:
		d.replayScram(rec)
	case *metadata.AccessControlEntryRecord, *metadata.RemoveAccessControlEntryRecord:
		return d.replayACL(rec)
	case *metadata.ClientQuotaRecord:
		return d.replayQuota(r)
	case *metadata.NoOpRecord:
	default:
		return fmt.Errorf("metadata record %T (api key %d): not replayed by the metadata image", rec, rec.Key())
	}
	return nil
}

func (d *Delta) replayFeatureLevel(r *metadata.FeatureLevelRecord) error {
	if r.Name == MetadataVersionFeature {
		// Kafka's MetadataVersion.fromFeatureLevel has no level 0 (nor
		// below 1): metadata.version can change but never go away.
		if r.FeatureLevel < 1 {
			return fmt.Errorf("FeatureLevelRecord sets %s to %d: not a metadata.version level", r.Name, r.FeatureLevel)
		}
		d.metadataVersion = r.FeatureLevel
		return nil
	}
	if d.features == nil {
		d.features = map[string]featureChange{}
	}
	d.features[r.Name] = featureChange{level: r.FeatureLevel, removed: r.FeatureLevel == 0}
	return nil
}

func (d *Delta) replayRegisterBroker(r *metadata.RegisterBrokerRecord) {
	if d.brokers == nil {
		d.brokers = map[int32]*Broker{}
	}
	var rack *string
	if r.Rack != nil {
		s := *r.Rack
		rack = &s
	}
	d.brokers[r.BrokerID] = &Broker{
		ID:                   r.BrokerID,
		Epoch:                r.BrokerEpoch,
		IncarnationID:        r.IncarnationID,
		Listeners:            listeners(r.EndPoints),
		Features:             featureRanges(r.Features),
		Rack:                 rack,
		Fenced:               r.Fenced,
		InControlledShutdown: r.InControlledShutdown,
		IsMigratingZkBroker:  r.IsMigratingZkBroker,
		LogDirs:              cloneOrNil(r.LogDirs),
	}
}

// broker is the broker's registration as of the records replayed so far.
func (d *Delta) broker(id int32) *Broker {
	if b, ok := d.brokers[id]; ok {
		return b
	}
	return d.base.brokers[id]
}

// changeBroker applies FenceBrokerRecord, UnfenceBrokerRecord and
// BrokerRegistrationChangeRecord: the broker must be registered with that
// epoch; an empty logDirs leaves the directories as they are.
func (d *Delta) changeBroker(id int32, epoch int64, action string, fenced, inControlledShutdown int8, logDirs []metadata.Uuid) error {
	cur := d.broker(id)
	if cur == nil {
		return fmt.Errorf("cannot %s broker %d: it is not registered", action, id)
	}
	if cur.Epoch != epoch {
		return fmt.Errorf("cannot %s broker %d at epoch %d: its registration has epoch %d", action, id, epoch, cur.Epoch)
	}
	next := *cur
	switch fenced {
	case metadata.FenceChangeNone:
	case metadata.FenceChangeFence:
		next.Fenced = true
	case metadata.FenceChangeUnfence:
		next.Fenced = false
	default:
		return fmt.Errorf("cannot %s broker %d: unknown value %d for fenced", action, id, fenced)
	}
	switch inControlledShutdown {
	case 0:
	case 1:
		next.InControlledShutdown = true
	default:
		return fmt.Errorf("cannot %s broker %d: unknown value %d for inControlledShutdown", action, id, inControlledShutdown)
	}
	if len(logDirs) > 0 {
		next.LogDirs = cloneOrNil(logDirs)
	}
	if d.brokers == nil {
		d.brokers = map[int32]*Broker{}
	}
	d.brokers[id] = &next
	return nil
}

// topic is the topic with id as of the records replayed so far: its name and
// its delta (nil if the delta has not touched it), ok false if there is none.
func (d *Delta) topic(id metadata.Uuid) (name string, td *topicDelta, ok bool) {
	if td, ok := d.topics[id]; ok {
		return td.name, td, true
	}
	if _, gone := d.deletedTopics[id]; gone {
		return "", nil, false
	}
	if t, ok := d.base.topicsByID[id]; ok {
		return t.Name, nil, true
	}
	return "", nil, false
}

// topicIDByName is the id of the live topic called name, if any.
func (d *Delta) topicIDByName(name string) (metadata.Uuid, bool) {
	if id, ok := d.createdNames[name]; ok {
		return id, true
	}
	t, ok := d.base.topicsByName[name]
	if !ok {
		return metadata.Uuid{}, false
	}
	if _, gone := d.deletedTopics[t.ID]; gone {
		return metadata.Uuid{}, false
	}
	return t.ID, true
}

// replayTopic creates a topic with no partitions. Kafka replaces a topic whose
// id is already live the same way; a TopicRecord that would give a live id a
// second name, or a live name a second id, is refused here because Kafka's
// by-name and by-id maps would then disagree (its controller never writes one).
func (d *Delta) replayTopic(r *metadata.TopicRecord) error {
	if name, _, ok := d.topic(r.TopicID); ok && name != r.Name {
		return fmt.Errorf("TopicRecord %q id %s: that id is topic %q", r.Name, r.TopicID, name)
	}
	if id, ok := d.topicIDByName(r.Name); ok && id != r.TopicID {
		return fmt.Errorf("TopicRecord %q id %s: a topic of that name exists with id %s", r.Name, r.TopicID, id)
	}
	if d.topics == nil {
		d.topics = map[metadata.Uuid]*topicDelta{}
		d.createdNames = map[string]metadata.Uuid{}
	}
	d.topics[r.TopicID] = &topicDelta{name: r.Name, id: r.TopicID, parts: map[int32]*Partition{}}
	d.createdNames[r.Name] = r.TopicID
	return nil
}

// topicDelta returns the delta of a live topic, making it on first change.
func (d *Delta) topicDelta(id metadata.Uuid, what string) (*topicDelta, error) {
	_, td, ok := d.topic(id)
	if !ok {
		return nil, fmt.Errorf("%s: no topic with id %s", what, id)
	}
	if td != nil {
		return td, nil
	}
	t := d.base.topicsByID[id]
	td = &topicDelta{name: t.Name, id: id, base: t.partitions, parts: map[int32]*Partition{}}
	if d.topics == nil {
		d.topics = map[metadata.Uuid]*topicDelta{}
		d.createdNames = map[string]metadata.Uuid{}
	}
	d.topics[id] = td
	return td, nil
}

func (d *Delta) replayPartition(r *metadata.PartitionRecord) error {
	what := fmt.Sprintf("PartitionRecord %s-%d", r.TopicID, r.PartitionID)
	if _, _, ok := d.topic(r.TopicID); !ok {
		return fmt.Errorf("%s: no topic with id %s", what, r.TopicID)
	}
	if len(r.Directories) > 0 && len(r.Directories) != len(r.Replicas) {
		return fmt.Errorf("%s: %d directories for %d replicas", what, len(r.Directories), len(r.Replicas))
	}
	if err := checkRecoveryState(r.LeaderRecoveryState); err != nil {
		return fmt.Errorf("%s: %w", what, err)
	}
	p := &Partition{
		Index:                  r.PartitionID,
		Replicas:               cloneOrNil(r.Replicas),
		Isr:                    cloneOrNil(r.Isr),
		RemovingReplicas:       cloneOrNil(r.RemovingReplicas),
		AddingReplicas:         cloneOrNil(r.AddingReplicas),
		Leader:                 r.Leader,
		LeaderRecoveryState:    r.LeaderRecoveryState,
		LeaderEpoch:            r.LeaderEpoch,
		PartitionEpoch:         r.PartitionEpoch,
		EligibleLeaderReplicas: cloneOrNil(r.EligibleLeaderReplicas),
		LastKnownElr:           cloneOrNil(r.LastKnownElr),
	}
	p.Directories = defaultToMigrating(r.Directories, len(p.Replicas))
	td, err := d.topicDelta(r.TopicID, what)
	if err != nil {
		return err
	}
	td.parts[r.PartitionID] = p
	return nil
}

// replayPartitionChange merges a PartitionChangeRecord as Kafka's
// PartitionRegistration.merge does: every absent field is unchanged, the
// partition epoch always goes up by one, and a leader other than
// metadata.NoLeaderChange (even the same broker) bumps the leader epoch.
func (d *Delta) replayPartitionChange(r *metadata.PartitionChangeRecord) error {
	what := fmt.Sprintf("PartitionChangeRecord %s-%d", r.TopicID, r.PartitionID)
	_, td, ok := d.topic(r.TopicID)
	if !ok {
		return fmt.Errorf("%s: no topic with id %s", what, r.TopicID)
	}
	var cur *Partition
	if td != nil {
		cur = td.partition(r.PartitionID)
	} else {
		cur = d.base.topicsByID[r.TopicID].partitions[r.PartitionID]
	}
	if cur == nil {
		return fmt.Errorf("%s: no such partition", what)
	}
	next := *cur
	if r.Replicas != nil {
		next.Replicas = cloneOrNil(r.Replicas)
	}
	if r.Replicas != nil && len(r.Directories) > 0 && len(r.Directories) != len(r.Replicas) {
		return fmt.Errorf("%s: %d directories for %d replicas", what, len(r.Directories), len(r.Replicas))
	}
	dirs := cur.Directories
	if r.Directories != nil {
		dirs = r.Directories
	}
	next.Directories = defaultToMigrating(dirs, len(next.Replicas))
	if len(next.Directories) != len(next.Replicas) {
		return fmt.Errorf("%s: %d directories for %d replicas", what, len(next.Directories), len(next.Replicas))
	}
	if r.Isr != nil {
		next.Isr = cloneOrNil(r.Isr)
	}
	if r.RemovingReplicas != nil {
		next.RemovingReplicas = cloneOrNil(r.RemovingReplicas)
	}
	if r.AddingReplicas != nil {
		next.AddingReplicas = cloneOrNil(r.AddingReplicas)
	}
	if r.Leader != metadata.NoLeaderChange {
		next.Leader = r.Leader
		next.LeaderEpoch = cur.LeaderEpoch + 1
	}
	if r.LeaderRecoveryState != -1 {
		if err := checkRecoveryState(r.LeaderRecoveryState); err != nil {
			return fmt.Errorf("%s: %w", what, err)
		}
		next.LeaderRecoveryState = r.LeaderRecoveryState
	}
	if r.EligibleLeaderReplicas != nil {
		next.EligibleLeaderReplicas = cloneOrNil(r.EligibleLeaderReplicas)
	}
	if r.LastKnownElr != nil {
		next.LastKnownElr = cloneOrNil(r.LastKnownElr)
	}
	next.PartitionEpoch = cur.PartitionEpoch + 1
	if td == nil {
		var err error
		if td, err = d.topicDelta(r.TopicID, what); err != nil {
			return err
		}
	}
	td.parts[r.PartitionID] = &next
	return nil
}

// replayRemoveTopic removes the topic, its partitions and its dynamic
// configuration. Kafka's ConfigurationsDelta drops only the configuration the
// base image held, so a topic created, configured and removed within one
// delta would leave its configuration behind; here it goes too, so the image
// does not depend on where the log was cut into deltas.
func (d *Delta) replayRemoveTopic(r *metadata.RemoveTopicRecord) error {
	name, _, ok := d.topic(r.TopicID)
	if !ok {
		return fmt.Errorf("RemoveTopicRecord %s: no topic with that id", r.TopicID)
	}
	delete(d.topics, r.TopicID)
	if d.createdNames[name] == r.TopicID {
		delete(d.createdNames, name)
	}
	if _, ok := d.base.topicsByID[r.TopicID]; ok {
		if d.deletedTopics == nil {
			d.deletedTopics = map[metadata.Uuid]struct{}{}
		}
		d.deletedTopics[r.TopicID] = struct{}{}
	}
	res := ConfigResource{Type: ResourceTopic, Name: name}
	changes := map[string]*string{}
	for k := range d.base.configs[res] {
		changes[k] = nil
	}
	if d.configs == nil {
		d.configs = map[ConfigResource]map[string]*string{}
	}
	d.configs[res] = changes
	return nil
}

func (d *Delta) setConfig(res ConfigResource, key string, value *string) {
	if d.configs == nil {
		d.configs = map[ConfigResource]map[string]*string{}
	}
	c := d.configs[res]
	if c == nil {
		c = map[string]*string{}
		d.configs[res] = c
	}
	if value != nil {
		v := *value
		value = &v
	}
	c[key] = value
}

func checkRecoveryState(s int8) error {
	if s != LeaderRecovered && s != LeaderRecovering {
		return fmt.Errorf("%d is not a leader recovery state", s)
	}
	return nil
}

// defaultToMigrating is Kafka's rule for replica directories: none, or all
// unknown (MIGRATING, the zero Uuid), become one unknown directory per replica.
func defaultToMigrating(dirs []metadata.Uuid, replicas int) []metadata.Uuid {
	for _, u := range dirs {
		if !u.IsZero() {
			return cloneOrNil(dirs)
		}
	}
	if replicas == 0 {
		return nil
	}
	return make([]metadata.Uuid, replicas)
}

func listeners(eps []metadata.Endpoint) []Listener {
	byName := map[string]Listener{}
	for _, ep := range eps {
		byName[ep.Name] = Listener{Name: ep.Name, Host: ep.Host, Port: ep.Port, SecurityProtocol: ep.SecurityProtocol}
	}
	return sortedByName(byName, func(l Listener) string { return l.Name })
}

func featureRanges(fs []metadata.Feature) []FeatureRange {
	byName := map[string]FeatureRange{}
	for _, f := range fs {
		byName[f.Name] = FeatureRange{Name: f.Name, MinLevel: f.MinSupportedVersion, MaxLevel: f.MaxSupportedVersion}
	}
	return sortedByName(byName, func(f FeatureRange) string { return f.Name })
}

func cloneOrNil[T any](s []T) []T {
	if len(s) == 0 {
		return nil
	}
	return append([]T(nil), s...)
}
