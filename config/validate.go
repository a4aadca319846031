package config

import (
	"errors"
	"fmt"
	"net"
	"net/netip"
	"os"
	"strconv"
	"strings"

	"github.com/go-sql-driver/mysql"

	"github.com/osprey-kafka/osprey/internal/topicname"
)

// MaxClusterName bounds cluster names: they key every time series row.
const MaxClusterName = 64

// ValidClusterName applies Kafka's topic name rules (so cluster names fit in URLs) plus the length
// bound of cluster names.
func ValidClusterName(s string) error {
	if err := topicname.Validate(s); err != nil {
		return err
	}
	if len(s) > MaxClusterName {
		return fmt.Errorf("is %d characters long; cluster names are at most %d", len(s), MaxClusterName)
	}
	return nil
}

// Validate checks every setting and returns all problems at once, each naming its key and the fix.
func (c *Config) Validate() error {
	var ps problems
	c.checkServer(&ps)
	c.checkDatabase(&ps)
	c.checkCollection(&ps)
	c.checkClusters(&ps)
	c.checkCompat(&ps)
	c.checkMessages(&ps)
	c.checkAuth(&ps)
	c.checkOIDC(&ps)
	c.checkSession(&ps)
	if len(ps) == 0 {
		return nil
	}
	return &ValidationError{Problems: ps}
}

// checkMessages checks the message-search limits: each must be positive.
func (c *Config) checkMessages(ps *problems) {
	m := c.Messages.Search
	for _, l := range []struct {
		key string
		v   int64
	}{{"maxRecords", m.MaxRecords}, {"maxBytes", m.MaxBytes}, {"maxDuration", int64(m.MaxDuration)},
		{"maxResults", int64(m.MaxResults)}, {"maxExportResults", int64(m.MaxExportResults)}, {"maxConcurrent", int64(m.MaxConcurrent)}} {
		if l.v <= 0 {
			ps.add("messages.search."+l.key, "must be positive (a search needs every limit)")
		}
	}
}

// problems collects "key: what is wrong and the fix" lines.
type problems []string

func (p *problems) add(key, format string, a ...any) {
	*p = append(*p, key+": "+fmt.Sprintf(format, a...))
}

// checkServer checks the listen address, the data directory and the log settings.
func (c *Config) checkServer(ps *problems) {
	if err := checkHostPort(c.Listen, true); err != nil {
		ps.add("listen", "%v (example: \":8048\" or \"127.0.0.1:8048\")", err)
	}
	if c.DataDir == "" {
		ps.add("dataDir", "must not be empty (example: \"./data\")")
	}
	switch c.Log.Level {
	case "debug", "info", "warn", "error":
	default:
		ps.add("log.level", "%q is not a level: use debug, info, warn or error", c.Log.Level)
	}
	switch c.Log.Format {
	case "text", "json":
	default:
		ps.add("log.format", "%q is not a format: use text or json", c.Log.Format)
	}
	for i, p := range c.TrustedProxies {
		if !validProxy(p) {
			ps.add(fmt.Sprintf("trustedProxies[%d]", i), "%q is not an IP address or CIDR range (example: \"10.0.0.5\" or \"10.0.0.0/8\")", p)
		}
	}
}

// validProxy reports whether p is an IP address or a CIDR range, the forms gin's trusted proxies take.
func validProxy(p string) bool {
	if _, err := netip.ParseAddr(p); err == nil {
		return true
	}
	_, err := netip.ParsePrefix(p)
	return err == nil
}

// checkDatabase checks the driver, its DSN and the connection pool.
func (c *Config) checkDatabase(ps *problems) {
	switch c.Database.Driver {
	case "sqlite":
	case "mysql":
		if c.Database.DSN == "" {
			ps.add("database.dsn", "is required with driver mysql (example: \"osprey:secret@tcp(127.0.0.1:3306)/osprey\")")
		} else if _, err := mysql.ParseDSN(c.Database.DSN); err != nil {
			ps.add("database.dsn", "not a valid MySQL DSN (%s); expected user:password@tcp(host:3306)/database", redactDSNError(err))
		}
	default:
		ps.add("database.driver", "%q is not supported: use sqlite (embedded default) or mysql (MySQL/MariaDB)", c.Database.Driver)
	}
	if c.Database.MaxOpenConns < 1 {
		ps.add("database.maxOpenConns", "must be at least 1")
	}
}

// checkCollection checks the retention and collector durations and the collector's concurrency.
func (c *Config) checkCollection(ps *problems) {
	for key, d := range map[string]Duration{
		"retention.raw": c.Retention.Raw, "retention.minute": c.Retention.Minute,
		"retention.fiveMin": c.Retention.FiveMin, "retention.metrics": c.Retention.Metrics,
		"retention.audit": c.Retention.Audit, "retention.interval": c.Retention.Interval,
		"collector.offsetsInterval": c.Collector.OffsetsInterval, "collector.groupsInterval": c.Collector.GroupsInterval,
		"collector.logDirsInterval": c.Collector.LogDirsInterval, "collector.requestTimeout": c.Collector.RequestTimeout,
		"collector.startingGrace": c.Collector.StartingGrace,
		"collector.catchUpWindow": c.Collector.CatchUpWindow, "collector.flapWindow": c.Collector.FlapWindow,
		"collector.storageWindow": c.Collector.StorageWindow,
	} {
		if d <= 0 {
			ps.add(key, "must be a positive duration such as 30s, 5m or 15d")
		}
	}
	if c.Retention.Raw > c.Retention.Metrics {
		ps.add("retention.raw", "(%s) is longer than retention.metrics (%s): raw points cannot outlive the history", c.Retention.Raw, c.Retention.Metrics)
	}
	if c.Collector.Concurrency < 1 || c.Collector.Concurrency > 256 {
		ps.add("collector.concurrency", "must be between 1 and 256")
	}
}

// checkClusters checks the embedded cluster and each configured one, and that their names are unique.
func (c *Config) checkClusters(ps *problems) {
	seen := map[string]bool{}
	if c.Embedded.Enabled {
		if err := ValidClusterName(c.Embedded.Name); err != nil {
			ps.add("embedded.name", "%v", err)
		}
		if c.Embedded.Brokers < 1 || c.Embedded.Brokers > 9 {
			ps.add("embedded.brokers", "%d is out of range: use 1 to 9", c.Embedded.Brokers)
		}
		if c.Embedded.Mode != EmbeddedKRaft && c.Embedded.Mode != EmbeddedZooKeeper {
			ps.add("embedded.mode", "%q is not a mode: use kraft (the default) or zookeeper", c.Embedded.Mode)
		}
		seen[c.Embedded.Name] = true
	}
	for i, cl := range c.Clusters {
		key := fmt.Sprintf("clusters[%d]", i)
		if err := ValidClusterName(cl.Name); err != nil {
			ps.add(key+".name", "%v", err)
		} else if seen[cl.Name] {
			ps.add(key+".name", "%q is used twice (the embedded cluster is named %q): give each cluster its own name", cl.Name, c.Embedded.Name)
		}
		seen[cl.Name] = true
		checkCluster(ps, key, cl)
	}
}

// checkCluster checks one cluster's connection settings: bootstrap servers, ZooKeeper, SASL and TLS.
func checkCluster(ps *problems, key string, cl Cluster) {
	if len(cl.BootstrapServers) == 0 && cl.ZooKeeper == "" {
		ps.add(key+".bootstrapServers", "must list at least one host:port (or set zookeeper, and the brokers are found there)")
	}
	for _, s := range cl.BootstrapServers {
		if err := checkHostPort(s, false); err != nil {
			ps.add(key+".bootstrapServers", "%q: %v", s, err)
		}
	}
	if cl.ZooKeeper != "" {
		if err := CheckZooKeeper(cl.ZooKeeper); err != nil {
			ps.add(key+".zookeeper", "%v (example: \"zk1:2181,zk2:2181/kafka\")", err)
		}
	}
	switch cl.SASL.Mechanism {
	case "":
	case "PLAIN", "SCRAM-SHA-256", "SCRAM-SHA-512":
		if cl.SASL.Username == "" {
			ps.add(key+".sasl.username", "is required with mechanism %s", cl.SASL.Mechanism)
		}
	default:
		ps.add(key+".sasl.mechanism", "%q is not supported: use PLAIN, SCRAM-SHA-256 or SCRAM-SHA-512", cl.SASL.Mechanism)
	}
	for name, f := range map[string]string{"caFile": cl.TLS.CAFile, "certFile": cl.TLS.CertFile, "keyFile": cl.TLS.KeyFile} {
		if f == "" {
			continue
		}
		if _, err := os.Stat(f); err != nil {
			ps.add(key+".tls."+name, "cannot read %q: %v", f, errors.Unwrap(err))
		}
	}
	if (cl.TLS.CertFile == "") != (cl.TLS.KeyFile == "") {
		ps.add(key+".tls", "certFile and keyFile go together: set both or neither")
	}
}

// ValidationError lists every invalid setting.
type ValidationError struct{ Problems []string }

func (e *ValidationError) Error() string {
	if len(e.Problems) == 1 {
		return "invalid configuration: " + e.Problems[0]
	}
	return "invalid configuration:\n  - " + strings.Join(e.Problems, "\n  - ")
}

func checkHostPort(s string, allowEmptyHost bool) error {
	host, port, err := net.SplitHostPort(s)
	if err != nil {
		return fmt.Errorf("%q is not host:port", s)
	}
	if host == "" && !allowEmptyHost {
		return errors.New("host is missing")
	}
	p, err := strconv.Atoi(port)
	if err != nil || p < 0 || p > 65535 || (!allowEmptyHost && p == 0) {
		return fmt.Errorf("port %q is not a number from 1 to 65535", port)
	}
	return nil
}

// CheckZooKeeper checks a ZooKeeper connect string: host:port[,host:port][/chroot].
func CheckZooKeeper(s string) error {
	servers, chroot, hasChroot := strings.Cut(s, "/")
	if hasChroot && (chroot == "" || strings.HasSuffix(chroot, "/")) {
		return fmt.Errorf("chroot %q must be a path without a trailing slash", "/"+chroot)
	}
	for _, hp := range strings.Split(servers, ",") {
		if err := checkHostPort(hp, false); err != nil {
			return fmt.Errorf("server %q: %v", hp, err)
		}
	}
	return nil
}

// redactDSNError keeps the driver's reason but never echoes the DSN, which may hold a password.
func redactDSNError(err error) string {
	msg := err.Error()
	if i := strings.Index(msg, ":"); i > 0 && strings.Contains(msg[i:], "@") {
		return msg[:i]
	}
	return msg
}
