package broker

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"path/filepath"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/osprey-kafka/osprey/broker/acl"
	"github.com/osprey-kafka/osprey/broker/metastore"
	"github.com/osprey-kafka/osprey/broker/metastore/zk"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"
	"github.com/twmb/franz-go/pkg/kmsg"
)

// Broker is one Kafka-compatible broker. Create it with New, run it with
// Start, stop it with Close.
type Broker struct {
	cfg Config
	log *slog.Logger

	clusterFactory ClusterFactory      // nil = single-broker localCluster (or zkCluster, see metaStore)
	metaStore      metastore.Connector // WithMetaStore; else zookeeper.connect
	repl           *replication        // follower fetchers, ISR maintenance (replica.go)
	dyn            dynamicConfigs      // dynamic broker configs in force (dynconfig.go)
	quotas         *clientQuotas       // client quotas in force and their rate sensors (quota.go)
	closers        []func() error      // run by Close before the logs close; guarded by mu

	metrics *brokerMetrics
	store   *logStore
	cluster Cluster
	data    *partitions
	groups  *groupCoordinator
	txns    *txnCoordinator
	pids    *producerIDs
	// authz decides what each principal may do; nil when no authorizer is
	// configured (everything allowed, the ACL APIs disabled). Set by New.
	authz *acl.Authorizer
	// localACLs keeps the ACLs of a broker without a metadata store; set
	// by startACLs when there is an authorizer.
	localACLs *localACLs

	// appendSignal is closed and replaced after every append so long-poll
	// fetches can re-check; swapped atomically, never under a lock.
	appendSignal atomic.Pointer[chan struct{}]

	ln        net.Listener      // the first of listeners (Addr)
	listeners []*brokerListener // one per data listener; set by Start
	advHost   string            // advertised endpoint of the inter-broker listener
	advPort   int32
	// interBroker is how this broker dials the others' inter-broker
	// listener (TLS and SASL credentials); set by Start.
	interBroker *clientSecurity
	authFails   authFailures // failed SASL authentications by source address
	metricsLn   net.Listener
	metricsSv   *http.Server

	mu     sync.Mutex // guards conns and closed
	conns  map[*conn]struct{}
	closed bool

	// ctlHook, for tests, sees every LeaderAndIsr, StopReplica and
	// UpdateMetadata request before it is applied; an error drops the
	// request and the connection, as a lost request.
	ctlHook atomic.Pointer[func(kmsg.Request) error]
	// fetchWaitHook, for tests, runs whenever a long-poll Fetch has read
	// less than MinBytes and is about to wait: an append made there must
	// still wake it.
	fetchWaitHook atomic.Pointer[func()]
	// serving is set once the accept loop runs: before that, requests
	// (the controller's too) wait in the listen backlog.
	serving atomic.Bool

	// exitOnHalt, onHalt: what a halt does after every log dir failed
	// (logdir_failure.go); halting is set by the first halt; started once
	// Start has succeeded (a dir failure before that is Start's to check).
	exitOnHalt bool
	onHalt     func(reason error)
	halting    atomic.Bool
	started    atomic.Bool

	// shares holds share groups and share-partitions (share_groups.go).
	shares shareCoordinator
	// shareState is the share coordinator of __share_group_state (share_state.go).
	shareState *shareStateCoordinator

	ctx    context.Context // cancelled by Close: stops background goroutines
	cancel context.CancelFunc
	wg     sync.WaitGroup // accept loop, connections, background loops
}

// Option customises a Broker.
type Option func(*Broker)

// WithLogger sets the logger (default slog.Default()).
func WithLogger(l *slog.Logger) Option { return func(b *Broker) { b.log = l } }

// WithCluster replaces the single-broker cluster metadata with another
// implementation (a controller-fed view in a multi-broker cluster).
func WithCluster(f ClusterFactory) Option { return func(b *Broker) { b.clusterFactory = f } }

// WithMetaStore makes the broker a member of a multi-broker cluster whose
// metadata lives in the store c opens sessions on (Kafka's ZooKeeper-mode
// layout), e.g. a local.Server shared by brokers in one process. Without
// it, a broker with zookeeper.connect set uses that ZooKeeper ensemble.
func WithMetaStore(c metastore.Connector) Option { return func(b *Broker) { b.metaStore = c } }

// onClose registers f to run when the broker closes, before its logs do.
func (b *Broker) onClose(f func() error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.closers = append(b.closers, f)
}

// New validates cfg and returns a broker that is not yet listening. It does
// no I/O; Start opens the logs and the listener.
func New(cfg Config, opts ...Option) (*Broker, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	if cfg.KRaft() && !cfg.HasRole(RoleBroker) {
		return nil, errors.New("process.roles=controller: this node has no broker role; run it as a controller (NewController, or osprey broker --config does it)")
	}
	if len(cfg.AdvertisedListeners) == 0 {
		cfg.AdvertisedListeners = cfg.Listeners
	}
	for _, l := range append(append([]string(nil), cfg.Listeners...), cfg.AdvertisedListeners...) {
		if _, err := parseListener(l); err != nil {
			return nil, err
		}
	}
	b := &Broker{cfg: cfg, log: slog.Default(), conns: map[*conn]struct{}{}, quotas: newClientQuotas(cfg.Quota)}
	for _, o := range opts {
		o(b)
	}
	b.log = b.log.With("broker", cfg.BrokerID)
	b.authz = cfg.Authz.newAuthorizer()
	b.metrics = newBrokerMetrics(cfg.BrokerID)
	b.repl = newReplication(b)
	b.metrics.registerClusterGauges(cfg.BrokerID, func() ClusterView {
		b.mu.Lock()
		defer b.mu.Unlock()
		if b.cluster == nil {
			return nil
		}
		return b.cluster
	})
	ch := make(chan struct{})
	b.appendSignal.Store(&ch)
	b.ctx, b.cancel = context.WithCancel(context.Background())
	return b, nil
}

// Registry is the broker's own Prometheus registry (not the global one).
func (b *Broker) Registry() *prometheus.Registry { return b.metrics.reg }

// Config returns the broker's configuration.
func (b *Broker) Config() Config { return b.cfg }

// Addr is the address the broker listens on (host:port), valid after Start.
func (b *Broker) Addr() string {
	if b.ln == nil {
		return ""
	}
	return b.ln.Addr().String()
}

// MetricsAddr is the metrics endpoint's address, or "" if not enabled.
func (b *Broker) MetricsAddr() string {
	if b.metricsLn == nil {
		return ""
	}
	return b.metricsLn.Addr().String()
}

// Start opens the logs (recovering them after an unclean stop), reloads
// topic and group state, and starts listening. It returns once the broker
// accepts connections; ctx bounds the start-up only.
func (b *Broker) Start(ctx context.Context) error {
	if err := b.openListeners(ctx); err != nil {
		return err
	}
	if err := b.open(ctx); err != nil {
		b.closeListeners()
		return err
	}

	if b.cfg.MetricsListen != "" {
		if err := b.startMetrics(ctx); err != nil {
			b.closeListeners()
			b.shutdownData()
			return err
		}
	}
	b.serving.Store(true)
	for _, bl := range b.listeners {
		b.wg.Add(1)
		go b.acceptLoop(bl)
	}
	b.log.Info("broker started", "addr", b.Addr(), "listeners", b.listenerNames(),
		"inter_broker", net.JoinHostPort(b.advHost, strconv.Itoa(int(b.advPort))),
		"log_dirs", b.cfg.LogDirs, "cluster_id", b.cluster.ClusterID())
	b.started.Store(true)
	b.checkLogDirs()
	return nil
}

// open sets up storage, cluster metadata, partitions, producer ids and the
// group coordinator.
func (b *Broker) open(ctx context.Context) error {
	store, clusterID, err := openLogStore(b.cfg, b.log, b.logDirFailed)
	if err != nil {
		return err
	}
	b.store = store
	topicsPath := ""
	if len(b.cfg.LogDirs) > 0 {
		topicsPath = filepath.Join(b.cfg.LogDirs[0], "osprey-topics.json")
	}
	self := BrokerInfo{ID: b.cfg.BrokerID, Host: b.advHost, Port: b.advPort, Rack: b.cfg.Rack, Endpoints: b.endpoints()}
	b.data = newPartitions(b)
	factory := b.clusterFactory
	if factory == nil && b.cfg.KRaft() {
		factory = b.newKRaftClusterFactory()
	}
	if factory == nil && b.metaStore == nil && b.cfg.ZooKeeperConnect != "" {
		servers, chroot, err := zk.ParseConnectString(b.cfg.ZooKeeperConnect)
		if err != nil {
			b.store.Close()
			return fmt.Errorf("property zookeeper.connect: %w", err)
		}
		b.metaStore = zk.Connector(zk.Config{Servers: servers, Chroot: chroot,
			SessionTimeout: b.cfg.ZooKeeperSessionTimeout, Logger: b.log})
	}
	if factory == nil && b.metaStore != nil {
		factory = b.newZKClusterFactory(b.metaStore)
	}
	if factory == nil {
		factory = func(_ context.Context, self BrokerInfo, clusterID string, changed func(TopicInfo, bool)) (Cluster, error) {
			lc, err := newLocalCluster(self, clusterID, topicsPath)
			if err != nil {
				return nil, err
			}
			lc.onChange = changed
			return lc, nil
		}
	}
	lc, err := factory(ctx, self, clusterID, b.data.sync)
	if err != nil {
		b.store.Close()
		return fmt.Errorf("setting up cluster metadata: %w", err)
	}
	b.mu.Lock()
	b.cluster = lc
	b.mu.Unlock()
	if err := b.startACLs(ctx, lc); err != nil {
		b.shutdownData()
		return fmt.Errorf("loading ACLs: %w", err)
	}
	for _, t := range lc.Topics() {
		b.data.sync(t, false)
	}
	for _, tp := range b.store.orphans(func(topic string) bool { _, ok := lc.Topic(topic); return ok }) {
		// A topic deleted just before a crash: its log outlived the
		// topic definition. Finish the deletion.
		b.log.Warn("deleting log of unknown topic", "topic", tp.Topic, "partition", tp.Partition)
		if err := b.store.Delete(tp.Topic, tp.Partition); err != nil {
			b.log.Error("deleting orphan log", "topic", tp.Topic, "partition", tp.Partition, "err", err)
		}
	}
	if _, ok := lc.Topic(offsetsTopic); !ok {
		rf := max(1, min(b.cfg.OffsetsTopicReplicationFactor, int16(len(lc.Brokers()))))
		_, err := lc.CreateTopic(ctx, TopicSpec{Name: offsetsTopic, Partitions: b.cfg.OffsetsTopicPartitions,
			ReplicationFactor: rf, Internal: true, Configs: b.cfg.offsetsTopicConfigs()}, false)
		if err != nil && !errors.Is(err, ErrTopicExists) {
			b.shutdownData()
			return fmt.Errorf("creating %s: %w", offsetsTopic, err)
		}
	}
	b.repl.start()
	b.pids = newProducerIDs(b.cfg.BrokerID)
	b.groups = newGroupCoordinator(b)
	// Stored before the load so that no leadership change falls between
	// the two: one that arrives during the load is reconciled by the loop.
	b.repl.groups.Store(b.groups)
	if err := b.groups.load(); err != nil {
		b.shutdownData()
		return fmt.Errorf("loading consumer groups from %s: %w", offsetsTopic, err)
	}
	b.groups.start()
	b.txns = newTxnCoordinator(b)
	b.txns.start()
	b.shareState = newShareStateCoordinator(b)
	b.deleteUnhostedLogs()
	b.store.runRetention(b.ctx, b.cfg.LogRetentionCheck, &b.wg)
	if err := b.startLogCleaner(); err != nil {
		b.shutdownData()
		return err
	}
	return nil
}

func newClusterID() string {
	var id [16]byte
	rand.Read(id[:]) //nolint:errcheck // crypto/rand never fails on Linux
	return base64.RawURLEncoding.EncodeToString(id[:])
}

func (b *Broker) startMetrics(ctx context.Context) error {
	var lc net.ListenConfig
	ln, err := lc.Listen(ctx, "tcp", b.cfg.MetricsListen)
	if err != nil {
		return fmt.Errorf("listening on metrics.listen %s: %w", b.cfg.MetricsListen, err)
	}
	mux := http.NewServeMux()
	mux.Handle("/metrics", promhttp.HandlerFor(b.metrics.reg, promhttp.HandlerOpts{Registry: b.metrics.reg}))
	b.metricsLn = ln
	b.metricsSv = &http.Server{Handler: mux, ReadHeaderTimeout: 10 * time.Second}
	b.wg.Add(1)
	go func() {
		defer b.wg.Done()
		if err := b.metricsSv.Serve(ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
			b.log.Error("metrics server stopped", "err", err)
		}
	}()
	return nil
}

func (b *Broker) dropConn(c *conn) {
	b.mu.Lock()
	if _, ok := b.conns[c]; ok {
		delete(b.conns, c)
		b.metrics.connections.Dec()
	}
	b.mu.Unlock()
}

// controlledShutdowner is a cluster whose brokers hand over their
// leaderships before stopping (KRaft mode).
type controlledShutdowner interface {
	controlledShutdown(ctx context.Context) error
}

// controlledShutdownTimeout bounds the hand-over on Close.
const controlledShutdownTimeout = 10 * time.Second

// Close stops accepting, closes every connection, stops the group
// coordinator, flushes and closes all logs. It is safe to call twice.
func (b *Broker) Close() error { return b.stop(true) }

// stop is Close; controlled asks the controller (KRaft) to move this
// broker's leaderships first, which a halt does not do.
func (b *Broker) stop(controlled bool) error {
	b.mu.Lock()
	if b.closed {
		b.mu.Unlock()
		return nil
	}
	b.closed = true
	cl := b.cluster
	b.mu.Unlock()

	// A controlled shutdown first, while this broker still serves: its
	// followers catch up and take over before its connections close.
	if cs, ok := cl.(controlledShutdowner); ok && controlled {
		ctx, cancel := context.WithTimeout(context.Background(), controlledShutdownTimeout)
		if err := cs.controlledShutdown(ctx); err != nil {
			b.log.Warn("controlled shutdown did not finish; stopping anyway", "err", err)
		}
		cancel()
	}
	b.mu.Lock()
	conns := make([]*conn, 0, len(b.conns))
	for c := range b.conns {
		conns = append(conns, c)
	}
	b.mu.Unlock()

	b.cancel()
	b.closeListeners()
	for _, c := range conns {
		c.close()
	}
	if b.metricsSv != nil {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		b.metricsSv.Shutdown(ctx) //nolint:errcheck // closing anyway
		cancel()
	}
	b.wg.Wait()
	b.repl.stop()
	if b.groups != nil {
		b.groups.stop()
	}
	b.mu.Lock()
	closers := b.closers
	b.closers = nil
	b.mu.Unlock()
	var cerrs []error
	for i := len(closers) - 1; i >= 0; i-- {
		cerrs = append(cerrs, closers[i]())
	}
	err := errors.Join(append(cerrs, b.shutdownData())...)
	b.log.Info("broker stopped")
	return err
}

func (b *Broker) shutdownData() error {
	var errs []error
	if b.data != nil {
		errs = append(errs, b.data.closeAll())
	}
	if b.store != nil {
		errs = append(errs, b.store.Close())
	}
	return errors.Join(errs...)
}

// signalAppend wakes long-poll fetches after an append.
func (b *Broker) signalAppend() {
	ch := make(chan struct{})
	old := b.appendSignal.Swap(&ch)
	close(*old)
}

// controlHook passes a controller request to the test hook, if any.
func (b *Broker) controlHook(req kmsg.Request) error {
	if f := b.ctlHook.Load(); f != nil {
		return (*f)(req)
	}
	return nil
}
