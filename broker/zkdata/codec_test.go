package zkdata

import (
	"errors"
	"fmt"
	"reflect"
	"strings"
	"testing"
)

// The golden strings are znodes read from real Kafka clusters (zkCli output
// quoted in public write-ups), Kafka 3.x Scala 2.13 builds unless noted.

func TestBrokerGolden(t *testing.T) {
	cases := []struct {
		name string
		reg  BrokerRegistration
		want string
	}{
		{"single listener", BrokerRegistration{
			JMXPort: -1, Timestamp: 1704032948949,
			Endpoints: []Endpoint{{Listener: "PLAINTEXT", SecurityProtocol: "PLAINTEXT", Host: "server1", Port: 9092}},
		}, `{"features":{},"listener_security_protocol_map":{"PLAINTEXT":"PLAINTEXT"},"endpoints":["PLAINTEXT://server1:9092"],"jmx_port":-1,"port":9092,"host":"server1","version":5,"timestamp":"1704032948949"}`},
		{"two listeners", BrokerRegistration{
			JMXPort: -1, Timestamp: 1731163180710,
			Endpoints: []Endpoint{
				{Listener: "INTERNAL", SecurityProtocol: "PLAINTEXT", Host: "kafka3", Port: 29092},
				{Listener: "EXTERNAL", SecurityProtocol: "PLAINTEXT", Host: "kafka3", Port: 9092},
			},
		}, `{"features":{},"listener_security_protocol_map":{"INTERNAL":"PLAINTEXT","EXTERNAL":"PLAINTEXT"},"endpoints":["INTERNAL://kafka3:29092","EXTERNAL://kafka3:9092"],"jmx_port":-1,"port":29092,"host":"kafka3","version":5,"timestamp":"1731163180710"}`},
	}
	for _, c := range cases {
		got := string(EncodeBroker(c.reg))
		if got != c.want {
			t.Errorf("%s:\n got %s\nwant %s", c.name, got, c.want)
		}
		dec, err := DecodeBroker(3, []byte(c.want))
		if err != nil {
			t.Fatal(err)
		}
		c.reg.ID, c.reg.Version = 3, 5
		c.reg.Host, c.reg.Port = c.reg.Endpoints[0].Host, c.reg.Endpoints[0].Port
		if !reflect.DeepEqual(dec, c.reg) {
			t.Errorf("%s: decoded %+v, want %+v", c.name, dec, c.reg)
		}
	}
}

func TestBrokerRackAndNoPlaintext(t *testing.T) {
	reg := BrokerRegistration{
		ID: 7, JMXPort: 9999, Timestamp: 42, Rack: "dc1",
		Endpoints: []Endpoint{{Listener: "SSL", SecurityProtocol: "SSL", Host: "::1", Port: 9093}},
		Features:  map[string]FeatureRange{"metadata.version": {Min: 1, Max: 7}},
	}
	data := EncodeBroker(reg)
	// No public dump with a rack was found: this order is computed by the same
	// Scala 2.13 HashMap emulation that reproduces the dumps above (rack
	// lands between endpoints and jmx_port).
	want := `{"features":{"metadata.version":{"min_version":1,"max_version":7}},"listener_security_protocol_map":{"SSL":"SSL"},"endpoints":["SSL://[::1]:9093"],"rack":"dc1","jmx_port":9999,"port":-1,"host":null,"version":5,"timestamp":"42"}`
	if string(data) != want {
		t.Fatalf("got  %s\nwant %s", data, want)
	}
	dec, err := DecodeBroker(7, data)
	if err != nil {
		t.Fatal(err)
	}
	reg.Version, reg.Port = 5, -1
	if !reflect.DeepEqual(dec, reg) {
		t.Fatalf("round trip: %+v, want %+v", dec, reg)
	}
}

func TestBrokerDecodeOlderVersions(t *testing.T) {
	cases := []struct {
		name, json string
		want       BrokerRegistration
	}{
		// Kafka 2.x, Scala 2.12 build: another key order.
		{"v4 scala 2.12", `{"listener_security_protocol_map":{"INTERNAL":"SASL_PLAINTEXT","EXTERNAL":"PLAINTEXT"},"endpoints":["INTERNAL://kafka-0.svc:9090","EXTERNAL://10.31.10.37:9092"],"jmx_port":10990,"host":"10.31.10.37","timestamp":"1685696316779","port":9092,"version":4}`,
			BrokerRegistration{ID: 1, Version: 4, JMXPort: 10990, Timestamp: 1685696316779, Host: "10.31.10.37", Port: 9092, Endpoints: []Endpoint{
				{Listener: "INTERNAL", SecurityProtocol: "SASL_PLAINTEXT", Host: "kafka-0.svc", Port: 9090},
				{Listener: "EXTERNAL", SecurityProtocol: "PLAINTEXT", Host: "10.31.10.37", Port: 9092},
			}}},
		{"v3 without protocol map", `{"jmx_port":-1,"timestamp":"1490926370304","endpoints":["PLAINTEXT://s202:9092"],"host":"s202","version":3,"port":9092}`,
			BrokerRegistration{ID: 1, Version: 3, JMXPort: -1, Timestamp: 1490926370304, Host: "s202", Port: 9092, Endpoints: []Endpoint{
				{Listener: "PLAINTEXT", SecurityProtocol: "PLAINTEXT", Host: "s202", Port: 9092}}}},
		{"v1", `{"version":1,"host":"localhost","port":9092,"jmx_port":9999,"timestamp":"2233345666"}`,
			BrokerRegistration{ID: 1, Version: 1, JMXPort: 9999, Timestamp: 2233345666, Host: "localhost", Port: 9092, Endpoints: []Endpoint{
				{Listener: "PLAINTEXT", SecurityProtocol: "PLAINTEXT", Host: "localhost", Port: 9092}}}},
		{"unknown fields, numeric timestamp", `{"future":{"x":[1]},"version":5,"endpoints":["PLAINTEXT://h:1"],"timestamp":5,"jmx_port":-1,"host":"h","port":1,"features":{}}`,
			BrokerRegistration{ID: 1, Version: 5, JMXPort: -1, Timestamp: 5, Host: "h", Port: 1, Endpoints: []Endpoint{
				{Listener: "PLAINTEXT", SecurityProtocol: "PLAINTEXT", Host: "h", Port: 1}}}},
	}
	for _, c := range cases {
		got, err := DecodeBroker(1, []byte(c.json))
		if err != nil {
			t.Fatalf("%s: %v", c.name, err)
		}
		if !reflect.DeepEqual(got, c.want) {
			t.Errorf("%s:\n got %+v\nwant %+v", c.name, got, c.want)
		}
	}
	for _, bad := range []string{``, `{}`, `{"version":0}`, `{"version":5,"endpoints":["nonsense"]}`, `[1]`} {
		if _, err := DecodeBroker(1, []byte(bad)); !errors.Is(err, ErrMalformed) {
			t.Errorf("%q: err %v", bad, err)
		}
	}
}

func mustID(t *testing.T, s string) TopicID {
	t.Helper()
	id, err := ParseTopicID(s)
	if err != nil {
		t.Fatal(err)
	}
	return id
}

func TestTopicGolden(t *testing.T) {
	three := TopicAssignment{ID: mustID(t, "cMr3GpVESX2L3byPGf93lQ"), Partitions: map[int32]PartitionAssignment{
		0: {Replicas: []int32{2, 3, 1}}, 1: {Replicas: []int32{3, 1, 2}}, 2: {Replicas: []int32{1, 2, 3}},
	}}
	want := `{"partitions":{"0":[2,3,1],"1":[3,1,2],"2":[1,2,3]},"topic_id":"cMr3GpVESX2L3byPGf93lQ","adding_replicas":{},"removing_replicas":{},"version":3}`
	if got := string(EncodeTopic(three)); got != want {
		t.Errorf("got  %s\nwant %s", got, want)
	}
	// Twelve partitions: "11" hashes into bucket 0 of the grown table.
	twelve := TopicAssignment{Partitions: map[int32]PartitionAssignment{}}
	reps := [][]int32{{0, 1, 2}, {1, 2, 3}, {2, 3, 4}, {3, 4, 0}, {4, 0, 1}, {0, 2, 3}, {1, 3, 4}, {2, 4, 0}, {3, 0, 1}, {4, 1, 2}, {1, 2, 3}, {1, 3, 4}}
	for p, r := range reps {
		twelve.Partitions[int32(p)] = PartitionAssignment{Replicas: r}
	}
	want12 := `{"partitions":{"11":[1,3,4],"0":[0,1,2],"1":[1,2,3],"2":[2,3,4],"3":[3,4,0],"4":[4,0,1],"5":[0,2,3],"6":[1,3,4],"7":[2,4,0],"8":[3,0,1],"9":[4,1,2],"10":[1,2,3]},"adding_replicas":{},"removing_replicas":{},"version":3}`
	if got := string(EncodeTopic(twelve)); got != want12 {
		t.Errorf("got  %s\nwant %s", got, want12)
	}
	for _, c := range []struct {
		json string
		want TopicAssignment
	}{
		{want, func() TopicAssignment { x := three; x.Version = 3; return x }()},
		{want12, func() TopicAssignment { x := twelve; x.Version = 3; return x }()},
	} {
		got, err := DecodeTopic([]byte(c.json))
		if err != nil {
			t.Fatal(err)
		}
		if !reflect.DeepEqual(got, c.want) {
			t.Errorf("decode %s:\n got %+v\nwant %+v", c.json, got, c.want)
		}
	}
}

func TestTopicReassigningAndOldVersions(t *testing.T) {
	in := TopicAssignment{Partitions: map[int32]PartitionAssignment{
		0: {Replicas: []int32{1, 2, 3, 4}, Adding: []int32{4}, Removing: []int32{1}},
		1: {Replicas: []int32{2, 3}},
	}}
	data := EncodeTopic(in)
	want := `{"partitions":{"0":[1,2,3,4],"1":[2,3]},"adding_replicas":{"0":[4]},"removing_replicas":{"0":[1]},"version":3}`
	if string(data) != want {
		t.Fatalf("got  %s\nwant %s", data, want)
	}
	got, err := DecodeTopic(data)
	if err != nil {
		t.Fatal(err)
	}
	in.Version = 3
	if !reflect.DeepEqual(got, in) {
		t.Fatalf("round trip %+v", got)
	}
	// Kafka 2.4–2.7 (version 2, insertion order) and 1.x (version 1).
	for _, old := range []string{
		`{"version":2,"partitions":{"2":[2,3,1],"1":[1,2,3],"0":[3,1,2]},"adding_replicas":{},"removing_replicas":{}}`,
		`{"version":1,"partitions":{"2":[2,3,1],"1":[1,2,3],"0":[3,1,2]}}`,
	} {
		got, err := DecodeTopic([]byte(old))
		if err != nil {
			t.Fatal(err)
		}
		if len(got.Partitions) != 3 || !reflect.DeepEqual(got.Partitions[0].Replicas, []int32{3, 1, 2}) ||
			got.Partitions[2].Adding != nil || !got.ID.IsZero() {
			t.Errorf("%s: %+v", old, got)
		}
	}
	for _, bad := range []string{`{"partitions":{"x":[1]}}`, `{"partitions":{"0":["a"]}}`, `{"topic_id":"short","partitions":{}}`} {
		if _, err := DecodeTopic([]byte(bad)); !errors.Is(err, ErrMalformed) {
			t.Errorf("%s: %v", bad, err)
		}
	}
}

func TestPartitionStateGolden(t *testing.T) {
	s := PartitionState{Leader: 2, LeaderEpoch: 0, ControllerEpoch: 1, ISR: []int32{2, 3, 1}}
	want := `{"controller_epoch":1,"leader":2,"version":1,"leader_epoch":0,"isr":[2,3,1]}`
	if got := string(EncodePartitionState(s)); got != want {
		t.Errorf("got  %s\nwant %s", got, want)
	}
	rec := PartitionState{Leader: -1, LeaderEpoch: 5, ControllerEpoch: 3, ISR: []int32{}, LeaderRecoveryState: LeaderRecovering}
	data := EncodePartitionState(rec)
	if !strings.Contains(string(data), `"leader_recovery_state":1`) || !strings.Contains(string(data), `"isr":[]`) {
		t.Errorf("recovering state: %s", data)
	}
	for _, c := range []struct {
		data []byte
		want PartitionState
	}{{[]byte(want), s}, {data, rec}} {
		got, err := DecodePartitionState(c.data)
		if err != nil {
			t.Fatal(err)
		}
		if !reflect.DeepEqual(got, c.want) {
			t.Errorf("decode %s: %+v", c.data, got)
		}
	}
	if _, err := DecodePartitionState([]byte(`{"version":1,"leader":1}`)); !errors.Is(err, ErrMalformed) {
		t.Errorf("partial state accepted: %v", err)
	}
}

func TestControllerGolden(t *testing.T) {
	v2 := ControllerRegistration{BrokerID: 1, Timestamp: 1704032949256, KRaftControllerEpoch: -1}
	if got := string(EncodeController(v2)); got != `{"version":2,"brokerid":1,"timestamp":"1704032949256","kraftControllerEpoch":-1}` {
		t.Errorf("v2: %s", got)
	}
	v1 := ControllerRegistration{Version: 1, BrokerID: 0, Timestamp: 1705318800456, KRaftControllerEpoch: -1}
	if got := string(EncodeController(v1)); got != `{"version":1,"brokerid":0,"timestamp":"1705318800456"}` {
		t.Errorf("v1: %s", got)
	}
	for _, c := range []ControllerRegistration{v1, func() ControllerRegistration { x := v2; x.Version = 2; return x }()} {
		got, err := DecodeController(EncodeController(c))
		if err != nil || got != c {
			t.Errorf("round trip %+v: %+v %v", c, got, err)
		}
	}
	if e, err := DecodeControllerEpoch(EncodeControllerEpoch(17)); err != nil || e != 17 || string(EncodeControllerEpoch(17)) != "17" {
		t.Errorf("epoch: %d %v", e, err)
	}
	if _, err := DecodeControllerEpoch([]byte("x")); !errors.Is(err, ErrMalformed) {
		t.Errorf("bad epoch: %v", err)
	}
}

func TestSmallNodesGolden(t *testing.T) {
	if got := string(EncodeClusterID("eQzK4lYlQ9y8P21IScOl_g")); got != `{"version":"1","id":"eQzK4lYlQ9y8P21IScOl_g"}` {
		t.Errorf("cluster id: %s", got)
	}
	if id, err := DecodeClusterID([]byte(`{"id":"KRj3FZZ1QnOYG9zYBrmnUQ","version":"1"}`)); err != nil || id != "KRj3FZZ1QnOYG9zYBrmnUQ" {
		t.Errorf("cluster id decode: %q %v", id, err)
	}
	block := ProducerIDBlock{Broker: 0, Start: 8000, End: 8999}
	if got := string(EncodeProducerIDBlock(block)); got != `{"version":1,"broker":0,"block_start":"8000","block_end":"8999"}` {
		t.Errorf("producer id block: %s", got)
	}
	if b, err := DecodeProducerIDBlock([]byte(`{"version":1,"broker":35,"block_start":"4000","block_end":"4999"}`)); err != nil || b != (ProducerIDBlock{35, 4000, 4999}) {
		t.Errorf("producer id block decode: %+v %v", b, err)
	}
	cfg := map[string]string{"retention.ms": "86400000", "cleanup.policy": "compact"}
	if got := string(EncodeConfig(cfg)); got != `{"version":1,"config":{"cleanup.policy":"compact","retention.ms":"86400000"}}` {
		t.Errorf("config: %s", got)
	}
	if got := string(EncodeConfig(nil)); got != `{"version":1,"config":{}}` {
		t.Errorf("empty config: %s", got)
	}
	if c, err := DecodeConfig([]byte(`{"config":{"a":"1","b":2},"version":1}`)); err != nil || !reflect.DeepEqual(c, map[string]string{"a": "1", "b": "2"}) {
		t.Errorf("config decode: %v %v", c, err)
	}
	if got := string(EncodeConfigChange(ConfigTypeTopic, "orders")); got != `{"version":2,"entity_path":"topics/orders"}` {
		t.Errorf("config change: %s", got)
	}
	for _, in := range []string{`{"version":2,"entity_path":"topics/orders"}`, `{"version":1,"entity_type":"topics","entity_name":"orders"}`} {
		if typ, name, err := DecodeConfigChange([]byte(in)); err != nil || typ != "topics" || name != "orders" {
			t.Errorf("config change decode %s: %q %q %v", in, typ, name, err)
		}
	}
	rs := []Reassignment{{"foo", 0, []int32{1, 2}}, {"bar", 3, []int32{3}}}
	wantRs := `{"version":1,"partitions":[{"topic":"foo","partition":0,"replicas":[1,2]},{"topic":"bar","partition":3,"replicas":[3]}]}`
	if got := string(EncodeReassignment(rs)); got != wantRs {
		t.Errorf("reassignment: %s", got)
	}
	// As CMAK writes it (other key order, extra fields).
	if got, err := DecodeReassignment([]byte(`{"partitions":[{"replicas":[1,2],"partition":0,"topic":"foo","log_dirs":["any","any"]},{"topic":"bar","partition":3,"replicas":[3]}],"version":1}`)); err != nil || !reflect.DeepEqual(got, rs) {
		t.Errorf("reassignment decode: %+v %v", got, err)
	}
	tps := []TopicPartition{{"t", 0}, {"u", 7}}
	if got := string(EncodePartitions(tps)); got != `{"version":1,"partitions":[{"topic":"t","partition":0},{"topic":"u","partition":7}]}` {
		t.Errorf("partitions: %s", got)
	}
	if got, err := DecodePartitions([]byte(`{"partitions":[{"partition":0,"topic":"t"},{"topic":"u","partition":7}]}`)); err != nil || !reflect.DeepEqual(got, tps) {
		t.Errorf("partitions decode: %+v %v", got, err)
	}
	if _, err := DecodePartitions([]byte(`{"partitions":[{"topic":"t"}]}`)); !errors.Is(err, ErrMalformed) {
		t.Errorf("partition without number accepted: %v", err)
	}
}

func TestTopicID(t *testing.T) {
	id := mustID(t, "W3mXDtj1RsWmsEhQrZjN5g")
	if id.String() != "W3mXDtj1RsWmsEhQrZjN5g" || id.IsZero() {
		t.Fatalf("round trip %s", id)
	}
	for _, bad := range []string{"", "abc", "W3mXDtj1RsWmsEhQrZjN5g55"} {
		if _, err := ParseTopicID(bad); err == nil {
			t.Errorf("%q accepted", bad)
		}
	}
}

func TestPaths(t *testing.T) {
	got := []string{BrokerPath(3), TopicPath("t"), PartitionStatePath("t", 4), TopicConfigPath("t"), DeleteTopicPath("t"), ConfigChangeCreatePath(), IsrChangeCreatePath()}
	want := []string{"/brokers/ids/3", "/brokers/topics/t", "/brokers/topics/t/partitions/4/state", "/config/topics/t", "/admin/delete_topics/t", "/config/changes/config_change_", "/isr_change_notification/isr_change_"}
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("%v", got)
	}
	if id, err := ParseBrokerID("1001"); err != nil || id != 1001 {
		t.Fatal(id, err)
	}
	if _, err := ParseBrokerID("x"); err == nil {
		t.Fatal("bad id accepted")
	}
}

// FuzzDecoders checks that no input makes a decoder panic.
func FuzzDecoders(f *testing.F) {
	f.Add([]byte(`{"version":5,"endpoints":["PLAINTEXT://h:1"]}`))
	f.Add([]byte(`{"partitions":{"0":[1]}}`))
	f.Add([]byte(`{"leader":1,"leader_epoch":1,"controller_epoch":1,"isr":[1]}`))
	f.Fuzz(func(t *testing.T, data []byte) {
		_, _ = DecodeBroker(1, data)
		_, _ = DecodeTopic(data)
		_, _ = DecodePartitionState(data)
		_, _ = DecodeController(data)
		_, _ = DecodeConfig(data)
		_, _, _ = DecodeConfigChange(data)
		_, _ = DecodeReassignment(data)
		_, _ = DecodePartitions(data)
		_, _ = DecodeProducerIDBlock(data)
		_, _ = DecodeClusterID(data)
	})
}

func TestScalaOrders(t *testing.T) {
	// 50 partitions, as __consumer_offsets: the table grew to 128 buckets.
	// A regression check of the emulation (the 12-partition golden above is
	// the one checked against Kafka's output).
	var keys []string
	for i := 0; i < 50; i++ {
		keys = append(keys, fmt.Sprint(i))
	}
	got := mutableOrder(keys, 16)
	if got[0] != "44" || got[6] != "10" || got[len(got)-1] != "43" || len(got) != 50 {
		t.Fatalf("order of 50 partition keys: %v", got)
	}
	if got := immutableOrder([]string{"a", "b", "c", "d"}); !reflect.DeepEqual(got, []string{"a", "b", "c", "d"}) {
		t.Fatalf("small immutable map: %v", got)
	}
}
