package metadata

// TopicRecord (api key 2, v0) creates a topic.
type TopicRecord struct {
	Name        string // Name: the topic name
	TopicID     Uuid   // TopicId: the unique id of the topic
	UnknownTags []Tag
}

func (*TopicRecord) Key() APIKey       { return KeyTopic }
func (*TopicRecord) MaxVersion() int16 { return 0 }
func (*TopicRecord) name() string      { return "TopicRecord" }

func (r *TopicRecord) appendBody(e *encoder) {
	e.string(r.Name)
	e.uuid(r.TopicID)
	e.tags(nil, r.UnknownTags)
}

func (r *TopicRecord) readBody(d *decoder) {
	*r = TopicRecord{}
	r.Name = d.string("name")
	r.TopicID = d.uuid()
	r.UnknownTags = d.tags(nil)
}

// RemoveTopicRecord (api key 9, v0) deletes a topic and its partitions.
type RemoveTopicRecord struct {
	TopicID     Uuid // TopicId: the topic to remove
	UnknownTags []Tag
}

func (*RemoveTopicRecord) Key() APIKey       { return KeyRemoveTopic }
func (*RemoveTopicRecord) MaxVersion() int16 { return 0 }
func (*RemoveTopicRecord) name() string      { return "RemoveTopicRecord" }

func (r *RemoveTopicRecord) appendBody(e *encoder) {
	e.uuid(r.TopicID)
	e.tags(nil, r.UnknownTags)
}

func (r *RemoveTopicRecord) readBody(d *decoder) {
	*r = RemoveTopicRecord{}
	r.TopicID = d.uuid()
	r.UnknownTags = d.tags(nil)
}

// PartitionRecord (api key 3, v0-2) creates a partition with its full state.
//
// Version notes: v1 added Directories; v2 added the tagged
// EligibleLeaderReplicas and LastKnownElr (KIP-966), both nullable.
type PartitionRecord struct {
	PartitionID            int32   // PartitionId
	TopicID                Uuid    // TopicId
	Replicas               []int32 // Replicas
	Isr                    []int32 // Isr
	RemovingReplicas       []int32 // RemovingReplicas
	AddingReplicas         []int32 // AddingReplicas
	Leader                 int32   // Leader (-1: none)
	LeaderRecoveryState    int8    // LeaderRecoveryState, tag 0, default 0 (RECOVERED)
	LeaderEpoch            int32   // LeaderEpoch
	PartitionEpoch         int32   // PartitionEpoch
	Directories            []Uuid  // Directories (v1+): each replica's log directory
	EligibleLeaderReplicas []int32 // EligibleLeaderReplicas (v2+, tag 1, nil = null)
	LastKnownElr           []int32 // LastKnownElr (v2+, tag 2, nil = null)
	UnknownTags            []Tag
}

func (*PartitionRecord) Key() APIKey       { return KeyPartition }
func (*PartitionRecord) MaxVersion() int16 { return 2 }
func (*PartitionRecord) name() string      { return "PartitionRecord" }

func (r *PartitionRecord) appendBody(e *encoder) {
	e.int32(r.PartitionID)
	e.uuid(r.TopicID)
	e.int32s(r.Replicas, false)
	e.int32s(r.Isr, false)
	e.int32s(r.RemovingReplicas, false)
	e.int32s(r.AddingReplicas, false)
	e.int32(r.Leader)
	e.int32(r.LeaderEpoch)
	e.int32(r.PartitionEpoch)
	if e.version >= 1 {
		e.uuids(r.Directories, false)
	} else if len(r.Directories) > 0 {
		e.unsupported(r.name(), "Directories")
	}
	var tags []Tag
	if r.LeaderRecoveryState != 0 {
		tags = append(tags, e.tagged(0, func(e *encoder) { e.int8(r.LeaderRecoveryState) }))
	}
	if e.version >= 2 {
		if r.EligibleLeaderReplicas != nil {
			tags = append(tags, e.tagged(1, func(e *encoder) { e.int32s(r.EligibleLeaderReplicas, true) }))
		}
		if r.LastKnownElr != nil {
			tags = append(tags, e.tagged(2, func(e *encoder) { e.int32s(r.LastKnownElr, true) }))
		}
	} else {
		if r.EligibleLeaderReplicas != nil {
			e.unsupported(r.name(), "EligibleLeaderReplicas")
		}
		if r.LastKnownElr != nil {
			e.unsupported(r.name(), "LastKnownElr")
		}
	}
	e.tags(tags, r.UnknownTags)
}

func (r *PartitionRecord) readBody(d *decoder) {
	*r = PartitionRecord{}
	r.PartitionID = d.int32()
	r.TopicID = d.uuid()
	r.Replicas = d.int32s("replicas", false)
	r.Isr = d.int32s("isr", false)
	r.RemovingReplicas = d.int32s("removingReplicas", false)
	r.AddingReplicas = d.int32s("addingReplicas", false)
	r.Leader = d.int32()
	r.LeaderEpoch = d.int32()
	r.PartitionEpoch = d.int32()
	if d.version >= 1 {
		r.Directories = d.uuids("directories", false)
	}
	r.UnknownTags = d.tags(func(key uint32, d *decoder) bool {
		switch {
		case key == 0:
			r.LeaderRecoveryState = d.int8()
		case key == 1 && d.version >= 2:
			r.EligibleLeaderReplicas = d.int32s("eligibleLeaderReplicas", true)
		case key == 2 && d.version >= 2:
			r.LastKnownElr = d.int32s("lastKnownElr", true)
		default:
			return false
		}
		return true
	})
}

// NoLeaderChange is PartitionChangeRecord.Leader's default: the leader did
// not change. (-1 means the partition has no leader now.)
const NoLeaderChange = -2

// PartitionChangeRecord (api key 5, v0-2) changes some of a partition's
// state; every change is a tagged field, written only when it differs from
// its default ("no change"). Build one with NewPartitionChangeRecord so the
// defaults are set.
//
// Version notes: v1 added Directories (tag 8); v2 added EligibleLeaderReplicas
// (tag 6) and LastKnownElr (tag 7).
type PartitionChangeRecord struct {
	PartitionID            int32   // PartitionId
	TopicID                Uuid    // TopicId
	Isr                    []int32 // Isr, tag 0, nil = no change
	Leader                 int32   // Leader, tag 1, NoLeaderChange (-2) = no change
	Replicas               []int32 // Replicas, tag 2, nil = no change
	RemovingReplicas       []int32 // RemovingReplicas, tag 3, nil = no change
	AddingReplicas         []int32 // AddingReplicas, tag 4, nil = no change
	LeaderRecoveryState    int8    // LeaderRecoveryState, tag 5, -1 = no change
	Directories            []Uuid  // Directories (v1+), tag 8, nil = no change
	EligibleLeaderReplicas []int32 // EligibleLeaderReplicas (v2+), tag 6, nil = no change
	LastKnownElr           []int32 // LastKnownElr (v2+), tag 7, nil = no change
	UnknownTags            []Tag
}

// NewPartitionChangeRecord returns a change of nothing: every field at its
// schema default.
func NewPartitionChangeRecord() PartitionChangeRecord {
	return PartitionChangeRecord{PartitionID: -1, Leader: NoLeaderChange, LeaderRecoveryState: -1}
}

func (*PartitionChangeRecord) Key() APIKey       { return KeyPartitionChange }
func (*PartitionChangeRecord) MaxVersion() int16 { return 2 }
func (*PartitionChangeRecord) name() string      { return "PartitionChangeRecord" }

func (r *PartitionChangeRecord) appendBody(e *encoder) {
	e.int32(r.PartitionID)
	e.uuid(r.TopicID)
	var tags []Tag
	ints := func(key uint32, v []int32) {
		if v != nil {
			tags = append(tags, e.tagged(key, func(e *encoder) { e.int32s(v, true) }))
		}
	}
	ints(0, r.Isr)
	if r.Leader != NoLeaderChange {
		tags = append(tags, e.tagged(1, func(e *encoder) { e.int32(r.Leader) }))
	}
	ints(2, r.Replicas)
	ints(3, r.RemovingReplicas)
	ints(4, r.AddingReplicas)
	if r.LeaderRecoveryState != -1 {
		tags = append(tags, e.tagged(5, func(e *encoder) { e.int8(r.LeaderRecoveryState) }))
	}
	if e.version >= 1 {
		if r.Directories != nil {
			tags = append(tags, e.tagged(8, func(e *encoder) { e.uuids(r.Directories, true) }))
		}
	} else if r.Directories != nil {
		e.unsupported(r.name(), "Directories")
	}
	if e.version >= 2 {
		ints(6, r.EligibleLeaderReplicas)
		ints(7, r.LastKnownElr)
	} else {
		if r.EligibleLeaderReplicas != nil {
			e.unsupported(r.name(), "EligibleLeaderReplicas")
		}
		if r.LastKnownElr != nil {
			e.unsupported(r.name(), "LastKnownElr")
		}
	}
	e.tags(tags, r.UnknownTags)
}

func (r *PartitionChangeRecord) readBody(d *decoder) {
	*r = NewPartitionChangeRecord()
	r.PartitionID = d.int32()
	r.TopicID = d.uuid()
	r.UnknownTags = d.tags(func(key uint32, d *decoder) bool {
		switch {
		case key == 0:
			r.Isr = d.int32s("isr", true)
		case key == 1:
			r.Leader = d.int32()
		case key == 2:
			r.Replicas = d.int32s("replicas", true)
		case key == 3:
			r.RemovingReplicas = d.int32s("removingReplicas", true)
		case key == 4:
			r.AddingReplicas = d.int32s("addingReplicas", true)
		case key == 5:
			r.LeaderRecoveryState = d.int8()
		case key == 8 && d.version >= 1:
			r.Directories = d.uuids("directories", true)
		case key == 6 && d.version >= 2:
			r.EligibleLeaderReplicas = d.int32s("eligibleLeaderReplicas", true)
		case key == 7 && d.version >= 2:
			r.LastKnownElr = d.int32s("lastKnownElr", true)
		default:
			return false
		}
		return true
	})
}

// ConfigRecord (api key 4, v0) sets (or with a null Value, deletes) one
// dynamic configuration of a resource.
type ConfigRecord struct {
	ResourceType int8    // ResourceType: 2 topic, 4 broker (Kafka's ConfigResource.Type)
	ResourceName string  // ResourceName ("" is the cluster-wide broker default)
	Name         string  // Name: the configuration key
	Value        *string // Value: nil deletes the key
	UnknownTags  []Tag
}

func (*ConfigRecord) Key() APIKey       { return KeyConfig }
func (*ConfigRecord) MaxVersion() int16 { return 0 }
func (*ConfigRecord) name() string      { return "ConfigRecord" }

func (r *ConfigRecord) appendBody(e *encoder) {
	e.int8(r.ResourceType)
	e.string(r.ResourceName)
	e.string(r.Name)
	e.nullableString(r.Value)
	e.tags(nil, r.UnknownTags)
}

func (r *ConfigRecord) readBody(d *decoder) {
	*r = ConfigRecord{}
	r.ResourceType = d.int8()
	r.ResourceName = d.string("resourceName")
	r.Name = d.string("name")
	r.Value = d.nullableString()
	r.UnknownTags = d.tags(nil)
}
