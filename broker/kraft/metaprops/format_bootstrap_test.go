package metaprops

import (
	"bytes"
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/osprey-kafka/osprey/broker/kraft/bootstrap"
	"github.com/osprey-kafka/osprey/broker/kraft/metadata"
	"github.com/osprey-kafka/osprey/broker/kraft/snapshot"
)

func bootstrapLevels(t *testing.T, dir string) map[string]int16 {
	t.Helper()
	md, err := bootstrap.ReadFile(filepath.Join(dir, bootstrap.FileName))
	if err != nil {
		t.Fatal(err)
	}
	out := map[string]int16{}
	for _, r := range md.Records {
		fl := r.(*metadata.FeatureLevelRecord)
		out[fl.Name] = fl.FeatureLevel
	}
	return out
}

// A static quorum: bootstrap.checkpoint in every directory (data ones too,
// as Kafka's Formatter writes it before each meta.properties), holding
// metadata.version 4.0-IV3 and the features on by default; no voter set.
func TestFormatWritesBootstrapCheckpoint(t *testing.T) {
	_, ds := dirs(t, "data", "meta")
	out, err := format(t, FormatOptions{ClusterID: clusterID, NodeID: 1, Directories: ds, MetadataLogDir: ds[1]})
	if err != nil {
		t.Fatal(err)
	}
	want := "Formatting data directory " + ds[0] + " with metadata.version 4.0-IV3.\n" +
		"Formatting metadata directory " + ds[1] + " with metadata.version 4.0-IV3.\n"
	if out != want {
		t.Fatalf("output\n%s\nwant\n%s", out, want)
	}
	mv, levels, err := bootstrap.Resolve(bootstrap.Settings{})
	if err != nil {
		t.Fatal(err)
	}
	wantFile, err := bootstrap.FromVersions(mv, levels, "").Marshal(at.UnixMilli())
	if err != nil {
		t.Fatal(err)
	}
	for _, d := range ds {
		got, err := os.ReadFile(filepath.Join(d, bootstrap.FileName))
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(got, wantFile) {
			t.Errorf("%s/bootstrap.checkpoint\n got %x\nwant %x", d, got, wantFile)
		}
		if l := bootstrapLevels(t, d); !reflect.DeepEqual(l, map[string]int16{"metadata.version": 25, "group.version": 1, "transaction.version": 2}) {
			t.Errorf("%s: feature records %v", d, l)
		}
	}
	if _, err := os.Stat(filepath.Join(ds[1], MetadataPartitionDir)); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("a static quorum got a voter-set snapshot directory: %v", err)
	}
}

// A dynamic quorum: the metadata directory of a voter and of a non-voter
// both get the voter-set snapshot; the data directory does not.
func TestFormatWritesVoterSnapshot(t *testing.T) {
	voters, err := ParseVoters("3@c3:9093:AAECAwQFBgcICQoLDA0ODw,1@[::1]:9093:Gis8TV5vcIGSo7TF1uf4CQ,2@c2:9094:GisHTV5vcIGSo7TF1uf4CQ")
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		node int32
		kind string
	}{{1, "dynamic metadata voter directory"}, {5, "dynamic metadata directory"}} {
		_, ds := dirs(t, "data", "meta")
		out, err := format(t, FormatOptions{ClusterID: clusterID, NodeID: c.node, Directories: ds, MetadataLogDir: ds[1],
			InitialControllers: voters, ControllerListenerName: "controller", ReleaseVersion: "3.9"})
		if err != nil {
			t.Fatal(err)
		}
		if !strings.Contains(out, "Formatting "+c.kind+" "+ds[1]+" with metadata.version 3.9-IV0.\n") {
			t.Fatalf("output %q", out)
		}
		// kraft.version 1 is not a bootstrap record; 3.9 turns on nothing else.
		if l := bootstrapLevels(t, ds[1]); !reflect.DeepEqual(l, map[string]int16{"metadata.version": 21}) {
			t.Errorf("feature records %v", l)
		}
		if _, err := os.Stat(filepath.Join(ds[0], MetadataPartitionDir)); !errors.Is(err, fs.ErrNotExist) {
			t.Errorf("the data directory got a voter-set snapshot: %v", err)
		}
		path := filepath.Join(ds[1], MetadataPartitionDir, "00000000000000000000-0000000000.checkpoint")
		s, err := snapshot.ReadFile(path)
		if err != nil {
			t.Fatal(err)
		}
		if s.Header.LastContainedLogTimestamp != at.UnixMilli() || len(s.Records) != 0 || len(s.Batches) != 2 {
			t.Fatalf("snapshot %+v", s)
		}
		if s.KRaftVersion == nil || s.KRaftVersion.KRaftVersion != 1 || s.KRaftVersion.Version != 0 {
			t.Fatalf("KRaftVersionRecord %+v", s.KRaftVersion)
		}
		want := []metadata.VotersRecordVoter{
			{VoterID: 1, VoterDirectoryID: voters[1].DirectoryID,
				Endpoints:           []metadata.VoterEndpoint{{Name: "CONTROLLER", Host: "0:0:0:0:0:0:0:1", Port: 9093}},
				KRaftVersionFeature: metadata.KRaftVersionFeature{MinSupportedVersion: 0, MaxSupportedVersion: 1}},
			{VoterID: 2, VoterDirectoryID: voters[2].DirectoryID,
				Endpoints:           []metadata.VoterEndpoint{{Name: "CONTROLLER", Host: "c2", Port: 9094}},
				KRaftVersionFeature: metadata.KRaftVersionFeature{MinSupportedVersion: 0, MaxSupportedVersion: 1}},
			{VoterID: 3, VoterDirectoryID: voters[0].DirectoryID,
				Endpoints:           []metadata.VoterEndpoint{{Name: "CONTROLLER", Host: "c3", Port: 9093}},
				KRaftVersionFeature: metadata.KRaftVersionFeature{MinSupportedVersion: 0, MaxSupportedVersion: 1}},
		}
		if s.Voters == nil || !reflect.DeepEqual(s.Voters.Voters, want) {
			t.Fatalf("voters\n%+v\nwant\n%+v", s.Voters, want)
		}
		for _, h := range s.Batches {
			if !h.Control() || h.PartitionLeaderEpoch != 0 || h.FirstTimestamp != at.UnixMilli() {
				t.Fatalf("batch %+v", h)
			}
		}
	}
}

// A bad --release-version or --feature is refused before anything is
// written; so is a format without a controller listener name.
func TestFormatRefusesBadVersionsBeforeWriting(t *testing.T) {
	for _, c := range []struct {
		name string
		opts func(o *FormatOptions)
		want string
	}{
		{"release", func(o *FormatOptions) { o.ReleaseVersion = "2.8" },
			`--release-version: unknown release version "2.8": supported versions are 3.3-IV3 to 4.0-IV3`},
		{"kraft.version static", func(o *FormatOptions) { o.Features = map[string]int16{"kraft.version": 1} },
			"cannot set kraft.version to 1 unless KIP-853 configuration is present (--standalone or --initial-controllers); " +
				"try removing the --feature flag for kraft.version"},
		{"no controller listener", func(o *FormatOptions) { o.ControllerListenerName = "" },
			"controller.listener.names: you must specify the name of the initial controller listener (e.g. controller.listener.names=CONTROLLER)"},
	} {
		t.Run(c.name, func(t *testing.T) {
			_, ds := dirs(t, "data", "meta")
			o := FormatOptions{ClusterID: clusterID, NodeID: 1, Directories: ds, MetadataLogDir: ds[1]}
			o.ControllerListenerName = "CONTROLLER"
			c.opts(&o)
			err := Format(o) // not format(): it would fill in the listener name

			if err == nil || err.Error() != c.want {
				t.Fatalf("err = %v\nwant %s", err, c.want)
			}
			for _, d := range ds {
				if _, err := os.Stat(d); !errors.Is(err, fs.ErrNotExist) {
					t.Errorf("%s was created: %v", d, err)
				}
			}
		})
	}
}
