// Package zkdata is Apache Kafka's ZooKeeper-mode data layout (Kafka
// 2.8–3.9, core/src/main/scala/kafka/zk/ZkData.scala): the znode paths, and
// typed encoders and decoders for the JSON each znode holds, so that a
// cluster run by Osprey's broker runtime on ZooKeeper looks like an Apache
// Kafka cluster to tools that read ZooKeeper (CMAK, EFAK, kafka-*.sh
// --zookeeper, Osprey's own ZooKeeper reader), and so that nodes those
// tools write (/admin/reassign_partitions, /admin/preferred_replica_election,
// /admin/delete_topics) are understood.
//
// Encoders write the bytes Kafka 3.x (Scala 2.13 build) writes, key order
// included; decoders accept any key order, unknown fields, and the older
// versions still found in clusters upgraded from 2.x.
//
// The package is a leaf (standard library only): the broker runtime reads
// and writes the layout through broker/zkclient, the console's ZooKeeper
// reader (admin) decodes it here.
package zkdata

import (
	"fmt"
	"strconv"
)

// Fixed paths.
const (
	ControllerPath               = "/controller"
	ControllerEpochPath          = "/controller_epoch"
	BrokersPath                  = "/brokers"
	BrokerIDsPath                = "/brokers/ids"
	TopicsPath                   = "/brokers/topics"
	BrokerSeqIDPath              = "/brokers/seqid"
	ConfigPath                   = "/config"
	ConfigTopicsPath             = "/config/topics"
	ConfigChangesPath            = "/config/changes"
	AdminPath                    = "/admin"
	DeleteTopicsPath             = "/admin/delete_topics"
	ReassignPartitionsPath       = "/admin/reassign_partitions"
	PreferredReplicaElectionPath = "/admin/preferred_replica_election"
	IsrChangeNotificationPath    = "/isr_change_notification"
	LogDirEventNotificationPath  = "/log_dir_event_notification"
	ClusterPath                  = "/cluster"
	ClusterIDPath                = "/cluster/id"
	ProducerIDBlockPath          = "/latest_producer_id_block"
	ConsumersPath                = "/consumers"
	FeaturePath                  = "/feature"

	// ConfigChangePrefix names the sequential nodes under /config/changes.
	ConfigChangePrefix = "config_change_"
	// IsrChangePrefix names the sequential nodes under /isr_change_notification.
	IsrChangePrefix = "isr_change_"
)

// Config entity types: the children of /config.
const (
	ConfigTypeTopic  = "topics"
	ConfigTypeClient = "clients"
	ConfigTypeUser   = "users"
	ConfigTypeBroker = "brokers"
	ConfigTypeIP     = "ips"
)

// PersistentPaths are the nodes a Kafka broker creates at start-up
// (ZkData.PersistentZkPaths, with ConfigType.ALL as of 2.8–3.6).
var PersistentPaths = []string{
	ConsumersPath,
	BrokerIDsPath,
	TopicsPath,
	ConfigChangesPath,
	DeleteTopicsPath,
	BrokerSeqIDPath,
	IsrChangeNotificationPath,
	ProducerIDBlockPath,
	LogDirEventNotificationPath,
	"/config/" + ConfigTypeTopic,
	"/config/" + ConfigTypeClient,
	"/config/" + ConfigTypeUser,
	"/config/" + ConfigTypeBroker,
	"/config/" + ConfigTypeIP,
}

// BrokerPath is /brokers/ids/<id>.
func BrokerPath(id int32) string { return BrokerIDsPath + "/" + strconv.Itoa(int(id)) }

// TopicPath is /brokers/topics/<topic>.
func TopicPath(topic string) string { return TopicsPath + "/" + topic }

// TopicPartitionsPath is /brokers/topics/<topic>/partitions.
func TopicPartitionsPath(topic string) string { return TopicPath(topic) + "/partitions" }

// PartitionPath is /brokers/topics/<topic>/partitions/<p>.
func PartitionPath(topic string, partition int32) string {
	return TopicPartitionsPath(topic) + "/" + strconv.Itoa(int(partition))
}

// PartitionStatePath is /brokers/topics/<topic>/partitions/<p>/state.
func PartitionStatePath(topic string, partition int32) string {
	return PartitionPath(topic, partition) + "/state"
}

// ConfigEntityPath is /config/<type>/<name>.
func ConfigEntityPath(entityType, name string) string {
	return ConfigPath + "/" + entityType + "/" + name
}

// TopicConfigPath is /config/topics/<topic>.
func TopicConfigPath(topic string) string { return ConfigEntityPath(ConfigTypeTopic, topic) }

// DeleteTopicPath is /admin/delete_topics/<topic>.
func DeleteTopicPath(topic string) string { return DeleteTopicsPath + "/" + topic }

// ConfigChangeCreatePath is the path given to a sequential create of a config
// change notification.
func ConfigChangeCreatePath() string { return ConfigChangesPath + "/" + ConfigChangePrefix }

// IsrChangeCreatePath is the path given to a sequential create of an ISR
// change notification.
func IsrChangeCreatePath() string { return IsrChangeNotificationPath + "/" + IsrChangePrefix }

// ParseBrokerID parses a child name of /brokers/ids.
func ParseBrokerID(name string) (int32, error) {
	n, err := strconv.ParseInt(name, 10, 32)
	if err != nil {
		return 0, fmt.Errorf("zkdata: broker id %q: %w", name, err)
	}
	return int32(n), nil
}

// TopicPartition names one partition.
type TopicPartition struct {
	Topic     string
	Partition int32
}

func (tp TopicPartition) String() string { return tp.Topic + "-" + strconv.Itoa(int(tp.Partition)) }
