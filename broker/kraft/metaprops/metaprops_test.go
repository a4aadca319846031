package metaprops

import (
	"bytes"
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/osprey-kafka/osprey/broker/kraft/metadata"
)

var (
	clusterID = "AAECAwQFBgcICQoLDA0ODw" // the bytes 00..0f
	dirID     = metadata.Uuid{0x1a, 0x2b, 0x3c, 0x4d, 0x5e, 0x6f, 0x70, 0x81, 0x92, 0xa3, 0xb4, 0xc5, 0xd6, 0xe7, 0xf8, 0x09}
	at        = time.Date(2026, time.December, 6, 1, 49, 45, 0, time.UTC)
)

// What Kafka's Properties.store(writer, "") writes (Java 18+): "#" for the
// empty comment, "#" + Date.toString(), then key=value sorted by key.
func TestMarshalIsKafkaLayout(t *testing.T) {
	m := MetaProperties{Version: 1, ClusterID: clusterID, NodeID: 3, DirectoryID: &dirID}
	want := []string{
		"#",                                   // the empty comment
		"#Sun Dec 06 01:49:45 UTC 2026",       // java.util.Date.toString()
		"cluster.id=AAECAwQFBgcICQoLDA0ODw",   // cluster.id
		"directory.id=Gis8TV5vcIGSo7TF1uf4CQ", // directory.id: base64url of 1a2b3c4d5e6f708192a3b4c5d6e7f809
		"node.id=3",                           // node.id
		"version=1",                           // version
	}
	got := strings.Split(string(m.Marshal(at)), "\n")
	if got[len(got)-1] != "" {
		t.Fatalf("file does not end in a newline: %q", got)
	}
	got = got[:len(got)-1]
	if len(got) != len(want) {
		t.Fatalf("got %d lines %q, want %d", len(got), got, len(want))
	}
	for i := range want {
		if got[i] != want[i] {
			t.Errorf("line %d = %q, want %q", i+1, got[i], want[i])
		}
	}
}

func TestParseKafkaWrittenFiles(t *testing.T) {
	// As Kafka on Java 17 writes it: hash order, a different zone.
	java17 := "#\n#Thu Feb 22 10:15:02 CET 2024\nnode.id=3\ndirectory.id=Gis8TV5vcIGSo7TF1uf4CQ\nversion=1\ncluster.id=AAECAwQFBgcICQoLDA0ODw\n"
	m, err := Parse([]byte(java17))
	if err != nil {
		t.Fatal(err)
	}
	if m.Version != 1 || m.ClusterID != clusterID || m.NodeID != 3 || m.DirectoryID == nil || *m.DirectoryID != dirID {
		t.Fatalf("Parse = %+v", m)
	}
	// A ZooKeeper-mode file: no version key means 0, and the id is broker.id.
	m, err = Parse([]byte("#\n#Thu Feb 22 10:15:02 CET 2024\nbroker.id=2\ncluster.id=" + clusterID + "\n"))
	if err != nil || m.Version != 0 || m.NodeID != 2 {
		t.Fatalf("v0 file: %+v %v", m, err)
	}
	for body, want := range map[string]string{
		"version=1\nnode.id=1\n":                                "cluster.id was not found",
		"version=1\ncluster.id=" + clusterID + "\n":             "node.id was not found",
		"version=1\ncluster.id=x\nnode.id=1\ndirectory.id=zz\n": "directory.id",
		"version=2\n": "version",
	} {
		if _, err := Parse([]byte(body)); err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("Parse(%q) = %v, want an error containing %q", body, err, want)
		}
	}
}

func dirs(t *testing.T, names ...string) (root string, out []string) {
	root = t.TempDir()
	for _, n := range names {
		out = append(out, filepath.Join(root, n))
	}
	return root, out
}

func format(t *testing.T, o FormatOptions) (string, error) {
	t.Helper()
	var out bytes.Buffer
	o.Out = &out
	o.Now = func() time.Time { return at }
	if o.ControllerListenerName == "" {
		o.ControllerListenerName = "CONTROLLER"
	}
	err := Format(o)
	return out.String(), err
}

func TestFormatWritesEveryDirectory(t *testing.T) {
	_, ds := dirs(t, "data-a", "data-b", "meta")
	out, err := format(t, FormatOptions{ClusterID: clusterID, NodeID: 1, Directories: ds, MetadataLogDir: ds[2]})
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"Formatting data directory " + ds[0], "Formatting data directory " + ds[1], "Formatting metadata directory " + ds[2]} {
		if !strings.Contains(out, want) {
			t.Errorf("output %q lacks %q", out, want)
		}
	}
	ids := map[metadata.Uuid]bool{}
	for _, d := range ds {
		m, err := Read(d)
		if err != nil {
			t.Fatal(err)
		}
		if m.Version != 1 || m.ClusterID != clusterID || m.NodeID != 1 || m.DirectoryID == nil {
			t.Fatalf("%s: %+v", d, m)
		}
		if ids[*m.DirectoryID] || metadata.IsReservedDirectoryID(*m.DirectoryID) || strings.HasPrefix(m.DirectoryID.String(), "-") {
			t.Fatalf("%s: directory id %v duplicate or reserved", d, m.DirectoryID)
		}
		ids[*m.DirectoryID] = true
		if _, err := os.Stat(filepath.Join(d, FileName+".tmp")); !errors.Is(err, fs.ErrNotExist) {
			t.Errorf("%s: temporary file left behind: %v", d, err)
		}
	}
}

func TestFormatRefusals(t *testing.T) {
	other := "_____________________w"
	cases := []struct {
		name     string
		existing string // meta.properties already in the first directory
		opts     func(o *FormatOptions)
		want     []string
	}{
		{"other cluster", "version=1\ncluster.id=" + other + "\nnode.id=1\n", nil,
			[]string{"invalid cluster.id", "data-a", "expected " + clusterID, "read " + other, "-t " + other}},
		{"other cluster even with --ignore-formatted", "version=1\ncluster.id=" + other + "\nnode.id=1\n",
			func(o *FormatOptions) { o.IgnoreFormatted = true }, []string{"invalid cluster.id", "data-a"}},
		{"other node", "version=1\ncluster.id=" + clusterID + "\nnode.id=7\n", nil,
			[]string{"stored node id 7", "data-a", "node.id=1"}},
		{"already formatted", "version=1\ncluster.id=" + clusterID + "\nnode.id=1\ndirectory.id=Gis8TV5vcIGSo7TF1uf4CQ\n", nil,
			[]string{"data-a is already formatted", "--ignore-formatted"}},
		{"reserved directory id", "version=1\ncluster.id=" + clusterID + "\nnode.id=1\ndirectory.id=AAAAAAAAAAAAAAAAAAAAAg\n",
			func(o *FormatOptions) { o.IgnoreFormatted = true }, []string{"reserved directory id", "data-a"}},
		{"unreadable meta.properties", "version=1\nnode.id=1\n", nil, []string{"data-a", "cluster.id was not found"}},
		{"bad cluster id", "", func(o *FormatOptions) { o.ClusterID = "not-a-uuid" }, []string{"not-a-uuid", "random-uuid"}},
		{"metadata dir not listed", "", func(o *FormatOptions) { o.MetadataLogDir = "/elsewhere" }, []string{"metadata.log.dir", "/elsewhere"}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			_, ds := dirs(t, "data-a", "meta")
			if c.existing != "" {
				if err := os.MkdirAll(ds[0], 0o755); err != nil {
					t.Fatal(err)
				}
				if err := os.WriteFile(filepath.Join(ds[0], FileName), []byte(c.existing), 0o644); err != nil {
					t.Fatal(err)
				}
			}
			o := FormatOptions{ClusterID: clusterID, NodeID: 1, Directories: ds, MetadataLogDir: ds[1]}
			if c.opts != nil {
				c.opts(&o)
			}
			_, err := format(t, o)
			if err == nil {
				t.Fatal("formatted")
			}
			for _, w := range c.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q does not mention %q", err, w)
				}
			}
			if _, err := os.Stat(filepath.Join(ds[1], FileName)); !errors.Is(err, fs.ErrNotExist) {
				t.Errorf("the other directory was formatted after a refusal: %v", err)
			}
		})
	}
}

// --ignore-formatted leaves formatted directories as they are (byte for
// byte) and formats only the new ones; run again, it changes nothing.
func TestFormatIgnoreFormattedIsIdempotent(t *testing.T) {
	_, ds := dirs(t, "data-a", "data-b", "meta")
	o := FormatOptions{ClusterID: clusterID, NodeID: 1, Directories: []string{ds[0], ds[2]}, MetadataLogDir: ds[2]}
	if _, err := format(t, o); err != nil {
		t.Fatal(err)
	}
	before := map[string][]byte{}
	for _, d := range []string{ds[0], ds[2]} {
		b, err := os.ReadFile(filepath.Join(d, FileName))
		if err != nil {
			t.Fatal(err)
		}
		before[d] = b
	}
	o.Directories = ds // a new log dir was added to log.dirs
	o.IgnoreFormatted = true
	out, err := format(t, o)
	if err != nil {
		t.Fatal(err)
	}
	if strings.Contains(out, ds[0]) || strings.Contains(out, ds[2]) || !strings.Contains(out, "Formatting data directory "+ds[1]) {
		t.Fatalf("output %q: want only %s formatted", out, ds[1])
	}
	for d, b := range before {
		after, _ := os.ReadFile(filepath.Join(d, FileName))
		if !bytes.Equal(after, b) {
			t.Errorf("%s was rewritten:\n%s\n%s", d, b, after)
		}
	}
	newB, err := os.ReadFile(filepath.Join(ds[1], FileName))
	if err != nil {
		t.Fatal(err)
	}
	out, err = format(t, o)
	if err != nil || !strings.Contains(out, "All of the log directories are already formatted.") {
		t.Fatalf("third run: %q %v", out, err)
	}
	if again, _ := os.ReadFile(filepath.Join(ds[1], FileName)); !bytes.Equal(again, newB) {
		t.Errorf("third run rewrote %s", ds[1])
	}
}

func TestFormatDynamicVoterDirectoryID(t *testing.T) {
	_, ds := dirs(t, "data", "meta")
	voters, err := ParseVoters("1@c1:9093:Gis8TV5vcIGSo7TF1uf4CQ, 2@[::1]:9094:AAECAwQFBgcICQoLDA0ODw")
	if err != nil {
		t.Fatal(err)
	}
	if voters[1].Host != "::1" || voters[1].Port != 9094 || voters[0].DirectoryID != dirID {
		t.Fatalf("ParseVoters = %+v", voters)
	}
	out, err := format(t, FormatOptions{ClusterID: clusterID, NodeID: 1, Directories: ds, MetadataLogDir: ds[1], InitialControllers: voters})
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(out, "Formatting dynamic metadata voter directory "+ds[1]) {
		t.Errorf("output %q", out)
	}
	m, err := Read(ds[1])
	if err != nil || m.DirectoryID == nil || *m.DirectoryID != dirID {
		t.Fatalf("voter's metadata dir: %+v %v, want directory.id from --initial-controllers", m, err)
	}
	for in, want := range map[string]string{
		"1c1:9093:Gis8TV5vcIGSo7TF1uf4CQ":  "no @",
		"x@c1:9093:Gis8TV5vcIGSo7TF1uf4CQ": "node id",
		"1@c1:Gis8TV5vcIGSo7TF1uf4CQ":      "port",
		"1@c1:9093":                        ":port:directory-id",
		"1@c1:9093:short":                  "directory id",
		"1@c1:9093:Gis8TV5vcIGSo7TF1uf4CQ,1@c2:9093:AAECAwQFBgcICQoLDA0ODw": "more than once",
		"": "no voters",
	} {
		if _, err := ParseVoters(in); err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("ParseVoters(%q) = %v, want an error containing %q", in, err, want)
		}
	}
}
