package sharestate

import "github.com/twmb/franz-go/pkg/kerr"

// PartKey names a share-partition: the group, the topic and the partition.
type PartKey struct {
	Group     string
	TopicID   [16]byte
	Partition int32
}

// CoordinatorKey is k's coordinator key (FindCoordinator type SHARE).
func (k PartKey) CoordinatorKey() string { return CoordinatorKey(k.Group, k.TopicID, k.Partition) }

// State is a share-partition's durable state as the coordinator keeps it.
type State struct {
	SnapshotEpoch         int32
	StateEpoch            int32
	LeaderEpoch           int32
	StartOffset           int64
	DeliveryCompleteCount int32
	CreateTimestamp       int64
	WriteTimestamp        int64
	Batches               []Batch
}

// Record is one record to append: Value nil is a tombstone.
type Record struct {
	Key, Value []byte
}

// entry is one share-partition of a shard.
type entry struct {
	st      State
	updates int // ShareUpdate records since the last ShareSnapshot
}

// Shard is the state of the share-partitions whose records live in one
// __share_group_state partition (ShareCoordinatorShard). Its methods
// return the records a change needs without applying them: the owner
// appends them and calls Replay, so that the shard only holds what the
// log holds. Not safe for concurrent use; the owner serialises calls.
type Shard struct {
	// UpdatesPerSnapshot is share.coordinator.snapshot.update.records.per.snapshot:
	// after that many ShareUpdate records a write is a ShareSnapshot again.
	UpdatesPerSnapshot int
	parts              map[PartKey]*entry
}

// NewShard returns an empty shard.
func NewShard(updatesPerSnapshot int) *Shard {
	return &Shard{UpdatesPerSnapshot: updatesPerSnapshot, parts: map[PartKey]*entry{}}
}

// Len is the number of share-partitions the shard holds.
func (s *Shard) Len() int { return len(s.parts) }

// Get returns the share-partition's state.
func (s *Shard) Get(k PartKey) (State, bool) {
	e := s.parts[k]
	if e == nil {
		return State{}, false
	}
	st := e.st
	st.Batches = append([]Batch(nil), st.Batches...)
	return st, true
}

// Replay applies one record of the partition's log.
func (s *Shard) Replay(key, value []byte) error {
	k, err := ReadKey(key)
	if err != nil {
		return err
	}
	pk := PartKey{k.Group, k.TopicID, k.Partition}
	if value == nil {
		delete(s.parts, pk)
		return nil
	}
	v, err := ReadValue(k.Type, value)
	if err != nil {
		return err
	}
	e := s.parts[pk]
	if k.Type == RecordSnapshot {
		lead := v.LeaderEpoch
		if e == nil {
			e = &entry{}
			s.parts[pk] = e
		} else {
			lead = max(lead, e.st.LeaderEpoch) // the leader epochs seen only grow
		}
		e.st = State{SnapshotEpoch: v.SnapshotEpoch, StateEpoch: v.StateEpoch, LeaderEpoch: lead,
			StartOffset: v.StartOffset, DeliveryCompleteCount: v.DeliveryCompleteCount,
			CreateTimestamp: v.CreateTimestamp, WriteTimestamp: v.WriteTimestamp, Batches: v.Batches}
		e.updates = 0
		return nil
	}
	if e == nil { // an update without its snapshot (compacted away): take it whole
		s.parts[pk] = &entry{st: State{SnapshotEpoch: v.SnapshotEpoch, LeaderEpoch: v.LeaderEpoch,
			StartOffset: v.StartOffset, DeliveryCompleteCount: v.DeliveryCompleteCount, Batches: v.Batches}}
		return nil
	}
	if v.StartOffset != -1 {
		e.st.StartOffset = v.StartOffset
	}
	if v.LeaderEpoch != -1 {
		e.st.LeaderEpoch = max(e.st.LeaderEpoch, v.LeaderEpoch)
	}
	if v.DeliveryCompleteCount != -1 {
		e.st.DeliveryCompleteCount = v.DeliveryCompleteCount
	}
	e.st.Batches = Combine(e.st.Batches, v.Batches, e.st.StartOffset)
	e.updates++
	return nil
}

// WriteRequest is one share-partition of a WriteShareGroupState: -1 in
// StateEpoch, LeaderEpoch or StartOffset leaves it unchanged.
type WriteRequest struct {
	StateEpoch, LeaderEpoch int32
	StartOffset             int64
	DeliveryCompleteCount   int32
	Batches                 []Batch
}

// Write returns the record that writes req (a ShareSnapshot for a new
// share-partition or after UpdatesPerSnapshot updates, else a
// ShareUpdate), or an error code: FENCED_LEADER_EPOCH when a newer leader
// has written or read the state, FENCED_STATE_EPOCH when the state was
// initialised again since.
func (s *Shard) Write(k PartKey, req WriteRequest, nowMs int64) (Record, int16) {
	if k.Partition < 0 {
		return Record{}, kerr.InvalidRequest.Code
	}
	e := s.parts[k]
	if e != nil && req.LeaderEpoch != -1 && e.st.LeaderEpoch > req.LeaderEpoch {
		return Record{}, kerr.FencedLeaderEpoch.Code
	}
	if e != nil && req.StateEpoch != -1 && e.st.StateEpoch > req.StateEpoch {
		return Record{}, kerr.FencedStateEpoch.Code
	}
	return s.stateRecord(k, e, req, nowMs), 0
}

func (s *Shard) stateRecord(k PartKey, e *entry, req WriteRequest, nowMs int64) Record {
	key := Key{Group: k.Group, TopicID: k.TopicID, Partition: k.Partition}
	if e == nil {
		key.Type = RecordSnapshot
		v := Value{StateEpoch: req.StateEpoch, LeaderEpoch: req.LeaderEpoch, StartOffset: req.StartOffset,
			DeliveryCompleteCount: req.DeliveryCompleteCount, CreateTimestamp: nowMs, WriteTimestamp: nowMs,
			Batches: Combine(nil, req.Batches, req.StartOffset)}
		return Record{AppendKey(nil, key), AppendValue(nil, RecordSnapshot, v)}
	}
	if e.updates >= s.UpdatesPerSnapshot {
		key.Type = RecordSnapshot
		v := Value{SnapshotEpoch: e.st.SnapshotEpoch + 1, StateEpoch: orInt32(req.StateEpoch, e.st.StateEpoch),
			LeaderEpoch: orInt32(req.LeaderEpoch, e.st.LeaderEpoch), StartOffset: e.st.StartOffset,
			DeliveryCompleteCount: orInt32(req.DeliveryCompleteCount, e.st.DeliveryCompleteCount),
			CreateTimestamp:       e.st.CreateTimestamp, WriteTimestamp: nowMs}
		if req.StartOffset != -1 {
			v.StartOffset = req.StartOffset
		}
		v.Batches = Combine(e.st.Batches, req.Batches, v.StartOffset)
		return Record{AppendKey(nil, key), AppendValue(nil, RecordSnapshot, v)}
	}
	key.Type = RecordUpdate
	v := Value{SnapshotEpoch: e.st.SnapshotEpoch, LeaderEpoch: req.LeaderEpoch, StartOffset: req.StartOffset,
		DeliveryCompleteCount: req.DeliveryCompleteCount, Batches: Combine(nil, req.Batches, req.StartOffset)}
	return Record{AppendKey(nil, key), AppendValue(nil, RecordUpdate, v)}
}

func orInt32(v, dflt int32) int32 {
	if v == -1 {
		return dflt
	}
	return v
}

// Read returns the share-partition's state for its leader at leaderEpoch
// (StartOffset -1 and StateEpoch 0 when it was never initialised), and
// the record that stores a newer leader epoch, which fences the older
// leaders' writes (nil when the epoch is not newer). A read by an older
// leader is FENCED_LEADER_EPOCH.
func (s *Shard) Read(k PartKey, leaderEpoch int32, nowMs int64) (State, *Record, int16) {
	if k.Partition < 0 {
		return State{}, nil, kerr.InvalidRequest.Code
	}
	e := s.parts[k]
	if e != nil && e.st.LeaderEpoch > leaderEpoch {
		return State{}, nil, kerr.FencedLeaderEpoch.Code
	}
	st := State{StartOffset: -1, LeaderEpoch: -1, DeliveryCompleteCount: -1}
	if e != nil {
		st, _ = s.Get(k)
	}
	if leaderEpoch == -1 || (e != nil && e.st.LeaderEpoch == leaderEpoch) {
		return st, nil, 0
	}
	rec := s.stateRecord(k, e, WriteRequest{StateEpoch: st.StateEpoch, LeaderEpoch: leaderEpoch,
		StartOffset: st.StartOffset, DeliveryCompleteCount: -1}, nowMs)
	return st, &rec, 0
}

// Initialize returns the ShareSnapshot that (re)initialises the
// share-partition at startOffset with stateEpoch and no batches (the
// group's offsets were set or reset); an older state epoch than the one
// stored is FENCED_STATE_EPOCH.
func (s *Shard) Initialize(k PartKey, stateEpoch int32, startOffset int64, nowMs int64) (Record, int16) {
	if k.Partition < 0 || startOffset < -1 {
		return Record{}, kerr.InvalidRequest.Code
	}
	// No batches: nothing at or above the start offset is delivered yet.
	v := Value{StateEpoch: stateEpoch, LeaderEpoch: -1, StartOffset: startOffset, DeliveryCompleteCount: 0,
		CreateTimestamp: nowMs, WriteTimestamp: nowMs}
	if e := s.parts[k]; e != nil {
		if e.st.StateEpoch > stateEpoch {
			return Record{}, kerr.FencedStateEpoch.Code
		}
		v.SnapshotEpoch, v.LeaderEpoch = e.st.SnapshotEpoch+1, e.st.LeaderEpoch
	}
	key := Key{Type: RecordSnapshot, Group: k.Group, TopicID: k.TopicID, Partition: k.Partition}
	return Record{AppendKey(nil, key), AppendValue(nil, RecordSnapshot, v)}, 0
}

// Delete returns the tombstones that remove the share-partition (both
// record types' keys); none when it is unknown.
func (s *Shard) Delete(k PartKey) []Record {
	if s.parts[k] == nil {
		return nil
	}
	key := Key{Type: RecordSnapshot, Group: k.Group, TopicID: k.TopicID, Partition: k.Partition}
	snap := AppendKey(nil, key)
	key.Type = RecordUpdate
	return []Record{{Key: snap}, {Key: AppendKey(nil, key)}}
}
