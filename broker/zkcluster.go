package broker

import (
	"context"
	crand "crypto/rand"
	"errors"
	"fmt"
	"log/slog"
	"maps"
	"math/rand/v2"
	"reflect"
	"slices"
	"sort"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/osprey-kafka/osprey/broker/metastore"
	"github.com/osprey-kafka/osprey/broker/zkdata"
)

// zkCluster is the Cluster of a broker in a multi-broker cluster whose
// metadata lives in a metastore (real ZooKeeper or the in-process local
// store) in Apache Kafka's ZooKeeper-mode layout. It registers the broker
// (ephemeral /brokers/ids/<id>, again after a session expiry), keeps a
// cache of brokers, topics and topic configs fed by watches (partition
// states come from the controller, see below), runs for the controller
// election and, when elected, the controller (controller.go). Brokers
// learn changes of partition leaders, epochs and ISRs only from the
// controller's LeaderAndIsr and UpdateMetadata requests (control.go), as
// in Kafka: they never watch the partition state znodes, and read them
// once, at start, to begin with the current leaders. A lost request is
// covered by the controller, which resends every state to a broker after a
// failed send.
type zkCluster struct {
	b       *Broker
	self    BrokerInfo
	log     *slog.Logger
	keeper  *metastore.Keeper
	changed func(TopicInfo, bool)

	clusterID string // set before the first session is published; read-only after

	topicTable   // its mu guards topics and the fields below
	brokers      map[int32]BrokerInfo
	controllerID int32
	assignments  map[string]zkdata.TopicAssignment   // adding/removing replicas (reassignments)
	notify       chan struct{}                       // closed and replaced after every cache change
	ctrl         *controller                         // non-nil while this broker is the controller
	states       map[zkdata.TopicPartition]partState // partition states from the controller's requests
	gen          uint64                              // reload generation, bumped as each reload starts

	ctlMu       sync.Mutex    // serializes controller requests; guards ctrlEpoch
	ctrlEpoch   int32         // newest controller epoch seen in a request
	brokerEpoch atomic.Int64  // czxid of this broker's registration (Kafka's broker epoch)
	pubMu       sync.Mutex    // serializes calls of changed, so views reach the replicas in order
	kick        chan struct{} // asks the session loop for a reload (a request named an unknown topic)

	ctx    context.Context
	cancel context.CancelFunc
	wg     sync.WaitGroup
}

// newZKClusterFactory returns the ClusterFactory of a broker whose metadata
// is in the store connector opens sessions on.
func (b *Broker) newZKClusterFactory(connector metastore.Connector) ClusterFactory {
	return func(ctx context.Context, self BrokerInfo, proposedID string, changed func(TopicInfo, bool)) (Cluster, error) {
		zc := &zkCluster{b: b, self: self, log: b.log, changed: changed, controllerID: -1,
			brokers: map[int32]BrokerInfo{}, topicTable: topicTable{topics: map[string]*TopicInfo{}},
			assignments: map[string]zkdata.TopicAssignment{}, notify: make(chan struct{}),
			states: map[zkdata.TopicPartition]partState{}, kick: make(chan struct{}, 1)}
		zc.ctx, zc.cancel = context.WithCancel(context.Background())
		zc.keeper = metastore.NewKeeper(connector, func(ctx context.Context, s metastore.Session) error {
			return zc.setupSession(ctx, s, proposedID)
		}, b.log)
		zc.keeper.Start()
		s, err := zc.keeper.WaitSession(ctx)
		if err != nil {
			zc.Close()
			return nil, fmt.Errorf("connecting to the metadata store: %w", err)
		}
		// The first load happens before Start returns so the broker opens
		// the replicas it hosts with their current roles and answers
		// Metadata with leaders before the controller's requests reach it:
		// it alone reads the partition states (once, without watching).
		w := newWatcher(zc.ctx)
		if err := zc.reload(ctx, s, w, false); err != nil {
			zc.Close()
			return nil, fmt.Errorf("loading cluster metadata: %w", err)
		}
		zc.wg.Add(1)
		go zc.run(s, w)
		b.onClose(zc.Close)
		return zc, nil
	}
}

// setupSession runs on every new session: Kafka's persistent paths, the
// cluster id, the broker registration.
func (zc *zkCluster) setupSession(ctx context.Context, s metastore.Session, proposedID string) error {
	cl := zkdata.NewClient(s)
	if err := cl.EnsurePaths(ctx); err != nil {
		return err
	}
	id, err := cl.ClusterID(ctx, proposedID)
	if err != nil {
		return fmt.Errorf("reading cluster id: %w", err)
	}
	if zc.clusterID == "" {
		if id != proposedID {
			zc.log.Info("joining cluster", "cluster_id", id, "log_dir_cluster_id", proposedID)
		}
		zc.clusterID = id
	}
	host := zc.self.Host
	reg := zkdata.BrokerRegistration{ID: zc.self.ID, JMXPort: -1, Timestamp: time.Now().UnixMilli(), Rack: zc.self.Rack,
		Endpoints: []zkdata.Endpoint{{Listener: "PLAINTEXT", SecurityProtocol: "PLAINTEXT", Host: host, Port: zc.self.Port}}}
	if err := cl.RegisterBroker(ctx, reg); err != nil {
		return fmt.Errorf("registering broker %d: %w", zc.self.ID, err)
	}
	// The broker epoch is the registration's czxid, as in Kafka: requests
	// from a controller that saw an older registration are refused.
	_, st, err := cl.Broker(ctx, zc.self.ID)
	if err != nil {
		return fmt.Errorf("reading broker %d registration: %w", zc.self.ID, err)
	}
	zc.brokerEpoch.Store(st.Czxid)
	zc.log.Info("broker registered", "path", zkdata.BrokerPath(zc.self.ID), "session", fmt.Sprintf("0x%x", s.ID()))
	return nil
}

// Close stops the watcher and the controller and closes the session (the
// broker's registration goes with it).
func (zc *zkCluster) Close() error {
	zc.cancel()
	err := zc.keeper.Close()
	zc.wg.Wait()
	return err
}

// run keeps the cache in sync for each session the Keeper hands over.
func (zc *zkCluster) run(s metastore.Session, w *watcher) {
	defer zc.wg.Done()
	for {
		zc.session(s, w)
		var err error
		s, err = zc.keeper.WaitSession(zc.ctx)
		if err != nil {
			return
		}
		w = newWatcher(zc.ctx)
		if err := zc.reload(zc.ctx, s, w, true); err != nil && zc.ctx.Err() == nil {
			zc.log.Warn("reloading cluster metadata", "err", err)
		}
	}
}

// session serves one session: it runs the controller election and reloads
// the cache after every watch event, until the session ends.
func (zc *zkCluster) session(s metastore.Session, w *watcher) {
	sctx, cancel := context.WithCancel(zc.ctx)
	defer cancel()
	go func() {
		select {
		case <-s.Done():
		case <-sctx.Done():
		}
		cancel()
	}()
	var ewg sync.WaitGroup
	ewg.Add(1)
	go func() {
		defer ewg.Done()
		zc.electLoop(sctx, s)
	}()
	defer ewg.Wait()
	retry := time.NewTicker(2 * time.Second)
	defer retry.Stop()
	for {
		select {
		case <-sctx.Done():
			return
		case ev := <-w.events:
			w.fired(ev)
		case <-retry.C:
			// Safety net: a reload that failed (connection loss) is retried.
		case <-zc.kick:
		}
		w.drain()
		if err := zc.reload(sctx, s, w, true); err != nil && sctx.Err() == nil {
			zc.log.Warn("reloading cluster metadata", "err", err)
		}
	}
}

// electLoop runs for controller whenever /controller is free.
func (zc *zkCluster) electLoop(ctx context.Context, s metastore.Session) {
	cl := zkdata.NewClient(s)
	for ctx.Err() == nil {
		_, ok, ch, err := cl.WatchController(ctx)
		if err != nil {
			if !sleepCtx(ctx, 200*time.Millisecond) {
				return
			}
			continue
		}
		if !ok {
			el, err := cl.ElectController(ctx, zc.self.ID, time.Now())
			if err == nil {
				zc.runController(ctx, s, el)
				continue
			}
			if !errors.Is(err, zkdata.ErrControllerMoved) && ctx.Err() == nil {
				zc.log.Warn("controller election", "err", err)
			}
		}
		select {
		case <-ctx.Done():
			return
		case <-ch:
		}
	}
}

func (zc *zkCluster) runController(ctx context.Context, s metastore.Session, el zkdata.Election) {
	c := newController(zc, s, el)
	zc.mu.Lock()
	zc.ctrl = c
	zc.mu.Unlock()
	zc.log.Info("elected controller", "epoch", el.Epoch, "epoch_zk_version", el.EpochZkVersion)
	err := c.run(ctx)
	zc.mu.Lock()
	zc.ctrl = nil
	zc.mu.Unlock()
	c.stop()
	zc.log.Info("no longer controller", "epoch", el.Epoch, "reason", err)
}

// controllerHere returns this broker's running controller, or nil.
func (zc *zkCluster) controllerHere() *controller {
	zc.mu.RLock()
	defer zc.mu.RUnlock()
	return zc.ctrl
}

func sleepCtx(ctx context.Context, d time.Duration) bool {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return true
	case <-ctx.Done():
		return false
	}
}

// ---- watches ----

// watcher arms each watch once and forwards its event to one channel. It
// belongs to the goroutine that reloads (one per session); the forwarding
// goroutines end with the event or with ctx.
type watcher struct {
	ctx    context.Context
	mu     sync.Mutex      // guards armed
	armed  map[string]bool // "d:"+path data/exists watches, "c:"+path children watches
	events chan watchEvent
}

type watchEvent struct {
	key string
	ev  metastore.Event
}

func newWatcher(ctx context.Context) *watcher {
	return &watcher{ctx: ctx, armed: map[string]bool{}, events: make(chan watchEvent, 64)}
}

func (w *watcher) isArmed(key string) bool {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.armed[key]
}

func (w *watcher) forward(key string, ch <-chan metastore.Event) {
	w.mu.Lock()
	w.armed[key] = true
	w.mu.Unlock()
	go func() {
		select {
		case ev := <-ch:
			select {
			case w.events <- watchEvent{key, ev}:
			case <-w.ctx.Done():
			}
		case <-w.ctx.Done():
		}
	}()
}

func (w *watcher) fired(ev watchEvent) {
	w.mu.Lock()
	delete(w.armed, ev.key)
	w.mu.Unlock()
}

// drain takes every event already queued (one reload covers them all).
func (w *watcher) drain() {
	for {
		select {
		case ev := <-w.events:
			w.fired(ev)
		default:
			return
		}
	}
}

// get reads a node, watching it (creation when missing) unless a watch is
// already armed. A missing node is metastore.ErrNoNode.
func (w *watcher) get(ctx context.Context, s metastore.Session, path string) ([]byte, error) {
	key := "d:" + path
	if w.isArmed(key) {
		data, _, err := s.Get(ctx, path)
		return data, err
	}
	data, _, ch, err := s.GetW(ctx, path)
	if errors.Is(err, metastore.ErrNoNode) {
		ok, _, ech, eerr := s.ExistsW(ctx, path)
		if eerr != nil {
			return nil, eerr
		}
		w.forward(key, ech)
		if ok { // created in between: the watch fires on the next change
			data, _, err = s.Get(ctx, path)
			return data, err
		}
		return nil, err
	}
	if err != nil {
		return nil, err
	}
	w.forward(key, ch)
	return data, nil
}

// children lists a node's children, watching the list (or the node's
// creation) unless already armed. A missing node gives no children.
func (w *watcher) children(ctx context.Context, s metastore.Session, path string) ([]string, error) {
	key := "c:" + path
	if w.isArmed(key) {
		names, _, err := s.Children(ctx, path)
		if errors.Is(err, metastore.ErrNoNode) {
			return nil, nil
		}
		return names, err
	}
	names, _, ch, err := s.ChildrenW(ctx, path)
	if errors.Is(err, metastore.ErrNoNode) {
		ok, _, ech, eerr := s.ExistsW(ctx, path)
		if eerr != nil {
			return nil, eerr
		}
		w.forward(key, ech)
		if ok {
			names, _, err = s.Children(ctx, path)
			return names, err
		}
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	w.forward(key, ch)
	return names, nil
}

// ---- cache ----

// reload reads brokers, controller, topics and configs (the partition
// states are those the controller's requests brought; the first load,
// notify false, also reads them once),
// swaps the cache and reports the topics that changed (when notify).
func (zc *zkCluster) reload(ctx context.Context, s metastore.Session, w *watcher, notify bool) error {
	ctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	zc.mu.Lock()
	zc.gen++
	startGen := zc.gen
	zc.mu.Unlock()
	var boot map[zkdata.TopicPartition]zkdata.VersionedState
	ids, err := w.children(ctx, s, zkdata.BrokerIDsPath)
	if err != nil {
		return err
	}
	brokers := map[int32]BrokerInfo{}
	for _, name := range ids {
		id, err := zkdata.ParseBrokerID(name)
		if err != nil {
			continue
		}
		data, _, err := s.Get(ctx, zkdata.BrokerPath(id))
		if errors.Is(err, metastore.ErrNoNode) {
			continue
		}
		if err != nil {
			return err
		}
		reg, err := zkdata.DecodeBroker(id, data)
		if err != nil {
			zc.log.Warn("bad broker registration", "broker", id, "err", err)
			continue
		}
		brokers[id] = BrokerInfo{ID: id, Host: reg.Host, Port: reg.Port, Rack: reg.Rack}
	}
	controllerID := int32(-1)
	if data, err := w.get(ctx, s, zkdata.ControllerPath); err == nil {
		if r, err := zkdata.DecodeController(data); err == nil {
			controllerID = r.BrokerID
		}
	} else if !errors.Is(err, metastore.ErrNoNode) {
		return err
	}
	// Config changes: the notification list is only a trigger; configs are
	// re-read with the topics below.
	if _, err := w.children(ctx, s, zkdata.ConfigChangesPath); err != nil {
		return err
	}
	if err := zc.applyBrokerConfigs(ctx, s); err != nil {
		return err
	}
	names, err := w.children(ctx, s, zkdata.TopicsPath)
	if err != nil {
		return err
	}
	topics := map[string]*TopicInfo{}
	assignments := map[string]zkdata.TopicAssignment{}
	for _, name := range names {
		data, err := w.get(ctx, s, zkdata.TopicPath(name))
		if errors.Is(err, metastore.ErrNoNode) {
			continue
		}
		if err != nil {
			return err
		}
		a, err := zkdata.DecodeTopic(data)
		if err != nil {
			zc.log.Warn("bad topic assignment", "topic", name, "err", err)
			continue
		}
		cfgData, _, err := s.Get(ctx, zkdata.TopicConfigPath(name))
		configs := map[string]string{}
		if err == nil {
			if c, err := zkdata.DecodeConfig(cfgData); err == nil {
				configs = c
			}
		} else if !errors.Is(err, metastore.ErrNoNode) {
			return err
		}
		t := &TopicInfo{Name: name, ID: [16]byte(a.ID), Internal: isInternalTopic(name), Configs: configs}
		parts := slices.Sorted(maps.Keys(a.Partitions))
		// Leaders, epochs and ISRs are filled from the controller's
		// requests (fillLocked), not from the partition state znodes.
		for _, p := range parts {
			pi := PartitionInfo{Partition: p, Leader: -1, Replicas: slices.Clone(a.Partitions[p].Replicas), ISR: []int32{}}
			t.Partitions = append(t.Partitions, pi)
		}
		// Partitions are indexed by number in TopicInfo: a gap (never
		// written by Kafka) would break that, so such a topic is skipped.
		if len(parts) > 0 && parts[len(parts)-1] != int32(len(parts)-1) {
			zc.log.Warn("topic has non-contiguous partitions; ignored", "topic", name)
			continue
		}
		topics[name] = t
		assignments[name] = a
	}

	if !notify {
		// The first load (see newZKClusterFactory).
		var tps []zkdata.TopicPartition
		for name, t := range topics {
			for _, p := range t.Partitions {
				tps = append(tps, zkdata.TopicPartition{Topic: name, Partition: p.Partition})
			}
		}
		if boot, err = zkdata.NewClient(s).PartitionStates(ctx, tps); err != nil {
			return fmt.Errorf("reading partition states: %w", err)
		}
	}

	zc.mu.Lock()
	old := zc.topics
	if len(brokers) != len(zc.brokers) {
		zc.log.Info("live brokers", "count", len(brokers))
	}
	for tp, vs := range boot {
		// A request that got here first is at least as new.
		if _, ok := zc.states[tp]; !ok {
			zc.states[tp] = partState{Leader: vs.State.Leader, LeaderEpoch: vs.State.LeaderEpoch,
				ISR: vs.State.ISR, ZkVersion: vs.Version, TopicID: topics[tp.Topic].ID, gen: startGen}
		}
	}
	zc.pruneStatesLocked(topics, startGen)
	for _, t := range topics {
		zc.fillLocked(t)
	}
	zc.brokers, zc.controllerID, zc.topics, zc.assignments = brokers, controllerID, topics, assignments
	var changed []string
	deleted := map[string]TopicInfo{}
	for name, t := range topics {
		if o, ok := old[name]; !ok || !reflect.DeepEqual(o, t) {
			changed = append(changed, name)
		}
	}
	for name, o := range old {
		if _, ok := topics[name]; !ok {
			deleted[name] = copyTopic(o)
		}
	}
	zc.signalLocked()
	zc.mu.Unlock()

	if notify {
		zc.publish(changed, deleted)
	}
	return nil
}

// partState is one partition's leader and ISR with the znode version they
// were written at (Kafka's zkVersion / partition epoch).
type partState struct {
	Leader      int32
	LeaderEpoch int32
	ISR         []int32
	ZkVersion   int32
	TopicID     [16]byte // zero = unknown (requests of old versions)
	gen         uint64   // zc.gen when recorded
}

// sameTopic reports whether two topic ids may name the same topic
// incarnation (an unknown id matches anything).
func sameTopic(a, b [16]byte) bool { return a == b || a == [16]byte{} || b == [16]byte{} }

// pruneStatesLocked drops the states of topics or partitions a reload
// (started at startGen) did not see, or of another incarnation of the
// topic, unless a request recorded them after the reload started (the
// reload may have missed a topic or partition created meanwhile). zc.mu
// held.
func (zc *zkCluster) pruneStatesLocked(topics map[string]*TopicInfo, startGen uint64) {
	for tp, cur := range zc.states {
		if cur.gen >= startGen {
			continue // newer than what this reload read
		}
		if t, ok := topics[tp.Topic]; !ok || !sameTopic(cur.TopicID, t.ID) || int(tp.Partition) >= len(t.Partitions) {
			delete(zc.states, tp)
		}
	}
}

// fillLocked sets t's leaders, epochs and ISRs from zc.states. zc.mu held.
func (zc *zkCluster) fillLocked(t *TopicInfo) {
	for i := range t.Partitions {
		pi := &t.Partitions[i]
		st, ok := zc.states[zkdata.TopicPartition{Topic: t.Name, Partition: pi.Partition}]
		if !ok || !sameTopic(st.TopicID, t.ID) {
			pi.Leader, pi.LeaderEpoch, pi.ISR = -1, 0, []int32{}
			continue
		}
		pi.Leader, pi.LeaderEpoch, pi.ISR = st.Leader, st.LeaderEpoch, slices.Clone(st.ISR)
		if pi.ISR == nil {
			pi.ISR = []int32{}
		}
	}
}

// signalLocked wakes waitFor callers. zc.mu held.
func (zc *zkCluster) signalLocked() {
	close(zc.notify)
	zc.notify = make(chan struct{})
}

// publish hands the current view of the changed topics, and the deleted
// topics that are still gone, to the broker's replicas (changed). It is
// serialized so that an older view never overtakes a newer one.
func (zc *zkCluster) publish(changed []string, deleted map[string]TopicInfo) {
	if zc.changed == nil {
		return
	}
	zc.pubMu.Lock()
	defer zc.pubMu.Unlock()
	slices.Sort(changed)
	for _, name := range slices.Compact(changed) {
		if t, ok := zc.Topic(name); ok {
			zc.changed(t, false)
		}
	}
	for name, o := range deleted {
		if _, ok := zc.Topic(name); !ok {
			zc.changed(o, true)
		}
	}
}

// waitFor waits until cond holds on the cache or ctx ends.
func (zc *zkCluster) waitFor(ctx context.Context, cond func() bool) error {
	for {
		zc.mu.RLock()
		ok := cond()
		ch := zc.notify
		zc.mu.RUnlock()
		if ok {
			return nil
		}
		select {
		case <-ch:
		case <-ctx.Done():
			return ctx.Err()
		}
	}
}

// client returns a client on the current session.
func (zc *zkCluster) client(ctx context.Context) (*zkdata.Client, error) {
	s, err := zc.keeper.WaitSession(ctx)
	if err != nil {
		return nil, err
	}
	return zkdata.NewClient(s), nil
}

// ---- ClusterView ----

func (zc *zkCluster) ClusterID() string { return zc.clusterID }

func (zc *zkCluster) ControllerID() int32 {
	zc.mu.RLock()
	defer zc.mu.RUnlock()
	return zc.controllerID
}

func (zc *zkCluster) Brokers() []BrokerInfo {
	zc.mu.RLock()
	defer zc.mu.RUnlock()
	out := make([]BrokerInfo, 0, len(zc.brokers))
	for _, b := range zc.brokers {
		out = append(out, b)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].ID < out[j].ID })
	return out
}

// reassigning returns the in-progress reassignments (adding or removing
// replicas) from the topic znodes.
func (zc *zkCluster) reassigning() map[zkdata.TopicPartition]zkdata.PartitionAssignment {
	zc.mu.RLock()
	defer zc.mu.RUnlock()
	out := map[zkdata.TopicPartition]zkdata.PartitionAssignment{}
	for name, a := range zc.assignments {
		for p, pa := range a.Partitions {
			if len(pa.Adding) > 0 || len(pa.Removing) > 0 {
				out[zkdata.TopicPartition{Topic: name, Partition: p}] = pa
			}
		}
	}
	return out
}

// ---- Cluster ----

// assignReplicas spreads partitions over brokers as Kafka's rack-unaware
// AdminUtils.assignReplicasToBrokers does: the first replica round-robin
// from a random start, the followers shifted by a random, growing step.
func assignReplicas(brokers []int32, partitions int32, rf int16, firstPartition int32) map[int32][]int32 {
	n := len(brokers)
	out := map[int32][]int32{}
	start := rand.IntN(n)
	shift := rand.IntN(n)
	for i := int32(0); i < partitions; i++ {
		p := firstPartition + i
		if i > 0 && int(i)%n == 0 {
			shift++
		}
		first := (int(i) + start) % n
		replicas := []int32{brokers[first]}
		for j := 0; j < int(rf)-1; j++ {
			replicas = append(replicas, brokers[(first+1+(shift+j)%(n-1))%n])
		}
		out[p] = replicas
	}
	return out
}

func (zc *zkCluster) liveIDs() []int32 {
	zc.mu.RLock()
	defer zc.mu.RUnlock()
	ids := slices.Collect(maps.Keys(zc.brokers))
	slices.Sort(ids)
	return ids
}

// registeredIDs reads the registered brokers from the store, as Kafka's
// AdminZkClient does for topic creation: the view (fed by the controller's
// UpdateMetadata) may lag a broker that just joined. The view is the
// fallback when the store does not answer.
func (zc *zkCluster) registeredIDs(ctx context.Context) []int32 {
	cl, err := zc.client(ctx)
	if err == nil {
		var ids []int32
		if ids, err = cl.BrokerIDs(ctx); err == nil && len(ids) > 0 {
			return ids
		}
	}
	return zc.liveIDs()
}

func (zc *zkCluster) CreateTopic(ctx context.Context, spec TopicSpec, validateOnly bool) (TopicInfo, error) {
	if !validTopicName(spec.Name) {
		return TopicInfo{}, ErrInvalidTopic
	}
	if spec.Partitions <= 0 {
		return TopicInfo{}, ErrInvalidPartitions
	}
	for k, v := range spec.Configs {
		if err := validateTopicConfig(k, v); err != nil {
			return TopicInfo{}, err
		}
	}
	live := zc.registeredIDs(ctx)
	if spec.Internal && spec.Name == offsetsTopic {
		// The broker caps the offsets topic's replication factor at the
		// brokers it sees at start; in a cluster that is often just itself.
		spec.ReplicationFactor = max(spec.ReplicationFactor, zc.b.cfg.OffsetsTopicReplicationFactor)
	}
	if spec.ReplicationFactor <= 0 || int(spec.ReplicationFactor) > len(live) {
		if spec.Internal && spec.Name == offsetsTopic && !validateOnly {
			// The first brokers of a cluster start one by one: create the
			// offsets topic in the background once enough have joined.
			zc.createOffsetsTopicLater(spec)
			return TopicInfo{}, ErrTopicExists
		}
		return TopicInfo{}, fmt.Errorf("%w: %d (%d brokers available)", ErrInvalidRF, spec.ReplicationFactor, len(live))
	}
	if _, ok := zc.Topic(spec.Name); ok {
		return TopicInfo{}, ErrTopicExists
	}
	a := zkdata.TopicAssignment{Partitions: map[int32]zkdata.PartitionAssignment{}}
	if _, err := cryptoRead(a.ID[:]); err != nil {
		return TopicInfo{}, err
	}
	for p, r := range assignReplicas(live, spec.Partitions, spec.ReplicationFactor, 0) {
		a.Partitions[p] = zkdata.PartitionAssignment{Replicas: r}
	}
	info := TopicInfo{Name: spec.Name, ID: [16]byte(a.ID), Internal: spec.Internal, Configs: maps.Clone(spec.Configs)}
	for p := int32(0); p < spec.Partitions; p++ {
		r := a.Partitions[p].Replicas
		info.Partitions = append(info.Partitions, PartitionInfo{Partition: p, Leader: r[0], Replicas: r, ISR: slices.Clone(r)})
	}
	if validateOnly {
		return info, nil
	}
	cl, err := zc.client(ctx)
	if err != nil {
		return TopicInfo{}, err
	}
	cfg := spec.Configs
	if cfg == nil {
		cfg = map[string]string{}
	}
	if err := cl.CreateTopic(ctx, spec.Name, a, cfg); err != nil {
		if errors.Is(err, zkdata.ErrTopicExists) {
			return TopicInfo{}, ErrTopicExists
		}
		return TopicInfo{}, err
	}
	if !zc.b.serving.Load() {
		// Creating the offsets topic while starting: the controller's
		// requests that make it visible are not served yet.
		return info, nil
	}
	// Visible once the controller wrote every partition's state.
	var out TopicInfo
	err = zc.waitFor(ctx, func() bool {
		t, ok := zc.topics[spec.Name]
		if !ok || len(t.Partitions) != int(spec.Partitions) {
			return false
		}
		for _, p := range t.Partitions {
			if p.Leader < 0 {
				return false
			}
		}
		out = copyTopic(t)
		return true
	})
	if err != nil {
		// Created; the controller will finish it.
		return info, nil
	}
	return out, nil
}

// createOffsetsTopicLater creates the offsets topic once the replication
// factor asked for is available (or, after a minute, with what there is).
func (zc *zkCluster) createOffsetsTopicLater(spec TopicSpec) {
	zc.wg.Add(1)
	go func() {
		defer zc.wg.Done()
		deadline := time.Now().Add(time.Minute)
		for {
			if _, ok := zc.Topic(spec.Name); ok {
				return
			}
			n := len(zc.liveIDs())
			if n >= int(spec.ReplicationFactor) || (time.Now().After(deadline) && n > 0) {
				s := spec
				s.ReplicationFactor = int16(min(n, int(spec.ReplicationFactor)))
				ctx, cancel := context.WithTimeout(zc.ctx, 30*time.Second)
				_, err := zc.CreateTopic(ctx, s, false)
				cancel()
				if err == nil || errors.Is(err, ErrTopicExists) {
					return
				}
				zc.log.Warn("creating offsets topic", "err", err)
			}
			if !sleepCtx(zc.ctx, 500*time.Millisecond) {
				return
			}
		}
	}()
}

func (zc *zkCluster) DeleteTopic(ctx context.Context, name string) error {
	if _, ok := zc.Topic(name); !ok {
		return ErrUnknownTopic
	}
	cl, err := zc.client(ctx)
	if err != nil {
		return err
	}
	if err := cl.RequestTopicDeletion(ctx, name); err != nil {
		return err
	}
	err = zc.waitFor(ctx, func() bool { _, ok := zc.topics[name]; return !ok })
	if err != nil {
		return nil // requested; the controller completes it
	}
	return nil
}

func (zc *zkCluster) CreatePartitions(ctx context.Context, name string, count int32, validateOnly bool) error {
	t, ok := zc.Topic(name)
	if !ok {
		return ErrUnknownTopic
	}
	if count <= int32(len(t.Partitions)) {
		return fmt.Errorf("%w: topic has %d partitions, asked for %d", ErrInvalidPartitions, len(t.Partitions), count)
	}
	rf := len(t.Partitions[0].Replicas)
	live := zc.registeredIDs(ctx)
	if rf > len(live) {
		return fmt.Errorf("%w: %d (%d brokers available)", ErrInvalidRF, rf, len(live))
	}
	if validateOnly {
		return nil
	}
	cl, err := zc.client(ctx)
	if err != nil {
		return err
	}
	a, st, err := cl.Topic(ctx, name)
	if err != nil {
		return fmt.Errorf("reading topic %s: %w", name, err)
	}
	have := int32(len(a.Partitions))
	if count <= have {
		return fmt.Errorf("%w: topic has %d partitions, asked for %d", ErrInvalidPartitions, have, count)
	}
	for p, r := range assignReplicas(live, count-have, int16(rf), have) {
		a.Partitions[p] = zkdata.PartitionAssignment{Replicas: r}
	}
	if _, err := cl.SetTopicAssignment(ctx, name, a, st.Version, metastore.AnyVersion); err != nil {
		return err
	}
	_ = zc.waitFor(ctx, func() bool {
		t, ok := zc.topics[name]
		return ok && len(t.Partitions) >= int(count) && t.Partitions[count-1].Leader >= 0
	})
	return nil
}

func (zc *zkCluster) SetTopicConfigs(ctx context.Context, name string, configs map[string]*string, replace, validateOnly bool) error {
	for k, v := range configs {
		if v != nil {
			if err := validateTopicConfig(k, *v); err != nil {
				return err
			}
		} else if _, ok := topicConfigDefs[k]; !ok {
			return fmt.Errorf("%w: unknown key %s", ErrInvalidConfig, k)
		}
	}
	// Like Kafka's AdminZkClient, ask the store whether the topic exists, not this broker's view: a
	// topic created a moment ago reaches the view with the controller's next requests.
	cl, err := zc.client(ctx)
	if err != nil {
		return err
	}
	if _, _, err := cl.Topic(ctx, name); errors.Is(err, metastore.ErrNoNode) {
		return ErrUnknownTopic
	} else if err != nil {
		return err
	}
	if validateOnly {
		return nil
	}
	cur, err := cl.TopicConfig(ctx, name)
	if err != nil {
		return err
	}
	next := maps.Clone(cur)
	if replace {
		next = map[string]string{}
	}
	for k, v := range configs {
		if v == nil {
			delete(next, k)
		} else {
			next[k] = *v
		}
	}
	if _, err := cl.SetTopicConfig(ctx, name, next); err != nil {
		return err
	}
	_ = zc.waitFor(ctx, func() bool {
		t, ok := zc.topics[name]
		return !ok || maps.Equal(t.Configs, next)
	})
	return nil
}

// alterISR is the leader's ISR change (Kafka 2.x: the leader writes the
// partition state itself, conditional on the znode version, and leaves an
// ISR change notification for the controller). It fails if the partition
// has another leader or leader epoch than the caller's.
func (zc *zkCluster) alterISR(ctx context.Context, topic string, partition, leaderEpoch int32, isr []int32) error {
	cl, err := zc.client(ctx)
	if err != nil {
		return err
	}
	tp := zkdata.TopicPartition{Topic: topic, Partition: partition}
	for attempt := 0; attempt < 3; attempt++ {
		st, stat, err := cl.PartitionState(ctx, tp)
		if err != nil {
			return err
		}
		if st.Leader != zc.self.ID || st.LeaderEpoch != leaderEpoch {
			return fmt.Errorf("%w: %s has leader %d epoch %d", errStaleLeader, tp, st.Leader, st.LeaderEpoch)
		}
		if slices.Equal(st.ISR, isr) {
			return nil
		}
		st.ISR = isr
		_, err = cl.UpdatePartitionState(ctx, tp, st, stat.Version, metastore.AnyVersion)
		if errors.Is(err, metastore.ErrBadVersion) {
			continue
		}
		if err != nil {
			return err
		}
		if _, err := cl.NotifyIsrChange(ctx, []zkdata.TopicPartition{tp}); err != nil {
			zc.log.Warn("ISR change notification", "partition", tp.String(), "err", err)
		}
		return nil
	}
	return fmt.Errorf("updating ISR of %s: %w", tp, metastore.ErrBadVersion)
}

var errStaleLeader = errors.New("no longer the leader")

var cryptoRead = crand.Read

// ---- clusterAdmin (ElectLeaders, reassignments) ----

func (zc *zkCluster) electLeaders(ctx context.Context, typ int8, tps []zkdata.TopicPartition) (map[zkdata.TopicPartition]int16, error) {
	c := zc.controllerHere()
	if c == nil {
		return nil, errNotControllerNow
	}
	return c.ElectLeaders(ctx, typ, tps)
}

func (zc *zkCluster) alterReassignments(ctx context.Context, reqs map[zkdata.TopicPartition][]int32) (map[zkdata.TopicPartition]int16, error) {
	c := zc.controllerHere()
	if c == nil {
		return nil, errNotControllerNow
	}
	return c.AlterReassignments(ctx, reqs)
}

func (zc *zkCluster) listReassignments() map[zkdata.TopicPartition]zkdata.PartitionAssignment {
	return zc.reassigning()
}

// applyBrokerConfigs installs the dynamic broker configs (dynconfig.go)
// of /config/brokers/<default> and /config/brokers/<id>, as
// kafka-configs.sh, kafka-reassign-partitions.sh --throttle or this
// runtime's AlterConfigs write them; unset keys fall back to
// server.properties.
func (zc *zkCluster) applyBrokerConfigs(ctx context.Context, s metastore.Session) error {
	for _, name := range []string{defaultBrokerEntity, strconv.Itoa(int(zc.self.ID))} {
		cfg := map[string]string{}
		data, _, err := s.Get(ctx, zkdata.ConfigEntityPath(zkdata.ConfigTypeBroker, name))
		switch {
		case errors.Is(err, metastore.ErrNoNode):
		case err != nil:
			return err
		default:
			if cfg, err = zkdata.DecodeConfig(data); err != nil {
				zc.log.Warn("bad dynamic broker config", "entity", name, "err", err)
				continue
			}
		}
		zc.b.setDynamicConfig(name, cfg)
	}
	return nil
}
