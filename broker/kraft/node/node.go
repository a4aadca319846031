package node

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"slices"
	"strconv"
	"sync"
	"time"

	"github.com/twmb/franz-go/pkg/kmsg"

	"github.com/osprey-kafka/osprey/broker/kraft/bootstrap"
	"github.com/osprey-kafka/osprey/broker/kraft/image"
	"github.com/osprey-kafka/osprey/broker/kraft/metadata"
	"github.com/osprey-kafka/osprey/broker/quorum"
	"github.com/osprey-kafka/osprey/broker/quorum/raftnet"
	"github.com/osprey-kafka/osprey/broker/storage"
)

// Voter is one entry of controller.quorum.voters: a controller's id and its CONTROLLER listener.
type Voter struct {
	ID   int32
	Host string
	Port int
}

// Addr is the voter's host:port.
func (v Voter) Addr() string { return net.JoinHostPort(v.Host, strconv.Itoa(v.Port)) }

// StateMachine is the active controller's decision logic (*controller.Controller). The node
// calls it from one goroutine only, never concurrently, and only while this node is the active
// controller; it must do no I/O and must not block.
type StateMachine interface {
	// Activate starts a term as the active controller on the committed image.
	Activate(now time.Time, img image.Image)
	// Handle answers one controller request against img, the committed image plus every record
	// this controller issued in its term. The records are appended to the log in one quorum
	// append; resp is sent once they are committed. An error closes the requester's connection
	// (or is returned by ControllerRequest).
	Handle(now time.Time, img image.Image, req kmsg.Request) (recs []image.VersionedRecord, resp kmsg.Response, err error)
	// Tick runs periodic work against img (as Handle's) and returns the records it decided on.
	Tick(now time.Time, img image.Image) []image.VersionedRecord
}

// Config configures a Node.
type Config struct {
	NodeID int32
	// ClusterID must equal meta.properties' cluster.id; "" takes it from meta.properties.
	ClusterID string
	// Broker and Controller are process.roles.
	Broker, Controller bool
	// Voters is controller.quorum.voters: a static voter set (kraft.version 0). A node not
	// among them is an observer. Empty: the quorum is dynamic (KIP-853, kraft.version 1), its
	// voter set read from the metadata log (the voter-set checkpoint `storage format` writes,
	// then snapshots and VotersRecord entries), and BootstrapServers find its leader.
	Voters []Voter
	// BootstrapServers is controller.quorum.bootstrap.servers (host:port): where a node of a
	// dynamic quorum that knows no voter yet asks for the leader. Ignored with a static voter
	// set, as in Kafka.
	BootstrapServers []string
	// MetadataDir is metadata.log.dir, formatted by `osprey storage format`.
	MetadataDir string
	// MetadataManager, when set, is the already open storage manager of MetadataDir (a broker
	// whose metadata.log.dir is one of its log.dirs, Kafka's default): the metadata log lives
	// in it and Close leaves it open. Nil: the node opens and locks the directory itself.
	MetadataManager *storage.Manager
	// ControllerListener is the CONTROLLER listener, closed by Close. Nil on a broker-only node:
	// it then listens on an ephemeral 127.0.0.1 port nobody dials.
	ControllerListener net.Listener
	// Security is the CONTROLLER listener's protocol and credentials, for the listener and for
	// every connection this node makes to another node's; the zero value is PLAINTEXT.
	Security Security
	// ElectionTimeout and FetchTimeout are controller.quorum.election.timeout.ms and
	// controller.quorum.fetch.timeout.ms (Kafka's defaults 1 s and 2 s when zero);
	// ElectionBackoffMax and QuorumRequestTimeout are controller.quorum.election.backoff.max.ms
	// and controller.quorum.request.timeout.ms.
	ElectionTimeout, FetchTimeout            time.Duration
	ElectionBackoffMax, QuorumRequestTimeout time.Duration
	// ControllerEndpoints are the listeners a controller registers (KIP-919), as
	// advertised for controller.listener.names; nil: one CONTROLLER endpoint (PLAINTEXT) at its
	// address in Voters.
	ControllerEndpoints []image.Listener
	// SegmentBytes is metadata.log.segment.bytes (0: 1 GiB).
	SegmentBytes int64
	// SnapshotMaxBytes is metadata.log.max.record.bytes.between.snapshots (0: Kafka's 20 MiB)
	// and SnapshotInterval metadata.log.max.snapshot.interval.ms (0: Kafka's 1 h; negative:
	// none by time); see snapshot.go.
	SnapshotMaxBytes int64
	SnapshotInterval time.Duration
	// StateMachine is the controller logic; required on a controller, ignored on a broker-only
	// node.
	StateMachine StateMachine
	// ControllerTick is how often the active controller calls StateMachine.Tick (default 100 ms).
	ControllerTick time.Duration
	// MaxIdleInterval is metadata.max.idle.interval.ms: the active controller writes a
	// NoOpRecord when it has written nothing for this long, so that every node sees the log
	// move. 0 writes none (Kafka's default is 500 ms; each one stays in the log until a
	// snapshot lets the log before it go).
	MaxIdleInterval time.Duration
	// RequestTimeout bounds one controller request on the wire (default 30 s, Kafka's
	// request.timeout.ms); a context with an earlier deadline bounds it more.
	RequestTimeout time.Duration
	Logger         *slog.Logger
}

func (c *Config) setDefaults() {
	if c.ControllerTick <= 0 {
		c.ControllerTick = 100 * time.Millisecond
	}
	if c.RequestTimeout <= 0 {
		c.RequestTimeout = 30 * time.Second
	}
	if c.SnapshotMaxBytes <= 0 {
		c.SnapshotMaxBytes = defaultSnapshotMaxBytes
	}
	if c.SnapshotInterval == 0 {
		c.SnapshotInterval = defaultSnapshotInterval
	}
	if c.Logger == nil {
		c.Logger = slog.New(slog.DiscardHandler)
	}
}

func (c *Config) check() error {
	if c.NodeID < 0 {
		return fmt.Errorf("node: node.id %d is negative", c.NodeID)
	}
	if !c.Broker && !c.Controller {
		return errors.New("node: process.roles names neither broker nor controller")
	}
	if len(c.Voters) == 0 && len(c.BootstrapServers) == 0 {
		return errors.New("node: neither controller.quorum.voters nor controller.quorum.bootstrap.servers is set: " +
			"set controller.quorum.voters (id@host:port,...) for a static quorum or controller.quorum.bootstrap.servers " +
			"(host:port,...) for a dynamic one")
	}
	for _, a := range c.BootstrapServers {
		if _, _, err := net.SplitHostPort(a); err != nil {
			return fmt.Errorf("node: controller.quorum.bootstrap.servers entry %q is not host:port: %w", a, err)
		}
	}
	if c.Controller {
		if len(c.Voters) > 0 && !slices.ContainsFunc(c.Voters, func(v Voter) bool { return v.ID == c.NodeID }) {
			return fmt.Errorf("node: controller %d is not one of controller.quorum.voters", c.NodeID)
		}
		if c.StateMachine == nil {
			return errors.New("node: a controller needs a StateMachine")
		}
	}
	if c.MetadataDir == "" {
		return errors.New("node: metadata.log.dir is not set")
	}
	return nil
}

// maxFetchEntries bounds the entries in one quorum fetch answer. Each metadata record is an
// entry of its own, and a follower writes each answer with one fsync, so a small bound makes a
// large controller operation (a CreateTopics of 10,000 partitions) take hundreds of round trips
// and fsyncs to replicate. 5,000 entries of metadata records stay near 1 MiB.
const maxFetchEntries = 5000

// ErrClosed is returned by calls on a closed Node.
var ErrClosed = errors.New("node: closed")

// quorumView is what the driver last told of the quorum replica (see onStep).
type quorumView struct {
	state  quorum.State
	epoch  int32
	leader int32
	hw     int64
}

// Node is one running KRaft node. See the package comment for its goroutines.
type Node struct {
	cfg       Config
	log       *slog.Logger
	clusterID string
	dirID     metadata.Uuid // meta.properties' directory.id
	boot      bootstrap.Metadata
	qlog      *quorum.StorageLog
	snaps     *quorum.FileSnapshots
	srv       *raftnet.Server
	addrs     map[int32]string // static voter id -> CONTROLLER listener (controller.quorum.voters)
	// dynamic: kraft.version 1 (see Config.Voters); bootVoters is the voter set of the
	// voter-set checkpoint `storage format` wrote, nil when there is none.
	dynamic    bool
	bootVoters quorum.VoterSet

	ctx       context.Context // cancelled by Close
	cancel    context.CancelFunc
	wg        sync.WaitGroup
	closeOnce sync.Once

	vmu  sync.Mutex // guards view and voters; taken on the raftnet driver, so never held around Do
	view quorumView
	// voters is a dynamic quorum's voter set as the driver last saw it: where the leader listens.
	voters quorum.VoterSet

	mu      sync.Mutex // guards img, next, changed, subs
	img     image.Image
	next    int64         // offset after the last entry in img
	changed chan struct{} // closed and replaced when img changes
	subs    map[*subscriber]struct{}

	snap snapshotState // the replay goroutine's

	replayWake chan struct{} // cap 1: the high watermark may have moved
	ctrlWake   chan struct{} // cap 1: the quorum or the committed image changed
	ctrlReqs   chan ctrlRequest

	pool     connPool
	corr     sync.Mutex // guards lastCorr
	lastCorr int32
}

// Start opens the formatted metadata directory, starts the quorum server on the controller
// listener and the node's goroutines. It returns once they run; the leader is elected and the
// log replayed in the background (see WaitFor).
func Start(ctx context.Context, cfg Config) (*Node, error) {
	cfg.setDefaults()
	if err := cfg.check(); err != nil {
		return nil, err
	}
	n := &Node{
		cfg:        cfg,
		log:        cfg.Logger.With("node", cfg.NodeID),
		addrs:      map[int32]string{},
		img:        image.Empty(),
		changed:    make(chan struct{}),
		subs:       map[*subscriber]struct{}{},
		replayWake: make(chan struct{}, 1),
		ctrlWake:   make(chan struct{}, 1),
		ctrlReqs:   make(chan ctrlRequest),
		view:       quorumView{leader: -1},
		snap:       snapshotState{last: time.Now(), jobs: make(chan snapshotJob, 1)},
	}
	n.pool.idle = map[string][]*wireConn{}
	for _, v := range cfg.Voters {
		n.addrs[v.ID] = v.Addr()
	}
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	if err := n.openStorage(); err != nil {
		if cfg.ControllerListener != nil {
			cfg.ControllerListener.Close()
		}
		return nil, err
	}
	n.ctx, n.cancel = context.WithCancel(context.Background())
	if err := n.startServer(); err != nil {
		n.cancel()
		return nil, errors.Join(err, n.qlog.Close())
	}
	n.wg.Add(2)
	go n.runReplay()
	go n.runSnapshotWriter()
	if cfg.Controller {
		n.wg.Add(2)
		go n.runController()
		go n.runControllerRegistration()
	}
	if err := n.srv.Start(); err != nil {
		n.cancel()
		n.wg.Wait()
		return nil, errors.Join(err, n.qlog.Close())
	}
	n.log.Info("kraft node started", "cluster", n.clusterID, "broker", cfg.Broker, "controller", cfg.Controller,
		"listener", n.srv.Addr().String(), "metadata_dir", cfg.MetadataDir)
	return n, nil
}

func (n *Node) startServer() error {
	qcfg, peers := n.quorumConfig()
	ln := n.cfg.ControllerListener
	if ln == nil {
		var err error
		if ln, err = net.Listen("tcp", "127.0.0.1:0"); err != nil {
			return fmt.Errorf("node: listen for the quorum: %w", err)
		}
	}
	rcfg := raftnet.Config{
		Node:     qcfg,
		Listener: ln,
		Peers:    peers,
		Handler:  n.serveListener,
		OnStep:   n.onStep,
		Dial:     n.cfg.Security.Dial,
		Logger:   n.cfg.Logger,
	}
	if sec := n.cfg.Security; sec.TLS != nil || len(sec.Mechanisms) > 0 {
		rcfg.Accept = n.acceptConn
	}
	if n.cfg.Security.Authorizer != nil {
		rcfg.Authorize = n.authorized
	}
	srv, err := raftnet.New(rcfg)
	if err != nil {
		ln.Close()
		return fmt.Errorf("node: %w", err)
	}
	n.srv = srv
	return nil
}

// quorumConfig is the quorum replica's configuration and its peers' addresses. A static quorum
// reaches its voters at controller.quorum.voters. A dynamic one starts from the voter-set
// checkpoint (or its latest snapshot's set, and the log's) and asks its bootstrap servers,
// numbered -2, -3, … as Kafka numbers them, for the leader until it knows a voter; raftnet
// reaches a voter at the listener its voter-set entry names.
func (n *Node) quorumConfig() (quorum.Config, map[int32]string) {
	qc := quorum.Config{
		NodeID:             n.cfg.NodeID,
		ClusterID:          n.clusterID,
		DirectoryID:        [16]byte(n.dirID),
		ElectionTimeout:    n.cfg.ElectionTimeout,
		FetchTimeout:       n.cfg.FetchTimeout,
		ElectionBackoffMax: n.cfg.ElectionBackoffMax,
		RequestTimeout:     n.cfg.QuorumRequestTimeout,
		MaxFetchEntries:    maxFetchEntries,
		Log:                n.qlog,
		Snapshots:          n.snaps,
		Logger:             n.cfg.Logger,
	}
	peers := map[int32]string{}
	if !n.dynamic {
		qc.Voters = make([]int32, len(n.cfg.Voters))
		for i, v := range n.cfg.Voters {
			qc.Voters[i] = v.ID
			if v.ID != n.cfg.NodeID {
				peers[v.ID] = v.Addr()
			}
		}
		qc.Store = n.stateStore(0, qc.Voters)
		return qc, peers
	}
	qc.KRaftVersion = 1
	qc.BootstrapVoters = n.bootVoters
	qc.SnapshotVoters = n.snapshotVoters
	qc.Store = n.stateStore(1, nil)
	bootstrap := n.cfg.BootstrapServers
	if len(bootstrap) == 0 {
		for _, v := range n.cfg.Voters {
			bootstrap = append(bootstrap, v.Addr())
		}
	}
	for i, addr := range bootstrap {
		id := int32(-2 - i)
		qc.Bootstrap = append(qc.Bootstrap, id)
		peers[id] = addr
	}
	return qc, peers
}

// Close stops the node's goroutines and the quorum server and closes the metadata log. It may
// be called more than once.
func (n *Node) Close() error {
	var err error
	n.closeOnce.Do(func() {
		n.cancel()
		n.srv.Stop()
		n.wg.Wait()
		n.pool.closeAll()
		err = n.qlog.Close()
		n.log.Info("kraft node stopped")
	})
	return err
}

// ID is the node's id.
func (n *Node) ID() int32 { return n.cfg.NodeID }

// ClusterID is the cluster id from meta.properties.
func (n *Node) ClusterID() string { return n.clusterID }

// Addr is the controller listener's address.
func (n *Node) Addr() net.Addr { return n.srv.Addr() }

// onStep runs on the raftnet driver after every step: it copies what the other goroutines need
// and wakes them when it changed.
func (n *Node) onStep(q *quorum.Node) {
	v := quorumView{state: q.State(), epoch: q.Epoch(), leader: q.LeaderID(), hw: q.HighWatermark()}
	var voters quorum.VoterSet
	if n.dynamic {
		voters = q.Voters()
	}
	n.vmu.Lock()
	changed := v != n.view
	n.view = v
	if n.dynamic && !voters.Equal(n.voters) {
		n.voters = voters
	}
	n.vmu.Unlock()
	if changed {
		notify(n.replayWake)
		notify(n.ctrlWake)
	}
}

func (n *Node) quorumView() quorumView {
	n.vmu.Lock()
	defer n.vmu.Unlock()
	return n.view
}

// nodeAddr is where node id's CONTROLLER listener is: controller.quorum.voters in a static
// quorum, the first listener of its voter-set entry in a dynamic one; "" when unknown.
func (n *Node) nodeAddr(id int32) string {
	if a, ok := n.addrs[id]; ok {
		return a
	}
	n.vmu.Lock()
	defer n.vmu.Unlock()
	if v, ok := n.voters.Get(id); ok && len(v.Endpoints) > 0 {
		return net.JoinHostPort(v.Endpoints[0].Host, strconv.Itoa(int(v.Endpoints[0].Port)))
	}
	return ""
}

// Quorum is the leader and epoch as this node knows them; leader is -1 when unknown.
func (n *Node) Quorum() (leader, epoch int32) {
	v := n.quorumView()
	return v.leader, v.epoch
}

// Image is the latest committed image this node has replayed.
func (n *Node) Image() image.Image {
	n.mu.Lock()
	defer n.mu.Unlock()
	return n.img
}

// Offset is the offset of the last metadata log entry replayed into Image, -1 before any.
func (n *Node) Offset() int64 {
	n.mu.Lock()
	defer n.mu.Unlock()
	return n.next - 1
}

func (n *Node) committed() (image.Image, int64) {
	n.mu.Lock()
	defer n.mu.Unlock()
	return n.img, n.next
}

// WaitFor returns the first committed image for which pred is true, checking the current one
// first and then each new one; it ends early with ctx's error or ErrClosed.
func (n *Node) WaitFor(ctx context.Context, pred func(image.Image) bool) (image.Image, error) {
	for {
		n.mu.Lock()
		img, ch := n.img, n.changed
		n.mu.Unlock()
		if pred(img) {
			return img, nil
		}
		select {
		case <-ch:
		case <-ctx.Done():
			return img, ctx.Err()
		case <-n.ctx.Done():
			return img, ErrClosed
		}
	}
}

// notify wakes a goroutine waiting on a 1-slot channel without blocking.
func notify(ch chan struct{}) {
	select {
	case ch <- struct{}{}:
	default:
	}
}
