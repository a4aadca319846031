package cgroup

import (
	"errors"
	"slices"
	"time"

	"github.com/twmb/franz-go/pkg/kbin"
)

// The group's records in __consumer_offsets, in the format of Kafka's group
// coordinator (group-coordinator/src/main/resources/common/message): a key
// is an int16 record type followed by its fields, not flexible; a value an
// int16 version (0) followed by flexible fields and an empty tagged-field
// section. A null value deletes.
const (
	RecordGroupMetadata       int16 = 3 // ConsumerGroupMetadataKey/Value: the group epoch
	RecordPartitionMetadata   int16 = 4 // ConsumerGroupPartitionMetadataKey/Value: the subscribed topics
	RecordMemberMetadata      int16 = 5 // ConsumerGroupMemberMetadataKey/Value: a member's subscription
	RecordTargetMetadata      int16 = 6 // ConsumerGroupTargetAssignmentMetadataKey/Value: the assignment epoch
	RecordTargetMember        int16 = 7 // ConsumerGroupTargetAssignmentMemberKey/Value: a member's target
	RecordCurrentMemberAssign int16 = 8 // ConsumerGroupCurrentMemberAssignmentKey/Value: a member's epoch and partitions
	firstRecord, lastRecord         = RecordGroupMetadata, RecordCurrentMemberAssign
)

// IsRecordType reports whether a key's type is one of the consumer group's.
func IsRecordType(t int16) bool { return t >= firstRecord && t <= lastRecord }

// Key is a decoded key: the record type, the group and, for per-member
// records, the member.
type Key struct {
	Type   int16
	Group  string
	Member string
}

// perMember reports whether the record type's key carries a member id.
func perMember(t int16) bool {
	return t == RecordMemberMetadata || t == RecordTargetMember || t == RecordCurrentMemberAssign
}

// AppendKey encodes a key.
func AppendKey(dst []byte, k Key) []byte {
	dst = kbin.AppendInt16(dst, k.Type)
	dst = kbin.AppendString(dst, k.Group)
	if perMember(k.Type) {
		dst = kbin.AppendString(dst, k.Member)
	}
	return dst
}

var errBadRecord = errors.New("malformed consumer group record")

// ReadKey decodes a key.
func ReadKey(src []byte) (Key, error) {
	r := kbin.Reader{Src: src}
	k := Key{Type: r.Int16(), Group: r.String()}
	if perMember(k.Type) {
		k.Member = r.String()
	}
	if !IsRecordType(k.Type) || r.Complete() != nil {
		return Key{}, errBadRecord
	}
	return k, nil
}

func appendValueHeader(dst []byte) []byte { return kbin.AppendInt16(dst, 0) }

func appendTags(dst []byte) []byte { return kbin.AppendUvarint(dst, 0) }

func appendCompactStrings(dst []byte, ss []string) []byte {
	dst = kbin.AppendCompactArrayLen(dst, len(ss))
	for _, s := range ss {
		dst = kbin.AppendCompactString(dst, s)
	}
	return dst
}

// appendTopicPartitions encodes []TopicPartitions {TopicId uuid,
// Partitions []int32} (flexible, each entry with its tagged fields).
func appendTopicPartitions(dst []byte, s Set) []byte {
	g := s.Grouped()
	dst = kbin.AppendCompactArrayLen(dst, len(g))
	for _, t := range g {
		dst = kbin.AppendUuid(dst, t.Topic)
		dst = kbin.AppendCompactArrayLen(dst, len(t.Partitions))
		for _, p := range t.Partitions {
			dst = kbin.AppendInt32(dst, p)
		}
		dst = appendTags(dst)
	}
	return dst
}

// GroupMetadataValue encodes ConsumerGroupMetadataValue v0 {Epoch}.
func GroupMetadataValue(epoch int32) []byte {
	dst := appendValueHeader(nil)
	dst = kbin.AppendInt32(dst, epoch)
	return appendTags(dst)
}

// TargetMetadataValue encodes ConsumerGroupTargetAssignmentMetadataValue v0
// {AssignmentEpoch}.
func TargetMetadataValue(epoch int32) []byte { return GroupMetadataValue(epoch) }

// PartitionMetadataValue encodes ConsumerGroupPartitionMetadataValue v0:
// Topics [{TopicId, TopicName, NumPartitions, PartitionMetadata (empty:
// no rack information)}], sorted by name.
func PartitionMetadataValue(topics map[string]Topic) []byte {
	dst := appendValueHeader(nil)
	dst = kbin.AppendCompactArrayLen(dst, len(topics))
	for _, n := range sortedKeys(topics) {
		t := topics[n]
		dst = kbin.AppendUuid(dst, t.ID)
		dst = kbin.AppendCompactString(dst, t.Name)
		dst = kbin.AppendInt32(dst, t.Partitions)
		dst = kbin.AppendCompactArrayLen(dst, 0)
		dst = appendTags(dst)
	}
	return appendTags(dst)
}

// MemberMetadataValue encodes ConsumerGroupMemberMetadataValue v0:
// InstanceId, RackId, ClientId, ClientHost, SubscribedTopicNames,
// SubscribedTopicRegex, RebalanceTimeoutMs, ServerAssignor, and for a
// classic member the tagged field 0, ClassicMemberMetadata
// {SessionTimeoutMs, SupportedProtocols [{Name, Metadata}]}.
func MemberMetadataValue(m *Member) []byte {
	dst := appendValueHeader(nil)
	dst = kbin.AppendCompactNullableString(dst, m.InstanceID)
	dst = kbin.AppendCompactNullableString(dst, m.RackID)
	dst = kbin.AppendCompactString(dst, m.ClientID)
	dst = kbin.AppendCompactString(dst, m.ClientHost)
	dst = appendCompactStrings(dst, m.SubscribedNames)
	dst = kbin.AppendCompactNullableString(dst, m.SubscribedRegex)
	dst = kbin.AppendInt32(dst, int32(m.RebalanceTimeout/time.Millisecond))
	dst = kbin.AppendCompactNullableString(dst, m.ServerAssignor)
	if m.Classic == nil {
		return appendTags(dst)
	}
	body := kbin.AppendInt32(nil, int32(m.Classic.SessionTimeout/time.Millisecond))
	body = kbin.AppendCompactArrayLen(body, len(m.Classic.Protocols))
	for _, p := range m.Classic.Protocols {
		body = kbin.AppendCompactString(body, p.Name)
		body = kbin.AppendCompactBytes(body, p.Metadata)
		body = appendTags(body)
	}
	body = appendTags(body)
	dst = kbin.AppendUvarint(dst, 1)
	dst = kbin.AppendUvarint(dst, 0)
	dst = kbin.AppendUvarint(dst, uint32(len(body)))
	return append(dst, body...)
}

// readClassicMetadata decodes the tagged ClassicMemberMetadata.
func readClassicMetadata(src []byte) (*Classic, error) {
	r := &kbin.Reader{Src: src}
	c := &Classic{SessionTimeout: time.Duration(r.Int32()) * time.Millisecond}
	n := r.CompactArrayLen()
	for i := int32(0); i < n && r.Ok(); i++ {
		p := Protocol{Name: r.CompactString(), Metadata: slices.Clone(r.CompactBytes())}
		skipTags(r)
		c.Protocols = append(c.Protocols, p)
	}
	skipTags(r)
	if !r.Ok() {
		return nil, errBadRecord
	}
	return c, nil
}

// TargetMemberValue encodes ConsumerGroupTargetAssignmentMemberValue v0
// {TopicPartitions}.
func TargetMemberValue(s Set) []byte {
	dst := appendValueHeader(nil)
	dst = appendTopicPartitions(dst, s)
	return appendTags(dst)
}

// CurrentAssignmentValue encodes ConsumerGroupCurrentMemberAssignmentValue
// v0: MemberEpoch, PreviousMemberEpoch, State, AssignedPartitions,
// PartitionsPendingRevocation.
func CurrentAssignmentValue(m *Member) []byte {
	dst := appendValueHeader(nil)
	dst = kbin.AppendInt32(dst, m.Epoch)
	dst = kbin.AppendInt32(dst, m.PrevEpoch)
	dst = kbin.AppendInt8(dst, int8(m.State))
	dst = appendTopicPartitions(dst, m.Assigned)
	dst = appendTopicPartitions(dst, m.Revoking)
	return appendTags(dst)
}

// valueReader reads a value after checking its version.
func valueReader(src []byte) (*kbin.Reader, error) {
	r := &kbin.Reader{Src: src}
	if v := r.Int16(); v != 0 || !r.Ok() {
		return nil, errBadRecord
	}
	return r, nil
}

// skipTags skips a tagged-field section.
func skipTags(r *kbin.Reader) {
	for n := r.Uvarint(); n > 0 && r.Ok(); n-- {
		r.Uvarint()
		r.Span(int(r.Uvarint()))
	}
}

func readCompactStrings(r *kbin.Reader) []string {
	n := r.CompactArrayLen()
	out := make([]string, 0, max(n, 0))
	for i := int32(0); i < n && r.Ok(); i++ {
		out = append(out, r.CompactString())
	}
	return out
}

func readTopicPartitions(r *kbin.Reader) Set {
	s := Set{}
	n := r.CompactArrayLen()
	for i := int32(0); i < n && r.Ok(); i++ {
		id := TopicID(r.Uuid())
		np := r.CompactArrayLen()
		for j := int32(0); j < np && r.Ok(); j++ {
			s[TP{id, r.Int32()}] = struct{}{}
		}
		skipTags(r)
	}
	return s
}

func done(r *kbin.Reader) error {
	skipTags(r)
	if !r.Ok() {
		return errBadRecord
	}
	return nil
}

// ReadEpochValue decodes ConsumerGroupMetadataValue or
// ConsumerGroupTargetAssignmentMetadataValue (one int32).
func ReadEpochValue(src []byte) (int32, error) {
	r, err := valueReader(src)
	if err != nil {
		return 0, err
	}
	e := r.Int32()
	return e, done(r)
}

// ReadPartitionMetadataValue decodes ConsumerGroupPartitionMetadataValue.
func ReadPartitionMetadataValue(src []byte) (map[string]Topic, error) {
	r, err := valueReader(src)
	if err != nil {
		return nil, err
	}
	out := map[string]Topic{}
	n := r.CompactArrayLen()
	for i := int32(0); i < n && r.Ok(); i++ {
		t := Topic{ID: TopicID(r.Uuid()), Name: r.CompactString(), Partitions: r.Int32()}
		for np, j := r.CompactArrayLen(), int32(0); j < np && r.Ok(); j++ {
			r.Int32()
			readCompactStrings(r)
			skipTags(r)
		}
		skipTags(r)
		out[t.Name] = t
	}
	return out, done(r)
}

// ReadMemberMetadataValue decodes ConsumerGroupMemberMetadataValue into m.
func ReadMemberMetadataValue(src []byte, m *Member) error {
	r, err := valueReader(src)
	if err != nil {
		return err
	}
	m.InstanceID = r.CompactNullableString()
	m.RackID = r.CompactNullableString()
	m.ClientID = r.CompactString()
	m.ClientHost = r.CompactString()
	m.SubscribedNames = readCompactStrings(r)
	m.SubscribedRegex = r.CompactNullableString()
	m.RebalanceTimeout = time.Duration(r.Int32()) * time.Millisecond
	m.ServerAssignor = r.CompactNullableString()
	m.Classic = nil
	for n := r.Uvarint(); n > 0 && r.Ok(); n-- {
		tag := r.Uvarint()
		body := r.Span(int(r.Uvarint()))
		if tag == 0 && r.Ok() {
			if m.Classic, err = readClassicMetadata(body); err != nil {
				return err
			}
		}
	}
	if !r.Ok() {
		return errBadRecord
	}
	return nil
}

// ReadTargetMemberValue decodes ConsumerGroupTargetAssignmentMemberValue.
func ReadTargetMemberValue(src []byte) (Set, error) {
	r, err := valueReader(src)
	if err != nil {
		return nil, err
	}
	s := readTopicPartitions(r)
	return s, done(r)
}

// ReadCurrentAssignmentValue decodes
// ConsumerGroupCurrentMemberAssignmentValue into m.
func ReadCurrentAssignmentValue(src []byte, m *Member) error {
	r, err := valueReader(src)
	if err != nil {
		return err
	}
	m.Epoch, m.PrevEpoch = r.Int32(), r.Int32()
	m.State = MemberState(r.Int8())
	m.Assigned = readTopicPartitions(r)
	m.Revoking = readTopicPartitions(r)
	return done(r)
}

// Records lists the records that make the changes durable: for each a key
// and a value (nil deletes). Removed members' records are deleted.
func (g *Group) Records(c Changes) (keys, values [][]byte) {
	add := func(t int16, member string, v []byte) {
		keys = append(keys, AppendKey(nil, Key{Type: t, Group: g.ID, Member: member}))
		values = append(values, v)
	}
	for _, id := range sortedKeys(c.Members) {
		if m := g.Members[id]; m != nil {
			add(RecordMemberMetadata, id, MemberMetadataValue(m))
		}
	}
	if c.Subscribed {
		add(RecordPartitionMetadata, "", PartitionMetadataValue(g.Subscribed))
	}
	if c.GroupEpoch {
		add(RecordGroupMetadata, "", GroupMetadataValue(g.Epoch))
	}
	for _, id := range sortedKeys(c.Targets) {
		if t, ok := g.Target[id]; ok {
			add(RecordTargetMember, id, TargetMemberValue(t))
		}
	}
	if c.AssignmentEpoch {
		add(RecordTargetMetadata, "", TargetMetadataValue(g.AssignmentEpoch))
	}
	for _, id := range sortedKeys(c.Current) {
		if m := g.Members[id]; m != nil {
			add(RecordCurrentMemberAssign, id, CurrentAssignmentValue(m))
		}
	}
	for _, id := range sortedKeys(c.Removed) {
		if g.Members[id] != nil {
			continue // removed, then back (a static member's id reused)
		}
		add(RecordCurrentMemberAssign, id, nil)
		add(RecordTargetMember, id, nil)
		add(RecordMemberMetadata, id, nil)
	}
	return keys, values
}

// Tombstones lists the keys deleting the whole group: every member's
// records, then the group's.
func (g *Group) Tombstones() [][]byte {
	var keys [][]byte
	add := func(t int16, member string) {
		keys = append(keys, AppendKey(nil, Key{Type: t, Group: g.ID, Member: member}))
	}
	for _, id := range sortedKeys(g.Members) {
		add(RecordCurrentMemberAssign, id)
		add(RecordTargetMember, id)
		add(RecordMemberMetadata, id)
	}
	add(RecordTargetMetadata, "")
	add(RecordPartitionMetadata, "")
	add(RecordGroupMetadata, "")
	return keys
}

// Replay applies one record read back from __consumer_offsets (value nil:
// a deletion). The group-level deletion is the caller's: it drops the
// group on a ConsumerGroupMetadata tombstone.
func (g *Group) Replay(k Key, value []byte) error {
	member := func() *Member {
		m := g.Members[k.Member]
		if m == nil {
			m = &Member{ID: k.Member, Assigned: Set{}, Revoking: Set{}, Since: map[TP]int32{}}
			g.Members[k.Member] = m
		}
		return m
	}
	var err error
	switch k.Type {
	case RecordGroupMetadata:
		if value != nil {
			g.Epoch, err = ReadEpochValue(value)
		}
	case RecordTargetMetadata:
		if value != nil {
			g.AssignmentEpoch, err = ReadEpochValue(value)
		}
	case RecordPartitionMetadata:
		if value != nil {
			g.Subscribed, err = ReadPartitionMetadataValue(value)
		}
	case RecordMemberMetadata:
		if value == nil {
			delete(g.Members, k.Member)
			return nil
		}
		err = ReadMemberMetadataValue(value, member())
	case RecordTargetMember:
		if value == nil {
			delete(g.Target, k.Member)
			return nil
		}
		g.Target[k.Member], err = ReadTargetMemberValue(value)
	case RecordCurrentMemberAssign:
		if value == nil {
			if m := g.Members[k.Member]; m != nil {
				m.Assigned, m.Revoking = Set{}, Set{}
			}
			return nil
		}
		err = ReadCurrentAssignmentValue(value, member())
	}
	return err
}

// Restored finishes a group rebuilt from records at now: ownership is
// recomputed, every member gets a full session to come back, a member
// revoking gets a full rebalance timeout, and each assigned partition
// counts as held since the member's epoch.
func (g *Group) Restored(now time.Time) {
	g.RebuildOwners()
	for _, m := range g.Members {
		m.LastHeartbeat = now
		if m.State == MemberUnrevoked && m.Classic == nil {
			m.RevokeDeadline = now.Add(m.RebalanceTimeout)
		}
		m.Since = map[TP]int32{}
		for tp := range m.Assigned {
			m.Since[tp] = max(m.Epoch, 0)
		}
	}
	g.AssignorName = ""
	g.changes = newChanges()
}

// Assignor is the assignor the group uses: that of its current target
// assignment, else the one its members would get now.
func (g *Group) Assignor(cfg Config) string {
	if g.AssignorName != "" {
		return g.AssignorName
	}
	return g.preferredAssignor(cfg)
}
