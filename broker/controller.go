package broker

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"sort"
	"strconv"
	"time"

	"github.com/osprey-kafka/osprey/broker/metastore"
	"github.com/osprey-kafka/osprey/broker/zkclient"
	"github.com/osprey-kafka/osprey/broker/zkdata"
)

// controller is the cluster controller while this broker holds /controller.
// It owns no cache that could go stale: every pass re-reads brokers,
// assignments and partition states and writes changes conditionally on the
// znode versions, each write behind the controller epoch fence
// (zkclient.ErrControllerMoved ends the controller). After each pass it sends
// brokers what changed: LeaderAndIsr, UpdateMetadata and StopReplica
// (controller_channel.go).
//
// One goroutine (run) does every pass; requests from handlers
// (ElectLeaders, reassignments) are queued to it with do, so there is no
// lock: everything below is owned by that goroutine.
type controller struct {
	zc    *zkCluster
	s     metastore.Session
	cl    *zkclient.Client
	epoch int32
	ezv   int32 // /controller_epoch's zkVersion: the fence
	log   *slog.Logger
	w     *watcher

	reqs          chan ctrlReq
	done          chan struct{}
	lastRebalance time.Time

	ch       *ctrlChannel                       // requests to brokers; set by run
	sent     map[zkdata.TopicPartition]sentPart // partition states as last sent
	sentLive map[int32]ctrlBroker               // live brokers as last sent
	synced   map[int32]int64                    // broker → registration epoch that has every state
	dirty    bool                               // this pass wrote states or assignments
}

type ctrlReq struct {
	fn  func(ctx context.Context) error
	res chan error
}

func newController(zc *zkCluster, s metastore.Session, el zkclient.Election) *controller {
	return &controller{zc: zc, s: s, cl: zkclient.NewClient(s), epoch: el.Epoch, ezv: el.EpochZkVersion,
		log: zc.log.With("controller_epoch", el.Epoch), reqs: make(chan ctrlReq), done: make(chan struct{}),
		lastRebalance: time.Now(), sent: map[zkdata.TopicPartition]sentPart{}, synced: map[int32]int64{}}
}

// stop makes queued and later do calls fail.
func (c *controller) stop() { close(c.done) }

// do runs fn on the controller goroutine and returns its error.
func (c *controller) do(ctx context.Context, fn func(ctx context.Context) error) error {
	r := ctrlReq{fn: fn, res: make(chan error, 1)}
	select {
	case c.reqs <- r:
	case <-c.done:
		return errNotControllerNow
	case <-ctx.Done():
		return ctx.Err()
	}
	select {
	case err := <-r.res:
		return err
	case <-ctx.Done():
		return ctx.Err()
	}
}

var errNotControllerNow = errors.New("not the controller")

// run does a pass after every watch event, request or second, until the
// session ends or the controller is deposed.
func (c *controller) run(ctx context.Context) error {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	c.w = newWatcher(ctx)
	// Senders end with ctx: a deposed controller sends nothing more.
	var sec *clientSecurity
	if c.zc.b != nil {
		sec = c.zc.b.interBroker
	}
	c.ch = newCtrlChannel(ctx, c.zc.self.ID, c.log, sec)
	defer c.ch.close()
	tick := time.NewTicker(time.Second)
	defer tick.Stop()
	for {
		err := c.pass(ctx)
		if errors.Is(err, zkclient.ErrControllerMoved) {
			return err
		}
		if err != nil && ctx.Err() == nil {
			c.log.Warn("controller pass", "err", err)
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case ev := <-c.w.events:
			c.w.fired(ev)
			c.w.drain()
		case <-tick.C:
		case r := <-c.reqs:
			err := r.fn(ctx)
			r.res <- err
			if errors.Is(err, zkclient.ErrControllerMoved) {
				return err
			}
		}
	}
}

// snapshot is what one pass reads.
type ctrlSnapshot struct {
	live    map[int32]bool
	brokers map[int32]ctrlBroker // registrations of the live brokers
	topics  map[string]zkclient.VersionedAssignment
	states  map[zkdata.TopicPartition]zkclient.VersionedState
	configs map[string]map[string]string
}

func (c *controller) read(ctx context.Context) (*ctrlSnapshot, error) {
	ids, err := c.w.children(ctx, c.s, zkdata.BrokerIDsPath)
	if err != nil {
		return nil, err
	}
	snap := &ctrlSnapshot{live: map[int32]bool{}, brokers: map[int32]ctrlBroker{}, configs: map[string]map[string]string{}}
	for _, n := range ids {
		id, err := zkdata.ParseBrokerID(n)
		if err != nil {
			continue
		}
		snap.live[id] = true
		reg, st, err := c.cl.Broker(ctx, id)
		if errors.Is(err, metastore.ErrNoNode) {
			delete(snap.live, id)
			continue
		}
		if err != nil {
			return nil, fmt.Errorf("reading broker %d: %w", id, err)
		}
		snap.brokers[id] = ctrlBroker{info: brokerFromZK(id, reg, interBrokerListenerOf(c.zc.b)), epoch: st.Czxid}
	}
	names, err := c.w.children(ctx, c.s, zkdata.TopicsPath)
	if err != nil {
		return nil, err
	}
	for _, n := range names {
		// Watched so that added partitions and reassignments start at once.
		if _, err := c.w.get(ctx, c.s, zkdata.TopicPath(n)); err != nil && !errors.Is(err, metastore.ErrNoNode) {
			return nil, err
		}
	}
	snap.topics, err = c.cl.Topics(ctx, names)
	if err != nil {
		return nil, err
	}
	var tps []zkdata.TopicPartition
	for name, a := range snap.topics {
		for p := range a.Assignment.Partitions {
			tps = append(tps, zkdata.TopicPartition{Topic: name, Partition: p})
		}
		cfg, err := c.cl.TopicConfig(ctx, name)
		if err != nil {
			return nil, err
		}
		snap.configs[name] = cfg
	}
	snap.states, err = c.cl.PartitionStates(ctx, tps)
	return snap, err
}

// unclean reports whether unclean leader election is allowed for topic.
func (c *controller) unclean(snap *ctrlSnapshot, topic string) bool {
	if v, ok := snap.configs[topic]["unclean.leader.election.enable"]; ok {
		b, err := strconv.ParseBool(v)
		return err == nil && b
	}
	return c.zc.b.cfg.UncleanLeaderElection
}

func (c *controller) pass(ctx context.Context) error {
	ctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	if err := c.topicDeletions(ctx); err != nil {
		return err
	}
	if err := c.zkReassignments(ctx); err != nil {
		return err
	}
	snap, err := c.read(ctx)
	if err != nil {
		return err
	}
	// ISR change notifications are triggers only: this pass re-reads states.
	isrNotes, err := c.w.children(ctx, c.s, zkdata.IsrChangeNotificationPath)
	if err != nil {
		return err
	}
	tps := make([]zkdata.TopicPartition, 0, len(snap.states))
	for name, a := range snap.topics {
		for p := range a.Assignment.Partitions {
			tps = append(tps, zkdata.TopicPartition{Topic: name, Partition: p})
		}
	}
	sort.Slice(tps, func(i, j int) bool {
		if tps[i].Topic != tps[j].Topic {
			return tps[i].Topic < tps[j].Topic
		}
		return tps[i].Partition < tps[j].Partition
	})
	for _, tp := range tps {
		if err := c.partition(ctx, snap, tp); err != nil {
			if errors.Is(err, zkclient.ErrControllerMoved) {
				return err
			}
			if !errors.Is(err, metastore.ErrBadVersion) && !errors.Is(err, metastore.ErrNodeExists) {
				c.log.Warn("partition state change", "partition", tp.String(), "err", err)
			}
		}
	}
	if err := c.reassignments(ctx, snap); err != nil {
		return err
	}
	if err := c.zkPreferredElection(ctx, snap); err != nil {
		return err
	}
	if err := c.autoRebalance(ctx, snap); err != nil {
		return err
	}
	if len(isrNotes) > 0 {
		if err := c.cl.DeleteIsrChanges(ctx, isrNotes, c.ezv); err != nil {
			return err
		}
	}
	if c.dirty {
		// Writes above (reassignment steps) are not all in snap: read
		// what the brokers must now be told.
		if snap, err = c.read(ctx); err != nil {
			return err
		}
		c.dirty = false
	}
	c.propagate(snap)
	return nil
}

// partition brings one partition's state in line with the live brokers:
// creates it for a new partition, elects a leader when the leader is gone,
// drops dead followers from the ISR (bumping the leader epoch, as Kafka's
// controller does).
func (c *controller) partition(ctx context.Context, snap *ctrlSnapshot, tp zkdata.TopicPartition) error {
	pa := snap.topics[tp.Topic].Assignment.Partitions[tp.Partition]
	replicas := pa.Replicas
	vs, ok := snap.states[tp]
	if !ok {
		var isr []int32
		for _, r := range replicas {
			if snap.live[r] {
				isr = append(isr, r)
			}
		}
		if len(isr) == 0 {
			return nil // NewPartition until a replica is alive
		}
		st := zkdata.PartitionState{Leader: isr[0], LeaderEpoch: 0, ControllerEpoch: c.epoch, ISR: isr}
		if err := c.cl.CreatePartitionState(ctx, tp, st, c.ezv); err != nil {
			return err
		}
		snap.states[tp] = zkclient.VersionedState{State: st, Version: 0}
		return nil
	}
	st := vs.State
	aliveISR := filter(st.ISR, func(r int32) bool { return snap.live[r] && slices.Contains(replicas, r) })
	next := st
	switch {
	case st.Leader < 0 || !snap.live[st.Leader] || !slices.Contains(replicas, st.Leader):
		leader := int32(-1)
		for _, r := range replicas {
			if snap.live[r] && slices.Contains(aliveISR, r) {
				leader = r
				break
			}
		}
		isr := aliveISR
		if leader < 0 && c.unclean(snap, tp.Topic) {
			for _, r := range replicas {
				if snap.live[r] {
					leader, isr = r, []int32{r}
					c.log.Warn("unclean leader election", "partition", tp.String(), "leader", r)
					break
				}
			}
		}
		if leader < 0 {
			// Offline: keep the last in-sync replicas so that one of them
			// (not a stale replica) leads when it comes back.
			if st.Leader == -1 {
				return nil
			}
			if len(isr) == 0 {
				isr = st.ISR
			}
		}
		next.Leader, next.ISR = leader, isr
		next.LeaderEpoch = st.LeaderEpoch + 1
	case len(aliveISR) < len(st.ISR):
		next.ISR = aliveISR
		next.LeaderEpoch = st.LeaderEpoch + 1
	default:
		return nil
	}
	return c.writeState(ctx, tp, next, vs.Version, snap)
}

func (c *controller) writeState(ctx context.Context, tp zkdata.TopicPartition, st zkdata.PartitionState, version int32, snap *ctrlSnapshot) error {
	st.ControllerEpoch = c.epoch
	v, err := c.cl.UpdatePartitionState(ctx, tp, st, version, c.ezv)
	if err != nil {
		return err
	}
	if snap != nil {
		snap.states[tp] = zkclient.VersionedState{State: st, Version: v}
	} else {
		c.dirty = true
	}
	c.log.Info("partition state changed", "partition", tp.String(), "leader", st.Leader, "leader_epoch", st.LeaderEpoch, "isr", st.ISR)
	return nil
}

func filter(s []int32, keep func(int32) bool) []int32 {
	out := []int32{}
	for _, v := range s {
		if keep(v) {
			out = append(out, v)
		}
	}
	return out
}

// topicDeletions completes /admin/delete_topics requests: the topic's
// znodes go, and every broker drops its replicas (and their data) when its
// watch sees the topic gone or the controller's UpdateMetadata (leader -2)
// and StopReplica (delete) reach it.
func (c *controller) topicDeletions(ctx context.Context) error {
	names, err := c.w.children(ctx, c.s, zkdata.DeleteTopicsPath)
	if err != nil {
		return err
	}
	for _, name := range names {
		if !c.zc.b.cfg.DeleteTopicEnable {
			c.log.Warn("topic deletion requested but delete.topic.enable is false", "topic", name)
			if err := c.cl.RemoveTopicDeletion(ctx, name, c.ezv); err != nil {
				return err
			}
			continue
		}
		if err := c.cl.DeleteTopic(ctx, name, c.ezv); err != nil {
			return err
		}
		c.log.Info("topic deleted", "topic", name)
	}
	return nil
}

func (zc *zkCluster) brokerKnown(id int32) (BrokerInfo, bool) {
	zc.mu.RLock()
	defer zc.mu.RUnlock()
	b, ok := zc.brokers[id]
	return b, ok
}

func (zc *zkCluster) isLive(id int32) bool { _, ok := zc.brokerKnown(id); return ok }

// String is for logs.
func (c *controller) String() string { return fmt.Sprintf("controller(epoch %d)", c.epoch) }
