package txn

import (
	"bytes"
	"encoding/binary"
	"slices"
	"testing"
)

// Hand-encoded from Apache Kafka's TransactionLogKey.json and
// TransactionLogValue.json (version 0): the bytes must match what Kafka
// writes and reads.
func TestTransactionLogRecordsMatchKafkaSchema(t *testing.T) {
	wantKey := []byte{0, 0, 0, 2, 't', 'x'}
	if got := Key("tx"); !bytes.Equal(got, wantKey) {
		t.Fatalf("key % x, want % x", got, wantKey)
	}
	m := Metadata{TxnID: "tx", ProducerID: 42, Epoch: 3, TimeoutMs: 60000, State: Ongoing,
		Partitions: []TP{{"a", 0}, {"a", 2}, {"b", 1}}, StartMs: 1000, UpdateMs: 2000}
	var w []byte
	w = binary.BigEndian.AppendUint16(w, 0)     // version
	w = binary.BigEndian.AppendUint64(w, 42)    // ProducerId
	w = binary.BigEndian.AppendUint16(w, 3)     // ProducerEpoch
	w = binary.BigEndian.AppendUint32(w, 60000) // TransactionTimeoutMs
	w = append(w, 1)                            // TransactionStatus: Ongoing
	w = binary.BigEndian.AppendUint32(w, 2)     // TransactionPartitions: 2 topics
	w = append(w, 0, 1, 'a')                    // Topic "a"
	w = binary.BigEndian.AppendUint32(w, 2)     // PartitionIds
	w = binary.BigEndian.AppendUint32(w, 0)
	w = binary.BigEndian.AppendUint32(w, 2)
	w = append(w, 0, 1, 'b')
	w = binary.BigEndian.AppendUint32(w, 1)
	w = binary.BigEndian.AppendUint32(w, 1)
	w = binary.BigEndian.AppendUint64(w, 2000) // TransactionLastUpdateTimestampMs
	w = binary.BigEndian.AppendUint64(w, 1000) // TransactionStartTimestampMs
	if got := Value(m); !bytes.Equal(got, w) {
		t.Fatalf("value\n% x\nwant\n% x", got, w)
	}
	id, back, ok, err := Decode(Key("tx"), w)
	if err != nil || !ok || id != "tx" {
		t.Fatalf("decode: %q %v %v", id, ok, err)
	}
	if back.ProducerID != 42 || back.Epoch != 3 || back.State != Ongoing || back.StartMs != 1000 || back.UpdateMs != 2000 ||
		!slices.Equal(back.Partitions, m.Partitions) {
		t.Fatalf("decoded %+v, want %+v", back, m)
	}
	// Empty writes a null partition list.
	empty := Value(Metadata{ProducerID: 1, State: Empty, StartMs: -1})
	if got := int32(binary.BigEndian.Uint32(empty[17:])); got != -1 {
		t.Fatalf("Empty partitions length %d, want -1 (null)", got)
	}
	if id, _, ok, err := Decode(Key("gone"), nil); err != nil || ok || id != "gone" {
		t.Fatalf("tombstone: %q %v %v", id, ok, err)
	}
	if _, _, _, err := Decode([]byte{0, 1, 0, 0}, nil); err == nil {
		t.Fatal("key of another version decoded")
	}
}

func TestControlRecordFormat(t *testing.T) {
	if got, want := MarkerKey(true), []byte{0, 0, 0, 1}; !bytes.Equal(got, want) {
		t.Fatalf("commit key % x, want % x", got, want)
	}
	if got, want := MarkerKey(false), []byte{0, 0, 0, 0}; !bytes.Equal(got, want) {
		t.Fatalf("abort key % x, want % x", got, want)
	}
	if got, want := MarkerValue(5), []byte{0, 0, 0, 0, 0, 5}; !bytes.Equal(got, want) {
		t.Fatalf("marker value % x, want % x", got, want)
	}
	if commit, ok := ParseMarkerKey(MarkerKey(true)); !ok || !commit {
		t.Fatal("commit key not read back")
	}
	if _, ok := ParseMarkerKey([]byte{0, 0, 0, 7}); ok {
		t.Fatal("unknown control type read as a marker")
	}
}

func TestTxnIndexCodec(t *testing.T) {
	es := []AbortedTxn{{ProducerID: 7, FirstOffset: 10, LastOffset: 20, LastStableOffset: 21},
		{ProducerID: -2, FirstOffset: 1 << 40, LastOffset: 1<<40 + 5, LastStableOffset: 0}}
	var b []byte
	for _, e := range es {
		b = AppendEntry(b, e)
	}
	if len(b) != 2*IndexEntrySize || IndexEntrySize != 34 {
		t.Fatalf("%d bytes for 2 entries (entry size %d), want 68 (34 each)", len(b), IndexEntrySize)
	}
	// Kafka's layout: version int16 then producer id, first, last and LSO.
	want := []byte{0, 0, 0, 0, 0, 0, 0, 0, 0, 7, 0, 0, 0, 0, 0, 0, 0, 10, 0, 0, 0, 0, 0, 0, 0, 20, 0, 0, 0, 0, 0, 0, 0, 21}
	if !bytes.Equal(b[:34], want) {
		t.Fatalf("entry % x, want % x", b[:34], want)
	}
	got, valid, err := DecodeIndex(append(b, 0, 0, 1)) // a torn third entry
	if err != nil || valid != 68 || !slices.Equal(got, es) {
		t.Fatalf("decode: %v valid=%d err=%v", got, valid, err)
	}
	bad := slices.Clone(b)
	bad[IndexEntrySize+1] = 9
	if _, valid, err := DecodeIndex(bad); err == nil || valid != IndexEntrySize {
		t.Fatalf("entry of version 9: valid=%d err=%v", valid, err)
	}
}
