package zkdata

import (
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"slices"
	"strconv"
	"strings"
)

// ErrMalformed is wrapped by every decoding error.
var ErrMalformed = errors.New("zkdata: malformed znode data")

func malformed(what string, err error) error {
	if err == nil {
		return fmt.Errorf("%w: %s", ErrMalformed, what)
	}
	return fmt.Errorf("%w: %s: %v", ErrMalformed, what, err)
}

// ---- /brokers/ids/<id> ----

// Endpoint is one advertised listener of a broker.
type Endpoint struct {
	Listener         string // listener name, e.g. PLAINTEXT, INTERNAL
	SecurityProtocol string // PLAINTEXT, SSL, SASL_PLAINTEXT, SASL_SSL
	Host             string
	Port             int32
}

// String is Kafka's connection string: LISTENER://host:port (IPv6 hosts in
// brackets).
func (e Endpoint) String() string {
	return e.Listener + "://" + net.JoinHostPort(e.Host, strconv.Itoa(int(e.Port)))
}

// ParseEndpoint parses LISTENER://host:port; the security protocol comes
// from protocolMap, or is the listener name itself when it names one.
func ParseEndpoint(s string, protocolMap map[string]string) (Endpoint, error) {
	listener, hostport, ok := strings.Cut(s, "://")
	if !ok || listener == "" {
		return Endpoint{}, malformed(fmt.Sprintf("endpoint %q", s), nil)
	}
	host, portStr, err := net.SplitHostPort(hostport)
	if err != nil {
		return Endpoint{}, malformed(fmt.Sprintf("endpoint %q", s), err)
	}
	port, err := strconv.ParseInt(portStr, 10, 32)
	if err != nil {
		return Endpoint{}, malformed(fmt.Sprintf("endpoint %q", s), err)
	}
	proto := protocolMap[listener]
	if proto == "" {
		proto = listener
	}
	return Endpoint{Listener: listener, SecurityProtocol: proto, Host: host, Port: int32(port)}, nil
}

// FeatureRange is a supported feature version range of a broker.
type FeatureRange struct {
	Min, Max int16
}

// BrokerRegistration is /brokers/ids/<id> (JSON version 5 on write; 1–5 on
// read).
type BrokerRegistration struct {
	ID        int32 // from the path, not the JSON
	Version   int   // JSON version; 0 on encode means 5
	JMXPort   int32 // -1 when JMX is off
	Timestamp int64 // registration time, ms since the epoch
	Endpoints []Endpoint
	Rack      string // "" = no rack
	Features  map[string]FeatureRange
	// Host and Port are the top-level fields kept for old clients: the first
	// PLAINTEXT endpoint, else null and -1. Filled by DecodeBroker; derived
	// from Endpoints on encode.
	Host string
	Port int32
}

// EncodeBroker writes a registration as Kafka 3.x does.
func EncodeBroker(b BrokerRegistration) []byte {
	version := b.Version
	if version == 0 {
		version = 5
	}
	var host any // null unless a PLAINTEXT endpoint exists
	port := int32(-1)
	for _, e := range b.Endpoints {
		if e.SecurityProtocol == "PLAINTEXT" {
			host, port = e.Host, e.Port
			break
		}
	}
	endpoints := make([]string, len(b.Endpoints))
	for i, e := range b.Endpoints {
		endpoints[i] = e.String()
	}
	o := newObject().
		set("version", version).
		set("host", host).
		set("port", port).
		set("endpoints", endpoints).
		set("jmx_port", b.JMXPort).
		set("timestamp", strconv.FormatInt(b.Timestamp, 10))
	if b.Rack != "" && version >= 3 {
		o.set("rack", b.Rack)
	}
	if version >= 4 {
		// advertisedEndpoints.map(listener -> protocol).toMap: an immutable
		// Map built in endpoint order.
		pm := newObject()
		for _, e := range b.Endpoints {
			pm.set(e.Listener, e.SecurityProtocol)
		}
		o.set("listener_security_protocol_map", raw(pm.bytes(immutableOrder)))
	}
	if version >= 5 {
		fo := newObject()
		names := make([]string, 0, len(b.Features))
		for n := range b.Features {
			names = append(names, n)
		}
		slices.Sort(names)
		for _, n := range names {
			r := b.Features[n]
			fo.set(n, raw(newObject().set("min_version", r.Min).set("max_version", r.Max).bytes(insertionOrder)))
		}
		o.set("features", raw(fo.bytes(insertionOrder)))
	}
	// jsonMap is `mutable.Map(6 entries)` plus the optional ones.
	return o.bytes(func(keys []string) []string { return mutableOrder(keys, mutableFromCap(6)) })
}

type brokerJSON struct {
	Version     *int                                  `json:"version"`
	Host        *string                               `json:"host"`
	Port        *int32                                `json:"port"`
	JMXPort     *int32                                `json:"jmx_port"`
	Timestamp   flexInt                               `json:"timestamp"`
	Endpoints   []string                              `json:"endpoints"`
	Rack        *string                               `json:"rack"`
	ProtocolMap map[string]string                     `json:"listener_security_protocol_map"`
	Features    map[string]map[string]json.RawMessage `json:"features"`
}

// DecodeBroker reads /brokers/ids/<id>.
func DecodeBroker(id int32, data []byte) (BrokerRegistration, error) {
	var j brokerJSON
	if err := json.Unmarshal(data, &j); err != nil {
		return BrokerRegistration{}, malformed(fmt.Sprintf("broker %d registration", id), err)
	}
	if j.Version == nil || *j.Version < 1 {
		return BrokerRegistration{}, malformed(fmt.Sprintf("broker %d registration: no supported version", id), nil)
	}
	b := BrokerRegistration{ID: id, Version: *j.Version, JMXPort: -1, Timestamp: j.Timestamp.V, Port: -1}
	if j.JMXPort != nil {
		b.JMXPort = *j.JMXPort
	}
	if j.Host != nil {
		b.Host = *j.Host
	}
	if j.Port != nil {
		b.Port = *j.Port
	}
	if j.Rack != nil {
		b.Rack = *j.Rack
	}
	if b.Version == 1 || len(j.Endpoints) == 0 {
		if b.Host != "" && b.Port >= 0 {
			b.Endpoints = []Endpoint{{Listener: "PLAINTEXT", SecurityProtocol: "PLAINTEXT", Host: b.Host, Port: b.Port}}
		}
	} else {
		for _, s := range j.Endpoints {
			e, err := ParseEndpoint(s, j.ProtocolMap)
			if err != nil {
				return BrokerRegistration{}, fmt.Errorf("broker %d registration: %w", id, err)
			}
			b.Endpoints = append(b.Endpoints, e)
		}
	}
	if len(j.Features) > 0 {
		b.Features = map[string]FeatureRange{}
		for n, v := range j.Features {
			var r FeatureRange
			if raw, ok := v["min_version"]; ok {
				_ = json.Unmarshal(raw, &r.Min)
			}
			if raw, ok := v["max_version"]; ok {
				_ = json.Unmarshal(raw, &r.Max)
			}
			b.Features[n] = r
		}
	}
	return b, nil
}

// ---- /brokers/topics/<t> ----

// TopicID is Kafka's topic UUID, written in URL-safe base64 without padding.
type TopicID [16]byte

// IsZero reports whether the id is unset.
func (id TopicID) IsZero() bool { return id == TopicID{} }

func (id TopicID) String() string { return base64.RawURLEncoding.EncodeToString(id[:]) }

// ParseTopicID parses the base64 form.
func ParseTopicID(s string) (TopicID, error) {
	var id TopicID
	b, err := base64.RawURLEncoding.DecodeString(strings.TrimRight(s, "="))
	if err != nil || len(b) != 16 {
		return id, malformed(fmt.Sprintf("topic id %q", s), err)
	}
	copy(id[:], b)
	return id, nil
}

// PartitionAssignment is one partition's replicas; Adding and Removing are
// set while a reassignment (KIP-455) is in progress.
type PartitionAssignment struct {
	Replicas []int32
	Adding   []int32
	Removing []int32
}

// TopicAssignment is /brokers/topics/<t>.
type TopicAssignment struct {
	Version    int // JSON version; 0 on encode means 3
	ID         TopicID
	Partitions map[int32]PartitionAssignment
}

// EncodeTopic writes a topic node as Kafka 3.x does.
func EncodeTopic(t TopicAssignment) []byte {
	version := t.Version
	if version == 0 {
		version = 3
	}
	ids := make([]int32, 0, len(t.Partitions))
	for p := range t.Partitions {
		ids = append(ids, p)
	}
	slices.Sort(ids)
	parts, adding, removing := newObject(), newObject(), newObject()
	for _, p := range ids {
		a := t.Partitions[p]
		key := strconv.Itoa(int(p))
		parts.set(key, a.Replicas)
		if len(a.Adding) > 0 {
			adding.set(key, a.Adding)
		}
		if len(a.Removing) > 0 {
			removing.set(key, a.Removing)
		}
	}
	// Each is an initially empty mutable.Map (16 buckets).
	byHash := func(keys []string) []string { return mutableOrder(keys, 16) }
	o := newObject().
		set("version", version).
		set("partitions", raw(parts.bytes(byHash))).
		set("adding_replicas", raw(adding.bytes(byHash))).
		set("removing_replicas", raw(removing.bytes(byHash)))
	if !t.ID.IsZero() {
		o.set("topic_id", t.ID.String())
	}
	return o.bytes(func(keys []string) []string { return mutableOrder(keys, mutableFromCap(4)) })
}

type topicJSON struct {
	Version  int                `json:"version"`
	TopicID  *string            `json:"topic_id"`
	Parts    map[string][]int32 `json:"partitions"`
	Adding   map[string][]int32 `json:"adding_replicas"`
	Removing map[string][]int32 `json:"removing_replicas"`
}

// DecodeTopic reads /brokers/topics/<t> (versions 1–3).
func DecodeTopic(data []byte) (TopicAssignment, error) {
	var j topicJSON
	if err := json.Unmarshal(data, &j); err != nil {
		return TopicAssignment{}, malformed("topic assignment", err)
	}
	t := TopicAssignment{Version: j.Version, Partitions: map[int32]PartitionAssignment{}}
	if j.TopicID != nil {
		id, err := ParseTopicID(*j.TopicID)
		if err != nil {
			return TopicAssignment{}, err
		}
		t.ID = id
	}
	for k, replicas := range j.Parts {
		p, err := strconv.ParseInt(k, 10, 32)
		if err != nil || p < 0 {
			return TopicAssignment{}, malformed(fmt.Sprintf("partition %q", k), err)
		}
		t.Partitions[int32(p)] = PartitionAssignment{Replicas: nonNil(replicas), Adding: j.Adding[k], Removing: j.Removing[k]}
	}
	return t, nil
}

func nonNil(s []int32) []int32 {
	if s == nil {
		return []int32{}
	}
	return s
}

// ---- /brokers/topics/<t>/partitions/<p>/state ----

// LeaderRecoveryState values (KIP-704).
const (
	LeaderRecovered  int8 = 0
	LeaderRecovering int8 = 1
)

// PartitionState is a partition's leader and ISR as the controller wrote
// them (LeaderIsrAndControllerEpoch).
type PartitionState struct {
	Leader              int32 // -1 = no leader
	LeaderEpoch         int32
	ControllerEpoch     int32
	ISR                 []int32
	LeaderRecoveryState int8 // written only when not LeaderRecovered
}

// EncodePartitionState writes the state node (JSON version 1).
func EncodePartitionState(s PartitionState) []byte {
	o := newObject().
		set("version", 1).
		set("leader", s.Leader).
		set("leader_epoch", s.LeaderEpoch).
		set("controller_epoch", s.ControllerEpoch).
		set("isr", nonNil(s.ISR))
	if s.LeaderRecoveryState != LeaderRecovered {
		o.set("leader_recovery_state", int(s.LeaderRecoveryState))
	}
	return o.bytes(immutableOrder)
}

type partitionStateJSON struct {
	Leader          *int32  `json:"leader"`
	LeaderEpoch     *int32  `json:"leader_epoch"`
	ControllerEpoch *int32  `json:"controller_epoch"`
	ISR             []int32 `json:"isr"`
	Recovery        *int8   `json:"leader_recovery_state"`
}

// DecodePartitionState reads the state node.
func DecodePartitionState(data []byte) (PartitionState, error) {
	var j partitionStateJSON
	if err := json.Unmarshal(data, &j); err != nil {
		return PartitionState{}, malformed("partition state", err)
	}
	if j.Leader == nil || j.LeaderEpoch == nil || j.ControllerEpoch == nil || j.ISR == nil {
		return PartitionState{}, malformed("partition state: missing leader, leader_epoch, controller_epoch or isr", nil)
	}
	s := PartitionState{Leader: *j.Leader, LeaderEpoch: *j.LeaderEpoch, ControllerEpoch: *j.ControllerEpoch, ISR: j.ISR}
	if j.Recovery != nil {
		s.LeaderRecoveryState = *j.Recovery
	}
	return s, nil
}

// ---- /controller, /controller_epoch ----

// ControllerRegistration is /controller.
type ControllerRegistration struct {
	Version   int // 0 on encode means 2 (Kafka 3.4+); 1 omits kraftControllerEpoch
	BrokerID  int32
	Timestamp int64 // ms since the epoch
	// KRaftControllerEpoch is -1 for a ZooKeeper controller (and when absent).
	KRaftControllerEpoch int32
}

// EncodeController writes /controller.
func EncodeController(c ControllerRegistration) []byte {
	version := c.Version
	if version == 0 {
		version = 2
	}
	o := newObject().
		set("version", version).
		set("brokerid", c.BrokerID).
		set("timestamp", strconv.FormatInt(c.Timestamp, 10))
	if version >= 2 {
		o.set("kraftControllerEpoch", c.KRaftControllerEpoch)
	}
	return o.bytes(immutableOrder)
}

type controllerJSON struct {
	Version   int     `json:"version"`
	BrokerID  *int32  `json:"brokerid"`
	Timestamp flexInt `json:"timestamp"`
	KRaft     *int32  `json:"kraftControllerEpoch"`
}

// DecodeController reads /controller.
func DecodeController(data []byte) (ControllerRegistration, error) {
	var j controllerJSON
	if err := json.Unmarshal(data, &j); err != nil {
		return ControllerRegistration{}, malformed("controller", err)
	}
	if j.BrokerID == nil {
		return ControllerRegistration{}, malformed("controller: no brokerid", nil)
	}
	c := ControllerRegistration{Version: j.Version, BrokerID: *j.BrokerID, Timestamp: j.Timestamp.V, KRaftControllerEpoch: -1}
	if j.KRaft != nil {
		c.KRaftControllerEpoch = *j.KRaft
	}
	return c, nil
}

// EncodeControllerEpoch writes /controller_epoch: decimal text.
func EncodeControllerEpoch(epoch int32) []byte { return []byte(strconv.Itoa(int(epoch))) }

// DecodeControllerEpoch reads /controller_epoch.
func DecodeControllerEpoch(data []byte) (int32, error) {
	n, err := strconv.ParseInt(strings.TrimSpace(string(data)), 10, 32)
	if err != nil {
		return 0, malformed("controller epoch", err)
	}
	return int32(n), nil
}

// ---- /cluster/id ----

// EncodeClusterID writes /cluster/id: {"version":"1","id":...} (the version
// is a string here).
func EncodeClusterID(id string) []byte {
	return newObject().set("version", "1").set("id", id).bytes(insertionOrder)
}

// DecodeClusterID reads /cluster/id.
func DecodeClusterID(data []byte) (string, error) {
	var j struct {
		ID *string `json:"id"`
	}
	if err := json.Unmarshal(data, &j); err != nil || j.ID == nil {
		return "", malformed("cluster id", err)
	}
	return *j.ID, nil
}

// ---- /config/<type>/<name>, /config/changes ----

// EncodeConfig writes an entity config node: {"version":1,"config":{...}}.
// Kafka serialises a java.util.Properties (hash-table order, which depends
// on insertion history); keys are written sorted here.
func EncodeConfig(cfg map[string]string) []byte {
	c := newObject()
	for k, v := range cfg {
		c.set(k, v)
	}
	return newObject().set("version", 1).set("config", raw(c.bytes(sortedOrder))).bytes(insertionOrder)
}

// DecodeConfig reads an entity config node. Empty data is an empty config,
// as in Kafka; non-string values are kept in their JSON text.
func DecodeConfig(data []byte) (map[string]string, error) {
	out := map[string]string{}
	if len(data) == 0 {
		return out, nil
	}
	var j struct {
		Config map[string]json.RawMessage `json:"config"`
	}
	if err := json.Unmarshal(data, &j); err != nil {
		return nil, malformed("config", err)
	}
	for k, v := range j.Config {
		var s string
		if err := json.Unmarshal(v, &s); err != nil {
			s = string(v)
		}
		out[k] = s
	}
	return out, nil
}

// EncodeConfigChange writes a config change notification:
// {"version":2,"entity_path":"topics/<t>"}.
func EncodeConfigChange(entityType, name string) []byte {
	return newObject().set("version", 2).set("entity_path", entityType+"/"+name).bytes(insertionOrder)
}

// DecodeConfigChange reads a notification (version 2; version 1 used
// "entity_type" and "entity_name").
func DecodeConfigChange(data []byte) (entityType, name string, err error) {
	var j struct {
		Version    int    `json:"version"`
		EntityPath string `json:"entity_path"`
		EntityType string `json:"entity_type"`
		EntityName string `json:"entity_name"`
	}
	if err := json.Unmarshal(data, &j); err != nil {
		return "", "", malformed("config change", err)
	}
	if j.EntityPath != "" {
		t, n, ok := strings.Cut(j.EntityPath, "/")
		if !ok {
			return "", "", malformed(fmt.Sprintf("config change entity_path %q", j.EntityPath), nil)
		}
		return t, n, nil
	}
	if j.EntityType == "" {
		return "", "", malformed("config change: no entity", nil)
	}
	return j.EntityType, j.EntityName, nil
}

// ---- partition lists: reassignment, preferred election, ISR changes ----

// Reassignment is one partition's target replicas in
// /admin/reassign_partitions.
type Reassignment struct {
	Topic     string
	Partition int32
	Replicas  []int32
}

// EncodeReassignment writes /admin/reassign_partitions (version 1), in the
// given order.
func EncodeReassignment(rs []Reassignment) []byte {
	items := make([]raw, len(rs))
	for i, r := range rs {
		items[i] = newObject().set("topic", r.Topic).set("partition", r.Partition).set("replicas", nonNil(r.Replicas)).bytes(insertionOrder)
	}
	return newObject().set("version", 1).set("partitions", rawArray(items)).bytes(insertionOrder)
}

// DecodeReassignment reads /admin/reassign_partitions.
func DecodeReassignment(data []byte) ([]Reassignment, error) {
	var j struct {
		Partitions []struct {
			Topic     *string `json:"topic"`
			Partition *int32  `json:"partition"`
			Replicas  []int32 `json:"replicas"`
		} `json:"partitions"`
	}
	if err := json.Unmarshal(data, &j); err != nil {
		return nil, malformed("reassign_partitions", err)
	}
	out := make([]Reassignment, 0, len(j.Partitions))
	for _, p := range j.Partitions {
		if p.Topic == nil || p.Partition == nil || p.Replicas == nil {
			return nil, malformed("reassign_partitions: entry without topic, partition or replicas", nil)
		}
		out = append(out, Reassignment{Topic: *p.Topic, Partition: *p.Partition, Replicas: p.Replicas})
	}
	return out, nil
}

// EncodePartitions writes the {"version":1,"partitions":[{"topic","partition"}]}
// shape of /admin/preferred_replica_election and ISR change notifications.
func EncodePartitions(tps []TopicPartition) []byte {
	items := make([]raw, len(tps))
	for i, tp := range tps {
		items[i] = newObject().set("topic", tp.Topic).set("partition", tp.Partition).bytes(insertionOrder)
	}
	return newObject().set("version", 1).set("partitions", rawArray(items)).bytes(insertionOrder)
}

// DecodePartitions reads that shape.
func DecodePartitions(data []byte) ([]TopicPartition, error) {
	var j struct {
		Partitions []struct {
			Topic     *string `json:"topic"`
			Partition *int32  `json:"partition"`
		} `json:"partitions"`
	}
	if err := json.Unmarshal(data, &j); err != nil {
		return nil, malformed("partition list", err)
	}
	out := make([]TopicPartition, 0, len(j.Partitions))
	for _, p := range j.Partitions {
		if p.Topic == nil || p.Partition == nil {
			return nil, malformed("partition list: entry without topic or partition", nil)
		}
		out = append(out, TopicPartition{Topic: *p.Topic, Partition: *p.Partition})
	}
	return out, nil
}

func rawArray(items []raw) raw {
	b := []byte{'['}
	for i, it := range items {
		if i > 0 {
			b = append(b, ',')
		}
		b = append(b, it...)
	}
	return append(b, ']')
}

// ---- /latest_producer_id_block ----

// ProducerIDBlock is a block of producer ids handed to one broker (both
// bounds inclusive).
type ProducerIDBlock struct {
	Broker int32
	Start  int64
	End    int64
}

// EncodeProducerIDBlock writes /latest_producer_id_block:
// {"version":1,"broker":b,"block_start":"s","block_end":"e"}.
func EncodeProducerIDBlock(b ProducerIDBlock) []byte {
	return newObject().
		set("version", 1).
		set("broker", b.Broker).
		set("block_start", strconv.FormatInt(b.Start, 10)).
		set("block_end", strconv.FormatInt(b.End, 10)).
		bytes(insertionOrder)
}

// DecodeProducerIDBlock reads /latest_producer_id_block.
func DecodeProducerIDBlock(data []byte) (ProducerIDBlock, error) {
	var j struct {
		Broker *int32  `json:"broker"`
		Start  flexInt `json:"block_start"`
		End    flexInt `json:"block_end"`
	}
	if err := json.Unmarshal(data, &j); err != nil {
		return ProducerIDBlock{}, malformed("producer id block", err)
	}
	if j.Broker == nil || !j.Start.Set || !j.End.Set {
		return ProducerIDBlock{}, malformed("producer id block: missing broker, block_start or block_end", nil)
	}
	return ProducerIDBlock{Broker: *j.Broker, Start: j.Start.V, End: j.End.V}, nil
}
