// Package config holds Osprey's typed configuration: the YAML file, OSPREY_* environment overrides and
// command-line flags, their defaults, and validation that names the bad key and says how to fix it.
//
// Precedence, lowest first: built-in defaults, the YAML file, the environment, flags. The result is a
// plain value passed to the parts that need it; nothing here is package-level mutable state.
package config

import (
	"time"
)

// Config is the whole console configuration. YAML keys are the `yaml` tags; every scalar can also be set
// through the environment as OSPREY_<PATH> (for example database.dsn → OSPREY_DATABASE_DSN).
type Config struct {
	// Listen is the HTTP address of the console, host:port.
	Listen string `yaml:"listen"`
	// DataDir holds the SQLite database and the embedded cluster's logs.
	DataDir string `yaml:"dataDir"`
	// AdminToken guards every mutating endpoint. Empty: one is generated at first start and printed once.
	AdminToken string `yaml:"adminToken" secret:"true"`
	// ReadOnly refuses every mutation, whatever the credentials.
	ReadOnly bool `yaml:"readOnly"`
	// PublicURL is the console's address as users reach it, used in alert links.
	PublicURL string `yaml:"publicURL"`
	// TrustedProxies are the addresses or CIDR ranges of reverse proxies whose X-Forwarded-For /
	// X-Real-IP headers name the client (for the login limiter, audit and access log). Empty: no
	// proxy is trusted and the client is the connection's address, so the headers cannot be forged.
	TrustedProxies []string  `yaml:"trustedProxies"`
	Log            Log       `yaml:"log"`
	Database       Database  `yaml:"database"`
	Retention      Retention `yaml:"retention"`
	Collector      Collector `yaml:"collector"`
	Embedded       Embedded  `yaml:"embedded"`
	Clusters       []Cluster `yaml:"clusters"`
	Compat         Compat    `yaml:"compat"`
	Messages       Messages  `yaml:"messages"`
	Auth           Auth      `yaml:"auth"`
}

// Messages configures reading records through the console.
type Messages struct {
	Search MessageSearch `yaml:"search"`
}

// MessageSearch bounds every message search; a request may only lower these (docs/MESSAGES.md).
type MessageSearch struct {
	MaxRecords  int64    `yaml:"maxRecords"`
	MaxBytes    int64    `yaml:"maxBytes"`
	MaxDuration Duration `yaml:"maxDuration"`
	MaxResults  int      `yaml:"maxResults"`
	// MaxExportResults caps the records one export or redrive selects (MaxResults caps a search's).
	MaxExportResults int `yaml:"maxExportResults"`
	MaxConcurrent    int `yaml:"maxConcurrent"`
}

// Compat configures what stands in for the tools Osprey replaces: kafka_exporter's metrics and
// Burrow's read API (docs/COMPAT.md).
type Compat struct {
	KafkaExporter KafkaExporter `yaml:"kafkaExporter"`
	Burrow        Burrow        `yaml:"burrow"`
}

// KafkaExporter serves the metric families danielqsj/kafka_exporter publishes.
type KafkaExporter struct {
	Enabled bool `yaml:"enabled"`
	// Path is where they are served; "/metrics" merges them into the console's own /metrics.
	Path string `yaml:"path"`
	// ClusterLabel names the label carrying the cluster's name when every cluster is served at once;
	// Path?cluster=<name> serves one cluster without it, exactly as kafka_exporter does.
	ClusterLabel string `yaml:"clusterLabel"`
	// MaxSeries bounds one scrape; what it leaves out is counted in osprey_kafka_exporter_series_dropped_total.
	MaxSeries int `yaml:"maxSeries"`
}

// Burrow serves LinkedIn Burrow's v3 HTTP read API (/v3/kafka/…).
type Burrow struct {
	Enabled bool `yaml:"enabled"`
	// Role is the least role a caller needs: empty leaves it open like the console's other reads,
	// "viewer" asks for a login or token.
	Role string `yaml:"role"`
	// Intervals is the window, in collector polls, a partition's status is judged over (Burrow's
	// storage intervals), 2 to 10.
	Intervals int `yaml:"intervals"`
}

// Log configures the console's own log output.
type Log struct {
	Level  string `yaml:"level"`  // debug, info, warn, error
	Format string `yaml:"format"` // text or json
}

// Database selects the store. SQLite is the embedded default; MySQL/MariaDB for shared deployments.
type Database struct {
	Driver string `yaml:"driver"` // sqlite or mysql
	// DSN: for mysql a go-sql-driver DSN (user:pass@tcp(host:3306)/osprey); for sqlite a file path
	// (default <dataDir>/osprey.db).
	DSN          string `yaml:"dsn" secret:"true"`
	MaxOpenConns int    `yaml:"maxOpenConns"`
}

// Retention says how long time series are kept at each resolution.
type Retention struct {
	Raw      Duration `yaml:"raw"`      // points as polled
	Minute   Duration `yaml:"minute"`   // 1-minute rollups
	FiveMin  Duration `yaml:"fiveMin"`  // 5-minute rollups
	Metrics  Duration `yaml:"metrics"`  // hourly rollups: the history horizon (EFAK keeps 15 days)
	Audit    Duration `yaml:"audit"`    // audit log entries
	Interval Duration `yaml:"interval"` // how often rollups and expiry run
}

// Collector sets the poll intervals and limits shared by every cluster's poller.
type Collector struct {
	OffsetsInterval Duration `yaml:"offsetsInterval"`
	GroupsInterval  Duration `yaml:"groupsInterval"`
	LogDirsInterval Duration `yaml:"logDirsInterval"`
	RequestTimeout  Duration `yaml:"requestTimeout"`
	Concurrency     int      `yaml:"concurrency"`
	// StartingGrace is how long a new topic's or cluster's partitions (and brokers) that have not yet
	// been healthy show as starting instead of degraded, without alerts.
	StartingGrace Duration `yaml:"startingGrace"`
	// CatchUpWindow is how far back the time-to-catch-up estimate's consume and produce rates reach.
	CatchUpWindow Duration `yaml:"catchUpWindow"`
	// FlapWindow is how far back a partition's ISR changes (and the quorum's epoch changes) are counted.
	FlapWindow Duration `yaml:"flapWindow"`
	// StorageWindow is how far back a log directory's growth rate (and days until full) reaches.
	StorageWindow Duration `yaml:"storageWindow"`
}

// Embedded is the local cluster the console runs in-process when nothing else is configured.
type Embedded struct {
	Enabled bool   `yaml:"enabled"`
	Name    string `yaml:"name"`
	Brokers int    `yaml:"brokers"`
	// Mode is the cluster's kind: "kraft" (the default: every broker is also a controller of the
	// metadata quorum) or "zookeeper" (ZooKeeper mode on an in-process metadata store).
	Mode        string `yaml:"mode"`
	DemoTraffic bool   `yaml:"demoTraffic"`
}

// Embedded cluster modes.
const (
	EmbeddedKRaft     = "kraft"
	EmbeddedZooKeeper = "zookeeper"
)

// Cluster is one monitored Kafka cluster.
type Cluster struct {
	Name             string   `yaml:"name"`
	BootstrapServers []string `yaml:"bootstrapServers"`
	// ZooKeeper is a connect string with optional chroot, "zk1:2181,zk2:2181/kafka". Empty for KRaft
	// clusters; with no bootstrap servers, the brokers are found through ZooKeeper's /brokers/ids.
	ZooKeeper string `yaml:"zookeeper"`
	SASL      SASL   `yaml:"sasl"`
	TLS       TLS    `yaml:"tls"`
	// ZooKeeperACL is the ZooKeeper authentication an EFAK import carried over. It is kept so that
	// nothing from the old setup is lost, but Osprey does not authenticate to ZooKeeper with it yet.
	ZooKeeperACL ZooKeeperACL `yaml:"zookeeperACL"`
}

// ZooKeeperACL is ZooKeeper authentication as EFAK configures it (scheme "digest", user and password).
type ZooKeeperACL struct {
	Enabled  bool   `yaml:"enabled"`
	Scheme   string `yaml:"scheme"`
	Username string `yaml:"username"`
	Password string `yaml:"password" secret:"true"`
}

// SASL holds client credentials for a cluster.
type SASL struct {
	Mechanism string `yaml:"mechanism"` // PLAIN, SCRAM-SHA-256 or SCRAM-SHA-512; empty for none
	Username  string `yaml:"username"`
	Password  string `yaml:"password" secret:"true"`
}

// TLS configures an encrypted connection to a cluster.
type TLS struct {
	Enabled            bool   `yaml:"enabled"`
	CAFile             string `yaml:"caFile"`
	CertFile           string `yaml:"certFile"`
	KeyFile            string `yaml:"keyFile"`
	InsecureSkipVerify bool   `yaml:"insecureSkipVerify"`
}

// Default returns the built-in configuration: listen on :8048, SQLite under ./data, the embedded
// 3-broker cluster with demo traffic, 15 days of metric history.
func Default() Config {
	return Config{
		Listen:  ":8048",
		DataDir: "./data",
		Log:     Log{Level: "info", Format: "text"},
		Database: Database{
			Driver:       "sqlite",
			MaxOpenConns: 10,
		},
		Retention: Retention{
			Raw:      Duration(6 * time.Hour),
			Minute:   Duration(48 * time.Hour),
			FiveMin:  Duration(7 * 24 * time.Hour),
			Metrics:  Duration(15 * 24 * time.Hour),
			Audit:    Duration(180 * 24 * time.Hour),
			Interval: Duration(time.Minute),
		},
		Collector: Collector{
			OffsetsInterval: Duration(15 * time.Second),
			GroupsInterval:  Duration(30 * time.Second),
			LogDirsInterval: Duration(60 * time.Second),
			StartingGrace:   Duration(2 * time.Minute),
			CatchUpWindow:   Duration(10 * time.Minute),
			FlapWindow:      Duration(10 * time.Minute),
			StorageWindow:   Duration(24 * time.Hour),
			RequestTimeout:  Duration(10 * time.Second),
			Concurrency:     8,
		},
		Embedded: Embedded{Enabled: true, Name: "local", Brokers: 3, Mode: EmbeddedKRaft, DemoTraffic: true},
		Messages: Messages{Search: MessageSearch{MaxRecords: 1_000_000, MaxBytes: 256 << 20, MaxDuration: Duration(30 * time.Second),
			MaxResults: 500, MaxExportResults: 100_000, MaxConcurrent: 4}},
		Compat: Compat{
			KafkaExporter: KafkaExporter{Enabled: true, Path: "/metrics/kafka-exporter", ClusterLabel: "cluster", MaxSeries: 200000},
			Burrow:        Burrow{Enabled: true, Intervals: 10},
		},
	}
}
