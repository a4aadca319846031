package broker

import (
	"bytes"
	"log/slog"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"
)

// designDocKRaft is the KRaft server.properties of the product's design
// documents (§3.12.2.2), as written there (note "broker, controller").
const designDocKRaft = `
process.roles=broker, controller
node.id=1
controller.listener.names=CONTROLLER
controller.quorum.voters=1@kafka-broker1:9093,2@kafka-broker2:9093,3@kafka-broker3:9093
listeners=PLAINTEXT://:9092,CONTROLLER://:9093
inter.broker.listener.name=PLAINTEXT
advertised.listeners=PLAINTEXT://kafka-broker1:9092
listener.security.protocol.map=CONTROLLER:PLAINTEXT,PLAINTEXT:PLAINTEXT,SSL:SSL,SASL_PLAINTEXT:SASL_PLAINTEXT,SASL_SSL:SASL_SSL
log.dirs=/opt/module/kafka-kraft/datas
`

func TestParseKRaftProperties(t *testing.T) {
	var logs bytes.Buffer
	cfg, err := ParseProperties(strings.NewReader(designDocKRaft), slog.New(slog.NewTextHandler(&logs, nil)))
	if err != nil {
		t.Fatal(err)
	}
	if logs.Len() != 0 {
		t.Errorf("warnings for known keys: %s", logs.String())
	}
	checks := []struct {
		name      string
		got, want any
	}{
		{"KRaft", cfg.KRaft(), true},
		{"process.roles", cfg.ProcessRoles, []string{"broker", "controller"}},
		{"node.id", cfg.NodeID, int32(1)},
		{"broker id follows node.id", cfg.BrokerID, int32(1)},
		{"controller.quorum.voters", cfg.ControllerQuorumVoters, []QuorumVoter{
			{1, "kafka-broker1", 9093}, {2, "kafka-broker2", 9093}, {3, "kafka-broker3", 9093}}},
		{"controller.listener.names", cfg.ControllerListenerNames, []string{"CONTROLLER"}},
		{"data-plane listeners", cfg.Listeners, []string{"PLAINTEXT://:9092"}},
		{"controller listeners", cfg.ControllerListeners, []string{"CONTROLLER://:9093"}},
		{"metadata dir defaults to the first log dir", cfg.MetadataDir(), "/opt/module/kafka-kraft/datas"},
	}
	for _, c := range checks {
		if !reflect.DeepEqual(c.got, c.want) {
			t.Errorf("%s = %v, want %v", c.name, c.got, c.want)
		}
	}

	var buf bytes.Buffer
	if err := cfg.WriteProperties(&buf); err != nil {
		t.Fatal(err)
	}
	back, err := ParseProperties(&buf, slog.New(slog.DiscardHandler))
	if err != nil {
		t.Fatalf("parsing written properties: %v\n%s", err, buf.String())
	}
	if !reflect.DeepEqual(back.ProcessRoles, cfg.ProcessRoles) || back.NodeID != 1 ||
		!reflect.DeepEqual(back.ControllerQuorumVoters, cfg.ControllerQuorumVoters) ||
		!reflect.DeepEqual(back.ControllerListeners, cfg.ControllerListeners) || !reflect.DeepEqual(back.Listeners, cfg.Listeners) {
		t.Fatalf("round trip changed the KRaft keys:\n%+v\n%+v", cfg, back)
	}
}

// The KRaft timing keys take Kafka's defaults and its names, and survive a round trip.
func TestParseKRaftTimings(t *testing.T) {
	cfg, err := ParseProperties(strings.NewReader(designDocKRaft), slog.New(slog.DiscardHandler))
	if err != nil {
		t.Fatal(err)
	}
	defaults := []struct {
		name      string
		got, want any
	}{
		{"broker.session.timeout.ms", cfg.BrokerSessionTimeout, 9 * time.Second},
		{"broker.heartbeat.interval.ms", cfg.BrokerHeartbeatInterval, 2 * time.Second},
		{"controller.quorum.election.timeout.ms", cfg.QuorumElectionTimeout, time.Second},
		{"controller.quorum.fetch.timeout.ms", cfg.QuorumFetchTimeout, 2 * time.Second},
		{"metadata.log.segment.bytes", cfg.MetadataLogSegmentBytes, int64(1 << 30)},
		{"metadata.max.idle.interval.ms", cfg.MetadataMaxIdleInterval, 500 * time.Millisecond},
	}
	for _, c := range defaults {
		if c.got != c.want {
			t.Errorf("default %s = %v, want %v", c.name, c.got, c.want)
		}
	}
	set := designDocKRaft + "broker.session.timeout.ms=3000\nbroker.heartbeat.interval.ms=500\n" +
		"controller.quorum.election.timeout.ms=400\ncontroller.quorum.fetch.timeout.ms=800\n" +
		"metadata.log.segment.bytes=1048576\nmetadata.max.idle.interval.ms=0\n"
	cfg, err = ParseProperties(strings.NewReader(set), slog.New(slog.DiscardHandler))
	if err != nil {
		t.Fatal(err)
	}
	var buf bytes.Buffer
	if err := cfg.WriteProperties(&buf); err != nil {
		t.Fatal(err)
	}
	back, err := ParseProperties(&buf, slog.New(slog.DiscardHandler))
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range []*Config{&cfg, &back} {
		if c.BrokerSessionTimeout != 3*time.Second || c.BrokerHeartbeatInterval != 500*time.Millisecond ||
			c.QuorumElectionTimeout != 400*time.Millisecond || c.QuorumFetchTimeout != 800*time.Millisecond ||
			c.MetadataLogSegmentBytes != 1<<20 || c.MetadataMaxIdleInterval != 0 {
			t.Fatalf("timings not read (or not written back): %+v", c)
		}
	}
	if _, err := ParseProperties(strings.NewReader(designDocKRaft+"broker.heartbeat.interval.ms=0\n"), slog.New(slog.DiscardHandler)); err == nil ||
		!strings.Contains(err.Error(), "broker.heartbeat.interval.ms") {
		t.Fatalf("heartbeat interval 0 accepted or not named: %v", err)
	}
}

// Each refusal names the key and says what to write instead.
func TestParseKRaftPropertiesRefusals(t *testing.T) {
	cases := []struct {
		name, edit string
		want       []string
	}{
		{"no node.id", "node.id=", []string{"node.id", "add node.id="}},
		{"voter without id", "controller.quorum.voters=kafka-broker1:9093", []string{"controller.quorum.voters", "{id}@{host}:{port}"}},
		{"voter without port", "controller.quorum.voters=1@kafka-broker1", []string{"controller.quorum.voters", "1@kafka-broker1", "{id}@{host}:{port}"}},
		{"voter id not a number", "controller.quorum.voters=one@kafka-broker1:9093", []string{"controller.quorum.voters", `node id "one"`}},
		{"voter listed twice", "controller.quorum.voters=1@a:9093,1@b:9093", []string{"controller.quorum.voters", "listed twice"}},
		{"controller not a voter", "controller.quorum.voters=2@a:9093,3@b:9093", []string{"controller.quorum.voters", "node.id=1", "add 1@<host>:<port>"}},
		{"unknown role", "process.roles=broker,zookeeper", []string{"process.roles", `"zookeeper"`}},
		{"no voters", "controller.quorum.voters=", []string{"controller.quorum.voters"}},
		{"broker.id differs", "broker.id=2", []string{"broker.id=2", "node.id=1"}},
		{"no controller listener names", "controller.listener.names=;listeners=PLAINTEXT://:9092",
			[]string{"controller.listener.names", "required when process.roles is set"}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			props, err := ReadProperties(strings.NewReader(designDocKRaft))
			if err != nil {
				t.Fatal(err)
			}
			for _, edit := range strings.Split(c.edit, ";") {
				k, v, _ := strings.Cut(edit, "=")
				if v == "" {
					delete(props, k)
				} else {
					props[k] = v
				}
			}
			_, err = ConfigFromProperties(props, slog.New(slog.DiscardHandler))
			if err == nil {
				t.Fatalf("accepted %s", c.edit)
			}
			for _, w := range c.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q does not mention %q", err, w)
				}
			}
		})
	}
}

// Without process.roles a file is ZooKeeper (or single-broker) mode: broker.id
// stays the id, a stray node.id changes nothing, and a listener named
// CONTROLLER is served as data-plane.
func TestZooKeeperModeIgnoresKRaftKeys(t *testing.T) {
	cfg, err := ParseProperties(strings.NewReader("broker.id=4\nnode.id=9\nzookeeper.connect=zk:2181\nlisteners=PLAINTEXT://:9092\n"), slog.New(slog.DiscardHandler))
	if err != nil {
		t.Fatal(err)
	}
	if cfg.KRaft() || cfg.BrokerID != 4 {
		t.Fatalf("KRaft=%v BrokerID=%d, want ZooKeeper mode with broker.id 4", cfg.KRaft(), cfg.BrokerID)
	}
	// Outside KRaft a listener named CONTROLLER is an ordinary data-plane
	// listener (the default listener.security.protocol.map maps it to
	// PLAINTEXT), never a controller listener.
	zk, err := ParseProperties(strings.NewReader("listeners=PLAINTEXT://:9092,CONTROLLER://:9093\n"), slog.New(slog.DiscardHandler))
	if err != nil {
		t.Fatal(err)
	}
	if len(zk.ControllerListeners) != 0 || !slices.Equal(zk.Listeners, []string{"PLAINTEXT://:9092", "CONTROLLER://:9093"}) {
		t.Fatalf("ZooKeeper-mode listeners %v, controller listeners %v; want both as data listeners", zk.Listeners, zk.ControllerListeners)
	}
	if _, err := ParseProperties(strings.NewReader("listeners=PLAINTEXT://:9092,FOO://:9093\n"), slog.New(slog.DiscardHandler)); err == nil ||
		!strings.Contains(err.Error(), "listener.security.protocol.map") {
		t.Fatalf("listener without a security protocol: %v, want a refusal naming listener.security.protocol.map", err)
	}
}
