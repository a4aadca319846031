package metadata

import (
	"fmt"

	"github.com/twmb/franz-go/pkg/kbin"
)

// ControlType is the type in a control record's key (Kafka's
// ControlRecordType). A control record's key is version int16 (0) then type
// int16; its value is the message of that type, unframed.
type ControlType int16

// The KRaft control record types.
const (
	ControlLeaderChange   ControlType = 2
	ControlSnapshotHeader ControlType = 3
	ControlSnapshotFooter ControlType = 4
	ControlKRaftVersion   ControlType = 5
	ControlKRaftVoters    ControlType = 6
)

// AppendControlKey appends the key of a control record of type t.
func AppendControlKey(dst []byte, t ControlType) []byte {
	dst = kbin.AppendInt16(dst, 0)
	return kbin.AppendInt16(dst, int16(t))
}

// ParseControlKey reads a control record's key. As Kafka does, a key version
// other than 0 is read as version 0.
func ParseControlKey(b []byte) (ControlType, error) {
	if len(b) < 4 {
		return 0, fmt.Errorf("control record key of %d bytes, want at least 4", len(b))
	}
	r := kbin.Reader{Src: b[2:]}
	return ControlType(r.Int16()), nil
}

// Control is one KRaft control record message.
type Control interface {
	Type() ControlType
	// MaxVersion is the highest schema version (all start at 0).
	MaxVersion() int16

	name() string
	appendBody(e *encoder)
	readBody(d *decoder)
}

// NewControl returns an empty message of type t, or nil for a type this
// package does not know.
func NewControl(t ControlType) Control {
	switch t {
	case ControlLeaderChange:
		return &LeaderChangeMessage{}
	case ControlSnapshotHeader:
		return &SnapshotHeaderRecord{}
	case ControlSnapshotFooter:
		return &SnapshotFooterRecord{}
	case ControlKRaftVersion:
		return &KRaftVersionRecord{}
	case ControlKRaftVoters:
		return &VotersRecord{}
	}
	return nil
}

// MarshalControl encodes a control record's value at version. Kafka writes
// all of them at version 0 today; the value does not say its version, so the
// reader must know it.
func MarshalControl(c Control, version int16) ([]byte, error) {
	if version < 0 || version > c.MaxVersion() {
		return nil, fmt.Errorf("%s version %d: %w (versions 0-%d)", c.name(), version, ErrUnsupportedVersion, c.MaxVersion())
	}
	e := encoder{version: version}
	c.appendBody(&e)
	if e.err != nil {
		return nil, e.err
	}
	return e.b, nil
}

// UnmarshalControl decodes the value of a control record of type t at
// version; all of b must be used.
func UnmarshalControl(t ControlType, b []byte, version int16) (Control, error) {
	c := NewControl(t)
	if c == nil {
		return nil, fmt.Errorf("control record type %d: unknown", t)
	}
	if version < 0 || version > c.MaxVersion() {
		return nil, fmt.Errorf("%s version %d: %w (versions 0-%d)", c.name(), version, ErrUnsupportedVersion, c.MaxVersion())
	}
	d := decoder{r: kbin.Reader{Src: b}, version: version}
	c.readBody(&d)
	if err := d.done(fmt.Sprintf("%s version %d", c.name(), version)); err != nil {
		return nil, err
	}
	return c, nil
}

// LeaderChangeVoter is one voter of a LeaderChangeMessage.
type LeaderChangeVoter struct {
	VoterID          int32 // VoterId
	VoterDirectoryID Uuid  // VoterDirectoryId (v1+)
	UnknownTags      []Tag
}

// LeaderChangeMessage (control type 2, v0-1) is the first record a new
// quorum leader appends in its epoch.
type LeaderChangeMessage struct {
	Version        int16               // Version: the data's own version field
	LeaderID       int32               // LeaderId
	Voters         []LeaderChangeVoter // Voters
	GrantingVoters []LeaderChangeVoter // GrantingVoters: those that voted for the leader
	UnknownTags    []Tag
}

func (*LeaderChangeMessage) Type() ControlType { return ControlLeaderChange }
func (*LeaderChangeMessage) MaxVersion() int16 { return 1 }
func (*LeaderChangeMessage) name() string      { return "LeaderChangeMessage" }

func (m *LeaderChangeMessage) appendBody(e *encoder) {
	e.int16(m.Version)
	e.int32(m.LeaderID)
	appendLeaderChangeVoters(e, m.Voters)
	appendLeaderChangeVoters(e, m.GrantingVoters)
	e.tags(nil, m.UnknownTags)
}

func appendLeaderChangeVoters(e *encoder, vs []LeaderChangeVoter) {
	e.arrayLen(len(vs), false)
	for _, v := range vs {
		e.int32(v.VoterID)
		if e.version >= 1 {
			e.uuid(v.VoterDirectoryID)
		} else if v.VoterDirectoryID != ZeroUuid {
			e.unsupported("LeaderChangeMessage", "VoterDirectoryId")
		}
		e.tags(nil, v.UnknownTags)
	}
}

func readLeaderChangeVoters(d *decoder, field string) []LeaderChangeVoter {
	n := d.arrayLen(field, false, 5)
	if n <= 0 {
		return nil
	}
	vs := make([]LeaderChangeVoter, n)
	for i := range vs {
		vs[i].VoterID = d.int32()
		if d.version >= 1 {
			vs[i].VoterDirectoryID = d.uuid()
		}
		vs[i].UnknownTags = d.tags(nil)
	}
	return vs
}

func (m *LeaderChangeMessage) readBody(d *decoder) {
	*m = LeaderChangeMessage{}
	m.Version = d.int16()
	m.LeaderID = d.int32()
	m.Voters = readLeaderChangeVoters(d, "voters")
	m.GrantingVoters = readLeaderChangeVoters(d, "grantingVoters")
	m.UnknownTags = d.tags(nil)
}

// SnapshotHeaderRecord (control type 3, v0) opens every snapshot.
type SnapshotHeaderRecord struct {
	Version                   int16 // Version
	LastContainedLogTimestamp int64 // LastContainedLogTimestamp
	UnknownTags               []Tag
}

func (*SnapshotHeaderRecord) Type() ControlType { return ControlSnapshotHeader }
func (*SnapshotHeaderRecord) MaxVersion() int16 { return 0 }
func (*SnapshotHeaderRecord) name() string      { return "SnapshotHeaderRecord" }

func (m *SnapshotHeaderRecord) appendBody(e *encoder) {
	e.int16(m.Version)
	e.int64(m.LastContainedLogTimestamp)
	e.tags(nil, m.UnknownTags)
}

func (m *SnapshotHeaderRecord) readBody(d *decoder) {
	*m = SnapshotHeaderRecord{}
	m.Version = d.int16()
	m.LastContainedLogTimestamp = d.int64()
	m.UnknownTags = d.tags(nil)
}

// SnapshotFooterRecord (control type 4, v0) closes every snapshot.
type SnapshotFooterRecord struct {
	Version     int16 // Version
	UnknownTags []Tag
}

func (*SnapshotFooterRecord) Type() ControlType { return ControlSnapshotFooter }
func (*SnapshotFooterRecord) MaxVersion() int16 { return 0 }
func (*SnapshotFooterRecord) name() string      { return "SnapshotFooterRecord" }

func (m *SnapshotFooterRecord) appendBody(e *encoder) {
	e.int16(m.Version)
	e.tags(nil, m.UnknownTags)
}

func (m *SnapshotFooterRecord) readBody(d *decoder) {
	*m = SnapshotFooterRecord{}
	m.Version = d.int16()
	m.UnknownTags = d.tags(nil)
}

// KRaftVersionRecord (control type 5, v0) sets the kraft.version feature.
type KRaftVersionRecord struct {
	Version      int16 // Version
	KRaftVersion int16 // KRaftVersion
	UnknownTags  []Tag
}

func (*KRaftVersionRecord) Type() ControlType { return ControlKRaftVersion }
func (*KRaftVersionRecord) MaxVersion() int16 { return 0 }
func (*KRaftVersionRecord) name() string      { return "KRaftVersionRecord" }

func (m *KRaftVersionRecord) appendBody(e *encoder) {
	e.int16(m.Version)
	e.int16(m.KRaftVersion)
	e.tags(nil, m.UnknownTags)
}

func (m *KRaftVersionRecord) readBody(d *decoder) {
	*m = KRaftVersionRecord{}
	m.Version = d.int16()
	m.KRaftVersion = d.int16()
	m.UnknownTags = d.tags(nil)
}

// VoterEndpoint is one listener of a voter in a VotersRecord (no security
// protocol: voters are reached on a controller listener).
type VoterEndpoint struct {
	Name        string // Name
	Host        string // Host
	Port        uint16 // Port
	UnknownTags []Tag
}

// KRaftVersionFeature is the kraft.version range a voter supports.
type KRaftVersionFeature struct {
	MinSupportedVersion int16 // MinSupportedVersion
	MaxSupportedVersion int16 // MaxSupportedVersion
	UnknownTags         []Tag
}

// VotersRecordVoter is one voter of a VotersRecord.
type VotersRecordVoter struct {
	VoterID             int32               // VoterId
	VoterDirectoryID    Uuid                // VoterDirectoryId
	Endpoints           []VoterEndpoint     // Endpoints
	KRaftVersionFeature KRaftVersionFeature // KRaftVersionFeature
	UnknownTags         []Tag
}

// VotersRecord (control type 6, v0) is the voter set of a dynamic quorum
// (KIP-853).
type VotersRecord struct {
	Version     int16               // Version
	Voters      []VotersRecordVoter // Voters
	UnknownTags []Tag
}

func (*VotersRecord) Type() ControlType { return ControlKRaftVoters }
func (*VotersRecord) MaxVersion() int16 { return 0 }
func (*VotersRecord) name() string      { return "VotersRecord" }

func (m *VotersRecord) appendBody(e *encoder) {
	e.int16(m.Version)
	e.arrayLen(len(m.Voters), false)
	for _, v := range m.Voters {
		e.int32(v.VoterID)
		e.uuid(v.VoterDirectoryID)
		e.arrayLen(len(v.Endpoints), false)
		for _, ep := range v.Endpoints {
			e.string(ep.Name)
			e.string(ep.Host)
			e.uint16(ep.Port)
			e.tags(nil, ep.UnknownTags)
		}
		e.int16(v.KRaftVersionFeature.MinSupportedVersion)
		e.int16(v.KRaftVersionFeature.MaxSupportedVersion)
		e.tags(nil, v.KRaftVersionFeature.UnknownTags)
		e.tags(nil, v.UnknownTags)
	}
	e.tags(nil, m.UnknownTags)
}

func (m *VotersRecord) readBody(d *decoder) {
	*m = VotersRecord{}
	m.Version = d.int16()
	// voter id, directory id, endpoints length, feature range and its tags, tags
	n := d.arrayLen("voters", false, 27)
	if n > 0 {
		m.Voters = make([]VotersRecordVoter, n)
	}
	for i := 0; i < n; i++ {
		v := &m.Voters[i]
		v.VoterID = d.int32()
		v.VoterDirectoryID = d.uuid()
		if k := d.arrayLen("endpoints", false, 5); k > 0 {
			v.Endpoints = make([]VoterEndpoint, k)
			for j := range v.Endpoints {
				ep := &v.Endpoints[j]
				ep.Name = d.string("name")
				ep.Host = d.string("host")
				ep.Port = d.uint16()
				ep.UnknownTags = d.tags(nil)
			}
		}
		v.KRaftVersionFeature.MinSupportedVersion = d.int16()
		v.KRaftVersionFeature.MaxSupportedVersion = d.int16()
		v.KRaftVersionFeature.UnknownTags = d.tags(nil)
		v.UnknownTags = d.tags(nil)
	}
	m.UnknownTags = d.tags(nil)
}
