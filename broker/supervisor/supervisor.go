// Package supervisor stands up and manages a local Kafka-compatible
// cluster of Osprey brokers, of one of two kinds:
//   - ZooKeeper mode: N brokers either in this process, sharing an in-process
//     metadata store (metastore/local, persisted to the data directory) or a
//     ZooKeeper ensemble, or as child processes (`osprey broker --config
//     <generated server.properties>`) on a ZooKeeper ensemble;
//   - KRaft mode (Options.KRaft): N brokers with ids 1..N that are also the
//     quorum's voters (process.roles=broker,controller), or, with
//     Options.Controllers = M, N broker-only nodes and M controller-only nodes
//     with ids 101..100+M; in this process or as child processes, each node
//     formatted before its first start as `osprey storage format` does.
//
// Each node gets its own data directory, ports and log file; the supervisor
// starts, stops (gracefully), kills (SIGKILL for a child; an immediate close
// for an in-process node) and restarts each one, and reports their state.
//
// The console embeds a Cluster for its default local cluster; `osprey
// cluster up|status|down` drives one from the command line, with a state
// file (cluster.json in the data directory) telling status and down what
// runs.
package supervisor

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"maps"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"sort"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/osprey-kafka/osprey/broker"
	"github.com/osprey-kafka/osprey/broker/metastore"
	"github.com/osprey-kafka/osprey/broker/metastore/local"
	"github.com/osprey-kafka/osprey/broker/zkdata"

	"github.com/osprey-kafka/osprey/internal/atomicfile"
)

// Mode says where brokers run.
type Mode string

const (
	// InProcess runs the brokers in this process.
	InProcess Mode = "in-process"
	// ChildProcess runs each broker as `osprey broker` child process; in
	// ZooKeeper mode it needs a ZooKeeper ensemble (Options.ZooKeeper).
	ChildProcess Mode = "process"
)

// State is a broker's life-cycle state.
type State string

const (
	StateStarting State = "starting"
	StateRunning  State = "running"
	StateStopped  State = "stopped" // stopped gracefully (or never started)
	StateKilled   State = "killed"  // killed by the supervisor
	StateFailed   State = "failed"  // exited or failed to start on its own
)

// Options configure a Cluster. Zero values take the defaults given.
type Options struct {
	// Brokers is the number of brokers (default 3), with ids 1..Brokers.
	Brokers int
	// Mode: InProcess (default) or ChildProcess.
	Mode Mode
	// KRaft runs the cluster in KRaft mode: no ZooKeeper, no in-process
	// store; the nodes' own quorum holds the metadata.
	KRaft bool
	// Controllers (KRaft only): 0 makes every broker a combined node
	// (process.roles=broker,controller, all of them voters); M > 0 adds M
	// controller-only nodes, ids ControllerIDBase+1..ControllerIDBase+M, as
	// the voters, and the brokers are broker-only.
	Controllers int
	// ZooKeeper is a connect string host:port[,host:port][/chroot]. Empty
	// means the in-process store (InProcess only). Not with KRaft.
	ZooKeeper string
	// DataDir holds broker-<id>/ (log.dirs), broker-<id>.properties,
	// broker-<id>.log, metadata.json (the in-process store) and
	// cluster.json. Required.
	DataDir string
	// Host the brokers listen on and advertise (default 127.0.0.1).
	Host string
	// BasePort: broker i listens on BasePort+i-1; in KRaft mode the
	// CONTROLLER listeners follow from BasePort+Brokers in node order. 0
	// picks free ports (kept across restarts of the Cluster through
	// cluster.json).
	BasePort int
	// Binary is the osprey executable for ChildProcess (default: this
	// process's executable).
	Binary string
	// Properties are extra broker properties (Kafka names) for every
	// broker, over the supervisor's defaults.
	Properties map[string]string
	// Logger receives the supervisor's own messages (default slog.Default()).
	Logger *slog.Logger
	// Listener is the brokers' data listener, its name and its security
	// protocol at once: PLAINTEXT (the default), SSL, SASL_PLAINTEXT or
	// SASL_SSL. The TLS and SASL settings it needs go in Properties.
	Listener string
	// ScramUsers are SCRAM credentials the cluster starts with: written to
	// /config/users in the metadata store before the ZooKeeper-mode brokers
	// start (again at every Start, so the password given here holds), or
	// into a KRaft node's bootstrap metadata when it is formatted, as
	// `osprey storage format --add-scram` does.
	ScramUsers []ScramUser
	// ClientOptions are what the supervisor's own Kafka client needs to
	// talk to the data listener (TLS, SASL): it asks KRaft brokers for
	// their Metadata to know they are registered.
	ClientOptions []kgo.Opt
}

// ScramUser is one SCRAM credential a cluster starts with.
type ScramUser struct {
	Mechanism string // SCRAM-SHA-256 or SCRAM-SHA-512
	Name      string
	Password  string
}

// listenerName is the data listener's name and protocol.
func (o Options) listenerName() string {
	if o.Listener == "" {
		return "PLAINTEXT"
	}
	return o.Listener
}

// BrokerStatus is one node's state as the console shows it.
type BrokerStatus struct {
	ID    int32 `json:"id"`
	State State `json:"state"`
	// Roles are the KRaft process.roles ("broker", "controller"); empty
	// in ZooKeeper mode, where every node is a broker.
	Roles []string `json:"roles,omitempty"`
	// Addr is the data listener (host:port); a controller-only node's is
	// its CONTROLLER listener, the only one it has.
	Addr string `json:"addr"`
	// ControllerAddr is a KRaft voter's CONTROLLER listener.
	ControllerAddr string    `json:"controller_addr,omitempty"`
	PID            int       `json:"pid"` // child process id; this process's for in-process brokers; 0 when not running
	DataDir        string    `json:"data_dir"`
	ConfigPath     string    `json:"config_path"`
	LogPath        string    `json:"log_path"`
	Since          time.Time `json:"since"` // last state change
	Error          string    `json:"error,omitempty"`
}

// Cluster is a supervised local cluster. Its methods are safe for
// concurrent use.
type Cluster struct {
	opts Options
	log  *slog.Logger

	store     *local.Server       // InProcess without ZooKeeper, ZooKeeper mode
	connector metastore.Connector // for in-process brokers; nil = zookeeper.connect
	clusterID string              // KRaft: the id every node is formatted with

	mu      sync.Mutex // guards brokers and closed
	brokers []*member
	closed  bool

	stopPersist chan struct{}
	persistDone chan struct{}
}

// member is one supervised broker. Guarded by Cluster.mu, except that a
// child's waiter goroutine updates state under the same lock.
type member struct {
	id         int32
	roles      []string // KRaft process.roles; nil in ZooKeeper mode
	port       int      // data listener; 0 on a controller-only node
	ctrlPort   int      // KRaft CONTROLLER listener; 0 on a broker-only node
	dataDir    string
	configPath string
	logPath    string

	state State
	since time.Time
	err   string

	b       *broker.Broker     // in-process broker
	ctl     *broker.Controller // in-process controller-only node
	logFile *os.File           // in-process log sink
	cmd     *exec.Cmd          // child process
	exited  chan struct{}      // closed when the child exits
	killing bool               // the supervisor is stopping/killing it
}

// New prepares a cluster: directories, ports, configuration files. It
// starts nothing (Start does).
func New(opts Options) (*Cluster, error) {
	if opts.Brokers == 0 {
		opts.Brokers = 3
	}
	if opts.Brokers < 1 || opts.Brokers > 100 {
		return nil, fmt.Errorf("supervisor: %d brokers (want 1-100)", opts.Brokers)
	}
	if opts.Mode == "" {
		opts.Mode = InProcess
	}
	if opts.Mode != InProcess && opts.Mode != ChildProcess {
		return nil, fmt.Errorf("supervisor: unknown mode %q", opts.Mode)
	}
	if err := checkKind(opts); err != nil {
		return nil, err
	}
	if err := checkSecurity(opts); err != nil {
		return nil, err
	}
	if opts.DataDir == "" {
		return nil, errors.New("supervisor: a data directory is required")
	}
	if opts.Host == "" {
		opts.Host = "127.0.0.1"
	}
	if opts.Logger == nil {
		opts.Logger = slog.Default()
	}
	if opts.Mode == ChildProcess && opts.Binary == "" {
		exe, err := os.Executable()
		if err != nil {
			return nil, fmt.Errorf("supervisor: finding the osprey binary: %w", err)
		}
		opts.Binary = exe
	}
	dir, err := filepath.Abs(opts.DataDir)
	if err != nil {
		return nil, err
	}
	opts.DataDir = dir
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, fmt.Errorf("supervisor: creating %s: %w", dir, err)
	}
	c := &Cluster{opts: opts, log: opts.Logger.With("component", "supervisor")}
	prev, _ := ReadState(dir) // ports (and the KRaft cluster id) of an earlier run, if any
	if err := c.addMembers(prev); err != nil {
		return nil, err
	}
	if opts.KRaft {
		if c.clusterID, err = c.kraftClusterID(prev); err != nil {
			return nil, err
		}
	}
	for _, m := range c.brokers {
		if err := c.writeConfig(m); err != nil {
			return nil, err
		}
	}
	return c, nil
}

// checkKind checks the cluster kind: ZooKeeper mode (with an ensemble or
// the in-process store) or KRaft mode.
func checkKind(opts Options) error {
	switch {
	case opts.KRaft && opts.ZooKeeper != "":
		return errors.New("supervisor: a KRaft cluster has no ZooKeeper; give either KRaft or a ZooKeeper connect string")
	case !opts.KRaft && opts.Controllers != 0:
		return errors.New("supervisor: separate controller nodes are for KRaft clusters")
	case opts.Controllers < 0 || opts.Controllers > 9:
		return fmt.Errorf("supervisor: %d controllers (want 0 for combined nodes, or 1-9)", opts.Controllers)
	case opts.Mode == ChildProcess && !opts.KRaft && opts.ZooKeeper == "":
		return errors.New("supervisor: child-process brokers need a ZooKeeper connect string (or KRaft mode)")
	}
	return nil
}

// addMembers lays out the nodes: brokers 1..Brokers, then in KRaft mode
// with separate controllers ControllerIDBase+1..; each with its ports (from
// BasePort, else the earlier run's, else free ones) and files.
func (c *Cluster) addMembers(prev *ClusterState) error {
	opts := c.opts
	type node struct {
		id    int32
		roles []string
	}
	var nodes []node
	for i := 1; i <= opts.Brokers; i++ {
		n := node{id: int32(i)}
		switch {
		case opts.KRaft && opts.Controllers == 0:
			n.roles = []string{broker.RoleBroker, broker.RoleController}
		case opts.KRaft:
			n.roles = []string{broker.RoleBroker}
		}
		nodes = append(nodes, n)
	}
	for j := 1; j <= opts.Controllers; j++ {
		nodes = append(nodes, node{id: ControllerIDBase + int32(j), roles: []string{broker.RoleController}})
	}
	nextCtrl := opts.BasePort + opts.Brokers
	for _, n := range nodes {
		m := &member{id: n.id, roles: n.roles, state: StateStopped, since: time.Now()}
		name := "broker-" + strconv.Itoa(int(n.id))
		if m.isBroker() {
			base := 0
			if opts.BasePort > 0 {
				base = opts.BasePort + int(n.id) - 1
			}
			var err error
			if m.port, err = c.pickPort(base, prev, n.id, func(b BrokerStatus) string { return b.Addr }); err != nil {
				return err
			}
		} else {
			name = "controller-" + strconv.Itoa(int(n.id))
		}
		if m.isController() {
			base := 0
			if opts.BasePort > 0 {
				base, nextCtrl = nextCtrl, nextCtrl+1
			}
			var err error
			if m.ctrlPort, err = c.pickPort(base, prev, n.id, func(b BrokerStatus) string { return b.ControllerAddr }); err != nil {
				return err
			}
		}
		m.dataDir = filepath.Join(opts.DataDir, name)
		m.configPath = filepath.Join(opts.DataDir, name+".properties")
		m.logPath = filepath.Join(opts.DataDir, name+".log")
		c.brokers = append(c.brokers, m)
	}
	return nil
}

// pickPort is base when set, else the port the earlier run recorded for
// node id (addr picks which of its addresses), else a free one.
func (c *Cluster) pickPort(base int, prev *ClusterState, id int32, addr func(BrokerStatus) string) (int, error) {
	port := base
	if port == 0 && prev != nil {
		for _, b := range prev.Brokers {
			if b.ID == id {
				if _, p, err := net.SplitHostPort(addr(b)); err == nil {
					port, _ = strconv.Atoi(p)
				}
			}
		}
	}
	if port == 0 || !portFree(c.opts.Host, port) {
		return freePort(c.opts.Host)
	}
	return port, nil
}

func freePort(host string) (int, error) {
	l, err := net.Listen("tcp", net.JoinHostPort(host, "0"))
	if err != nil {
		return 0, fmt.Errorf("supervisor: finding a free port: %w", err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port, nil
}

func portFree(host string, port int) bool {
	l, err := net.Listen("tcp", net.JoinHostPort(host, strconv.Itoa(port)))
	if err != nil {
		return false
	}
	l.Close()
	return true
}

// config is broker m's configuration.
func (c *Cluster) config(m *member) (broker.Config, error) {
	props := c.properties(m)
	cfg, err := broker.ConfigFromProperties(props, c.log)
	if err != nil {
		return broker.Config{}, fmt.Errorf("supervisor: broker %d config: %w", m.id, err)
	}
	return cfg, nil
}

// properties are broker m's server.properties settings before parsing.
func (c *Cluster) properties(m *member) map[string]string {
	n := c.opts.Brokers
	props := map[string]string{
		"log.dirs":                         m.dataDir,
		"num.partitions":                   "3",
		"default.replication.factor":       strconv.Itoa(min(n, 3)),
		"offsets.topic.replication.factor": strconv.Itoa(min(n, 3)),
		"offsets.topic.num.partitions":     "10",
		"group.initial.rebalance.delay.ms": "0",
		"replica.lag.time.max.ms":          "10000",
	}
	if c.opts.KRaft {
		maps.Copy(props, c.kraftProperties(m))
	} else {
		props["broker.id"] = strconv.Itoa(int(m.id))
		props["listeners"] = c.opts.listenerName() + "://" + c.addr(m)
		props["zookeeper.session.timeout.ms"] = "6000"
	}
	if c.opts.ZooKeeper != "" {
		props["zookeeper.connect"] = c.opts.ZooKeeper
	}
	maps.Copy(props, c.opts.Properties)
	return props
}

// writeConfig writes broker m's server.properties.
func (c *Cluster) writeConfig(m *member) error {
	cfg, err := c.config(m)
	if err != nil {
		return err
	}
	if c.opts.KRaft {
		return c.writeKRaftConfig(m, cfg)
	}
	// Owner-only: the file may hold passwords (JAAS configurations).
	f, err := os.OpenFile(m.configPath, os.O_CREATE|os.O_WRONLY|os.O_TRUNC, 0o600)
	if err != nil {
		return fmt.Errorf("supervisor: %w", err)
	}
	if err := f.Chmod(0o600); err != nil {
		f.Close()
		return fmt.Errorf("supervisor: %w", err)
	}
	fmt.Fprintf(f, "# Generated by the Osprey cluster supervisor for broker %d.\n", m.id)
	if err := cfg.WriteProperties(f); err != nil {
		f.Close()
		return fmt.Errorf("supervisor: writing %s: %w", m.configPath, err)
	}
	return f.Close()
}

// Start starts every broker and waits until all of them are registered
// in the metadata store (or ctx ends). For the in-process store it first restores the metadata saved
// by an earlier run.
func (c *Cluster) Start(ctx context.Context) error {
	c.mu.Lock()
	if c.closed {
		c.mu.Unlock()
		return errors.New("supervisor: cluster closed")
	}
	c.mu.Unlock()
	if c.opts.Mode == InProcess && !c.opts.KRaft && c.opts.ZooKeeper == "" && c.store == nil {
		c.store = local.NewServer()
		c.connector = c.store.Connector(6 * time.Second)
		if err := c.restoreMetadata(ctx); err != nil {
			return err
		}
		c.stopPersist, c.persistDone = make(chan struct{}), make(chan struct{})
		go c.persistLoop()
	}
	if !c.opts.KRaft {
		if err := c.writeZKScramUsers(ctx); err != nil {
			return err
		}
	}
	errs := make(chan error, len(c.brokers))
	for _, m := range c.brokers {
		go func() { errs <- c.StartBroker(ctx, m.id) }()
	}
	var all []error
	for range c.brokers {
		all = append(all, <-errs)
	}
	if err := errors.Join(all...); err != nil {
		return err
	}
	if err := c.writeState(); err != nil {
		return err
	}
	if c.opts.KRaft {
		return c.waitKRaftBrokers(ctx, c.opts.Brokers)
	}
	return c.waitMembers(ctx, len(c.brokers))
}

// waitMembers waits until n brokers are registered in the metadata store
// (/brokers/ids), the source every broker's view is fed from.
func (c *Cluster) waitMembers(ctx context.Context, n int) error {
	s, err := c.connectStore(ctx)
	if err != nil {
		return err
	}
	defer s.Close()
	for {
		ids, _, err := s.Children(ctx, zkdata.BrokerIDsPath)
		if err == nil && len(ids) >= n {
			return nil
		}
		if err == nil {
			err = fmt.Errorf("%d brokers registered", len(ids))
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("supervisor: waiting for %d brokers to join: %w (last: %v)", n, ctx.Err(), err)
		case <-time.After(100 * time.Millisecond):
		}
	}
}

func (c *Cluster) member(id int32) (*member, error) {
	for _, m := range c.brokers {
		if m.id == id {
			return m, nil
		}
	}
	return nil, fmt.Errorf("supervisor: no broker %d", id)
}

func (c *Cluster) setState(m *member, s State, errMsg string) {
	m.state, m.since, m.err = s, time.Now(), errMsg
}

// StartBroker starts one stopped, killed or failed broker and returns once
// it accepts connections.
func (c *Cluster) StartBroker(ctx context.Context, id int32) error {
	c.mu.Lock()
	m, err := c.member(id)
	if err != nil {
		c.mu.Unlock()
		return err
	}
	if c.closed {
		c.mu.Unlock()
		return errors.New("supervisor: cluster closed")
	}
	if m.state == StateRunning || m.state == StateStarting {
		c.mu.Unlock()
		return nil
	}
	c.setState(m, StateStarting, "")
	c.mu.Unlock()

	if err := c.writeConfig(m); err != nil {
		c.fail(m, err)
		return err
	}
	if c.opts.KRaft {
		if err := c.format(ctx, m); err != nil {
			c.fail(m, err)
			return err
		}
	}
	if c.opts.Mode == InProcess && !m.isBroker() {
		err = c.startController(ctx, m)
	} else if c.opts.Mode == InProcess {
		err = c.startInProcess(ctx, m)
	} else {
		err = c.startChild(ctx, m)
	}
	if err != nil {
		c.fail(m, err)
		return err
	}
	c.mu.Lock()
	c.setState(m, StateRunning, "")
	c.mu.Unlock()
	c.log.Info("broker started", "broker", id, "addr", c.addr(m))
	_ = c.writeState()
	return nil
}

func (c *Cluster) fail(m *member, err error) {
	c.mu.Lock()
	c.setState(m, StateFailed, err.Error())
	c.mu.Unlock()
	c.log.Error("broker failed to start", "broker", m.id, "err", err)
	_ = c.writeState()
}

func (c *Cluster) startInProcess(ctx context.Context, m *member) error {
	cfg, err := c.config(m)
	if err != nil {
		return err
	}
	return c.startLogged(ctx, m, "broker", func(log *slog.Logger) (starter, error) {
		var b *broker.Broker
		// A broker whose log dir fails halts; in this process it stops
		// alone and is recorded as failed, with the reason.
		opts := []broker.Option{broker.WithLogger(log), broker.WithHaltHandler(func(reason error) { c.brokerHalted(m, b, reason) })}
		if c.connector != nil {
			opts = append(opts, broker.WithMetaStore(c.connector))
		}
		b, err := broker.New(cfg, opts...)
		if err != nil {
			return nil, err
		}
		return b, nil
	})
}

// brokerHalted records an in-process broker that stopped on its own
// because every log dir failed.
func (c *Cluster) brokerHalted(m *member, b *broker.Broker, reason error) {
	c.mu.Lock()
	if m.b != b {
		c.mu.Unlock()
		return // stopped by the supervisor meanwhile
	}
	lf := m.logFile
	m.b, m.logFile = nil, nil
	// One line: joined errors (errors.Join) put each part on its own.
	c.setState(m, StateFailed, "halted: "+strings.ReplaceAll(reason.Error(), "\n", "; "))
	c.mu.Unlock()
	c.log.Error("broker halted", "broker", m.id, "reason", reason)
	if lf != nil {
		lf.Close()
	}
	_ = c.writeState()
}

// starter is an in-process node: a *broker.Broker or a *broker.Controller.
type starter interface {
	Start(ctx context.Context) error
}

// startLogged builds an in-process node logging to m's log file, starts it
// (bounded by two minutes) and records it in m.
func (c *Cluster) startLogged(ctx context.Context, m *member, what string, build func(*slog.Logger) (starter, error)) error {
	lf, err := os.OpenFile(m.logPath, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
	if err != nil {
		return fmt.Errorf("supervisor: opening %s: %w", m.logPath, err)
	}
	n, err := build(slog.New(slog.NewTextHandler(lf, nil)))
	if err != nil {
		lf.Close()
		return err
	}
	sctx, cancel := context.WithTimeout(ctx, 2*time.Minute)
	defer cancel()
	if err := n.Start(sctx); err != nil {
		lf.Close()
		return fmt.Errorf("supervisor: starting %s %d: %w", what, m.id, err)
	}
	c.mu.Lock()
	switch n := n.(type) {
	case *broker.Broker:
		m.b = n
	case *broker.Controller:
		m.ctl = n
	}
	m.logFile = lf
	c.mu.Unlock()
	return nil
}

func (c *Cluster) startChild(ctx context.Context, m *member) error {
	lf, err := os.OpenFile(m.logPath, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
	if err != nil {
		return fmt.Errorf("supervisor: opening %s: %w", m.logPath, err)
	}
	cmd := exec.Command(c.opts.Binary, "broker", "--config", m.configPath)
	cmd.Stdout, cmd.Stderr = lf, lf
	// Own process group: a Ctrl-C at the terminal reaches the supervisor,
	// which stops the brokers in order, not every broker at once.
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	if err := cmd.Start(); err != nil {
		lf.Close()
		return fmt.Errorf("supervisor: starting %s: %w", c.opts.Binary, err)
	}
	exited := make(chan struct{})
	c.mu.Lock()
	m.cmd, m.exited, m.killing = cmd, exited, false
	c.mu.Unlock()
	go func() {
		err := cmd.Wait()
		lf.Close()
		c.mu.Lock()
		if m.cmd == cmd {
			m.cmd = nil
			if !m.killing {
				msg := "exited"
				if err != nil {
					msg = err.Error()
					if line := haltLine(m.logPath); line != "" {
						msg += ": " + line
					}
				}
				c.setState(m, StateFailed, msg)
				c.log.Warn("broker exited", "broker", m.id, "err", err)
			}
		}
		c.mu.Unlock()
		// State first: whoever waits on exited (halt, Close) may remove
		// the data directory next, and no write may land after that.
		_ = c.writeState()
		close(exited)
	}()
	// Ready when it accepts connections (a controller-only node on its
	// CONTROLLER listener).
	addr := c.addr(m)
	deadline := time.Now().Add(2 * time.Minute)
	for {
		conn, err := net.DialTimeout("tcp", addr, 500*time.Millisecond)
		if err == nil {
			conn.Close()
			return nil
		}
		select {
		case <-exited:
			return fmt.Errorf("supervisor: broker %d exited during start-up (see %s)", m.id, m.logPath)
		case <-ctx.Done():
			_ = cmd.Process.Kill()
			<-exited
			return ctx.Err()
		case <-time.After(100 * time.Millisecond):
		}
		if time.Now().After(deadline) {
			_ = cmd.Process.Kill()
			<-exited
			return fmt.Errorf("supervisor: broker %d not listening on %s", m.id, addr)
		}
	}
}

// StopBroker stops one broker gracefully (SIGTERM for a child, waiting up
// to ctx's deadline before SIGKILL; Close for an in-process broker).
func (c *Cluster) StopBroker(ctx context.Context, id int32) error {
	return c.halt(ctx, id, false)
}

// KillBroker stops one broker at once: SIGKILL for a child process (its
// logs are recovered at the next start, its registration lasts until its
// ZooKeeper session times out). An in-process broker cannot crash apart
// from its process: it is closed as by StopBroker (connections dropped,
// registration removed at once) and recorded as killed.
func (c *Cluster) KillBroker(id int32) error {
	return c.halt(context.Background(), id, true)
}

func (c *Cluster) halt(ctx context.Context, id int32, kill bool) error {
	c.mu.Lock()
	m, err := c.member(id)
	if err != nil {
		c.mu.Unlock()
		return err
	}
	b, ctl, lf, cmd, exited := m.b, m.ctl, m.logFile, m.cmd, m.exited
	m.b, m.ctl, m.logFile, m.killing = nil, nil, nil, true
	c.mu.Unlock()
	var herr error
	switch {
	case b != nil:
		herr = b.Close()
		lf.Close()
	case ctl != nil:
		herr = ctl.Close()
		lf.Close()
	case cmd != nil:
		if kill {
			_ = cmd.Process.Signal(syscall.SIGKILL)
			<-exited
		} else {
			_ = cmd.Process.Signal(syscall.SIGTERM)
			select {
			case <-exited:
			case <-ctx.Done():
				_ = cmd.Process.Signal(syscall.SIGKILL)
				<-exited
			case <-time.After(30 * time.Second):
				_ = cmd.Process.Signal(syscall.SIGKILL)
				<-exited
			}
		}
	}
	c.mu.Lock()
	if kill {
		c.setState(m, StateKilled, "")
	} else {
		c.setState(m, StateStopped, "")
	}
	c.mu.Unlock()
	c.log.Info("broker stopped", "broker", id, "kill", kill)
	_ = c.writeState()
	return herr
}

// RestartBroker stops a broker gracefully and starts it again.
func (c *Cluster) RestartBroker(ctx context.Context, id int32) error {
	if err := c.StopBroker(ctx, id); err != nil {
		c.log.Warn("stopping broker for restart", "broker", id, "err", err)
	}
	return c.StartBroker(ctx, id)
}

// addr is m's data listener, or a controller-only node's CONTROLLER
// listener.
func (c *Cluster) addr(m *member) string {
	if !m.isBroker() {
		return c.controllerAddr(m)
	}
	return net.JoinHostPort(c.opts.Host, strconv.Itoa(m.port))
}

// controllerAddr is a KRaft voter's CONTROLLER listener ("" for others).
func (c *Cluster) controllerAddr(m *member) string {
	if m.ctrlPort == 0 {
		return ""
	}
	return net.JoinHostPort(c.opts.Host, strconv.Itoa(m.ctrlPort))
}

// isBroker says whether m has the broker role (every ZooKeeper-mode node).
func (m *member) isBroker() bool {
	return m.roles == nil || slices.Contains(m.roles, broker.RoleBroker)
}

// isController says whether m is a KRaft voter.
func (m *member) isController() bool { return slices.Contains(m.roles, broker.RoleController) }

// Status reports every broker, by id.
func (c *Cluster) Status() []BrokerStatus {
	c.mu.Lock()
	defer c.mu.Unlock()
	out := make([]BrokerStatus, 0, len(c.brokers))
	for _, m := range c.brokers {
		s := BrokerStatus{ID: m.id, State: m.state, Roles: slices.Clone(m.roles), Addr: c.addr(m),
			ControllerAddr: c.controllerAddr(m), DataDir: m.dataDir, ConfigPath: m.configPath,
			LogPath: m.logPath, Since: m.since, Error: m.err}
		switch {
		case m.cmd != nil && m.cmd.Process != nil:
			s.PID = m.cmd.Process.Pid
		case m.b != nil || m.ctl != nil:
			s.PID = os.Getpid()
		}
		out = append(out, s)
	}
	return out
}

func (c *Cluster) bootstrapList() []string {
	c.mu.Lock()
	defer c.mu.Unlock()
	out := make([]string, 0, len(c.brokers))
	for _, m := range c.brokers {
		if m.isBroker() {
			out = append(out, c.addr(m))
		}
	}
	return out
}

// BootstrapServers is the comma-separated list of every broker's address
// (running or not: clients skip the ones that do not answer); KRaft
// controller-only nodes have none.
func (c *Cluster) BootstrapServers() string { return strings.Join(c.bootstrapList(), ",") }

// Broker returns the in-process broker with that id while it runs (for
// its metrics registry), else nil.
func (c *Cluster) Broker(id int32) *broker.Broker {
	c.mu.Lock()
	defer c.mu.Unlock()
	m, err := c.member(id)
	if err != nil {
		return nil
	}
	return m.b
}

// Logs returns the last n lines of a broker's log file.
func (c *Cluster) Logs(id int32, n int) (string, error) {
	c.mu.Lock()
	m, err := c.member(id)
	c.mu.Unlock()
	if err != nil {
		return "", err
	}
	return tail(m.logPath, n)
}

// haltLine is the fatal line a broker logs before it halts because every
// log dir failed, if its log ends with one.
func haltLine(path string) string {
	t, err := tail(path, 20)
	if err != nil {
		return ""
	}
	lines := strings.Split(t, "\n")
	for i := len(lines) - 1; i >= 0; i-- {
		if strings.Contains(lines[i], "Shutdown broker because all log dirs") {
			return lines[i]
		}
	}
	return ""
}

func tail(path string, n int) (string, error) {
	f, err := os.Open(path)
	if err != nil {
		return "", err
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil {
		return "", err
	}
	const maxRead = 1 << 20
	off := max(st.Size()-maxRead, 0)
	buf := make([]byte, st.Size()-off)
	if _, err := f.ReadAt(buf, off); err != nil && !errors.Is(err, io.EOF) {
		return "", err
	}
	lines := strings.Split(strings.TrimRight(string(buf), "\n"), "\n")
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return strings.Join(lines, "\n"), nil
}

// Close stops every broker gracefully, saves the in-process metadata and
// records the final state. Safe to call twice.
func (c *Cluster) Close() error {
	c.mu.Lock()
	if c.closed {
		c.mu.Unlock()
		return nil
	}
	c.closed = true
	ids := make([]int32, 0, len(c.brokers))
	for _, m := range c.brokers {
		ids = append(ids, m.id)
	}
	c.mu.Unlock()
	// Metadata first: a broker closing removes only its ephemeral nodes.
	var errs []error
	if c.stopPersist != nil {
		close(c.stopPersist)
		<-c.persistDone
	}
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	var wg sync.WaitGroup
	var emu sync.Mutex
	for _, id := range ids {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if err := c.StopBroker(ctx, id); err != nil {
				emu.Lock()
				errs = append(errs, err)
				emu.Unlock()
			}
		}()
	}
	wg.Wait()
	if c.store != nil {
		errs = append(errs, c.saveMetadata(), c.store.Close())
	}
	errs = append(errs, c.writeState())
	return errors.Join(errs...)
}

// ---- state file ----

// StateFile is the name of the state file in the data directory.
const StateFile = "cluster.json"

// ClusterState is what cluster.json records.
type ClusterState struct {
	Mode      Mode   `json:"mode"`
	KRaft     bool   `json:"kraft,omitempty"`
	ClusterID string `json:"cluster_id,omitempty"` // KRaft: the id the nodes are formatted with
	// Controllers is the number of controller-only KRaft nodes (0:
	// combined nodes).
	Controllers   int            `json:"controllers,omitempty"`
	ZooKeeper     string         `json:"zookeeper,omitempty"`
	SupervisorPID int            `json:"supervisor_pid"` // the process running the Cluster
	Bootstrap     string         `json:"bootstrap_servers"`
	Brokers       []BrokerStatus `json:"brokers"`
	Updated       time.Time      `json:"updated"`
}

func (c *Cluster) writeState() error {
	st := ClusterState{Mode: c.opts.Mode, KRaft: c.opts.KRaft, ClusterID: c.clusterID, Controllers: c.opts.Controllers,
		ZooKeeper: c.opts.ZooKeeper, SupervisorPID: os.Getpid(),
		Bootstrap: c.BootstrapServers(), Brokers: c.Status(), Updated: time.Now()}
	data, err := json.MarshalIndent(st, "", "  ")
	if err != nil {
		return err
	}
	return writeFileAtomic(filepath.Join(c.opts.DataDir, StateFile), data)
}

// ReadState reads dir/cluster.json (nil, error if absent).
func ReadState(dir string) (*ClusterState, error) {
	data, err := os.ReadFile(filepath.Join(dir, StateFile))
	if err != nil {
		return nil, err
	}
	var st ClusterState
	if err := json.Unmarshal(data, &st); err != nil {
		return nil, fmt.Errorf("supervisor: %s: %w", StateFile, err)
	}
	sort.Slice(st.Brokers, func(i, j int) bool { return st.Brokers[i].ID < st.Brokers[j].ID })
	return &st, nil
}

// ProcessAlive reports whether pid is a live process.
func ProcessAlive(pid int) bool {
	if pid <= 0 {
		return false
	}
	err := syscall.Kill(pid, 0)
	return err == nil || errors.Is(err, syscall.EPERM)
}

// Reachable reports whether addr accepts TCP connections.
func Reachable(addr string) bool {
	conn, err := net.DialTimeout("tcp", addr, time.Second)
	if err != nil {
		return false
	}
	conn.Close()
	return true
}

func writeFileAtomic(path string, data []byte) error {
	if err := atomicfile.Write(path, data, 0o644); err != nil {
		return fmt.Errorf("supervisor: %w", err)
	}
	return nil
}

// IDs returns the node ids (brokers and controller-only nodes), ascending.
func (c *Cluster) IDs() []int32 {
	c.mu.Lock()
	defer c.mu.Unlock()
	ids := make([]int32, 0, len(c.brokers))
	for _, m := range c.brokers {
		ids = append(ids, m.id)
	}
	slices.Sort(ids)
	return ids
}
