package metadata

import (
	"fmt"
	"math"

	"github.com/twmb/franz-go/pkg/kbin"
)

// APIKey identifies a metadata record type (the schema's "apiKey").
type APIKey int16

// The metadata record types this package encodes, with Kafka's api keys.
const (
	KeyRegisterBroker           APIKey = 0
	KeyUnregisterBroker         APIKey = 1
	KeyTopic                    APIKey = 2
	KeyPartition                APIKey = 3
	KeyConfig                   APIKey = 4
	KeyPartitionChange          APIKey = 5
	KeyFenceBroker              APIKey = 7
	KeyUnfenceBroker            APIKey = 8
	KeyRemoveTopic              APIKey = 9
	KeyFeatureLevel             APIKey = 12
	KeyProducerIDs              APIKey = 15
	KeyBrokerRegistrationChange APIKey = 17
	KeyNoOp                     APIKey = 20
	KeyRegisterController       APIKey = 27
)

// FrameVersion is the only ApiMessageAndVersion frame version Kafka writes and
// reads; frame version 0 belonged to the 2.8 KRaft preview.
const FrameVersion = 1

// Record is one metadata record type. Values are pointers to the record
// structs of this package.
type Record interface {
	// Key is the record's api key.
	Key() APIKey
	// MaxVersion is the highest version of the record's schema (all start at 0).
	MaxVersion() int16

	name() string
	appendBody(e *encoder)
	readBody(d *decoder)
}

// newRecord returns an empty record of the type key names, with its
// schema's defaults, or nil for a key this package does not know.
func newRecord(key APIKey) Record {
	switch key {
	case KeyRegisterBroker:
		return &RegisterBrokerRecord{}
	case KeyUnregisterBroker:
		return &UnregisterBrokerRecord{}
	case KeyTopic:
		return &TopicRecord{}
	case KeyPartition:
		return &PartitionRecord{}
	case KeyConfig:
		return &ConfigRecord{}
	case KeyPartitionChange:
		return &PartitionChangeRecord{}
	case KeyFenceBroker:
		return &FenceBrokerRecord{}
	case KeyUnfenceBroker:
		return &UnfenceBrokerRecord{}
	case KeyRemoveTopic:
		return &RemoveTopicRecord{}
	case KeyClientQuota:
		return &ClientQuotaRecord{}
	case KeyUserScramCredential:
		return &UserScramCredentialRecord{}
	case KeyRemoveUserScramCredential:
		return &RemoveUserScramCredentialRecord{}
	case KeyAccessControlEntry:
		return &AccessControlEntryRecord{}
	case KeyRemoveAccessControlEntry:
		return &RemoveAccessControlEntryRecord{}
	case KeyFeatureLevel:
		return &FeatureLevelRecord{}
	case KeyProducerIDs:
		return &ProducerIdsRecord{}
	case KeyBrokerRegistrationChange:
		return &BrokerRegistrationChangeRecord{}
	case KeyNoOp:
		return &NoOpRecord{}
	case KeyRegisterController:
		return &RegisterControllerRecord{}
	}
	return nil
}

// AppendBody appends rec's body (no frame) at version to dst.
func AppendBody(dst []byte, rec Record, version int16) ([]byte, error) {
	if version < 0 || version > rec.MaxVersion() {
		return dst, fmt.Errorf("%s version %d: %w (versions 0-%d)", rec.name(), version, ErrUnsupportedVersion, rec.MaxVersion())
	}
	e := encoder{b: dst, version: version}
	rec.appendBody(&e)
	if e.err != nil {
		return dst, e.err
	}
	return e.b, nil
}

// Append appends rec framed as Kafka's MetadataRecordSerde writes it: frame
// version, api key and version as unsigned varints, then the body.
func Append(dst []byte, rec Record, version int16) ([]byte, error) {
	start := len(dst)
	dst = kbin.AppendUvarint(dst, FrameVersion)
	dst = kbin.AppendUvarint(dst, uint32(rec.Key()))
	dst = kbin.AppendUvarint(dst, uint32(version))
	out, err := AppendBody(dst, rec, version)
	if err != nil {
		return dst[:start], err
	}
	return out, nil
}

// Marshal is Append to a new slice.
func Marshal(rec Record, version int16) ([]byte, error) { return Append(nil, rec, version) }

// Unmarshal decodes one framed metadata record (the whole of b, as the value
// of one record in a __cluster_metadata batch) and returns it with its version.
func Unmarshal(b []byte) (Record, int16, error) {
	r := kbin.Reader{Src: b}
	frame := r.Uvarint()
	key := r.Uvarint()
	version := r.Uvarint()
	if !r.Ok() {
		return nil, 0, fmt.Errorf("metadata record frame: truncated")
	}
	switch {
	case frame == 0:
		return nil, 0, fmt.Errorf("metadata record with frame version 0: only the KRaft preview in Kafka 2.8 wrote it, and upgrades from it are not supported")
	case frame != FrameVersion:
		return nil, 0, fmt.Errorf("metadata record with unknown frame version %d (only frame version %d is supported)", frame, FrameVersion)
	case key > math.MaxInt16:
		return nil, 0, fmt.Errorf("metadata record type %d is too large", key)
	case version > math.MaxInt16:
		return nil, 0, fmt.Errorf("metadata record version %d is too large", version)
	}
	rec := newRecord(APIKey(key))
	if rec == nil {
		return nil, 0, fmt.Errorf("metadata record type %d: unknown", key)
	}
	if err := UnmarshalBody(r.Src, rec, int16(version)); err != nil {
		return nil, 0, err
	}
	return rec, int16(version), nil
}

// UnmarshalBody decodes b, the body of a rec at version, into rec; all of b
// must be used.
func UnmarshalBody(b []byte, rec Record, version int16) error {
	if version < 0 || version > rec.MaxVersion() {
		return fmt.Errorf("%s version %d: %w (versions 0-%d)", rec.name(), version, ErrUnsupportedVersion, rec.MaxVersion())
	}
	d := decoder{r: kbin.Reader{Src: b}, version: version}
	rec.readBody(&d)
	return d.done(fmt.Sprintf("%s version %d", rec.name(), version))
}
