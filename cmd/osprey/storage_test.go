package main

import (
	"os"
	"path/filepath"
	"reflect"
	"strconv"
	"strings"
	"testing"

	"github.com/osprey-kafka/osprey/broker/kraft/bootstrap"
	"github.com/osprey-kafka/osprey/broker/kraft/metadata"
	"github.com/osprey-kafka/osprey/broker/kraft/metaprops"
	"github.com/osprey-kafka/osprey/broker/kraft/snapshot"
)

func writeServerProperties(t *testing.T, dir, body string) string {
	t.Helper()
	p := filepath.Join(dir, "server.properties")
	if err := os.WriteFile(p, []byte(body), 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}

func TestStorageRandomUUIDAndFormat(t *testing.T) {
	out, err := run(t, "storage", "random-uuid")
	if err != nil {
		t.Fatal(err)
	}
	id := strings.TrimSpace(out)
	if _, err := metadata.ParseUuid(id); err != nil || len(id) != 22 {
		t.Fatalf("random-uuid printed %q: %v", out, err)
	}
	dir := t.TempDir()
	cfg := writeServerProperties(t, dir, `process.roles=broker,controller
node.id=2
controller.listener.names=CONTROLLER
controller.quorum.voters=1@k1:9093,2@k2:9093,3@k3:9093
listeners=PLAINTEXT://:9092,CONTROLLER://:9093
log.dirs=`+filepath.Join(dir, "data")+`
metadata.log.dir=`+filepath.Join(dir, "meta")+`
`)
	out, err = run(t, "storage", "format", "-t", id, "-c", cfg)
	if err != nil {
		t.Fatalf("format: %v\n%s", err, out)
	}
	for _, d := range []string{"data", "meta"} {
		m, err := metaprops.Read(filepath.Join(dir, d))
		if err != nil || m.ClusterID != id || m.NodeID != 2 || m.Version != 1 {
			t.Fatalf("%s: %+v %v", d, m, err)
		}
	}
	if _, err := run(t, "storage", "format", "-t", id, "-c", cfg); err == nil || !strings.Contains(err.Error(), "--ignore-formatted") {
		t.Fatalf("second format: %v", err)
	}
	if out, err := run(t, "storage", "format", "-t", id, "-c", cfg, "--ignore-formatted"); err != nil || !strings.Contains(out, "already formatted") {
		t.Fatalf("--ignore-formatted: %q %v", out, err)
	}
}

func TestStorageFormatRefusals(t *testing.T) {
	const id = "AAECAwQFBgcICQoLDA0ODw"
	cases := []struct {
		name, props string
		args        []string
		want        []string
	}{
		{"ZooKeeper-mode file", "broker.id=1\nzookeeper.connect=zk:2181\nlog.dirs=%D\n", nil, []string{"no process.roles", "KRaft"}},
		{"no node.id", "process.roles=broker\ncontroller.quorum.voters=1@k1:9093\nlog.dirs=%D\n", nil, []string{"node.id", "add node.id="}},
		{"malformed voters", "process.roles=broker\nnode.id=4\ncontroller.listener.names=CONTROLLER\ncontroller.quorum.voters=1@k1\nlog.dirs=%D\n", nil,
			[]string{"controller.quorum.voters", "{id}@{host}:{port}"}},
		{"controller without voters or flag", "process.roles=controller\nnode.id=1\ncontroller.listener.names=CONTROLLER\n" +
			"controller.quorum.bootstrap.servers=k1:9093\nlisteners=CONTROLLER://:9093\nlog.dirs=%D\n", nil,
			[]string{"--standalone, --initial-controllers, or --no-initial-controllers"}},
		{"standalone with static voters", "process.roles=controller\nnode.id=1\ncontroller.listener.names=CONTROLLER\n" +
			"controller.quorum.voters=1@k1:9093\nlisteners=CONTROLLER://:9093\nlog.dirs=%D\n", []string{"--standalone"},
			[]string{"controller.quorum.voters", "dynamic quorum"}},
		{"no log.dirs", "process.roles=broker\nnode.id=4\ncontroller.listener.names=CONTROLLER\ncontroller.quorum.voters=1@k1:9093\n", nil, []string{"log.dirs"}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			dir := t.TempDir()
			cfg := writeServerProperties(t, dir, strings.ReplaceAll(c.props, "%D", filepath.Join(dir, "data")))
			_, err := run(t, append([]string{"storage", "format", "-t", id, "-c", cfg}, c.args...)...)
			if err == nil {
				t.Fatal("formatted")
			}
			for _, w := range c.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q does not mention %q", err, w)
				}
			}
			if _, err := os.Stat(filepath.Join(dir, "data", "meta.properties")); err == nil {
				t.Error("meta.properties written despite the refusal")
			}
		})
	}
}

// --standalone: this controller is the only voter, and its metadata
// directory carries the voter's directory id.
func TestStorageFormatStandalone(t *testing.T) {
	dir := t.TempDir()
	cfg := writeServerProperties(t, dir, "process.roles=controller\nnode.id=1\ncontroller.listener.names=CONTROLLER\n"+
		"controller.quorum.bootstrap.servers=localhost:9093\nlisteners=CONTROLLER://:9093\nlog.dirs="+filepath.Join(dir, "meta")+"\n")
	out, err := run(t, "storage", "format", "-t", "AAECAwQFBgcICQoLDA0ODw", "-c", cfg, "--standalone")
	if err != nil {
		t.Fatalf("%v\n%s", err, out)
	}
	if !strings.Contains(out, "Formatting dynamic metadata voter directory") {
		t.Fatalf("output %q", out)
	}
	// The voter set is this node at its controller listener, with the
	// directory id its meta.properties got.
	meta := filepath.Join(dir, "meta")
	m, err := metaprops.Read(meta)
	if err != nil || m.DirectoryID == nil {
		t.Fatalf("%+v %v", m, err)
	}
	s, err := snapshot.ReadFile(filepath.Join(meta, "__cluster_metadata-0", "00000000000000000000-0000000000.checkpoint"))
	if err != nil {
		t.Fatal(err)
	}
	want := []metadata.VotersRecordVoter{{VoterID: 1, VoterDirectoryID: *m.DirectoryID,
		Endpoints:           []metadata.VoterEndpoint{{Name: "CONTROLLER", Host: "localhost", Port: 9093}},
		KRaftVersionFeature: metadata.KRaftVersionFeature{MinSupportedVersion: 0, MaxSupportedVersion: 1}}}
	if s.KRaftVersion == nil || s.KRaftVersion.KRaftVersion != 1 || s.Voters == nil || !reflect.DeepEqual(s.Voters.Voters, want) {
		t.Fatalf("voter set %+v, want %+v", s.Voters, want)
	}
}

// A KRaft file runs in KRaft mode, so a node whose directories were never
// formatted is refused, naming the directory and the command that formats it;
// so is a file without any directory.
func TestBrokerRefusesUnformattedKRaftNode(t *testing.T) {
	dir := t.TempDir()
	keys := "process.roles=broker\nnode.id=4\ncontroller.listener.names=CONTROLLER\ncontroller.quorum.voters=1@k1:9093\nlisteners=PLAINTEXT://127.0.0.1:0"
	_, err := run(t, "broker", "-c", storageNode(t, dir, keys))
	if err == nil || !strings.Contains(err.Error(), filepath.Join(dir, "data")) || !strings.Contains(err.Error(), "osprey storage format") {
		t.Fatalf("osprey broker on an unformatted KRaft node: %v", err)
	}
	_, err = run(t, "broker", "-c", writeServerProperties(t, t.TempDir(), keys+"\n"))
	if err == nil || !strings.Contains(err.Error(), "log.dirs") {
		t.Fatalf("osprey broker on a KRaft node without log.dirs: %v", err)
	}
}

// storageNode writes a server.properties whose log.dirs is dir/data and
// metadata.log.dir dir/meta, with the KRaft keys given.
func storageNode(t *testing.T, dir, keys string) string {
	t.Helper()
	return writeServerProperties(t, dir, keys+"\nlog.dirs="+filepath.Join(dir, "data")+"\nmetadata.log.dir="+filepath.Join(dir, "meta")+"\n")
}

const staticCombined = "process.roles=broker,controller\nnode.id=2\ncontroller.listener.names=CONTROLLER\n" +
	"controller.quorum.voters=1@k1:9093,2@k2:9093,3@k3:9093\nlisteners=PLAINTEXT://:9092,CONTROLLER://:9093"

// format writes bootstrap.checkpoint in both directories, readable by the
// repository's own decoders, with Kafka 4.0's default features; a second
// run names the first formatted directory; another cluster's id is refused
// naming the file and the fix.
func TestStorageFormatBootstrapAndRefusals(t *testing.T) {
	const id = "AAECAwQFBgcICQoLDA0ODw"
	dir := t.TempDir()
	cfg := storageNode(t, dir, staticCombined)
	out, err := run(t, "storage", "format", "-t", id, "-c", cfg)
	if err != nil {
		t.Fatalf("%v\n%s", err, out)
	}
	data, meta := filepath.Join(dir, "data"), filepath.Join(dir, "meta")
	if want := "Formatting data directory " + data + " with metadata.version 4.0-IV3.\n" +
		"Formatting metadata directory " + meta + " with metadata.version 4.0-IV3.\n"; out != want {
		t.Fatalf("output\n%s\nwant\n%s", out, want)
	}
	for _, d := range []string{data, meta} {
		md, err := bootstrap.ReadDir(d)
		if err != nil {
			t.Fatal(err)
		}
		if md.MetadataVersion.Level != 25 || len(md.Records) != 3 {
			t.Fatalf("%s: %+v", d, md)
		}
	}
	if _, err := os.Stat(filepath.Join(meta, "__cluster_metadata-0")); err == nil {
		t.Fatal("a static quorum got a voter-set snapshot")
	}

	_, err = run(t, "storage", "format", "-t", id, "-c", cfg)
	if want := "log directory " + data + " is already formatted; use --ignore-formatted to ignore this directory and format the others"; err == nil || err.Error() != want {
		t.Fatalf("second format: %v\nwant %s", err, want)
	}
	const other = "_____________________w"
	_, err = run(t, "storage", "format", "-t", other, "-c", cfg, "--ignore-formatted")
	if want := "invalid cluster.id in " + filepath.Join(data, "meta.properties") + ": expected " + other + ", but read " + id +
		"; this directory belongs to another cluster: format with -t " + id + ", or empty the directory if its data is to be discarded"; err == nil || err.Error() != want {
		t.Fatalf("other cluster: %v\nwant %s", err, want)
	}
}

func TestStorageFormatReleaseVersionAndFeatures(t *testing.T) {
	dir := t.TempDir()
	cfg := storageNode(t, dir, staticCombined)
	out, err := run(t, "storage", "format", "-t", "AAECAwQFBgcICQoLDA0ODw", "-c", cfg, "-r", "4.0-IV0", "-f", "group.version=0")
	if err != nil || !strings.Contains(out, "with metadata.version 4.0-IV0.") {
		t.Fatalf("%v\n%s", err, out)
	}
	md, err := bootstrap.ReadDir(filepath.Join(dir, "meta"))
	if err != nil {
		t.Fatal(err)
	}
	if len(md.Records) != 1 || md.MetadataVersion.Level != 22 {
		t.Fatalf("-r 4.0-IV0 -f group.version=0: %+v", md.Records)
	}
	for _, c := range []struct {
		args []string
		want string
	}{
		{[]string{"-f", "group.version"}, `--feature "group.version": want name=level, e.g. --feature group.version=1`},
		{[]string{"-f", "group.version=x"}, `--feature "group.version=x": the level "x" is not a number from 0 to 32767`},
		{[]string{"-f", "group.version=1", "-f", "group.version=0"}, "--feature group.version was given more than once"},
		{[]string{"-r", "4.0", "-f", "metadata.version=25"}, "use --release-version instead of --feature metadata.version=X to avoid ambiguity"},
		{[]string{"-f", "kraft.version=1"}, "cannot set kraft.version to 1 unless KIP-853 configuration is present " +
			"(--standalone or --initial-controllers); try removing the --feature flag for kraft.version"},
	} {
		dir := t.TempDir()
		cfg := storageNode(t, dir, staticCombined)
		_, err := run(t, append([]string{"storage", "format", "-t", "AAECAwQFBgcICQoLDA0ODw", "-c", cfg}, c.args...)...)
		if err == nil || err.Error() != c.want {
			t.Errorf("%v: %v\nwant %s", c.args, err, c.want)
		}
		if _, err := os.Stat(filepath.Join(dir, "meta")); err == nil {
			t.Errorf("%v: the metadata directory was created despite the refusal", c.args)
		}
	}
}

// --initial-controllers: the voter's metadata directory carries its
// directory id and the voter set snapshot, decoded by kraft/snapshot.
func TestStorageFormatInitialControllers(t *testing.T) {
	dir := t.TempDir()
	cfg := storageNode(t, dir, "process.roles=controller\nnode.id=2\ncontroller.listener.names=CONTROLLER\n"+
		"controller.quorum.bootstrap.servers=c1:9093,c2:9093,c3:9093\nlisteners=CONTROLLER://:9093")
	const voters = "1@c1:9093:JEXY6aqzQY-32P5TStzaFg,2@c2:9093:MvDxzVmcRsaTz33bUuRU6A,3@c3:9093:07R5amHmR32VDA6jHkGbTA"
	out, err := run(t, "storage", "format", "-t", "AAECAwQFBgcICQoLDA0ODw", "-c", cfg, "--initial-controllers", voters)
	if err != nil {
		t.Fatalf("%v\n%s", err, out)
	}
	meta := filepath.Join(dir, "meta")
	if !strings.Contains(out, "Formatting dynamic metadata voter directory "+meta+" with metadata.version 4.0-IV3.") {
		t.Fatalf("output %q", out)
	}
	m, err := metaprops.Read(meta)
	if err != nil || m.DirectoryID == nil || m.DirectoryID.String() != "MvDxzVmcRsaTz33bUuRU6A" {
		t.Fatalf("meta.properties %+v %v", m, err)
	}
	s, err := snapshot.ReadFile(filepath.Join(meta, "__cluster_metadata-0", "00000000000000000000-0000000000.checkpoint"))
	if err != nil {
		t.Fatal(err)
	}
	if s.KRaftVersion == nil || s.KRaftVersion.KRaftVersion != 1 || s.Voters == nil || len(s.Voters.Voters) != 3 {
		t.Fatalf("snapshot %+v", s)
	}
	for i, v := range s.Voters.Voters {
		want := []string{"JEXY6aqzQY-32P5TStzaFg", "MvDxzVmcRsaTz33bUuRU6A", "07R5amHmR32VDA6jHkGbTA"}[i]
		if v.VoterID != int32(i+1) || v.VoterDirectoryID.String() != want || len(v.Endpoints) != 1 ||
			!reflect.DeepEqual(v.Endpoints[0], metadata.VoterEndpoint{Name: "CONTROLLER", Host: "c" + strconv.Itoa(i+1), Port: 9093}) {
			t.Errorf("voter %d: %+v", i, v)
		}
	}
	if _, err := os.Stat(filepath.Join(dir, "data", "__cluster_metadata-0")); err == nil {
		t.Error("the data directory got a voter-set snapshot")
	}

	dir = t.TempDir()
	cfg = storageNode(t, dir, "process.roles=controller\nnode.id=2\ncontroller.listener.names=CONTROLLER\n"+
		"controller.quorum.bootstrap.servers=c1:9093\nlisteners=CONTROLLER://:9093")
	_, err = run(t, "storage", "format", "-t", "AAECAwQFBgcICQoLDA0ODw", "-c", cfg, "--initial-controllers", "1@c1:9093")
	if want := `--initial-controllers entry "1@c1:9093": want :port:directory-id after the host; each entry is ` +
		"id@host:port:directory-id (a directory id from `osprey storage random-uuid`)"; err == nil || err.Error() != want {
		t.Fatalf("malformed voters: %v\nwant %s", err, want)
	}
}

func TestStorageFormatStandaloneOnBrokerRefused(t *testing.T) {
	dir := t.TempDir()
	cfg := storageNode(t, dir, "process.roles=broker\nnode.id=4\ncontroller.listener.names=CONTROLLER\n"+
		"controller.quorum.bootstrap.servers=c1:9093\nlisteners=PLAINTEXT://:9092")
	_, err := run(t, "storage", "format", "-t", "AAECAwQFBgcICQoLDA0ODw", "-c", cfg, "--standalone")
	if want := cfg + ": you can only use --standalone on a controller, and process.roles has none; " +
		"format a broker with --no-initial-controllers or the cluster's --initial-controllers"; err == nil || err.Error() != want {
		t.Fatalf("%v\nwant %s", err, want)
	}
}
