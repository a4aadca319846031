package bootstrap

import (
	"bytes"
	"os"
	"path/filepath"
	"reflect"
	"testing"

	"github.com/osprey-kafka/osprey/broker/kraft/metadata"
	"github.com/osprey-kafka/osprey/broker/kraft/snapshot"
)

func featureRecords(md Metadata) map[string]int16 {
	out := map[string]int16{}
	for _, r := range md.Records {
		fl := r.(*metadata.FeatureLevelRecord)
		out[fl.Name] = fl.FeatureLevel
	}
	return out
}

func TestResolveAndRecords(t *testing.T) {
	for _, tc := range []struct {
		name     string
		s        Settings
		mv       string
		levels   map[string]int16
		recNames []string // FeatureLevelRecords in file order
	}{
		{"defaults", Settings{}, "4.0-IV3",
			map[string]int16{"metadata.version": 25, "group.version": 1, "kraft.version": 0, "share.version": 0, "transaction.version": 2},
			[]string{"metadata.version", "group.version", "transaction.version"}},
		{"dynamic quorum", Settings{DynamicQuorum: true}, "4.0-IV3",
			map[string]int16{"metadata.version": 25, "group.version": 1, "kraft.version": 1, "share.version": 0, "transaction.version": 2},
			[]string{"metadata.version", "group.version", "transaction.version"}},
		{"release 3.9", Settings{ReleaseVersion: "3.9"}, "3.9-IV0",
			map[string]int16{"metadata.version": 21, "group.version": 0, "kraft.version": 0, "share.version": 0, "transaction.version": 0},
			[]string{"metadata.version"}},
		{"release 4.0-IV0 dynamic", Settings{ReleaseVersion: "4.0-IV0", DynamicQuorum: true}, "4.0-IV0",
			map[string]int16{"metadata.version": 22, "group.version": 1, "kraft.version": 1, "share.version": 0, "transaction.version": 0},
			[]string{"metadata.version", "group.version"}},
		{"feature metadata.version", Settings{Features: map[string]int16{"metadata.version": 24, "transaction.version": 1}}, "4.0-IV2",
			map[string]int16{"metadata.version": 24, "group.version": 1, "kraft.version": 0, "share.version": 0, "transaction.version": 1},
			[]string{"metadata.version", "group.version", "transaction.version"}},
		{"feature off", Settings{Features: map[string]int16{"group.version": 0}}, "4.0-IV3",
			map[string]int16{"metadata.version": 25, "group.version": 0, "kraft.version": 0, "share.version": 0, "transaction.version": 2},
			[]string{"metadata.version", "transaction.version"}},
		{"share groups on", Settings{Features: map[string]int16{"share.version": 1}}, "4.0-IV3",
			map[string]int16{"metadata.version": 25, "group.version": 1, "kraft.version": 0, "share.version": 1, "transaction.version": 2},
			[]string{"metadata.version", "group.version", "share.version", "transaction.version"}},
		{"three-part release", Settings{ReleaseVersion: "3.7.1"}, "3.7-IV4",
			map[string]int16{"metadata.version": 19, "group.version": 0, "kraft.version": 0, "share.version": 0, "transaction.version": 0},
			[]string{"metadata.version"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			mv, levels, err := Resolve(tc.s)
			if err != nil {
				t.Fatal(err)
			}
			if mv.String() != tc.mv || !reflect.DeepEqual(levels, tc.levels) {
				t.Fatalf("Resolve = %s %v, want %s %v", mv, levels, tc.mv, tc.levels)
			}
			md := FromVersions(mv, levels, "format command")
			var names []string
			for _, r := range md.Records {
				names = append(names, r.(*metadata.FeatureLevelRecord).Name)
			}
			if !reflect.DeepEqual(names, tc.recNames) {
				t.Fatalf("records %v, want %v", names, tc.recNames)
			}
			for n, l := range featureRecords(md) {
				if levels[n] != l {
					t.Fatalf("record %s=%d, resolved %d", n, l, levels[n])
				}
			}
		})
	}
}

func TestResolveRefuses(t *testing.T) {
	for _, tc := range []struct {
		name string
		s    Settings
		want string
	}{
		{"both", Settings{ReleaseVersion: "4.0", Features: map[string]int16{"metadata.version": 25}},
			"use --release-version instead of --feature metadata.version=X to avoid ambiguity"},
		{"unknown release", Settings{ReleaseVersion: "2.8"},
			`--release-version: unknown release version "2.8": supported versions are 3.3-IV3 to 4.0-IV3`},
		{"unknown level", Settings{Features: map[string]int16{"metadata.version": 6}},
			"--feature metadata.version=6: metadata.version level 6 is not supported: supported levels are 7 (3.3-IV3) to 25 (4.0-IV3)"},
		{"unknown feature", Settings{Features: map[string]int16{"queue.version": 1}},
			"--feature queue.version=1: unsupported feature: queue.version. Supported features are: group.version, kraft.version, share.version, transaction.version"},
		{"no such share level", Settings{Features: map[string]int16{"share.version": 2}},
			"--feature share.version=2: share.version has no level 2 (levels 0 to 1)"},
		{"kraft.version 1 static", Settings{Features: map[string]int16{"kraft.version": 1}},
			"cannot set kraft.version to 1 unless KIP-853 configuration is present (--standalone or --initial-controllers); " +
				"try removing the --feature flag for kraft.version"},
		{"kraft.version 0 dynamic", Settings{DynamicQuorum: true, Features: map[string]int16{"kraft.version": 0}},
			"cannot set kraft.version to 0 if KIP-853 configuration is present (--standalone or --initial-controllers); " +
				"try removing the --feature flag for kraft.version"},
		{"dynamic before 3.9", Settings{DynamicQuorum: true, ReleaseVersion: "3.8"},
			"kraft.version could not be set to 1 because it depends on metadata.version level 21; " +
				"use a later --release-version (metadata.version is 3.8-IV0, level 20)"},
		{"no such level", Settings{Features: map[string]int16{"group.version": 2}},
			"--feature group.version=2: group.version has no level 2 (levels 0 to 1)"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, _, err := Resolve(tc.s)
			if err == nil || err.Error() != tc.want {
				t.Fatalf("err = %v\nwant %s", err, tc.want)
			}
		})
	}
}

func TestWriteReadFile(t *testing.T) {
	dir := t.TempDir()
	mv, levels, err := Resolve(Settings{})
	if err != nil {
		t.Fatal(err)
	}
	md := FromVersions(mv, levels, "format command")
	const now = 1733450000000
	if err := WriteFile(dir, md, now); err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(dir, FileName)
	got, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	// The file is the snapshot layout at offset 0, epoch 0, header timestamp
	// 0, with the records in one data batch (BatchFileWriter).
	var recs [][]byte
	for _, r := range md.Records {
		b, err := metadata.Marshal(r, 0)
		if err != nil {
			t.Fatal(err)
		}
		recs = append(recs, b)
	}
	want, err := snapshot.Append(nil, snapshot.Options{NowMs: now}, recs)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(got, want) {
		t.Fatalf("file\n got %x\nwant %x", got, want)
	}
	s, err := snapshot.Parse(got)
	if err != nil {
		t.Fatal(err)
	}
	if len(s.Batches) != 3 || s.Batches[1].RecordCount != 3 || s.Header.LastContainedLogTimestamp != 0 {
		t.Fatalf("batches %+v header %+v", s.Batches, s.Header)
	}
	for _, h := range s.Batches {
		if h.PartitionLeaderEpoch != 0 || h.FirstTimestamp != now || h.MaxTimestamp != now || h.ProducerID != -1 {
			t.Fatalf("batch header %+v", h)
		}
	}

	back, err := ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	if back.MetadataVersion != mv || !reflect.DeepEqual(featureRecords(back), featureRecords(md)) {
		t.Fatalf("read back %+v", back)
	}
	if back.Source != "the binary bootstrap metadata file: "+path {
		t.Fatalf("source %q", back.Source)
	}
}

func TestReadDirWithoutFile(t *testing.T) {
	md, err := ReadDir(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	if md.MetadataVersion != LatestProduction || md.Source != "the default bootstrap" || len(md.Records) != 1 {
		t.Fatalf("%+v", md)
	}
	if _, err := ReadDir(filepath.Join(t.TempDir(), "missing")); err == nil {
		t.Fatal("a missing directory was read")
	}
}

func TestReadFileWithoutMetadataVersion(t *testing.T) {
	dir := t.TempDir()
	md := Metadata{Records: []metadata.Record{&metadata.FeatureLevelRecord{Name: "group.version", FeatureLevel: 1}}}
	if err := WriteFile(dir, md, 1); err != nil {
		t.Fatal(err)
	}
	_, err := ReadDir(dir)
	want := "no FeatureLevelRecord for metadata.version was found in the bootstrap metadata from the binary bootstrap metadata file: " +
		filepath.Join(dir, FileName)
	if err == nil || err.Error() != want {
		t.Fatalf("err = %v", err)
	}
}
