package snapshot

import (
	"bytes"
	"encoding/binary"
	"encoding/hex"
	"hash/crc32"
	"strings"
	"testing"

	"github.com/osprey-kafka/osprey/broker/kraft/metadata"
	"github.com/osprey-kafka/osprey/broker/storage"
)

func unhex(t *testing.T, s string) []byte {
	t.Helper()
	var clean strings.Builder
	for _, ln := range strings.Split(s, "\n") {
		ln, _, _ = strings.Cut(ln, "--") // a comment runs to the end of the line
		clean.WriteString(strings.Join(strings.Fields(ln), ""))
	}
	b, err := hex.DecodeString(clean.String())
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// goldenBatch lays out a v2 batch header by hand, field by field as
// DefaultRecordBatch.writeHeader writes it, around the given records.
func goldenBatch(t *testing.T, baseOffset int64, epoch int32, attrs uint16, ts int64, count int32, records []byte) []byte {
	t.Helper()
	var b []byte
	b = binary.BigEndian.AppendUint64(b, uint64(baseOffset))      // baseOffset
	b = binary.BigEndian.AppendUint32(b, uint32(49+len(records))) // batchLength: 61-12 header bytes + records
	b = binary.BigEndian.AppendUint32(b, uint32(epoch))           // partitionLeaderEpoch
	b = append(b, 2)                                              // magic
	b = append(b, 0, 0, 0, 0)                                     // crc, below
	b = binary.BigEndian.AppendUint16(b, attrs)                   // attributes
	b = binary.BigEndian.AppendUint32(b, uint32(count-1))         // lastOffsetDelta
	b = binary.BigEndian.AppendUint64(b, uint64(ts))              // baseTimestamp
	b = binary.BigEndian.AppendUint64(b, uint64(ts))              // maxTimestamp
	b = append(b, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff) // producerId -1
	b = append(b, 0xff, 0xff)                                     // producerEpoch -1
	b = append(b, 0xff, 0xff, 0xff, 0xff)                         // baseSequence -1
	b = binary.BigEndian.AppendUint32(b, uint32(count))           // records count
	b = append(b, records...)
	crc := crc32.Checksum(b[21:], crc32.MakeTable(crc32.Castagnoli)) // CRC-32C from attributes on
	binary.BigEndian.PutUint32(b[17:], crc)
	return b
}

const nowMs = 0x0000_0193_8b2c_5e00 // an arbitrary wall-clock time in ms

// TestAppendBootstrapLayout checks a snapshot with one metadata record
// against bytes laid out by hand from apache/kafka's writers: the header
// control batch at offset 0, one data batch at offset 1, the footer control
// batch at offset 2, all at epoch 0.
func TestAppendBootstrapLayout(t *testing.T) {
	mv, err := metadata.Marshal(&metadata.FeatureLevelRecord{Name: "metadata.version", FeatureLevel: 25}, 0)
	if err != nil {
		t.Fatal(err)
	}
	// Frame 1, api key 12, version 0; compact string "metadata.version"
	// (length+1 = 17); level 25; no tagged fields.
	if want := unhex(t, "01 0c 00 11"+hex.EncodeToString([]byte("metadata.version"))+"0019 00"); !bytes.Equal(mv, want) {
		t.Fatalf("FeatureLevelRecord = %x, want %x", mv, want)
	}

	got, err := Append(nil, Options{NowMs: nowMs}, [][]byte{mv})
	if err != nil {
		t.Fatal(err)
	}

	headerRec := unhex(t, `2a      -- record length 21 (zigzag varint)
		00 00 00                                   -- attributes, timestamp delta 0, offset delta 0
		08 0000 0003                               -- key: 4 bytes, ControlRecordType key v0, type 3 (SNAPSHOT_HEADER)
		16 0000 0000000000000000 00                -- value: 11 bytes, SnapshotHeaderRecord v0: version 0, lastContainedLogTimestamp 0, no tags
		00                                         -- no headers`)
	dataRec := append(append(unhex(t, `3a 00 00 00 -- record length 29, attributes, timestamp delta, offset delta 0
		01 2e                                   -- key null (-1), value 23 bytes`), mv...), 0) // no headers
	footerRec := unhex(t, `1a 00 00 00 08 0000 0004 -- record length 13, control key type 4 (SNAPSHOT_FOOTER)
		06 0000 00 00                              -- value: 3 bytes, SnapshotFooterRecord v0: version 0, no tags; no headers`)
	want := goldenBatch(t, 0, 0, 0x20, nowMs, 1, headerRec)
	want = append(want, goldenBatch(t, 1, 0, 0, nowMs, 1, dataRec)...)
	want = append(want, goldenBatch(t, 2, 0, 0x20, nowMs, 1, footerRec)...)
	if !bytes.Equal(got, want) {
		t.Fatalf("snapshot bytes\n got %x\nwant %x", got, want)
	}

	// broker/storage's batch reader accepts the file: framing and CRCs.
	hs, err := storage.ParseBatchHeaders(got)
	if err != nil {
		t.Fatal(err)
	}
	if len(hs) != 3 || !hs[0].Control() || hs[1].Control() || !hs[2].Control() {
		t.Fatalf("batches = %+v, want control, data, control", hs)
	}
	s, err := Parse(got)
	if err != nil {
		t.Fatal(err)
	}
	if len(s.Records) != 1 || !bytes.Equal(s.Records[0], mv) || s.KRaftVersion != nil || s.Voters != nil {
		t.Fatalf("parsed %+v", s)
	}
}

// TestAppendVoterSetLayout checks the dynamic-quorum snapshot: the header
// control batch holds three records (SnapshotHeader, KRaftVersion, Voters at
// offsets 0-2, as RecordsSnapshotWriter.Builder.build appends them), then the
// footer batch at offset 3, with no data batch.
func TestAppendVoterSetLayout(t *testing.T) {
	dir, err := metadata.ParseUuid("JEXY6aqzQY-32P5TStzaFg")
	if err != nil {
		t.Fatal(err)
	}
	voters := &metadata.VotersRecord{Voters: []metadata.VotersRecordVoter{{
		VoterID:             1,
		VoterDirectoryID:    dir,
		Endpoints:           []metadata.VoterEndpoint{{Name: "CONTROLLER", Host: "h", Port: 9093}},
		KRaftVersionFeature: metadata.KRaftVersionFeature{MinSupportedVersion: 0, MaxSupportedVersion: 1},
	}}}
	got, err := Append(nil, Options{Epoch: 0, LastContainedLogTimestamp: nowMs, KRaftVersion: 1, Voters: voters, NowMs: nowMs}, nil)
	if err != nil {
		t.Fatal(err)
	}
	votersValue := unhex(t, `0000      -- version 0
		02                                 -- 1 voter (compact array)
		00000001                           -- voter id 1
		`+hex.EncodeToString(dir[:])+`     -- directory id
		02                                 -- 1 endpoint
		0b`+hex.EncodeToString([]byte("CONTROLLER"))+` -- name
		02 68                              -- host "h"
		2385                               -- port 9093
		00                                 -- endpoint tags
		0000 0001 00                       -- kraft.version range 0-1, its tags
		00                                 -- voter tags
		00                                 -- record tags`)
	var recs []byte
	recs = append(recs, unhex(t, "2a 00 00 00 08 0000 0003 16 0000")...) // header record, lastContainedLogTimestamp below
	recs = binary.BigEndian.AppendUint64(recs, nowMs)
	recs = append(recs, 0, 0)                                                       // header tags, no headers
	recs = append(recs, unhex(t, "1e 00 00 02 08 0000 0005 0a 0000 0001 00 00")...) // length 15, offset delta 1, type 5, KRaftVersionRecord v0: version 0, kraft.version 1
	body := append(unhex(t, "00 00 04 08 0000 0006"), byte(2*len(votersValue)))     // offset delta 2, type 6 (KRAFT_VOTERS)
	body = append(append(body, votersValue...), 0)
	recs = append(append(recs, byte(2*len(body))), body...)
	want := goldenBatch(t, 0, 0, 0x20, nowMs, 3, recs)
	want = append(want, goldenBatch(t, 3, 0, 0x20, nowMs, 1,
		unhex(t, "1a 00 00 00 08 0000 0004 06 0000 00 00"))...)
	if !bytes.Equal(got, want) {
		t.Fatalf("snapshot bytes\n got %x\nwant %x", got, want)
	}
	s, err := Parse(got)
	if err != nil {
		t.Fatal(err)
	}
	if s.Header.LastContainedLogTimestamp != nowMs || s.KRaftVersion == nil || s.KRaftVersion.KRaftVersion != 1 ||
		s.Voters == nil || len(s.Voters.Voters) != 1 || s.Voters.Voters[0].Endpoints[0].Port != 9093 || len(s.Records) != 0 {
		t.Fatalf("parsed %+v", s)
	}
}

func TestAppendSplitsBatches(t *testing.T) {
	rec := bytes.Repeat([]byte{1}, 100)
	b, err := Append(nil, Options{MaxBatchSize: 61 + 2*109}, [][]byte{rec, rec, rec})
	if err != nil {
		t.Fatal(err)
	}
	s, err := Parse(b)
	if err != nil {
		t.Fatal(err)
	}
	// header, two data batches (2 + 1 records), footer; offsets run on.
	var bases []int64
	for _, h := range s.Batches {
		bases = append(bases, h.BaseOffset)
	}
	if len(s.Records) != 3 || len(bases) != 4 || bases[1] != 1 || bases[2] != 3 || bases[3] != 4 {
		t.Fatalf("batches at %v with %d records", bases, len(s.Records))
	}
	if _, err := Append(nil, Options{MaxBatchSize: 100}, [][]byte{rec}); err == nil {
		t.Fatal("a record larger than a batch was accepted")
	}
}

func TestFileName(t *testing.T) {
	if got := FileName(0, 0); got != "00000000000000000000-0000000000.checkpoint" {
		t.Fatal(got)
	}
	if got := FileName(1234, 7); got != "00000000000000001234-0000000007.checkpoint" {
		t.Fatal(got)
	}
}

func TestParseRefuses(t *testing.T) {
	good, err := Append(nil, Options{NowMs: 1}, [][]byte{{1, 12, 0, 1, 0, 0, 0}})
	if err != nil {
		t.Fatal(err)
	}
	h, err := storage.ParseBatchHeaders(good)
	if err != nil {
		t.Fatal(err)
	}
	headerOnly := good[:h[0].Size()+h[1].Size()]
	flipped := bytes.Clone(good)
	flipped[len(flipped)-1] ^= 1
	for name, tc := range map[string]struct {
		b    []byte
		want string
	}{
		"empty":     {nil, "no SnapshotHeaderRecord"},
		"no footer": {headerOnly, "no SnapshotFooterRecord"},
		"crc":       {flipped, "CRC-32C"},
		"data first": {func() []byte {
			return append(goldenBatch(t, 0, 0, 0, 1, 1, unhex(t, "10 00 00 00 01 04 01 0c 00")), good[h[0].Size():]...)
		}(), "before the SnapshotHeaderRecord"},
	} {
		t.Run(name, func(t *testing.T) {
			_, err := Parse(tc.b)
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("err = %v, want it to say %q", err, tc.want)
			}
		})
	}
}

// FuzzParse feeds Parse arbitrary bytes (it must not panic) and checks that
// what Append writes for fuzzed records parses back to the same records.
func FuzzParse(f *testing.F) {
	seed, err := Append(nil, Options{KRaftVersion: 1, Voters: &metadata.VotersRecord{}, NowMs: 1}, [][]byte{{1, 20, 0, 0}})
	if err != nil {
		f.Fatal(err)
	}
	f.Add(seed, []byte{1, 20, 0, 0})
	f.Add([]byte{}, []byte{})
	f.Fuzz(func(t *testing.T, in, rec []byte) {
		_, _ = Parse(in)
		b, err := Append(nil, Options{NowMs: 7}, [][]byte{rec, rec})
		if err != nil {
			t.Fatal(err)
		}
		s, err := Parse(b)
		if err != nil {
			t.Fatal(err)
		}
		if len(s.Records) != 2 || !bytes.Equal(s.Records[0], rec) || !bytes.Equal(s.Records[1], rec) {
			t.Fatalf("records %x, want %x twice", s.Records, rec)
		}
	})
}
