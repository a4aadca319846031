package txn

import (
	"bytes"
	"encoding/binary"
	"errors"
	"hash/crc32"
	"slices"
	"testing"
)

// Hand-encoded from Apache Kafka's ProducerStateManager schema (PRODUCER_SNAPSHOT_VERSION 1):
// version, crc, then the entries' fields in schema order, big-endian.
func TestSnapshotMatchesKafkaLayout(t *testing.T) {
	e := ProducerEntry{ProducerID: 0x0102030405060708, Epoch: 0x0a0b, LastSequence: 0x11121314, LastOffset: 0x2122232425262728,
		OffsetDelta: 0x31323334, Timestamp: 0x4142434445464748, CoordinatorEpoch: 0x51525354, CurrentTxnFirstOffset: -1}
	body := []byte{
		0, 0, 0, 1, // one entry
		1, 2, 3, 4, 5, 6, 7, 8, // producer_id
		0x0a, 0x0b, // epoch
		0x11, 0x12, 0x13, 0x14, // last_sequence
		0x21, 0x22, 0x23, 0x24, 0x25, 0x26, 0x27, 0x28, // last_offset
		0x31, 0x32, 0x33, 0x34, // offset_delta
		0x41, 0x42, 0x43, 0x44, 0x45, 0x46, 0x47, 0x48, // timestamp
		0x51, 0x52, 0x53, 0x54, // coordinator_epoch
		0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, // current_txn_first_offset
	}
	want := binary.BigEndian.AppendUint16(nil, 1)
	want = binary.BigEndian.AppendUint32(want, crc32.Checksum(body, crc32.MakeTable(crc32.Castagnoli)))
	want = append(want, body...)
	got := EncodeSnapshot([]ProducerEntry{e})
	if !bytes.Equal(got, want) {
		t.Fatalf("encoded\n%x\nwant\n%x", got, want)
	}
	back, err := DecodeSnapshot(want)
	if err != nil || len(back) != 1 || back[0] != e {
		t.Fatalf("decoded %+v, %v; want %+v", back, err, e)
	}
}

func TestSnapshotRoundTripAndEmpty(t *testing.T) {
	entries := []ProducerEntry{
		{ProducerID: 7, Epoch: 3, LastSequence: 41, LastOffset: 1000, OffsetDelta: 4, Timestamp: 1_700_000_000_000, CoordinatorEpoch: 2, CurrentTxnFirstOffset: 996},
		{ProducerID: 9, Epoch: 0, LastSequence: -1, LastOffset: -1, CoordinatorEpoch: 5, CurrentTxnFirstOffset: -1},
	}
	got, err := DecodeSnapshot(EncodeSnapshot(entries))
	if err != nil || !slices.Equal(got, entries) {
		t.Fatalf("round trip: %+v, %v", got, err)
	}
	empty := EncodeSnapshot(nil)
	if len(empty) != 10 {
		t.Fatalf("empty snapshot is %d bytes, want 10 (version, crc, count)", len(empty))
	}
	if got, err := DecodeSnapshot(empty); err != nil || len(got) != 0 {
		t.Fatalf("empty: %+v, %v", got, err)
	}
}

// A snapshot that is truncated, of another version or whose CRC does not match is refused, as
// Kafka refuses it (CorruptSnapshotException), so the broker ignores it.
func TestSnapshotCorrupt(t *testing.T) {
	good := EncodeSnapshot([]ProducerEntry{{ProducerID: 1, LastOffset: 5, CurrentTxnFirstOffset: 3}})
	flip := slices.Clone(good)
	flip[20] ^= 1
	v2 := slices.Clone(good)
	v2[1] = 2
	for name, b := range map[string][]byte{"truncated": good[:len(good)-1], "crc": flip, "version": v2, "short": good[:5]} {
		if _, err := DecodeSnapshot(b); !errors.Is(err, ErrCorruptSnapshot) {
			t.Errorf("%s: %v, want ErrCorruptSnapshot", name, err)
		}
	}
}
