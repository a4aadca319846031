package metadata

import (
	"bytes"
	"errors"
	"reflect"
	"testing"
)

type controlGolden struct {
	name    string
	msg     Control
	version int16
	want    []byte
}

func controlGoldens() []controlGolden {
	return []controlGolden{
		{"LeaderChangeMessage v0", &LeaderChangeMessage{LeaderID: 1,
			Voters:         []LeaderChangeVoter{{VoterID: 1}, {VoterID: 2}},
			GrantingVoters: []LeaderChangeVoter{{VoterID: 2}}}, 0, cat(
			[]byte{0x00, 0x00},               // Version
			[]byte{0, 0, 0, 1},               // LeaderId
			[]byte{0x03},                     // Voters: 2
			[]byte{0, 0, 0, 1}, []byte{0x00}, //   VoterId 1, tagged fields: none
			[]byte{0, 0, 0, 2}, []byte{0x00}, //   VoterId 2, tagged fields: none
			[]byte{0x02},                     // GrantingVoters: 1
			[]byte{0, 0, 0, 2}, []byte{0x00}, //   VoterId 2, tagged fields: none
			[]byte{0x00}, // tagged fields: none
		)},
		{"LeaderChangeMessage v1", &LeaderChangeMessage{LeaderID: 3,
			Voters: []LeaderChangeVoter{{VoterID: 3, VoterDirectoryID: idA}}}, 1, cat(
			[]byte{0x00, 0x00}, // Version
			[]byte{0, 0, 0, 3}, // LeaderId
			[]byte{0x02},       // Voters: 1
			[]byte{0, 0, 0, 3}, //   VoterId
			idA,                //   VoterDirectoryId (v1+)
			[]byte{0x00},       //   tagged fields: none
			[]byte{0x01},       // GrantingVoters: []
			[]byte{0x00},       // tagged fields: none
		)},
		{"SnapshotHeaderRecord v0", &SnapshotHeaderRecord{LastContainedLogTimestamp: 1700000000000}, 0, cat(
			[]byte{0x00, 0x00}, // Version
			[]byte{0x00, 0x00, 0x01, 0x8b, 0xcf, 0xe5, 0x68, 0x00}, // LastContainedLogTimestamp 1700000000000
			[]byte{0x00}, // tagged fields: none
		)},
		{"SnapshotFooterRecord v0", &SnapshotFooterRecord{}, 0, []byte{
			0x00, 0x00, // Version
			0x00, // tagged fields: none
		}},
		{"KRaftVersionRecord v0", &KRaftVersionRecord{KRaftVersion: 1}, 0, []byte{
			0x00, 0x00, // Version
			0x00, 0x01, // KRaftVersion 1
			0x00, // tagged fields: none
		}},
		{"VotersRecord v0", &VotersRecord{Voters: []VotersRecordVoter{{VoterID: 1, VoterDirectoryID: idB,
			Endpoints:           []VoterEndpoint{{Name: "CONTROLLER", Host: "c1", Port: 9093}},
			KRaftVersionFeature: KRaftVersionFeature{MinSupportedVersion: 0, MaxSupportedVersion: 1}}}}, 0, cat(
			[]byte{0x00, 0x00},         // Version
			[]byte{0x02},               // Voters: 1
			[]byte{0, 0, 0, 1},         //   VoterId
			idB,                        //   VoterDirectoryId
			[]byte{0x02},               //   Endpoints: 1
			[]byte{0x0b}, "CONTROLLER", //     Name
			[]byte{0x03}, "c1", //     Host
			[]byte{0x23, 0x85}, //     Port 9093
			[]byte{0x00},       //     tagged fields: none
			[]byte{0x00, 0x00}, //   KRaftVersionFeature.MinSupportedVersion
			[]byte{0x00, 0x01}, //   KRaftVersionFeature.MaxSupportedVersion
			[]byte{0x00},       //   KRaftVersionFeature tagged fields: none
			[]byte{0x00},       //   tagged fields: none
			[]byte{0x00},       // tagged fields: none
		)},
	}
}

func TestControlGoldens(t *testing.T) {
	for _, g := range controlGoldens() {
		t.Run(g.name, func(t *testing.T) {
			got, err := MarshalControl(g.msg, g.version)
			if err != nil || !bytes.Equal(got, g.want) {
				t.Fatalf("MarshalControl = % x, %v\n want % x", got, err, g.want)
			}
			back, err := UnmarshalControl(g.msg.Type(), g.want, g.version)
			if err != nil || !reflect.DeepEqual(back, g.msg) {
				t.Fatalf("UnmarshalControl = %+v, %v\n want %+v", back, err, g.msg)
			}
		})
	}
	// VoterDirectoryId only exists from v1.
	_, err := MarshalControl(&LeaderChangeMessage{Voters: []LeaderChangeVoter{{VoterDirectoryID: idA}}}, 0)
	if !errors.Is(err, ErrUnsupportedVersion) {
		t.Fatalf("v0 with a directory id: %v", err)
	}
}

func TestControlKey(t *testing.T) {
	key := AppendControlKey(nil, ControlKRaftVoters)
	if want := []byte{0x00, 0x00, 0x00, 0x06}; !bytes.Equal(key, want) { // version 0, type KRAFT_VOTERS (6)
		t.Fatalf("key = % x, want % x", key, want)
	}
	if typ, err := ParseControlKey(key); err != nil || typ != ControlKRaftVoters {
		t.Fatalf("ParseControlKey = %v, %v", typ, err)
	}
	if _, err := ParseControlKey([]byte{0, 0, 0}); err == nil {
		t.Fatal("3-byte key accepted")
	}
}

// FuzzUnmarshalControl: as FuzzUnmarshal, for the control record values;
// the first byte picks the type and the version.
func FuzzUnmarshalControl(f *testing.F) {
	for _, g := range controlGoldens() {
		f.Add(byte(g.msg.Type())<<1|byte(g.version), g.want)
	}
	f.Fuzz(func(t *testing.T, sel byte, in []byte) {
		typ, version := ControlType(sel>>1), int16(sel&1)
		msg, err := UnmarshalControl(typ, in, version)
		if err != nil {
			return
		}
		b1, err := MarshalControl(msg, version)
		if err != nil {
			t.Fatalf("decoded %+v but cannot encode it: %v", msg, err)
		}
		msg2, err := UnmarshalControl(typ, b1, version)
		if err != nil || !reflect.DeepEqual(msg, msg2) {
			t.Fatalf("round trip: %+v, %v\n %+v", msg2, err, msg)
		}
		if b2, _ := MarshalControl(msg2, version); !bytes.Equal(b1, b2) {
			t.Fatalf("second encoding differs: % x vs % x", b1, b2)
		}
	})
}
