package metadata

import (
	"bytes"
	"errors"
	"reflect"
	"strings"
	"testing"
)

// The golden bytes below are written by hand from apache/kafka's metadata
// record schemas, one field per line, each commented with the schema's field
// name. Compact strings and arrays carry length+1 as an unsigned varint (0 =
// null); every struct ends with its tagged-field section (count, then tag,
// size, value for each field, in ascending tag order).

var (
	idA = Uuid{0x01, 0x02, 0x03, 0x04, 0x05, 0x06, 0x07, 0x08, 0x09, 0x0a, 0x0b, 0x0c, 0x0d, 0x0e, 0x0f, 0x10}
	idB = Uuid{0xf0, 0xe1, 0xd2, 0xc3, 0xb4, 0xa5, 0x96, 0x87, 0x78, 0x69, 0x5a, 0x4b, 0x3c, 0x2d, 0x1e, 0x0f}
)

// cat joins byte pieces (the hand-written fields and the uuids' 16 bytes).
func cat(parts ...any) []byte {
	var out []byte
	for _, p := range parts {
		switch v := p.(type) {
		case []byte:
			out = append(out, v...)
		case Uuid:
			out = append(out, v[:]...)
		case string:
			out = append(out, v...)
		default:
			panic("cat: unsupported piece")
		}
	}
	return out
}

func strp(s string) *string { return &s }

type golden struct {
	name    string
	rec     Record
	version int16
	want    []byte
}

func goldens() []golden {
	return []golden{
		{"TopicRecord v0", &TopicRecord{Name: "foo", TopicID: idA}, 0, cat(
			[]byte{0x01, 0x02, 0x00}, // frame version 1, api key 2, version 0
			[]byte{0x04}, "foo",      // Name: compact string, 3+1
			idA,          // TopicId
			[]byte{0x00}, // tagged fields: none
		)},
		{"RemoveTopicRecord v0", &RemoveTopicRecord{TopicID: idB}, 0, cat(
			[]byte{0x01, 0x09, 0x00}, // frame, api key 9, version 0
			idB,                      // TopicId
			[]byte{0x00},             // tagged fields: none
		)},
		{"PartitionRecord v0", &PartitionRecord{PartitionID: 7, TopicID: idA, Replicas: []int32{1, 2}, Isr: []int32{1},
			Leader: 1, LeaderEpoch: 3, PartitionEpoch: 4}, 0, cat(
			[]byte{0x01, 0x03, 0x00},             // frame, api key 3, version 0
			[]byte{0x00, 0x00, 0x00, 7},          // PartitionId
			idA,                                  // TopicId
			[]byte{0x03, 0, 0, 0, 1, 0, 0, 0, 2}, // Replicas: [1 2]
			[]byte{0x02, 0, 0, 0, 1},             // Isr: [1]
			[]byte{0x01},                         // RemovingReplicas: []
			[]byte{0x01},                         // AddingReplicas: []
			[]byte{0, 0, 0, 1},                   // Leader
			[]byte{0, 0, 0, 3},                   // LeaderEpoch
			[]byte{0, 0, 0, 4},                   // PartitionEpoch
			[]byte{0x00},                         // tagged fields: none (LeaderRecoveryState at default 0)
		)},
		{"PartitionRecord v0 LeaderRecoveryState tagged", &PartitionRecord{PartitionID: 0, TopicID: idA, Replicas: []int32{5}, Isr: []int32{5},
			Leader: 5, LeaderRecoveryState: 1}, 0, cat(
			[]byte{0x01, 0x03, 0x00}, // frame, api key 3, version 0
			[]byte{0, 0, 0, 0},       // PartitionId
			idA,                      // TopicId
			[]byte{0x02, 0, 0, 0, 5}, // Replicas: [5]
			[]byte{0x02, 0, 0, 0, 5}, // Isr: [5]
			[]byte{0x01},             // RemovingReplicas: []
			[]byte{0x01},             // AddingReplicas: []
			[]byte{0, 0, 0, 5},       // Leader
			[]byte{0, 0, 0, 0},       // LeaderEpoch
			[]byte{0, 0, 0, 0},       // PartitionEpoch
			[]byte{0x01},             // tagged fields: 1
			[]byte{0x00, 0x01, 0x01}, // tag 0 LeaderRecoveryState, size 1, RECOVERING (1)
		)},
		{"PartitionRecord v1 Directories", &PartitionRecord{PartitionID: 1, TopicID: idA, Replicas: []int32{2}, Isr: []int32{2},
			Leader: 2, Directories: []Uuid{idB}}, 1, cat(
			[]byte{0x01, 0x03, 0x01}, // frame, api key 3, version 1
			[]byte{0, 0, 0, 1},       // PartitionId
			idA,                      // TopicId
			[]byte{0x02, 0, 0, 0, 2}, // Replicas: [2]
			[]byte{0x02, 0, 0, 0, 2}, // Isr: [2]
			[]byte{0x01},             // RemovingReplicas: []
			[]byte{0x01},             // AddingReplicas: []
			[]byte{0, 0, 0, 2},       // Leader
			[]byte{0, 0, 0, 0},       // LeaderEpoch
			[]byte{0, 0, 0, 0},       // PartitionEpoch
			[]byte{0x02}, idB,        // Directories (v1+): [idB]
			[]byte{0x00}, // tagged fields: none
		)},
		{"PartitionRecord v2 ELR empty, LastKnownElr set", &PartitionRecord{PartitionID: 1, TopicID: idA, Leader: -1, LeaderEpoch: -1, PartitionEpoch: -1,
			EligibleLeaderReplicas: []int32{}, LastKnownElr: []int32{3}}, 2, cat(
			[]byte{0x01, 0x03, 0x02},             // frame, api key 3, version 2
			[]byte{0, 0, 0, 1},                   // PartitionId
			idA,                                  // TopicId
			[]byte{0x01},                         // Replicas: []
			[]byte{0x01},                         // Isr: []
			[]byte{0x01},                         // RemovingReplicas: []
			[]byte{0x01},                         // AddingReplicas: []
			[]byte{0xff, 0xff, 0xff, 0xff},       // Leader -1
			[]byte{0xff, 0xff, 0xff, 0xff},       // LeaderEpoch -1
			[]byte{0xff, 0xff, 0xff, 0xff},       // PartitionEpoch -1
			[]byte{0x01},                         // Directories: []
			[]byte{0x02},                         // tagged fields: 2
			[]byte{0x01, 0x01, 0x01},             // tag 1 EligibleLeaderReplicas, size 1, [] (not null)
			[]byte{0x02, 0x05, 0x02, 0, 0, 0, 3}, // tag 2 LastKnownElr, size 5, [3]
		)},
		{"PartitionChangeRecord v0 no change", ptr(NewPartitionChangeRecord()), 0, cat(
			[]byte{0x01, 0x05, 0x00},       // frame, api key 5, version 0
			[]byte{0xff, 0xff, 0xff, 0xff}, // PartitionId (default -1)
			ZeroUuid,                       // TopicId
			[]byte{0x00},                   // tagged fields: none, every change at its default
		)},
		{"PartitionChangeRecord v0 leader and isr", withPC(func(r *PartitionChangeRecord) {
			r.PartitionID, r.TopicID, r.Isr, r.Leader = 2, idA, []int32{1, 2}, 1
		}), 0, cat(
			[]byte{0x01, 0x05, 0x00}, // frame, api key 5, version 0
			[]byte{0, 0, 0, 2},       // PartitionId
			idA,                      // TopicId
			[]byte{0x02},             // tagged fields: 2
			[]byte{0x00, 0x09, 0x03, 0, 0, 0, 1, 0, 0, 0, 2}, // tag 0 Isr, size 9, [1 2]
			[]byte{0x01, 0x04, 0, 0, 0, 1},                   // tag 1 Leader, size 4, 1
		)},
		{"PartitionChangeRecord v2 all tags in tag order", withPC(func(r *PartitionChangeRecord) {
			r.PartitionID, r.TopicID = 0, idA
			r.Leader = -1
			r.LeaderRecoveryState = 0
			r.Replicas, r.RemovingReplicas, r.AddingReplicas = []int32{4}, []int32{}, []int32{4}
			r.Directories = []Uuid{idB}
			r.EligibleLeaderReplicas, r.LastKnownElr = []int32{4}, []int32{}
		}), 2, cat(
			[]byte{0x01, 0x05, 0x02}, // frame, api key 5, version 2
			[]byte{0, 0, 0, 0},       // PartitionId
			idA,                      // TopicId
			[]byte{0x08},             // tagged fields: 8
			[]byte{0x01, 0x04, 0xff, 0xff, 0xff, 0xff}, // tag 1 Leader, size 4, -1 (no leader)
			[]byte{0x02, 0x05, 0x02, 0, 0, 0, 4},       // tag 2 Replicas, [4]
			[]byte{0x03, 0x01, 0x01},                   // tag 3 RemovingReplicas, []
			[]byte{0x04, 0x05, 0x02, 0, 0, 0, 4},       // tag 4 AddingReplicas, [4]
			[]byte{0x05, 0x01, 0x00},                   // tag 5 LeaderRecoveryState, RECOVERED (0)
			[]byte{0x06, 0x05, 0x02, 0, 0, 0, 4},       // tag 6 EligibleLeaderReplicas, [4]
			[]byte{0x07, 0x01, 0x01},                   // tag 7 LastKnownElr, []
			[]byte{0x08, 0x11, 0x02}, idB,              // tag 8 Directories, size 17, [idB]
		)},
		{"ConfigRecord v0 set", &ConfigRecord{ResourceType: 2, ResourceName: "t", Name: "retention.ms", Value: strp("1000")}, 0, cat(
			[]byte{0x01, 0x04, 0x00}, // frame, api key 4, version 0
			[]byte{0x02},             // ResourceType: TOPIC
			[]byte{0x02}, "t",        // ResourceName
			[]byte{0x0d}, "retention.ms", // Name: 12+1
			[]byte{0x05}, "1000", // Value
			[]byte{0x00}, // tagged fields: none
		)},
		{"ConfigRecord v0 delete", &ConfigRecord{ResourceType: 4, ResourceName: "", Name: "x"}, 0, cat(
			[]byte{0x01, 0x04, 0x00}, // frame, api key 4, version 0
			[]byte{0x04},             // ResourceType: BROKER
			[]byte{0x01},             // ResourceName: "" (cluster default)
			[]byte{0x02}, "x",        // Name
			[]byte{0x00}, // Value: null
			[]byte{0x00}, // tagged fields: none
		)},
		{"RegisterBrokerRecord v0", &RegisterBrokerRecord{BrokerID: 1, IncarnationID: idA, BrokerEpoch: 10,
			EndPoints: []Endpoint{{Name: "PLAINTEXT", Host: "h", Port: 9092, SecurityProtocol: 0}},
			Features:  []Feature{{Name: "metadata.version", MinSupportedVersion: 1, MaxSupportedVersion: 21}},
			Fenced:    true}, 0, cat(
			[]byte{0x01, 0x00, 0x00},        // frame, api key 0, version 0
			[]byte{0, 0, 0, 1},              // BrokerId
			idA,                             // IncarnationId
			[]byte{0, 0, 0, 0, 0, 0, 0, 10}, // BrokerEpoch
			[]byte{0x02},                    // EndPoints: 1
			[]byte{0x0a}, "PLAINTEXT",       //   Name
			[]byte{0x02}, "h", //   Host
			[]byte{0x23, 0x84},               //   Port 9092
			[]byte{0x00, 0x00},               //   SecurityProtocol PLAINTEXT
			[]byte{0x00},                     //   tagged fields: none
			[]byte{0x02},                     // Features: 1
			[]byte{0x11}, "metadata.version", //   Name
			[]byte{0x00, 0x01}, //   MinSupportedVersion
			[]byte{0x00, 0x15}, //   MaxSupportedVersion
			[]byte{0x00},       //   tagged fields: none
			[]byte{0x00},       // Rack: null
			[]byte{0x01},       // Fenced
			[]byte{0x00},       // tagged fields: none
		)},
		{"RegisterBrokerRecord v3", &RegisterBrokerRecord{BrokerID: 2, IsMigratingZkBroker: true, IncarnationID: idB, BrokerEpoch: -1,
			Rack: strp("r1"), InControlledShutdown: true, LogDirs: []Uuid{idA}}, 3, cat(
			[]byte{0x01, 0x00, 0x03}, // frame, api key 0, version 3
			[]byte{0, 0, 0, 2},       // BrokerId
			[]byte{0x01},             // IsMigratingZkBroker (v2+)
			idB,                      // IncarnationId
			[]byte{0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff}, // BrokerEpoch -1
			[]byte{0x01},       // EndPoints: []
			[]byte{0x01},       // Features: []
			[]byte{0x03}, "r1", // Rack
			[]byte{0x00},                  // Fenced: false
			[]byte{0x01},                  // InControlledShutdown (v1+)
			[]byte{0x01},                  // tagged fields: 1
			[]byte{0x00, 0x11, 0x02}, idA, // tag 0 LogDirs (v3+), size 17, [idA]
		)},
		{"UnregisterBrokerRecord v0", &UnregisterBrokerRecord{BrokerID: 3, BrokerEpoch: 5}, 0, cat(
			[]byte{0x01, 0x01, 0x00},       // frame, api key 1, version 0
			[]byte{0, 0, 0, 3},             // BrokerId
			[]byte{0, 0, 0, 0, 0, 0, 0, 5}, // BrokerEpoch
			[]byte{0x00},                   // tagged fields: none
		)},
		{"BrokerRegistrationChangeRecord v0 fenced", &BrokerRegistrationChangeRecord{BrokerID: 1, BrokerEpoch: 2, Fenced: FenceChangeFence}, 0, cat(
			[]byte{0x01, 0x11, 0x00},       // frame, api key 17, version 0
			[]byte{0, 0, 0, 1},             // BrokerId
			[]byte{0, 0, 0, 0, 0, 0, 0, 2}, // BrokerEpoch
			[]byte{0x01},                   // tagged fields: 1
			[]byte{0x00, 0x01, 0x01},       // tag 0 Fenced, size 1, fenced (1)
		)},
		{"BrokerRegistrationChangeRecord v2", &BrokerRegistrationChangeRecord{BrokerID: 1, BrokerEpoch: 2, Fenced: FenceChangeUnfence,
			InControlledShutdown: 1, LogDirs: []Uuid{idA}}, 2, cat(
			[]byte{0x01, 0x11, 0x02},       // frame, api key 17, version 2
			[]byte{0, 0, 0, 1},             // BrokerId
			[]byte{0, 0, 0, 0, 0, 0, 0, 2}, // BrokerEpoch
			[]byte{0x03},                   // tagged fields: 3
			[]byte{0x00, 0x01, 0xff},       // tag 0 Fenced, unfenced (-1)
			[]byte{0x01, 0x01, 0x01},       // tag 1 InControlledShutdown (v1+), 1
			[]byte{0x02, 0x11, 0x02}, idA,  // tag 2 LogDirs (v2+), [idA]
		)},
		{"FenceBrokerRecord v0", &FenceBrokerRecord{ID: 4, Epoch: 9}, 0, cat(
			[]byte{0x01, 0x07, 0x00},       // frame, api key 7, version 0
			[]byte{0, 0, 0, 4},             // Id
			[]byte{0, 0, 0, 0, 0, 0, 0, 9}, // Epoch
			[]byte{0x00},                   // tagged fields: none
		)},
		{"UnfenceBrokerRecord v0", &UnfenceBrokerRecord{ID: 4, Epoch: 9}, 0, cat(
			[]byte{0x01, 0x08, 0x00},       // frame, api key 8, version 0
			[]byte{0, 0, 0, 4},             // Id
			[]byte{0, 0, 0, 0, 0, 0, 0, 9}, // Epoch
			[]byte{0x00},                   // tagged fields: none
		)},
		{"FeatureLevelRecord v0", &FeatureLevelRecord{Name: "metadata.version", FeatureLevel: 21}, 0, cat(
			[]byte{0x01, 0x0c, 0x00},         // frame, api key 12, version 0
			[]byte{0x11}, "metadata.version", // Name
			[]byte{0x00, 0x15}, // FeatureLevel 21
			[]byte{0x00},       // tagged fields: none
		)},
		{"ProducerIdsRecord v0", &ProducerIdsRecord{BrokerID: 1, BrokerEpoch: 7, NextProducerID: 2000}, 0, cat(
			[]byte{0x01, 0x0f, 0x00},             // frame, api key 15, version 0
			[]byte{0, 0, 0, 1},                   // BrokerId
			[]byte{0, 0, 0, 0, 0, 0, 0, 7},       // BrokerEpoch
			[]byte{0, 0, 0, 0, 0, 0, 0x07, 0xd0}, // NextProducerId 2000
			[]byte{0x00},                         // tagged fields: none
		)},
		{"NoOpRecord v0", &NoOpRecord{}, 0, []byte{
			0x01, 0x14, 0x00, // frame, api key 20, version 0
			0x00, // tagged fields: none
		}},
		{"RegisterControllerRecord v0", &RegisterControllerRecord{ControllerID: 3000, IncarnationID: idB, ZkMigrationReady: false,
			EndPoints: []Endpoint{{Name: "CONTROLLER", Host: "c", Port: 9093, SecurityProtocol: 1}},
			Features:  []Feature{{Name: "kraft.version", MinSupportedVersion: 0, MaxSupportedVersion: 1}}}, 0, cat(
			[]byte{0x01, 0x1b, 0x00},   // frame, api key 27, version 0
			[]byte{0, 0, 0x0b, 0xb8},   // ControllerId 3000
			idB,                        // IncarnationId
			[]byte{0x00},               // ZkMigrationReady
			[]byte{0x02},               // EndPoints: 1
			[]byte{0x0b}, "CONTROLLER", //   Name
			[]byte{0x02}, "c", //   Host
			[]byte{0x23, 0x85},            //   Port 9093
			[]byte{0x00, 0x01},            //   SecurityProtocol SSL
			[]byte{0x00},                  //   tagged fields: none
			[]byte{0x02},                  // Features: 1
			[]byte{0x0e}, "kraft.version", //   Name
			[]byte{0x00, 0x00}, //   MinSupportedVersion
			[]byte{0x00, 0x01}, //   MaxSupportedVersion
			[]byte{0x00},       //   tagged fields: none
			[]byte{0x00},       // tagged fields: none
		)},
		{"TopicRecord v0 unknown tagged field kept", &TopicRecord{Name: "a", TopicID: idA,
			UnknownTags: []Tag{{Key: 3, Value: []byte{0xaa, 0xbb}}}}, 0, cat(
			[]byte{0x01, 0x02, 0x00}, // frame, api key 2, version 0
			[]byte{0x02}, "a",        // Name
			idA,                                  // TopicId
			[]byte{0x01, 0x03, 0x02, 0xaa, 0xbb}, // tagged fields: 1; tag 3 (unknown), size 2
		)},
	}
}

func ptr[T any](v T) *T { return &v }

func withPC(f func(*PartitionChangeRecord)) *PartitionChangeRecord {
	r := NewPartitionChangeRecord()
	f(&r)
	return &r
}

func TestGoldenEncode(t *testing.T) {
	for _, g := range goldens() {
		t.Run(g.name, func(t *testing.T) {
			got, err := Marshal(g.rec, g.version)
			if err != nil {
				t.Fatalf("Marshal: %v", err)
			}
			if !bytes.Equal(got, g.want) {
				t.Fatalf("Marshal:\n got  % x\n want % x", got, g.want)
			}
		})
	}
}

func TestGoldenDecode(t *testing.T) {
	for _, g := range goldens() {
		t.Run(g.name, func(t *testing.T) {
			rec, v, err := Unmarshal(g.want)
			if err != nil {
				t.Fatalf("Unmarshal: %v", err)
			}
			if v != g.version || !reflect.DeepEqual(rec, g.rec) {
				t.Fatalf("Unmarshal: got v%d %+v\nwant v%d %+v", v, rec, g.version, g.rec)
			}
		})
	}
}

// A field the version does not have may only hold its default; anything else
// is refused, as Kafka's writers throw UnsupportedVersionException.
func TestEncodeRefusesFieldsMissingFromVersion(t *testing.T) {
	cases := []struct {
		name    string
		rec     Record
		version int16
		field   string
	}{
		{"PartitionRecord v0 Directories", &PartitionRecord{Directories: []Uuid{idA}}, 0, "Directories"},
		{"PartitionRecord v1 ELR", &PartitionRecord{EligibleLeaderReplicas: []int32{}}, 1, "EligibleLeaderReplicas"},
		{"PartitionRecord v1 LastKnownElr", &PartitionRecord{LastKnownElr: []int32{1}}, 1, "LastKnownElr"},
		{"PartitionChangeRecord v0 Directories", withPC(func(r *PartitionChangeRecord) { r.Directories = []Uuid{} }), 0, "Directories"},
		{"PartitionChangeRecord v1 ELR", withPC(func(r *PartitionChangeRecord) { r.EligibleLeaderReplicas = []int32{1} }), 1, "EligibleLeaderReplicas"},
		{"RegisterBrokerRecord v0 InControlledShutdown", &RegisterBrokerRecord{InControlledShutdown: true}, 0, "InControlledShutdown"},
		{"RegisterBrokerRecord v1 IsMigratingZkBroker", &RegisterBrokerRecord{IsMigratingZkBroker: true}, 1, "IsMigratingZkBroker"},
		{"RegisterBrokerRecord v2 LogDirs", &RegisterBrokerRecord{LogDirs: []Uuid{idA}}, 2, "LogDirs"},
		{"BrokerRegistrationChangeRecord v0 InControlledShutdown", &BrokerRegistrationChangeRecord{InControlledShutdown: 1}, 0, "InControlledShutdown"},
		{"BrokerRegistrationChangeRecord v1 LogDirs", &BrokerRegistrationChangeRecord{LogDirs: []Uuid{idA}}, 1, "LogDirs"},
		{"TopicRecord v1", &TopicRecord{}, 1, "version"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			b, err := Marshal(c.rec, c.version)
			if !errors.Is(err, ErrUnsupportedVersion) || !strings.Contains(err.Error(), c.field) {
				t.Fatalf("Marshal = % x, %v; want ErrUnsupportedVersion naming %s", b, err, c.field)
			}
		})
	}
	// The same fields at their defaults encode fine in the older version.
	if _, err := Marshal(&RegisterBrokerRecord{LogDirs: []Uuid{}}, 2); err != nil {
		t.Fatalf("empty LogDirs at v2: %v", err)
	}
}

// A tag that names a field of a later version is not that field at this
// version: it is kept as an unknown tag and written back.
func TestDecodeTagOfLaterVersionIsUnknown(t *testing.T) {
	b := cat(
		[]byte{0x01, 0x11, 0x00},       // BrokerRegistrationChangeRecord v0
		[]byte{0, 0, 0, 1},             // BrokerId
		[]byte{0, 0, 0, 0, 0, 0, 0, 2}, // BrokerEpoch
		[]byte{0x01},                   // tagged fields: 1
		[]byte{0x01, 0x01, 0x01},       // tag 1: InControlledShutdown only exists from v1
	)
	rec, _, err := Unmarshal(b)
	if err != nil {
		t.Fatal(err)
	}
	r := rec.(*BrokerRegistrationChangeRecord)
	if r.InControlledShutdown != 0 || len(r.UnknownTags) != 1 || r.UnknownTags[0].Key != 1 {
		t.Fatalf("got %+v, want tag 1 kept unknown", r)
	}
	again, err := Marshal(r, 0)
	if err != nil || !bytes.Equal(again, b) {
		t.Fatalf("re-encode = % x, %v; want % x", again, err, b)
	}
}

func TestDecodeErrors(t *testing.T) {
	topic := cat([]byte{0x02}, "a", idA, []byte{0x00})
	cases := []struct {
		name string
		in   []byte
		want string
	}{
		{"empty", nil, "truncated"},
		{"frame version 0", cat([]byte{0x00, 0x02, 0x00}, topic), "frame version 0"},
		{"frame version 2", cat([]byte{0x02, 0x02, 0x00}, topic), "unknown frame version 2"},
		{"unknown api key", cat([]byte{0x01, 0x63, 0x00}, topic), "type 99: unknown"},
		{"version above max", cat([]byte{0x01, 0x02, 0x01}, topic), "unsupported version"},
		{"trailing garbage", cat([]byte{0x01, 0x02, 0x00}, topic, []byte{0x00}), "1 byte(s) of garbage"},
		{"truncated uuid", cat([]byte{0x01, 0x02, 0x00, 0x02}, "a", idA[:8]), "truncated"},
		{"null name", cat([]byte{0x01, 0x02, 0x00, 0x00}, idA, []byte{0x00}), "non-nullable field name was serialized as null"},
		{"null replicas", cat([]byte{0x01, 0x03, 0x00}, []byte{0, 0, 0, 0}, idA, []byte{0x00}), "non-nullable field replicas"},
		{"huge array", cat([]byte{0x01, 0x03, 0x00}, []byte{0, 0, 0, 0}, idA, []byte{0xff, 0xff, 0xff, 0x0f}), "does not fit"},
		{"known tag with extra bytes", cat([]byte{0x01, 0x11, 0x00}, []byte{0, 0, 0, 1}, []byte{0, 0, 0, 0, 0, 0, 0, 2},
			[]byte{0x01, 0x00, 0x02, 0x01, 0x00}), "left unread"},
		{"known tag too short", cat([]byte{0x01, 0x05, 0x00}, []byte{0, 0, 0, 1}, idA, []byte{0x01, 0x01, 0x02, 0x00, 0x00}), "too few"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			rec, _, err := Unmarshal(c.in)
			if err == nil || !strings.Contains(err.Error(), c.want) {
				t.Fatalf("Unmarshal = %+v, %v; want an error containing %q", rec, err, c.want)
			}
		})
	}
}

// FuzzUnmarshal: the decoder never panics, and whatever it accepts encodes to
// bytes that decode to the same record and encode to the same bytes again.
func FuzzUnmarshal(f *testing.F) {
	for _, g := range goldens() {
		f.Add(g.want)
	}
	f.Fuzz(func(t *testing.T, in []byte) {
		rec, v, err := Unmarshal(in)
		if err != nil {
			return
		}
		b1, err := Marshal(rec, v)
		if err != nil {
			t.Fatalf("decoded %+v (v%d) but cannot encode it: %v", rec, v, err)
		}
		rec2, v2, err := Unmarshal(b1)
		if err != nil {
			t.Fatalf("re-encoded % x does not decode: %v", b1, err)
		}
		if v2 != v || !reflect.DeepEqual(rec, rec2) {
			t.Fatalf("round trip changed the record:\n %+v\n %+v", rec, rec2)
		}
		b2, err := Marshal(rec2, v2)
		if err != nil || !bytes.Equal(b1, b2) {
			t.Fatalf("second encoding differs: % x vs % x (%v)", b1, b2, err)
		}
	})
}
