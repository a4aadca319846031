package metadata

import (
	"bytes"
	"reflect"
	"testing"
)

// TestScramRecordsGolden encodes both SCRAM records by hand from Kafka's
// schemas (UserScramCredentialRecord.json, RemoveUserScramCredentialRecord.json)
// and round-trips them.
func TestScramRecordsGolden(t *testing.T) {
	for _, g := range []golden{
		{"UserScramCredentialRecord v0", &UserScramCredentialRecord{Name: "alice", Mechanism: 2,
			Salt: []byte{1, 2}, StoredKey: []byte{3}, ServerKey: []byte{4, 5, 6}, Iterations: 8192}, 0, cat(
			[]byte{0x01, 0x0b, 0x00}, // frame version 1, api key 11, version 0
			[]byte{0x06}, "alice",    // Name: compact string, 5+1
			[]byte{0x02},                   // Mechanism: SCRAM-SHA-512
			[]byte{0x03, 0x01, 0x02},       // Salt: compact bytes, 2+1
			[]byte{0x02, 0x03},             // StoredKey
			[]byte{0x04, 0x04, 0x05, 0x06}, // ServerKey
			[]byte{0x00, 0x00, 0x20, 0x00}, // Iterations 8192
			[]byte{0x00},                   // tagged fields: none
		)},
		{"RemoveUserScramCredentialRecord v0", &RemoveUserScramCredentialRecord{Name: "bob", Mechanism: 1}, 0, cat(
			[]byte{0x01, 0x16, 0x00}, // frame, api key 22, version 0
			[]byte{0x04}, "bob",      // Name
			[]byte{0x01}, // Mechanism: SCRAM-SHA-256
			[]byte{0x00}, // tagged fields: none
		)},
	} {
		t.Run(g.name, func(t *testing.T) {
			got, err := Marshal(g.rec, g.version)
			if err != nil {
				t.Fatal(err)
			}
			if !bytes.Equal(got, g.want) {
				t.Fatalf("encoded\n got %x\nwant %x", got, g.want)
			}
			back, v, err := Unmarshal(got)
			if err != nil || v != g.version || !reflect.DeepEqual(back, g.rec) {
				t.Fatalf("decoded %#v v%d err=%v", back, v, err)
			}
		})
	}
	// A null byte array is not a credential.
	bad := cat([]byte{0x01, 0x0b, 0x00}, []byte{0x02}, "a", []byte{0x01}, []byte{0x00}, []byte{0x01}, []byte{0x01}, []byte{0, 0, 0x10, 0}, []byte{0})
	if _, _, err := Unmarshal(bad); err == nil {
		t.Fatal("null salt accepted")
	}
}
