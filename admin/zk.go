package admin

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sort"
	"strconv"
	"strings"
	"sync/atomic"
	"time"

	"github.com/go-zookeeper/zk"

	"github.com/osprey-kafka/osprey/broker/zkdata"
)

// ErrNoZooKeeper is returned by ZooKeeper when the cluster has no ZooKeeper configured.
var ErrNoZooKeeper = errors.New("no zookeeper configured for this cluster")

// ErrZKUnavailable is returned, without asking ZooKeeper, while an earlier call has not been
// answered (see ZK).
var ErrZKUnavailable = errors.New("zookeeper does not answer")

// IsZKUnavailable reports whether err says ZooKeeper could not be asked or did not answer (no
// connection, no session, no answer in time, an earlier call still unanswered), as opposed to
// ZooKeeper answering with an error.
func IsZKUnavailable(err error) bool {
	for _, e := range []error{ErrZKUnavailable, context.DeadlineExceeded, zk.ErrNoServer, zk.ErrConnectionClosed,
		zk.ErrSessionExpired, zk.ErrSessionMoved, zk.ErrClosing} {
		if errors.Is(err, e) {
			return true
		}
	}
	return false
}

// ZK reads Kafka's ZooKeeper-mode layout, decoding each znode with zkdata,
// the codec the broker runtime writes it with. One session per Client, opened on
// first use and closed by Client.Close (EFAK leaked one per request).
//
// go-zookeeper calls take no context: each call runs in a goroutine that ends
// when ZooKeeper answers or the session is closed; the caller returns at its
// deadline regardless. A hung server (stopped, or cut off by a firewall that
// drops) keeps such a goroutine waiting for as long as go-zookeeper waits on its
// connection: while it reconnects, up to ten times two thirds of the session
// timeout (100 s with the default 15 s). So while a
// call its caller gave up on is still waiting, further calls fail at once with
// ErrZKUnavailable instead of adding goroutines behind it; they are asked again
// once it has ended (ZooKeeper answered or the connection was dropped).
type ZK struct {
	conn    *zk.Conn
	chroot  string
	Servers []string
	// abandoned counts calls whose caller stopped waiting and whose goroutine has not ended.
	abandoned atomic.Int32
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
	conn, _, err := zk.Connect(servers, c.cfg.ZKSessionTimeout, zk.WithLogger(zkLogger{c.log}), zk.WithLogInfo(false))
	if err != nil {
		return nil, fmt.Errorf("zookeeper %s: %w", strings.Join(servers, ","), err)
	}
	c.zk = &ZK{conn: conn, chroot: chroot, Servers: servers}
	return c.zk, nil
}

// close ends the session; only Client.Close calls it, since the session is shared.
func (z *ZK) close() { z.conn.Close() }

// Connected reports whether the session currently has a live connection. A connection whose
// session handshake has not been answered (StateConnected: a hung server still accepts
// connections) does not count.
func (z *ZK) Connected() bool {
	return z.conn.State() == zk.StateHasSession
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

// The states of one call, for the hand-over between zkCall and its goroutine.
const (
	callRunning int32 = iota
	callEnded
	callAbandoned
)

// zkCall runs fn, one go-zookeeper call, and returns when it ends or ctx does; see ZK for why it
// refuses to start while an abandoned call is still waiting.
func zkCall[T any](ctx context.Context, z *ZK, fn func() (T, error)) (T, error) {
	var zero T
	if err := ctx.Err(); err != nil {
		return zero, err
	}
	if z.abandoned.Load() > 0 {
		return zero, fmt.Errorf("%w: an earlier request is still waiting for an answer", ErrZKUnavailable)
	}
	type res struct {
		v   T
		err error
	}
	ch := make(chan res, 1) // buffered: the goroutine never blocks after we give up
	var state atomic.Int32
	go func() {
		v, err := fn()
		ch <- res{v, err}
		if !state.CompareAndSwap(callRunning, callEnded) {
			z.abandoned.Add(-1) // the caller counted it when it gave up
		}
	}()
	select {
	case r := <-ch:
		return r.v, r.err
	case <-ctx.Done():
		z.abandoned.Add(1)
		if state.CompareAndSwap(callRunning, callAbandoned) {
			return zero, ctx.Err()
		}
		z.abandoned.Add(-1) // it ended meanwhile
		r := <-ch
		return r.v, r.err
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
	r, err := zkCall(ctx, z, func() (gs, error) {
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
	kids, err := zkCall(ctx, z, func() ([]string, error) {
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
	// Listeners are the decoded endpoints, with each listener's security protocol.
	Listeners []zkdata.Endpoint
	JMXPort   int32
	// Registered is when the broker registered (its "timestamp").
	Registered time.Time
}

// Brokers reads the live broker registrations, sorted by id.
func (z *ZK) Brokers(ctx context.Context) ([]ZKBroker, error) {
	ids, err := z.Children(ctx, zkdata.BrokerIDsPath)
	if err != nil {
		return nil, err
	}
	out := make([]ZKBroker, 0, len(ids))
	for _, s := range ids {
		id, err := zkdata.ParseBrokerID(s)
		if err != nil {
			continue
		}
		b, _, err := z.Get(ctx, zkdata.BrokerPath(id))
		if errors.Is(err, zk.ErrNoNode) {
			continue // deregistered between the two reads
		}
		if err != nil {
			return out, err
		}
		reg, err := zkdata.DecodeBroker(id, b)
		if err != nil {
			return out, err
		}
		zb := ZKBroker{ID: id, Host: reg.Host, Port: reg.Port, JMXPort: reg.JMXPort, Rack: reg.Rack, Registered: msTime(reg.Timestamp)}
		for _, e := range reg.Endpoints {
			zb.Endpoints = append(zb.Endpoints, e.String())
		}
		zb.Listeners = reg.Endpoints
		// Brokers with only non-PLAINTEXT listeners write host null / port -1.
		if zb.Host == "" && len(reg.Endpoints) > 0 {
			zb.Host, zb.Port = reg.Endpoints[0].Host, reg.Endpoints[0].Port
		}
		out = append(out, zb)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].ID < out[j].ID })
	return out, nil
}

func msTime(ms int64) time.Time {
	if ms <= 0 {
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
	b, _, err := z.Get(ctx, zkdata.ControllerPath)
	switch {
	case errors.Is(err, zk.ErrNoNode):
	case err != nil:
		return out, err
	default:
		c, err := zkdata.DecodeController(b)
		if err != nil {
			return out, err
		}
		out.BrokerID, out.Since = c.BrokerID, msTime(c.Timestamp)
	}
	b, _, err = z.Get(ctx, zkdata.ControllerEpochPath)
	switch {
	case errors.Is(err, zk.ErrNoNode):
	case err != nil:
		return out, err
	default:
		epoch, err := zkdata.DecodeControllerEpoch(b)
		if err != nil {
			return out, err
		}
		out.Epoch = int64(epoch)
	}
	return out, nil
}

// ClusterID reads /cluster/id ("" when absent).
func (z *ZK) ClusterID(ctx context.Context) (string, error) {
	b, _, err := z.Get(ctx, zkdata.ClusterIDPath)
	if errors.Is(err, zk.ErrNoNode) {
		return "", nil
	}
	if err != nil {
		return "", err
	}
	return zkdata.DecodeClusterID(b)
}

// Topics lists topic names under /brokers/topics.
func (z *ZK) Topics(ctx context.Context) ([]string, error) {
	return z.Children(ctx, zkdata.TopicsPath)
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
	b, _, err := z.Get(ctx, zkdata.TopicPath(name))
	if err != nil {
		return nil, err
	}
	a, err := zkdata.DecodeTopic(b)
	if err != nil {
		return nil, fmt.Errorf("topic %s: %w", name, err)
	}
	t := &ZKTopic{Name: name, Replicas: map[int32][]int32{}, Adding: map[int32][]int32{}, Removing: map[int32][]int32{}}
	if !a.ID.IsZero() {
		t.TopicID = a.ID.String()
	}
	for p, pa := range a.Partitions {
		t.Replicas[p] = pa.Replicas
		if len(pa.Adding) > 0 {
			t.Adding[p] = pa.Adding
		}
		if len(pa.Removing) > 0 {
			t.Removing[p] = pa.Removing
		}
	}
	return t, nil
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
	parts, err := z.Children(ctx, zkdata.TopicPartitionsPath(topic))
	if err != nil {
		return nil, err
	}
	out := make([]ZKPartitionState, 0, len(parts))
	for _, s := range parts {
		p, err := strconv.ParseInt(s, 10, 32)
		if err != nil {
			continue
		}
		b, _, err := z.Get(ctx, zkdata.PartitionStatePath(topic, int32(p)))
		if errors.Is(err, zk.ErrNoNode) {
			continue
		}
		if err != nil {
			return out, err
		}
		v, err := zkdata.DecodePartitionState(b)
		if err != nil {
			return out, fmt.Errorf("%s/%s: %w", topic, s, err)
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
	b, _, err := z.Get(ctx, zkdata.ReassignPartitionsPath)
	switch {
	case errors.Is(err, zk.ErrNoNode):
	case err != nil:
		return nil, err
	default:
		rs, err := zkdata.DecodeReassignment(b)
		if err != nil {
			return nil, err
		}
		for _, r := range rs {
			out.Reassignments = append(out.Reassignments, Reassignment{Topic: r.Topic, Partition: r.Partition, Replicas: r.Replicas})
		}
	}
	b, _, err = z.Get(ctx, zkdata.PreferredReplicaElectionPath)
	switch {
	case errors.Is(err, zk.ErrNoNode):
	case err != nil:
		return nil, err
	default:
		tps, err := zkdata.DecodePartitions(b)
		if err != nil {
			return nil, err
		}
		for _, tp := range tps {
			out.PreferredElection = append(out.PreferredElection, PartitionError{Topic: tp.Topic, Partition: tp.Partition})
		}
	}
	if out.DeleteTopics, err = z.Children(ctx, zkdata.DeleteTopicsPath); err != nil {
		return nil, err
	}
	return out, nil
}
