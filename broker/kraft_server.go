package broker

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"strconv"
	"time"

	"github.com/twmb/franz-go/pkg/kmsg"

	kraftctl "github.com/osprey-kafka/osprey/broker/kraft/controller"
	"github.com/osprey-kafka/osprey/broker/kraft/image"
	kraftnode "github.com/osprey-kafka/osprey/broker/kraft/node"
)

// kraftVoters converts controller.quorum.voters for the node.
func (c Config) kraftVoters() []kraftnode.Voter {
	out := make([]kraftnode.Voter, len(c.ControllerQuorumVoters))
	for i, v := range c.ControllerQuorumVoters {
		out[i] = kraftnode.Voter{ID: v.ID, Host: v.Host, Port: v.Port}
	}
	return out
}

// newStateMachine is the active controller's logic with this configuration's
// settings (the broker defaults a controller applies to new topics and to
// elections).
func newStateMachine(cfg Config, clusterID string, log *slog.Logger) *kraftctl.Controller {
	return kraftctl.New(kraftctl.Config{
		NodeID:                       cfg.NodeID,
		ClusterID:                    clusterID,
		LeaderImbalanceCheckInterval: cfg.LeaderImbalanceCheckInterval,
		SessionTimeout:               cfg.BrokerSessionTimeout,
		DefaultPartitions:            cfg.NumPartitions,
		DefaultReplicationFactor:     cfg.DefaultReplicationFactor,
		AutoLeaderRebalance:          cfg.AutoLeaderRebalance,
		ImbalancePercentage:          int(cfg.LeaderImbalancePerBrokerPct),
		UncleanLeaderElection:        cfg.UncleanLeaderElection,
		ValidateTopicConfig:          validateTopicConfig,
		Logger:                       log.With("component", "controller"),
	})
}

// listenController opens the CONTROLLER listener (the first of the listeners
// named in controller.listener.names).
func listenController(ctx context.Context, cfg Config) (net.Listener, error) {
	if len(cfg.ControllerListeners) == 0 {
		return nil, fmt.Errorf("property listeners: a controller needs a listener named in controller.listener.names (%v), "+
			"e.g. listeners=PLAINTEXT://:9092,CONTROLLER://:9093", cfg.ControllerListenerNames)
	}
	ls, err := parseListener(cfg.ControllerListeners[0])
	if err != nil {
		return nil, err
	}
	var lc net.ListenConfig
	ln, err := lc.Listen(ctx, "tcp", net.JoinHostPort(ls.host, strconv.Itoa(ls.port)))
	if err != nil {
		return nil, fmt.Errorf("listening on the controller listener %s: %w", cfg.ControllerListeners[0], err)
	}
	return ln, nil
}

// nodeConfig is the KRaft node's configuration from the broker's, but for its Security
// (controllerSecurity, which loads key material).
func (c Config) nodeConfig(clusterID string, log *slog.Logger) kraftnode.Config {
	return kraftnode.Config{
		NodeID:           c.NodeID,
		ClusterID:        clusterID,
		Broker:           c.HasRole(RoleBroker),
		Controller:       c.HasRole(RoleController),
		Voters:           c.kraftVoters(),
		BootstrapServers: c.ControllerQuorumBootstrapServers,
		MetadataDir:      c.MetadataDir(),
		ElectionTimeout:  c.QuorumElectionTimeout,
		FetchTimeout:     c.QuorumFetchTimeout,
		SegmentBytes:     c.MetadataLogSegmentBytes,
		Logger:           log.With("component", "kraft"),
		SnapshotMaxBytes: c.MetadataSnapshotMaxBytes,
		SnapshotInterval: snapshotInterval(c.MetadataSnapshotInterval),
	}
}

// snapshotInterval maps metadata.log.max.snapshot.interval.ms to the node's setting: Kafka's 0
// turns time-based snapshots off, which the node spells with a negative interval.
func snapshotInterval(d time.Duration) time.Duration {
	if d == 0 {
		return -1
	}
	return d
}

// newKRaftClusterFactory starts this broker's KRaft node (with the
// controller when process.roles has it), registers the broker with the
// active controller, and returns the cluster view once the node has replayed
// the metadata log as far as the quorum had committed it at start.
func (b *Broker) newKRaftClusterFactory() ClusterFactory {
	return func(ctx context.Context, self BrokerInfo, clusterID string, changed func(TopicInfo, bool)) (Cluster, error) {
		ncfg := b.cfg.nodeConfig(clusterID, b.log)
		var err error
		if ncfg.Security, err = b.cfg.controllerSecurity(); err != nil {
			return nil, err
		}
		delay := ncfg.Security.AuthFailed
		ncfg.Security.AuthFailed = func(host string, err error) time.Duration {
			name := b.cfg.controllerListenerName()
			b.authFails.failures.WithLabelValues(name).Inc()
			b.metrics.sec.authFailed(name)
			if delay == nil {
				return 0
			}
			return delay(host, err)
		}
		if mgr, ok := b.store.managerFor(ncfg.MetadataDir); ok {
			ncfg.MetadataManager = mgr
		}
		if ncfg.Controller {
			ln, err := listenController(ctx, b.cfg)
			if err != nil {
				return nil, err
			}
			ncfg.ControllerListener = ln
			ncfg.StateMachine = newStateMachine(b.cfg, clusterID, b.log)
		}
		node, err := kraftnode.Start(ctx, ncfg)
		if err != nil {
			if ncfg.ControllerListener != nil {
				ncfg.ControllerListener.Close()
			}
			return nil, fmt.Errorf("starting the KRaft node: %w", err)
		}
		kc := newKRaftCluster(b, self, clusterID, node, changed)
		kc.watch()
		reg := kraftnode.BrokerRegistration{
			Listeners:         kraftListeners(self, kc.listener),
			HeartbeatInterval: b.cfg.BrokerHeartbeatInterval,
		}
		if self.Rack != "" {
			reg.Rack = &self.Rack
		}
		life, err := node.StartBrokerLifecycle(reg)
		if err != nil {
			kc.stopWatch()
			return nil, errors.Join(fmt.Errorf("registering broker %d with the controller: %w", self.ID, err), node.Close())
		}
		kc.life = life
		b.onClose(kc.close)
		if err := kc.waitCaughtUp(ctx); err != nil {
			return nil, err
		}
		return kc, nil
	}
}

// waitCaughtUp waits until the image has the cluster's metadata.version and
// this broker's registration, so that the topics a restarted broker hosts are
// known before it opens its logs.
func (kc *kraftCluster) waitCaughtUp(ctx context.Context) error {
	err := kc.waitImage(ctx, func(im image.Image) bool { return im.MetadataVersion() > 0 })
	if err != nil {
		return fmt.Errorf("waiting for the metadata log (is a quorum of controllers up?): %w", err)
	}
	return nil
}

// controlledShutdown asks the controller to move this broker's leaderships
// away and waits until it has (Broker.Close calls it while still serving).
// With no other broker able to take over (every other one fenced or shutting
// down too, as when a whole cluster stops, or the last broker of a cluster
// whose controllers may be gone) there is no one to hand over to: it stops
// without waiting, and stops waiting as soon as that becomes true.
func (kc *kraftCluster) controlledShutdown(ctx context.Context) error {
	alone := func(im image.Image) bool {
		for _, b := range im.Brokers() {
			if b.ID != kc.self.ID && !b.Fenced && !b.InControlledShutdown {
				return false
			}
		}
		return true
	}
	if im, _ := kc.image(); alone(im) {
		return nil
	}
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	// The quorum may go too (combined nodes stopping together): a node that
	// lost its leader has no controller to hand over through.
	hopeless := func() bool {
		im, _ := kc.image()
		return alone(im) || !kc.node.Following()
	}
	done := make(chan struct{})
	go func() {
		defer close(done)
		tick := time.NewTicker(100 * time.Millisecond)
		defer tick.Stop()
		for {
			_, next := kc.image()
			if hopeless() {
				cancel()
				return
			}
			select {
			case <-next:
			case <-tick.C:
			case <-ctx.Done():
				return
			}
		}
	}()
	err := kc.life.ControlledShutdown(ctx)
	cancel()
	<-done
	if err != nil && hopeless() {
		return nil
	}
	return err
}

// close stops the registration loop and the node, after the controlled
// shutdown and after the broker stopped serving.
func (kc *kraftCluster) close() error {
	kc.life.Close()
	kc.stopWatch()
	return kc.node.Close()
}

// describeQuorum answers DescribeQuorum from the quorum leader.
func (kc *kraftCluster) describeQuorum(ctx context.Context, _ *kmsg.DescribeQuorumRequest) (*kmsg.DescribeQuorumResponse, error) {
	return kc.node.DescribeQuorum(ctx)
}

// quorumRequest sends a voter change (AddRaftVoter, RemoveRaftVoter) to the
// quorum leader.
func (kc *kraftCluster) quorumRequest(ctx context.Context, req kmsg.Request) (kmsg.Response, error) {
	return kc.node.QuorumRequest(ctx, req)
}

// fillFeatures lists the features for ApiVersions from this broker's node.
func (kc *kraftCluster) fillFeatures(resp *kmsg.ApiVersionsResponse) { kc.node.FillFeatures(resp) }

// featureLevel is a feature's level finalized in this broker's committed
// metadata image.
func (kc *kraftCluster) featureLevel(name string) (int16, bool) { return kc.node.Image().Feature(name) }

// Controller is a KRaft node with only the controller role (process.roles=controller):
// the quorum voter and, when it leads, the active controller. It serves
// nothing but the CONTROLLER listener.
type Controller struct {
	cfg  Config
	log  *slog.Logger
	node *kraftnode.Node
}

// NewController validates a controller-only configuration.
func NewController(cfg Config, log *slog.Logger) (*Controller, error) {
	if !cfg.KRaft() || cfg.HasRole(RoleBroker) || !cfg.HasRole(RoleController) {
		return nil, errors.New("NewController: process.roles must be controller alone")
	}
	if log == nil {
		log = slog.Default()
	}
	return &Controller{cfg: cfg, log: log.With("node", cfg.NodeID)}, nil
}

// Start checks the formatted directories, listens and joins the quorum.
func (c *Controller) Start(ctx context.Context) error {
	clusterID, err := checkFormatted(c.cfg)
	if err != nil {
		return err
	}
	ncfg := c.cfg.nodeConfig(clusterID, c.log)
	if ncfg.Security, err = c.cfg.controllerSecurity(); err != nil {
		return err
	}
	ln, err := listenController(ctx, c.cfg)
	if err != nil {
		return err
	}
	ncfg.ControllerListener = ln
	ncfg.StateMachine = newStateMachine(c.cfg, clusterID, c.log)
	c.node, err = kraftnode.Start(ctx, ncfg)
	if err != nil {
		ln.Close()
		return fmt.Errorf("starting the KRaft controller: %w", err)
	}
	c.log.Info("controller started", "addr", ln.Addr().String(), "cluster_id", clusterID)
	return nil
}

// Addr is the CONTROLLER listener's address.
func (c *Controller) Addr() string { return c.node.Addr().String() }

// Close leaves the quorum and closes the listener and the metadata log.
func (c *Controller) Close() error {
	if c.node == nil {
		return nil
	}
	return c.node.Close()
}
