package broker

import (
	"fmt"
	"math"
	"net"
	"slices"
	"strconv"
	"strings"
	"time"
)

// QuorumVoter is one entry of controller.quorum.voters: id@host:port.
type QuorumVoter struct {
	ID   int32
	Host string
	Port int
}

func (v QuorumVoter) String() string {
	return strconv.Itoa(int(v.ID)) + "@" + net.JoinHostPort(v.Host, strconv.Itoa(v.Port))
}

// The process.roles values.
const (
	RoleBroker     = "broker"
	RoleController = "controller"
)

// KRaft reports whether the configuration is for KRaft mode (process.roles
// is set); otherwise it is ZooKeeper or single-broker mode.
func (c Config) KRaft() bool { return len(c.ProcessRoles) > 0 }

// HasRole reports whether process.roles includes role.
func (c Config) HasRole(role string) bool { return slices.Contains(c.ProcessRoles, role) }

// MetadataDir is the directory of the __cluster_metadata log: metadata.log.dir,
// else the first of log.dirs, as in Kafka.
func (c Config) MetadataDir() string {
	if c.MetadataLogDir != "" {
		return c.MetadataLogDir
	}
	if len(c.LogDirs) > 0 {
		return c.LogDirs[0]
	}
	return ""
}

// parseKRaftProperty parses the KRaft keys; ok is false for other keys.
func (c *Config) parseKRaftProperty(k, v string) (ok bool, err error) {
	switch k {
	case "process.roles":
		c.ProcessRoles, err = parseProcessRoles(v)
	case "node.id":
		c.NodeID, err = parseInt32(v, 0, math.MaxInt32)
	case "controller.quorum.voters":
		c.ControllerQuorumVoters, err = ParseQuorumVoters(v)
	case "controller.quorum.bootstrap.servers":
		c.ControllerQuorumBootstrapServers = splitList(v)
		for _, s := range c.ControllerQuorumBootstrapServers {
			if _, _, e := splitHostPort(s); e != nil {
				err = fmt.Errorf("entry %q: want host:port", s)
				break
			}
		}
	case "controller.listener.names":
		c.ControllerListenerNames = splitList(v)
	case "metadata.log.dir":
		c.MetadataLogDir = v
	case "broker.session.timeout.ms":
		c.BrokerSessionTimeout, err = parseMs(v, 1)
	case "broker.heartbeat.interval.ms":
		c.BrokerHeartbeatInterval, err = parseMs(v, 1)
	case "controller.quorum.election.timeout.ms":
		c.QuorumElectionTimeout, err = parseMs(v, 1)
	case "controller.quorum.fetch.timeout.ms":
		c.QuorumFetchTimeout, err = parseMs(v, 1)
	case "metadata.log.segment.bytes":
		// Kafka's floor is 8 MiB (12 for the 1 MiB internal override); ours is one batch.
		c.MetadataLogSegmentBytes, err = parseInt64(v, 1024)
	case "metadata.max.idle.interval.ms":
		c.MetadataMaxIdleInterval, err = parseMs(v, 0)
	case "metadata.log.max.record.bytes.between.snapshots":
		c.MetadataSnapshotMaxBytes, err = parseInt64(v, 1)
	case "metadata.log.max.snapshot.interval.ms":
		c.MetadataSnapshotInterval, err = parseMs(v, 0)
	default:
		return false, nil
	}
	return true, err
}

func parseProcessRoles(v string) ([]string, error) {
	var roles []string
	for _, r := range splitList(v) {
		if r != RoleBroker && r != RoleController {
			return nil, fmt.Errorf("unknown role %q: want broker, controller or both (broker,controller)", r)
		}
		if slices.Contains(roles, r) {
			return nil, fmt.Errorf("role %q listed twice", r)
		}
		roles = append(roles, r)
	}
	return roles, nil
}

// parseMs parses a millisecond count of at least lo.
func parseMs(v string, lo int64) (time.Duration, error) {
	n, err := parseInt64(v, lo)
	return time.Duration(n) * time.Millisecond, err
}

// ParseQuorumVoters parses controller.quorum.voters: a comma-separated list of
// id@host:port (an IPv6 host in brackets), ids unique and non-negative.
func ParseQuorumVoters(v string) ([]QuorumVoter, error) {
	const want = "each entry must be {id}@{host}:{port}, e.g. 1@kafka-1:9093,2@kafka-2:9093"
	var voters []QuorumVoter
	for _, e := range splitList(v) {
		idStr, addr, ok := strings.Cut(e, "@")
		if !ok || strings.Contains(addr, "@") {
			return nil, fmt.Errorf("entry %q: %s", e, want)
		}
		id, err := strconv.ParseInt(idStr, 10, 32)
		if err != nil || id < 0 {
			return nil, fmt.Errorf("entry %q: node id %q is not a non-negative integer; %s", e, idStr, want)
		}
		host, port, err := splitHostPort(addr)
		if err != nil {
			return nil, fmt.Errorf("entry %q: %v; %s", e, err, want)
		}
		for _, o := range voters {
			if o.ID == int32(id) {
				return nil, fmt.Errorf("entry %q: node id %d is listed twice", e, id)
			}
		}
		voters = append(voters, QuorumVoter{ID: int32(id), Host: host, Port: port})
	}
	if len(voters) == 0 {
		return nil, fmt.Errorf("empty list; %s", want)
	}
	return voters, nil
}

func splitHostPort(s string) (string, int, error) {
	host, port, err := net.SplitHostPort(s)
	if err != nil {
		return "", 0, fmt.Errorf("address %q: %w", s, err)
	}
	if host == "" {
		return "", 0, fmt.Errorf("address %q has no host", s)
	}
	p, err := strconv.Atoi(port)
	if err != nil || p < 1 || p > 65535 {
		return "", 0, fmt.Errorf("address %q: port %q is not 1-65535", s, port)
	}
	return host, p, nil
}

// isControllerListener reports whether the listener entry s (NAME://host:port)
// uses one of the names in controller.listener.names.
func isControllerListener(s string, names []string) bool {
	name, _, _ := strings.Cut(s, "://")
	return slices.Contains(names, name)
}

// finishKRaft checks the KRaft keys against each other once all are parsed.
// In KRaft mode node.id is the broker's id; ZooKeeper mode keeps broker.id
// and ignores the KRaft keys, as it did before they were read.
func (c *Config) finishKRaft(props map[string]string) error {
	if !c.KRaft() {
		return nil
	}
	if c.NodeID < 0 {
		return fmt.Errorf("property node.id: required when process.roles is set (KRaft mode); add node.id=<id> to the file, " +
			"for a controller the id it has in controller.quorum.voters")
	}
	if _, ok := props["broker.id"]; ok && c.BrokerID != c.NodeID {
		return fmt.Errorf("property broker.id=%d: differs from node.id=%d; in KRaft mode remove broker.id (node.id is the broker id)", c.BrokerID, c.NodeID)
	}
	c.BrokerID = c.NodeID
	if len(c.ControllerQuorumVoters) == 0 && len(c.ControllerQuorumBootstrapServers) == 0 {
		return fmt.Errorf("property controller.quorum.voters: set it (id@host:port,...) or controller.quorum.bootstrap.servers; " +
			"a KRaft node must know its controllers")
	}
	if len(c.ControllerListenerNames) == 0 {
		// A controller listens on these; a broker uses the first to reach the controllers.
		return fmt.Errorf("property controller.listener.names: required when process.roles is set (KRaft mode), " +
			"e.g. controller.listener.names=CONTROLLER")
	}
	if c.HasRole(RoleController) {
		if len(c.ControllerQuorumVoters) > 0 && !slices.ContainsFunc(c.ControllerQuorumVoters, func(v QuorumVoter) bool { return v.ID == c.NodeID }) {
			return fmt.Errorf("property controller.quorum.voters: node.id=%d has the controller role but is not one of the voters; "+
				"add %d@<host>:<port> to controller.quorum.voters or remove controller from process.roles", c.NodeID, c.NodeID)
		}
	}
	return nil
}

// addKRaftProperties adds the KRaft keys to props (for Properties).
func (c Config) addKRaftProperties(props map[string]string) {
	if !c.KRaft() {
		return
	}
	props["process.roles"] = strings.Join(c.ProcessRoles, ",")
	props["node.id"] = strconv.Itoa(int(c.NodeID))
	voters := make([]string, len(c.ControllerQuorumVoters))
	for i, v := range c.ControllerQuorumVoters {
		voters[i] = v.String()
	}
	props["controller.quorum.voters"] = strings.Join(voters, ",")
	props["controller.quorum.bootstrap.servers"] = strings.Join(c.ControllerQuorumBootstrapServers, ",")
	props["controller.listener.names"] = strings.Join(c.ControllerListenerNames, ",")
	props["metadata.log.dir"] = c.MetadataLogDir
	ms := func(d time.Duration) string { return strconv.FormatInt(d.Milliseconds(), 10) }
	props["broker.session.timeout.ms"] = ms(c.BrokerSessionTimeout)
	props["broker.heartbeat.interval.ms"] = ms(c.BrokerHeartbeatInterval)
	props["controller.quorum.election.timeout.ms"] = ms(c.QuorumElectionTimeout)
	props["controller.quorum.fetch.timeout.ms"] = ms(c.QuorumFetchTimeout)
	props["metadata.log.segment.bytes"] = strconv.FormatInt(c.MetadataLogSegmentBytes, 10)
	props["metadata.max.idle.interval.ms"] = ms(c.MetadataMaxIdleInterval)
	props["metadata.log.max.record.bytes.between.snapshots"] = strconv.FormatInt(c.MetadataSnapshotMaxBytes, 10)
	props["metadata.log.max.snapshot.interval.ms"] = ms(c.MetadataSnapshotInterval)
	if len(c.ControllerListeners) > 0 {
		props["listeners"] = strings.Join(append(append([]string(nil), c.Listeners...), c.ControllerListeners...), ",")
	}
}

// ListenerHostPort splits a listeners entry (NAME://host:port) into its host
// ("" = all interfaces) and port.
func ListenerHostPort(s string) (string, int, error) {
	l, err := parseListener(s)
	if err != nil {
		return "", 0, err
	}
	return l.host, l.port, nil
}
