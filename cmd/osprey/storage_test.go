package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/osprey-kafka/osprey/broker/kraft/metadata"
	"github.com/osprey-kafka/osprey/broker/kraft/metaprops"
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
}

// A KRaft file is not run as a ZooKeeper-mode or single broker by mistake.
func TestBrokerRefusesKRaftConfig(t *testing.T) {
	dir := t.TempDir()
	cfg := writeServerProperties(t, dir, "process.roles=broker\nnode.id=4\ncontroller.listener.names=CONTROLLER\ncontroller.quorum.voters=1@k1:9093\nlisteners=PLAINTEXT://127.0.0.1:0\n")
	if _, err := run(t, "broker", "-c", cfg); err == nil || !strings.Contains(err.Error(), "process.roles") {
		t.Fatalf("osprey broker with a KRaft file: %v", err)
	}
}
