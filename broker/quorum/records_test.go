package quorum

import (
	"bytes"
	"testing"
)

func TestEntriesRoundTripAsRecordBatches(t *testing.T) {
	in := []Entry{
		{Offset: 7, Epoch: 3, Control: true},
		{Offset: 8, Epoch: 3, Data: []byte("a")},
		{Offset: 9, Epoch: 4, Data: bytes.Repeat([]byte("xyz"), 100)},
	}
	b := encodeEntries(nil, in)
	out, err := decodeEntries(b)
	if err != nil {
		t.Fatal(err)
	}
	if len(out) != len(in) {
		t.Fatalf("decoded %d entries, want %d", len(out), len(in))
	}
	for i := range in {
		if out[i].Offset != in[i].Offset || out[i].Epoch != in[i].Epoch || out[i].Control != in[i].Control || !bytes.Equal(out[i].Data, in[i].Data) {
			t.Fatalf("entry %d: got %+v, want %+v", i, out[i], in[i])
		}
	}
	b[len(b)-1] ^= 0xff
	if _, err := decodeEntries(b); err == nil {
		t.Fatal("a corrupted batch decoded without error")
	}
}
