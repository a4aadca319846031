package broker

import (
	"math"
	"strconv"
	"time"
)

// parseClusterProperty reads the cluster-mode properties (ZooKeeper,
// replication, leader balance). ok is false for keys it does not own.
func (c *Config) parseClusterProperty(k, v string) (ok bool, err error) {
	ms := func(dst *time.Duration, lo int64) {
		var n int64
		n, err = parseInt64(v, lo)
		*dst = time.Duration(n) * time.Millisecond
	}
	switch k {
	case "zookeeper.connect":
		c.ZooKeeperConnect = v
	case "zookeeper.session.timeout.ms":
		ms(&c.ZooKeeperSessionTimeout, 1)
	case "replica.lag.time.max.ms":
		ms(&c.ReplicaLagTimeMax, 1)
	case "unclean.leader.election.enable":
		c.UncleanLeaderElection, err = strconv.ParseBool(v)
	case "auto.leader.rebalance.enable":
		c.AutoLeaderRebalance, err = strconv.ParseBool(v)
	case "leader.imbalance.per.broker.percentage":
		c.LeaderImbalancePerBrokerPct, err = parseInt32(v, 0, 100)
	case "leader.imbalance.check.interval.seconds":
		var n int32
		n, err = parseInt32(v, 1, math.MaxInt32)
		c.LeaderImbalanceCheckInterval = time.Duration(n) * time.Second
	case "leader.replication.throttled.rate":
		c.LeaderReplicationThrottle, err = parseInt64(v, 0)
	case "follower.replication.throttled.rate":
		c.FollowerReplicationThrottle, err = parseInt64(v, 0)
	default:
		return false, nil
	}
	return true, err
}

// addClusterProperties adds the cluster-mode properties to props.
func (c Config) addClusterProperties(props map[string]string) {
	ms := func(d time.Duration) string { return strconv.FormatInt(d.Milliseconds(), 10) }
	props["zookeeper.connect"] = c.ZooKeeperConnect
	props["zookeeper.session.timeout.ms"] = ms(c.ZooKeeperSessionTimeout)
	props["replica.lag.time.max.ms"] = ms(c.ReplicaLagTimeMax)
	props["unclean.leader.election.enable"] = strconv.FormatBool(c.UncleanLeaderElection)
	props["auto.leader.rebalance.enable"] = strconv.FormatBool(c.AutoLeaderRebalance)
	props["leader.imbalance.per.broker.percentage"] = strconv.Itoa(int(c.LeaderImbalancePerBrokerPct))
	props["leader.replication.throttled.rate"] = strconv.FormatInt(c.LeaderReplicationThrottle, 10)
	props["follower.replication.throttled.rate"] = strconv.FormatInt(c.FollowerReplicationThrottle, 10)
	props["leader.imbalance.check.interval.seconds"] = strconv.FormatInt(int64(c.LeaderImbalanceCheckInterval/time.Second), 10)
}
