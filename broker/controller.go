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
	"github.com/osprey-kafka/osprey/broker/zkdata"
)

// controller is the cluster controller while this broker holds /controller.
// It owns no cache that could go stale: every pass re-reads brokers,
// assignments and partition states and writes changes conditionally on the
// znode versions, each write behind the controller epoch fence
// (zkdata.ErrControllerMoved ends the controller). After each pass it sends
// brokers what changed: LeaderAndIsr, UpdateMetadata and StopReplica
// (controller_channel.go).
//
// One goroutine (run) does every pass; requests from handlers
// (ElectLeaders, reassignments) are queued to it with do, so there is no
// lock: everything below is owned by that goroutine.
type controller struct {
	zc    *zkCluster
	s     metastore.Session
	cl    *zkdata.Client
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

func newController(zc *zkCluster, s metastore.Session, el zkdata.Election) *controller {
	return &controller{zc: zc, s: s, cl: zkdata.NewClient(s), epoch: el.Epoch, ezv: el.EpochZkVersion,
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
	c.ch = newCtrlChannel(ctx, c.zc.self.ID, c.log)
	defer c.ch.close()
	tick := time.NewTicker(time.Second)
	defer tick.Stop()
	for {
		err := c.pass(ctx)
		if errors.Is(err, zkdata.ErrControllerMoved) {
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
			if errors.Is(err, zkdata.ErrControllerMoved) {
				return err
			}
		}
	}
}

// snapshot is what one pass reads.
type ctrlSnapshot struct {
	live    map[int32]bool
	brokers map[int32]ctrlBroker // registrations of the live brokers
	topics  map[string]zkdata.VersionedAssignment
	states  map[zkdata.TopicPartition]zkdata.VersionedState
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
		snap.brokers[id] = ctrlBroker{info: BrokerInfo{ID: id, Host: reg.Host, Port: reg.Port, Rack: reg.Rack}, epoch: st.Czxid}
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
			if errors.Is(err, zkdata.ErrControllerMoved) {
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
		snap.states[tp] = zkdata.VersionedState{State: st, Version: 0}
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
		snap.states[tp] = zkdata.VersionedState{State: st, Version: v}
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

// ---- preferred leader election ----

// electPreferred moves leadership of tp to its first replica if that
// replica is alive and in the ISR. It returns a Kafka error code: 0,
// ELECTION_NOT_NEEDED or PREFERRED_LEADER_NOT_AVAILABLE.
func (c *controller) electPreferred(ctx context.Context, snap *ctrlSnapshot, tp zkdata.TopicPartition) (int16, error) {
	a, ok := snap.topics[tp.Topic]
	vs, sok := snap.states[tp]
	if !ok || !sok {
		return errUnknownTopicOrPart, nil
	}
	replicas := a.Assignment.Partitions[tp.Partition].Replicas
	if len(replicas) == 0 {
		return errUnknownTopicOrPart, nil
	}
	pref := replicas[0]
	if vs.State.Leader == pref {
		return errElectionNotNeeded, nil
	}
	if !snap.live[pref] || !slices.Contains(vs.State.ISR, pref) {
		return errPreferredLeaderNotAvailable, nil
	}
	next := vs.State
	next.Leader = pref
	next.LeaderEpoch++
	if err := c.writeState(ctx, tp, next, vs.Version, snap); err != nil {
		return errUnknown, err
	}
	return 0, nil
}

// electUnclean elects any live replica when the partition has no live
// leader (ElectLeaders type 1).
func (c *controller) electUnclean(ctx context.Context, snap *ctrlSnapshot, tp zkdata.TopicPartition) (int16, error) {
	a, ok := snap.topics[tp.Topic]
	vs, sok := snap.states[tp]
	if !ok || !sok {
		return errUnknownTopicOrPart, nil
	}
	if vs.State.Leader >= 0 && snap.live[vs.State.Leader] {
		return errElectionNotNeeded, nil
	}
	for _, r := range a.Assignment.Partitions[tp.Partition].Replicas {
		if snap.live[r] {
			next := vs.State
			next.Leader, next.ISR = r, []int32{r}
			next.LeaderEpoch++
			if err := c.writeState(ctx, tp, next, vs.Version, snap); err != nil {
				return errUnknown, err
			}
			return 0, nil
		}
	}
	return errEligibleLeadersNotAvailable, nil
}

// zkPreferredElection runs /admin/preferred_replica_election and removes it.
func (c *controller) zkPreferredElection(ctx context.Context, snap *ctrlSnapshot) error {
	data, err := c.w.get(ctx, c.s, zkdata.PreferredReplicaElectionPath)
	if errors.Is(err, metastore.ErrNoNode) {
		return nil
	}
	if err != nil {
		return err
	}
	tps, err := zkdata.DecodePartitions(data)
	if err != nil {
		c.log.Warn("bad preferred replica election request; removed", "err", err)
	}
	for _, tp := range tps {
		code, err := c.electPreferred(ctx, snap, tp)
		if errors.Is(err, zkdata.ErrControllerMoved) {
			return err
		}
		c.log.Info("preferred replica election", "partition", tp.String(), "code", code, "err", err)
	}
	return c.cl.DeletePreferredElection(ctx, c.ezv)
}

// autoRebalance is auto.leader.rebalance.enable: every
// leader.imbalance.check.interval, a broker whose share of partitions it
// prefers but does not lead is above leader.imbalance.per.broker.percentage
// gets them back (when it is alive and in their ISR).
func (c *controller) autoRebalance(ctx context.Context, snap *ctrlSnapshot) error {
	cfg := c.zc.b.cfg
	if !cfg.AutoLeaderRebalance || time.Since(c.lastRebalance) < cfg.LeaderImbalanceCheckInterval {
		return nil
	}
	c.lastRebalance = time.Now()
	preferred := map[int32][]zkdata.TopicPartition{}
	imbalanced := map[int32]int{}
	for name, a := range snap.topics {
		for p, pa := range a.Assignment.Partitions {
			if len(pa.Replicas) == 0 || len(pa.Adding) > 0 || len(pa.Removing) > 0 {
				continue
			}
			tp := zkdata.TopicPartition{Topic: name, Partition: p}
			pref := pa.Replicas[0]
			preferred[pref] = append(preferred[pref], tp)
			if vs, ok := snap.states[tp]; ok && vs.State.Leader != pref {
				imbalanced[pref]++
			}
		}
	}
	for b, tps := range preferred {
		if !snap.live[b] || imbalanced[b] == 0 {
			continue
		}
		ratio := float64(imbalanced[b]) * 100 / float64(len(tps))
		if ratio <= float64(cfg.LeaderImbalancePerBrokerPct) {
			continue
		}
		c.log.Info("leader imbalance; moving leadership back", "broker", b, "imbalance_pct", ratio)
		for _, tp := range tps {
			if _, err := c.electPreferred(ctx, snap, tp); errors.Is(err, zkdata.ErrControllerMoved) {
				return err
			}
		}
	}
	return nil
}

// ---- reassignment (KIP-455) ----

// startReassignment writes target replicas for tp into the topic znode:
// replicas = target ++ (original - target), adding = target - original,
// removing = original - target. With replicas nil it cancels: the adding
// replicas go and the original set is restored. It returns a Kafka error
// code.
func (c *controller) startReassignment(ctx context.Context, tp zkdata.TopicPartition, target []int32) (int16, error) {
	a, st, err := c.cl.Topic(ctx, tp.Topic)
	if errors.Is(err, metastore.ErrNoNode) {
		return errUnknownTopicOrPart, nil
	}
	if err != nil {
		return errUnknown, err
	}
	pa, ok := a.Partitions[tp.Partition]
	if !ok {
		return errUnknownTopicOrPart, nil
	}
	original := pa.Replicas
	if len(pa.Adding) > 0 || len(pa.Removing) > 0 {
		original = filter(pa.Replicas, func(r int32) bool { return !slices.Contains(pa.Adding, r) })
	}
	if target == nil { // cancel
		if len(pa.Adding) == 0 && len(pa.Removing) == 0 {
			return errNoReassignmentInProgress, nil
		}
		if err := c.finishReassignment(ctx, tp, a, st.Version, original); err != nil {
			return errUnknown, err
		}
		c.log.Info("reassignment cancelled", "partition", tp.String(), "replicas", original)
		return 0, nil
	}
	if len(target) == 0 || hasDuplicates(target) {
		return errInvalidReplicaAssignment, nil
	}
	for _, r := range target {
		if _, ok := c.zc.brokerKnown(r); !ok {
			return errInvalidReplicaAssignment, nil
		}
	}
	if slices.Equal(target, original) && len(pa.Adding) == 0 && len(pa.Removing) == 0 {
		return 0, nil
	}
	full := slices.Clone(target)
	for _, r := range original {
		if !slices.Contains(full, r) {
			full = append(full, r)
		}
	}
	a.Partitions[tp.Partition] = zkdata.PartitionAssignment{
		Replicas: full,
		Adding:   filter(target, func(r int32) bool { return !slices.Contains(original, r) }),
		Removing: filter(original, func(r int32) bool { return !slices.Contains(target, r) }),
	}
	if _, err := c.cl.SetTopicAssignment(ctx, tp.Topic, a, st.Version, c.ezv); err != nil {
		return errUnknown, err
	}
	c.log.Info("reassignment started", "partition", tp.String(), "target", target, "replicas", full)
	return 0, nil
}

func hasDuplicates(s []int32) bool {
	seen := map[int32]bool{}
	for _, v := range s {
		if seen[v] {
			return true
		}
		seen[v] = true
	}
	return false
}

// finishReassignment sets tp's replicas to final (no adding/removing):
// leadership moves into final first if needed, the ISR is cut to final.
// Brokers outside final see themselves removed and delete their replica.
func (c *controller) finishReassignment(ctx context.Context, tp zkdata.TopicPartition, a zkdata.TopicAssignment, version int32, final []int32) error {
	st, stat, err := c.cl.PartitionState(ctx, tp)
	if err != nil && !errors.Is(err, metastore.ErrNoNode) {
		return err
	}
	if err == nil {
		next := st
		next.ISR = filter(st.ISR, func(r int32) bool { return slices.Contains(final, r) })
		if !slices.Contains(final, st.Leader) {
			next.Leader = -1
			for _, r := range final {
				if slices.Contains(next.ISR, r) && c.zc.isLive(r) {
					next.Leader = r
					break
				}
			}
		}
		if len(next.ISR) == 0 {
			next.ISR = []int32{}
		}
		if next.Leader != st.Leader || !slices.Equal(next.ISR, st.ISR) {
			next.LeaderEpoch++
			if err := c.writeState(ctx, tp, next, stat.Version, nil); err != nil {
				return err
			}
		}
	}
	a.Partitions[tp.Partition] = zkdata.PartitionAssignment{Replicas: slices.Clone(final)}
	_, err = c.cl.SetTopicAssignment(ctx, tp.Topic, a, version, c.ezv)
	c.dirty = true
	return err
}

// reassignments completes in-progress reassignments whose target replicas
// are all in the ISR.
func (c *controller) reassignments(ctx context.Context, snap *ctrlSnapshot) error {
	for name, va := range snap.topics {
		for p, pa := range va.Assignment.Partitions {
			if len(pa.Adding) == 0 && len(pa.Removing) == 0 {
				continue
			}
			tp := zkdata.TopicPartition{Topic: name, Partition: p}
			target := filter(pa.Replicas, func(r int32) bool { return !slices.Contains(pa.Removing, r) })
			vs, ok := snap.states[tp]
			if !ok {
				continue
			}
			done := true
			for _, r := range target {
				if !slices.Contains(vs.State.ISR, r) {
					done = false
				}
			}
			if !done {
				continue
			}
			a, st, err := c.cl.Topic(ctx, name)
			if err != nil {
				return err
			}
			if err := c.finishReassignment(ctx, tp, a, st.Version, target); err != nil {
				if errors.Is(err, zkdata.ErrControllerMoved) {
					return err
				}
				c.log.Warn("completing reassignment", "partition", tp.String(), "err", err)
				continue
			}
			c.log.Info("reassignment completed", "partition", tp.String(), "replicas", target)
		}
	}
	return nil
}

// zkReassignments starts the reassignments of /admin/reassign_partitions
// (what CMAK and kafka-reassign-partitions.sh --zookeeper write) and
// removes the node once they are all complete.
func (c *controller) zkReassignments(ctx context.Context) error {
	data, err := c.w.get(ctx, c.s, zkdata.ReassignPartitionsPath)
	if errors.Is(err, metastore.ErrNoNode) {
		return nil
	}
	if err != nil {
		return err
	}
	rs, err := zkdata.DecodeReassignment(data)
	if err != nil {
		c.log.Warn("bad /admin/reassign_partitions; removed", "err", err)
		return c.cl.DeleteReassignment(ctx, c.ezv)
	}
	complete := true
	for _, r := range rs {
		tp := zkdata.TopicPartition{Topic: r.Topic, Partition: r.Partition}
		a, _, err := c.cl.Topic(ctx, r.Topic)
		if errors.Is(err, metastore.ErrNoNode) {
			continue
		}
		if err != nil {
			return err
		}
		pa, ok := a.Partitions[r.Partition]
		if !ok {
			continue
		}
		if slices.Equal(pa.Replicas, r.Replicas) && len(pa.Adding) == 0 && len(pa.Removing) == 0 {
			continue // done
		}
		complete = false
		if len(pa.Adding) > 0 || len(pa.Removing) > 0 {
			target := filter(pa.Replicas, func(x int32) bool { return !slices.Contains(pa.Removing, x) })
			if slices.Equal(target, r.Replicas) {
				continue // in progress
			}
		}
		code, err := c.startReassignment(ctx, tp, r.Replicas)
		if err != nil {
			return err
		}
		if code != 0 {
			c.log.Warn("reassignment from /admin/reassign_partitions refused", "partition", tp.String(), "code", code)
		}
	}
	if complete {
		c.log.Info("reassignments of /admin/reassign_partitions complete; removing it")
		return c.cl.DeleteReassignment(ctx, c.ezv)
	}
	return nil
}

// ---- requests from handlers ----

// ElectLeaders runs preferred (typ 0) or unclean (typ 1) elections; the
// result maps each partition to a Kafka error code.
func (c *controller) ElectLeaders(ctx context.Context, typ int8, tps []zkdata.TopicPartition) (map[zkdata.TopicPartition]int16, error) {
	out := map[zkdata.TopicPartition]int16{}
	err := c.do(ctx, func(ctx context.Context) error {
		snap, err := c.read(ctx)
		if err != nil {
			return err
		}
		if tps == nil { // all partitions
			for name, a := range snap.topics {
				for p := range a.Assignment.Partitions {
					tps = append(tps, zkdata.TopicPartition{Topic: name, Partition: p})
				}
			}
		}
		for _, tp := range tps {
			var code int16
			if typ == 1 {
				code, err = c.electUnclean(ctx, snap, tp)
			} else {
				code, err = c.electPreferred(ctx, snap, tp)
			}
			if errors.Is(err, zkdata.ErrControllerMoved) {
				return err
			}
			out[tp] = code
		}
		return nil
	})
	return out, err
}

// AlterReassignments starts (replicas non-nil) or cancels (nil)
// reassignments; the result maps each partition to a Kafka error code.
func (c *controller) AlterReassignments(ctx context.Context, reqs map[zkdata.TopicPartition][]int32) (map[zkdata.TopicPartition]int16, error) {
	out := map[zkdata.TopicPartition]int16{}
	err := c.do(ctx, func(ctx context.Context) error {
		for tp, target := range reqs {
			code, err := c.startReassignment(ctx, tp, target)
			if errors.Is(err, zkdata.ErrControllerMoved) {
				return err
			}
			if err != nil {
				c.log.Warn("reassignment", "partition", tp.String(), "err", err)
			}
			out[tp] = code
		}
		return nil
	})
	return out, err
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
