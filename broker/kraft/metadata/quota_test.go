package metadata

import (
	"bytes"
	"reflect"
	"testing"
)

// TestClientQuotaRecordGolden encodes ClientQuotaRecord by hand from Kafka's
// schema (ClientQuotaRecord.json: api key 14, flexible v0) and round-trips it.
func TestClientQuotaRecordGolden(t *testing.T) {
	alice := "alice"
	for _, g := range []golden{
		{"ClientQuotaRecord v0 set", &ClientQuotaRecord{Entity: []QuotaEntityData{{EntityType: "user", EntityName: &alice},
			{EntityType: "client-id"}}, QuotaKey: "producer_byte_rate", Value: 1048576}, 0, cat(
			[]byte{0x01, 0x0e, 0x00},                                  // frame version 1, api key 14, version 0
			[]byte{0x03},                                              // Entity: compact array of 2
			[]byte{0x05}, "user", []byte{0x06}, "alice", []byte{0x00}, // EntityType, EntityName, tags
			[]byte{0x0a}, "client-id", []byte{0x00}, []byte{0x00}, // EntityName null (default), tags
			[]byte{0x13}, "producer_byte_rate", // Key
			[]byte{0x41, 0x30, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00}, // Value: float64 1048576
			[]byte{0x00}, // Remove: false
			[]byte{0x00}, // tagged fields: none
		)},
		{"ClientQuotaRecord v0 remove", &ClientQuotaRecord{Entity: []QuotaEntityData{{EntityType: "ip", EntityName: nil}},
			QuotaKey: "connection_creation_rate", Remove: true}, 0, cat(
			[]byte{0x01, 0x0e, 0x00},
			[]byte{0x02},
			[]byte{0x03}, "ip", []byte{0x00}, []byte{0x00},
			[]byte{0x19}, "connection_creation_rate",
			make([]byte, 8),
			[]byte{0x01},
			[]byte{0x00},
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
}
