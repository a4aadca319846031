package broker

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"sync/atomic"
	"time"

	"github.com/osprey-kafka/osprey/broker/metastore"
	"github.com/osprey-kafka/osprey/broker/zkclient"
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
	scram       zkScram       // SCRAM credentials from /config/users; written by reload only

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
	cl := zkclient.NewClient(s)
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
	reg := zkdata.BrokerRegistration{ID: zc.self.ID, JMXPort: -1, Timestamp: time.Now().UnixMilli(), Rack: zc.self.Rack,
		Endpoints: zkEndpoints(zc.self)}
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
	cl := zkclient.NewClient(s)
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
			if !errors.Is(err, zkclient.ErrControllerMoved) && ctx.Err() == nil {
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

func (zc *zkCluster) runController(ctx context.Context, s metastore.Session, el zkclient.Election) {
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
