package broker

import (
	"bytes"
	"log/slog"
	"strings"
	"testing"
	"time"
)

func TestParsePropertiesKafkaNames(t *testing.T) {
	var logs bytes.Buffer
	log := slog.New(slog.NewTextHandler(&logs, nil))
	cfg, err := ParseProperties(strings.NewReader(`
# a server.properties as Kafka ships it
broker.id=3
listeners=PLAINTEXT://0.0.0.0:9093
advertised.listeners=PLAINTEXT://kafka-3.example:9093
log.dirs=/var/lib/a,/var/lib/b
num.partitions = 6
log.segment.bytes: 1048576
log.retention.hours=24
log.retention.minutes=90
log.roll.hours=2
log.retention.bytes=1000000
auto.create.topics.enable=false
offsets.topic.num.partitions=10
group.initial.rebalance.delay.ms=0
num.network.threads=3
metrics.listen=127.0.0.1:9404
my.custom.key=\
  continued
`), log)
	if err != nil {
		t.Fatal(err)
	}
	checks := []struct {
		name      string
		got, want any
	}{
		{"broker.id", cfg.BrokerID, int32(3)},
		{"advertised.listeners", cfg.AdvertisedListeners[0], "PLAINTEXT://kafka-3.example:9093"},
		{"log.dirs", strings.Join(cfg.LogDirs, ","), "/var/lib/a,/var/lib/b"},
		{"num.partitions", cfg.NumPartitions, int32(6)},
		{"log.segment.bytes", cfg.LogSegmentBytes, int64(1 << 20)},
		{"log.retention (minutes beat hours)", cfg.LogRetention, 90 * time.Minute},
		{"log.roll.hours", cfg.LogRoll, 2 * time.Hour},
		{"log.retention.bytes", cfg.LogRetentionBytes, int64(1000000)},
		{"auto.create.topics.enable", cfg.AutoCreateTopics, false},
		{"offsets.topic.num.partitions", cfg.OffsetsTopicPartitions, int32(10)},
		{"group.initial.rebalance.delay.ms", cfg.GroupInitialRebalanceDelay, time.Duration(0)},
		{"metrics.listen", cfg.MetricsListen, "127.0.0.1:9404"},
	}
	for _, c := range checks {
		if c.got != c.want {
			t.Errorf("%s = %v, want %v", c.name, c.got, c.want)
		}
	}
	if !strings.Contains(logs.String(), "my.custom.key") {
		t.Errorf("unknown key not warned about: %s", logs.String())
	}
	if strings.Contains(logs.String(), "num.network.threads") {
		t.Errorf("a standard Kafka key was warned about: %s", logs.String())
	}
}

func TestParsePropertiesRejectsBadValuesByName(t *testing.T) {
	for _, bad := range []string{
		"broker.id=abc", "num.partitions=0", "log.segment.bytes=10", "listeners=localhost:9092",
		"listeners=FOO://:9093", "auto.create.topics.enable=maybe", "log.retention.ms=-5",
		"metrics.listen=nohostport", "group.min.session.timeout.ms=10000\ngroup.max.session.timeout.ms=5000",
	} {
		_, err := ParseProperties(strings.NewReader(bad), slog.New(slog.DiscardHandler))
		key := strings.SplitN(strings.Split(bad, "\n")[0], "=", 2)[0]
		if err == nil || !strings.Contains(err.Error(), strings.TrimSuffix(key, ".ms")) {
			t.Errorf("%q: error %v does not name the key", bad, err)
		}
	}
}

func TestConfigPropertiesRoundTrip(t *testing.T) {
	cfg := DefaultConfig()
	cfg.BrokerID = 7
	cfg.Listeners = []string{"PLAINTEXT://127.0.0.1:19092"}
	cfg.AdvertisedListeners = []string{"PLAINTEXT://broker-7:19092"}
	cfg.LogDirs = []string{"/data/7"}
	cfg.LogRetention = 36 * time.Hour
	cfg.GroupInitialRebalanceDelay = 0
	cfg.MetricsListen = "127.0.0.1:9407"
	cfg.Rack = "r1"
	var buf bytes.Buffer
	if err := cfg.WriteProperties(&buf); err != nil {
		t.Fatal(err)
	}
	back, err := ParseProperties(&buf, slog.New(slog.DiscardHandler))
	if err != nil {
		t.Fatalf("parsing written properties: %v\n%s", err, buf.String())
	}
	if back.BrokerID != 7 || back.AdvertisedListeners[0] != cfg.AdvertisedListeners[0] || back.LogRetention != cfg.LogRetention ||
		back.LogDirs[0] != "/data/7" || back.MetricsListen != cfg.MetricsListen || back.Rack != "r1" ||
		back.GroupInitialRebalanceDelay != 0 || back.LogSegmentBytes != cfg.LogSegmentBytes {
		t.Fatalf("round trip changed the config:\n%+v\n%+v", cfg, back)
	}
}
