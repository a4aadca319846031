package admin

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"path"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/go-zookeeper/zk"
)

// ErrNoZooKeeper is returned by ZooKeeper when the cluster has no ZooKeeper configured.
var ErrNoZooKeeper = errors.New("no zookeeper configured for this cluster")

// ZK reads Kafka's ZooKeeper-mode layout. One session per Client, opened on
// first use and closed by Client.Close (EFAK leaked one per request).
// go-zookeeper calls take no context: each call runs in a goroutine that ends
// when ZooKeeper answers or the session is closed; the caller returns at its
// deadline regardless.
type ZK struct {
	conn    *zk.Conn
	chroot  string
	Servers []string
}

// ZooKeeper returns the cluster's ZooKeeper reader, connecting on first use.
func (c *Client) ZooKeeper() (*ZK, error) {
	if c.cfg.ZooKeeper == "" {
		return nil, ErrNoZooKeeper
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.closed {
		return nil, ErrClosed
	}
	if c.zk != nil {
		return c.zk, nil
	}
	servers, chroot, err := ParseZKConnect(c.cfg.ZooKeeper)
	if err != nil {
		return nil, err
	}
	conn, _, err := zk.Connect(servers, 15*time.Second, zk.WithLogger(zkLogger{c.log}), zk.WithLogInfo(false))
	if err != nil {
		return nil, fmt.Errorf("zookeeper %s: %w", strings.Join(servers, ","), err)
	}
	c.zk = &ZK{conn: conn, chroot: chroot, Servers: servers}
	return c.zk, nil
}

// close ends the session; only Client.Close calls it, since the session is shared.
func (z *ZK) close() { z.conn.Close() }

// Connected reports whether the session currently has a live connection.
func (z *ZK) Connected() bool {
	s := z.conn.State()
	return s == zk.StateHasSession || s == zk.StateConnected
}

type zkLogger struct{ l *slog.Logger }

func (z zkLogger) Printf(format string, args ...any) {
	z.l.Debug("zookeeper: " + fmt.Sprintf(format, args...))
}

// abs maps a path under the chroot to ZooKeeper's absolute path; the root "/" is the chroot itself.
func (z *ZK) abs(p string) string {
	if p == "/" && z.chroot != "" {
		return z.chroot
	}
	return z.chroot + p
}

func zkCall[T any](ctx context.Context, fn func() (T, error)) (T, error) {
	type res struct {
		v   T
		err error
	}
	ch := make(chan res, 1) // buffered: the goroutine never blocks after we give up
	go func() {
		v, err := fn()
		ch <- res{v, err}
	}()
	select {
	case r := <-ch:
		return r.v, r.err
	case <-ctx.Done():
		var zero T
		return zero, ctx.Err()
	}
}

// ZNodeStat is the metadata of a znode.
type ZNodeStat struct {
	Version     int32
	NumChildren int32
	DataLength  int32
	Created     time.Time
	Modified    time.Time
	// EphemeralOwner is the owning session id, 0 for persistent nodes.
	EphemeralOwner int64
}

// Get reads a znode (path relative to the chroot). A missing node yields an
// error matching zk.ErrNoNode (see IsNoNode).
func (z *ZK) Get(ctx context.Context, p string) ([]byte, *ZNodeStat, error) {
	type gs struct {
		b []byte
		s *zk.Stat
	}
	r, err := zkCall(ctx, func() (gs, error) {
		b, s, err := z.conn.Get(z.abs(p))
		return gs{b, s}, err
	})
	if err != nil {
		return nil, nil, fmt.Errorf("zookeeper get %s: %w", p, err)
	}
	st := &ZNodeStat{Version: r.s.Version, NumChildren: r.s.NumChildren, DataLength: r.s.DataLength,
		Created: time.UnixMilli(r.s.Ctime), Modified: time.UnixMilli(r.s.Mtime), EphemeralOwner: r.s.EphemeralOwner}
	return r.b, st, nil
}

// IsNoNode reports whether err says a znode does not exist.
func IsNoNode(err error) bool { return errors.Is(err, zk.ErrNoNode) }

// Children lists a znode's children, sorted (path relative to the chroot).
// A missing node yields an empty list.
func (z *ZK) Children(ctx context.Context, p string) ([]string, error) {
	kids, err := zkCall(ctx, func() ([]string, error) {
		k, _, err := z.conn.Children(z.abs(p))
		return k, err
	})
	if errors.Is(err, zk.ErrNoNode) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("zookeeper children %s: %w", p, err)
	}
	sort.Strings(kids)
	return kids, nil
}

// ZKBroker is a broker registration (/brokers/ids/<id>).
type ZKBroker struct {
	ID        int32
	Host      string
	Port      int32
	Rack      string
	Endpoints []string
	JMXPort   int32
	// Registered is when the broker registered (its "timestamp").
	Registered time.Time
}

// Brokers reads the live broker registrations, sorted by id.
func (z *ZK) Brokers(ctx context.Context) ([]ZKBroker, error) {
	ids, err := z.Children(ctx, "/brokers/ids")
	if err != nil {
		return nil, err
	}
	out := make([]ZKBroker, 0, len(ids))
	for _, s := range ids {
		id, err := strconv.ParseInt(s, 10, 32)
		if err != nil {
			continue
		}
		b, _, err := z.Get(ctx, "/brokers/ids/"+s)
		if errors.Is(err, zk.ErrNoNode) {
			continue // deregistered between the two reads
		}
		if err != nil {
			return out, err
		}
		var reg struct {
			Host      string   `json:"host"`
			Port      int32    `json:"port"`
			JMXPort   int32    `json:"jmx_port"`
			Timestamp string   `json:"timestamp"`
			Endpoints []string `json:"endpoints"`
			Rack      *string  `json:"rack"`
		}
		if err := json.Unmarshal(b, &reg); err != nil {
			return out, fmt.Errorf("broker %s registration: %w", s, err)
		}
		zb := ZKBroker{ID: int32(id), Host: reg.Host, Port: reg.Port, JMXPort: reg.JMXPort, Endpoints: reg.Endpoints, Registered: msTime(reg.Timestamp)}
		if reg.Rack != nil {
			zb.Rack = *reg.Rack
		}
		// Brokers with only non-PLAINTEXT listeners write host null / port -1.
		if zb.Host == "" && len(reg.Endpoints) > 0 {
			if h, p, ok := endpointHostPort(reg.Endpoints[0]); ok {
				zb.Host, zb.Port = h, p
			}
		}
		out = append(out, zb)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].ID < out[j].ID })
	return out, nil
}

func endpointHostPort(ep string) (string, int32, bool) {
	i := strings.Index(ep, "://")
	if i < 0 {
		return "", 0, false
	}
	hp := ep[i+3:]
	j := strings.LastIndexByte(hp, ':')
	if j < 0 {
		return "", 0, false
	}
	p, err := strconv.ParseInt(hp[j+1:], 10, 32)
	if err != nil {
		return "", 0, false
	}
	return strings.Trim(hp[:j], "[]"), int32(p), true
}

func msTime(s string) time.Time {
	ms, err := strconv.ParseInt(s, 10, 64)
	if err != nil || ms <= 0 {
		return time.Time{}
	}
	return time.UnixMilli(ms)
}

// ZKController is the current controller (/controller, /controller_epoch).
type ZKController struct {
	BrokerID int32 // -1 when no controller is elected
	Since    time.Time
	Epoch    int64
}

// Controller reads the controller and its epoch.
func (z *ZK) Controller(ctx context.Context) (ZKController, error) {
	out := ZKController{BrokerID: -1}
	b, _, err := z.Get(ctx, "/controller")
	switch {
	case errors.Is(err, zk.ErrNoNode):
	case err != nil:
		return out, err
	default:
		var c struct {
			BrokerID  int32  `json:"brokerid"`
			Timestamp string `json:"timestamp"`
		}
		if err := json.Unmarshal(b, &c); err != nil {
			return out, fmt.Errorf("/controller: %w", err)
		}
		out.BrokerID, out.Since = c.BrokerID, msTime(c.Timestamp)
	}
	b, _, err = z.Get(ctx, "/controller_epoch")
	if err == nil {
		out.Epoch, _ = strconv.ParseInt(strings.TrimSpace(string(b)), 10, 64)
	} else if !errors.Is(err, zk.ErrNoNode) {
		return out, err
	}
	return out, nil
}

// ClusterID reads /cluster/id ("" when absent).
func (z *ZK) ClusterID(ctx context.Context) (string, error) {
	b, _, err := z.Get(ctx, "/cluster/id")
	if errors.Is(err, zk.ErrNoNode) {
		return "", nil
	}
	if err != nil {
		return "", err
	}
	var v struct {
		ID string `json:"id"`
	}
	if err := json.Unmarshal(b, &v); err != nil {
		return "", fmt.Errorf("/cluster/id: %w", err)
	}
	return v.ID, nil
}

// Topics lists topic names under /brokers/topics.
func (z *ZK) Topics(ctx context.Context) ([]string, error) {
	return z.Children(ctx, "/brokers/topics")
}

// ZKTopic is a topic's assignment (/brokers/topics/<t>).
type ZKTopic struct {
	Name     string
	TopicID  string
	Replicas map[int32][]int32
	Adding   map[int32][]int32
	Removing map[int32][]int32
}

// Topic reads one topic's replica assignment.
func (z *ZK) Topic(ctx context.Context, name string) (*ZKTopic, error) {
	b, _, err := z.Get(ctx, "/brokers/topics/"+name)
	if err != nil {
		return nil, err
	}
	var v struct {
		TopicID    string             `json:"topic_id"`
		Partitions map[string][]int32 `json:"partitions"`
		Adding     map[string][]int32 `json:"adding_replicas"`
		Removing   map[string][]int32 `json:"removing_replicas"`
	}
	if err := json.Unmarshal(b, &v); err != nil {
		return nil, fmt.Errorf("topic %s assignment: %w", name, err)
	}
	conv := func(in map[string][]int32) map[int32][]int32 {
		out := make(map[int32][]int32, len(in))
		for k, r := range in {
			if p, err := strconv.ParseInt(k, 10, 32); err == nil {
				out[int32(p)] = r
			}
		}
		return out
	}
	return &ZKTopic{Name: name, TopicID: v.TopicID, Replicas: conv(v.Partitions), Adding: conv(v.Adding), Removing: conv(v.Removing)}, nil
}

// ZKPartitionState is /brokers/topics/<t>/partitions/<p>/state.
type ZKPartitionState struct {
	Partition       int32
	Leader          int32
	LeaderEpoch     int32
	ControllerEpoch int32
	ISR             []int32
}

// PartitionStates reads every partition state of a topic, sorted by partition.
func (z *ZK) PartitionStates(ctx context.Context, topic string) ([]ZKPartitionState, error) {
	parts, err := z.Children(ctx, path.Join("/brokers/topics", topic, "partitions"))
	if err != nil {
		return nil, err
	}
	out := make([]ZKPartitionState, 0, len(parts))
	for _, s := range parts {
		p, err := strconv.ParseInt(s, 10, 32)
		if err != nil {
			continue
		}
		b, _, err := z.Get(ctx, path.Join("/brokers/topics", topic, "partitions", s, "state"))
		if errors.Is(err, zk.ErrNoNode) {
			continue
		}
		if err != nil {
			return out, err
		}
		var v struct {
			Leader          int32   `json:"leader"`
			LeaderEpoch     int32   `json:"leader_epoch"`
			ControllerEpoch int32   `json:"controller_epoch"`
			ISR             []int32 `json:"isr"`
		}
		if err := json.Unmarshal(b, &v); err != nil {
			return out, fmt.Errorf("%s/%s state: %w", topic, s, err)
		}
		out = append(out, ZKPartitionState{Partition: int32(p), Leader: v.Leader, LeaderEpoch: v.LeaderEpoch, ControllerEpoch: v.ControllerEpoch, ISR: v.ISR})
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Partition < out[j].Partition })
	return out, nil
}

// ZKPending lists admin requests the controller has not finished.
type ZKPending struct {
	Reassignments     []Reassignment
	PreferredElection []PartitionError // Err unused; topic/partition pairs
	DeleteTopics      []string
}

// Pending reads /admin/reassign_partitions, /admin/preferred_replica_election
// and /admin/delete_topics.
func (z *ZK) Pending(ctx context.Context) (*ZKPending, error) {
	out := &ZKPending{}
	b, _, err := z.Get(ctx, "/admin/reassign_partitions")
	switch {
	case errors.Is(err, zk.ErrNoNode):
	case err != nil:
		return nil, err
	default:
		var v struct {
			Partitions []struct {
				Topic     string  `json:"topic"`
				Partition int32   `json:"partition"`
				Replicas  []int32 `json:"replicas"`
			} `json:"partitions"`
		}
		if err := json.Unmarshal(b, &v); err != nil {
			return nil, fmt.Errorf("/admin/reassign_partitions: %w", err)
		}
		for _, p := range v.Partitions {
			out.Reassignments = append(out.Reassignments, Reassignment{Topic: p.Topic, Partition: p.Partition, Replicas: p.Replicas})
		}
	}
	b, _, err = z.Get(ctx, "/admin/preferred_replica_election")
	switch {
	case errors.Is(err, zk.ErrNoNode):
	case err != nil:
		return nil, err
	default:
		var v struct {
			Partitions []struct {
				Topic     string `json:"topic"`
				Partition int32  `json:"partition"`
			} `json:"partitions"`
		}
		if err := json.Unmarshal(b, &v); err != nil {
			return nil, fmt.Errorf("/admin/preferred_replica_election: %w", err)
		}
		for _, p := range v.Partitions {
			out.PreferredElection = append(out.PreferredElection, PartitionError{Topic: p.Topic, Partition: p.Partition})
		}
	}
	if out.DeleteTopics, err = z.Children(ctx, "/admin/delete_topics"); err != nil {
		return nil, err
	}
	return out, nil
}
