package quorum

import (
	"bytes"
	"testing"

	"github.com/twmb/franz-go/pkg/kmsg"
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

func TestEpochStartsWithALeaderChangeRecord(t *testing.T) {
	tn := newTestNode(t, 1, []int32{1, 2, 3}, nil, nil)
	tn.electLeader(t, 3)
	e := tn.log.entries[0]
	var m kmsg.LeaderChangeMessage
	if err := m.ReadFrom(e.Data); err != nil {
		t.Fatal(err)
	}
	if !e.Control || m.LeaderID != 1 || len(m.Voters) != 3 || len(m.GrantingVoters) != 2 || m.GrantingVoters[0].VoterID != 1 || m.GrantingVoters[1].VoterID != 3 {
		t.Fatalf("epoch-start entry %+v holds %+v, want a control LeaderChangeMessage from leader 1, voters 1-3, granted by 1 and 3", e, m)
	}
	var b kmsg.RecordBatch
	raw := encodeEntries(nil, []Entry{e})
	if err := b.ReadFrom(raw); err != nil {
		t.Fatal(err)
	}
	var rec kmsg.Record
	if err := rec.ReadFrom(b.Records); err != nil {
		t.Fatal(err)
	}
	var key kmsg.ControlRecordKey
	if err := key.ReadFrom(rec.Key); err != nil || key.Type != 2 || b.Attributes&0x20 == 0 {
		t.Fatalf("control key %+v (%v), batch attributes %#x: want a LEADER_CHANGE (type 2) key in a control batch", key, err, b.Attributes)
	}
}
