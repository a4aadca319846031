// Package supervisor stands up and manages a local Kafka-compatible
// cluster of Osprey brokers: N brokers either in this process, sharing an
// in-process metadata store (metastore/local, persisted to the data
// directory) or a ZooKeeper ensemble, or as child processes (`osprey broker
// --config <generated server.properties>`) on a ZooKeeper ensemble. Each
// broker gets its own data directory, port and log file; the supervisor
// starts, stops (gracefully), kills (SIGKILL for a child; an immediate close
// for an in-process broker) and restarts each one, and reports their state.
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

	"github.com/osprey-kafka/osprey/broker"
	"github.com/osprey-kafka/osprey/broker/metastore"
	"github.com/osprey-kafka/osprey/broker/metastore/local"
	"github.com/osprey-kafka/osprey/broker/metastore/zk"
	"github.com/osprey-kafka/osprey/broker/zkdata"

	"github.com/osprey-kafka/osprey/internal/atomicfile"
)

// Mode says where brokers run.
type Mode string

const (
	// InProcess runs the brokers in this process.
	InProcess Mode = "in-process"
	// ChildProcess runs each broker as `osprey broker` child process; it
	// needs a ZooKeeper ensemble (Options.ZooKeeper).
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
	// ZooKeeper is a connect string host:port[,host:port][/chroot]. Empty
	// means the in-process store (InProcess only).
	ZooKeeper string
	// DataDir holds broker-<id>/ (log.dirs), broker-<id>.properties,
	// broker-<id>.log, metadata.json (the in-process store) and
	// cluster.json. Required.
	DataDir string
	// Host the brokers listen on and advertise (default 127.0.0.1).
	Host string
	// BasePort: broker i listens on BasePort+i-1; 0 picks free ports
	// (kept across restarts of the Cluster through cluster.json).
	BasePort int
	// Binary is the osprey executable for ChildProcess (default: this
	// process's executable).
	Binary string
	// Properties are extra broker properties (Kafka names) for every
	// broker, over the supervisor's defaults.
	Properties map[string]string
	// Logger receives the supervisor's own messages (default slog.Default()).
	Logger *slog.Logger
}

// BrokerStatus is one broker's state as the console shows it.
type BrokerStatus struct {
	ID         int32     `json:"id"`
	State      State     `json:"state"`
	Addr       string    `json:"addr"` // host:port
	PID        int       `json:"pid"`  // child process id; this process's for in-process brokers; 0 when not running
	DataDir    string    `json:"data_dir"`
	ConfigPath string    `json:"config_path"`
	LogPath    string    `json:"log_path"`
	Since      time.Time `json:"since"` // last state change
	Error      string    `json:"error,omitempty"`
}

// Cluster is a supervised local cluster. Its methods are safe for
// concurrent use.
type Cluster struct {
	opts Options
	log  *slog.Logger

	store     *local.Server       // InProcess without ZooKeeper
	connector metastore.Connector // for in-process brokers; nil = zookeeper.connect

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
	port       int
	dataDir    string
	configPath string
	logPath    string

	state State
	since time.Time
	err   string

	b       *broker.Broker // in-process
	logFile *os.File       // in-process log sink
	cmd     *exec.Cmd      // child process
	exited  chan struct{}  // closed when the child exits
	killing bool           // the supervisor is stopping/killing it
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
	if opts.Mode == ChildProcess && opts.ZooKeeper == "" {
		return nil, errors.New("supervisor: child-process brokers need a ZooKeeper connect string")
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
	prev, _ := ReadState(dir) // ports of an earlier run, if any
	for i := 1; i <= opts.Brokers; i++ {
		id := int32(i)
		port := 0
		switch {
		case opts.BasePort > 0:
			port = opts.BasePort + i - 1
		case prev != nil:
			for _, b := range prev.Brokers {
				if b.ID == id {
					if _, p, err := net.SplitHostPort(b.Addr); err == nil {
						port, _ = strconv.Atoi(p)
					}
				}
			}
		}
		if port == 0 || !portFree(opts.Host, port) {
			if port, err = freePort(opts.Host); err != nil {
				return nil, err
			}
		}
		m := &member{id: id, port: port, state: StateStopped, since: time.Now(),
			dataDir:    filepath.Join(dir, "broker-"+strconv.Itoa(i)),
			configPath: filepath.Join(dir, "broker-"+strconv.Itoa(i)+".properties"),
			logPath:    filepath.Join(dir, "broker-"+strconv.Itoa(i)+".log")}
		c.brokers = append(c.brokers, m)
	}
	for _, m := range c.brokers {
		if err := c.writeConfig(m); err != nil {
			return nil, err
		}
	}
	return c, nil
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
	n := c.opts.Brokers
	props := map[string]string{
		"broker.id":                        strconv.Itoa(int(m.id)),
		"listeners":                        "PLAINTEXT://" + net.JoinHostPort(c.opts.Host, strconv.Itoa(m.port)),
		"log.dirs":                         m.dataDir,
		"num.partitions":                   "3",
		"default.replication.factor":       strconv.Itoa(min(n, 3)),
		"offsets.topic.replication.factor": strconv.Itoa(min(n, 3)),
		"offsets.topic.num.partitions":     "10",
		"group.initial.rebalance.delay.ms": "0",
		"zookeeper.session.timeout.ms":     "6000",
		"replica.lag.time.max.ms":          "10000",
	}
	if c.opts.ZooKeeper != "" {
		props["zookeeper.connect"] = c.opts.ZooKeeper
	}
	for k, v := range c.opts.Properties {
		props[k] = v
	}
	cfg, err := broker.ConfigFromProperties(props, c.log)
	if err != nil {
		return broker.Config{}, fmt.Errorf("supervisor: broker %d config: %w", m.id, err)
	}
	return cfg, nil
}

// writeConfig writes broker m's server.properties.
func (c *Cluster) writeConfig(m *member) error {
	cfg, err := c.config(m)
	if err != nil {
		return err
	}
	f, err := os.Create(m.configPath)
	if err != nil {
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
	if c.opts.Mode == InProcess && c.opts.ZooKeeper == "" && c.store == nil {
		c.store = local.NewServer()
		c.connector = c.store.Connector(6 * time.Second)
		if err := c.restoreMetadata(ctx); err != nil {
			return err
		}
		c.stopPersist, c.persistDone = make(chan struct{}), make(chan struct{})
		go c.persistLoop()
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
	return c.waitMembers(ctx, len(c.brokers))
}

// waitMembers waits until n brokers are registered in the metadata store
// (/brokers/ids), the source every broker's view is fed from.
func (c *Cluster) waitMembers(ctx context.Context, n int) error {
	conn := c.connector
	if conn == nil {
		servers, chroot, err := zk.ParseConnectString(c.opts.ZooKeeper)
		if err != nil {
			return fmt.Errorf("supervisor: zookeeper connect string: %w", err)
		}
		conn = zk.Connector(zk.Config{Servers: servers, Chroot: chroot, Logger: c.log})
	}
	s, err := conn.Connect(ctx)
	if err != nil {
		return fmt.Errorf("supervisor: connecting to the metadata store: %w", err)
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
	if c.opts.Mode == InProcess {
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
	lf, err := os.OpenFile(m.logPath, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
	if err != nil {
		return fmt.Errorf("supervisor: opening %s: %w", m.logPath, err)
	}
	opts := []broker.Option{broker.WithLogger(slog.New(slog.NewTextHandler(lf, nil)))}
	if c.connector != nil {
		opts = append(opts, broker.WithMetaStore(c.connector))
	}
	b, err := broker.New(cfg, opts...)
	if err != nil {
		lf.Close()
		return err
	}
	sctx, cancel := context.WithTimeout(ctx, 2*time.Minute)
	defer cancel()
	if err := b.Start(sctx); err != nil {
		lf.Close()
		return fmt.Errorf("supervisor: starting broker %d: %w", m.id, err)
	}
	c.mu.Lock()
	m.b, m.logFile = b, lf
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
	// Ready when it accepts connections.
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
	b, lf, cmd, exited := m.b, m.logFile, m.cmd, m.exited
	m.b, m.logFile, m.killing = nil, nil, true
	c.mu.Unlock()
	var herr error
	switch {
	case b != nil:
		herr = b.Close()
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
	c.log.Info("broker halted", "broker", id, "kill", kill)
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

func (c *Cluster) addr(m *member) string {
	return net.JoinHostPort(c.opts.Host, strconv.Itoa(m.port))
}

// Status reports every broker, by id.
func (c *Cluster) Status() []BrokerStatus {
	c.mu.Lock()
	defer c.mu.Unlock()
	out := make([]BrokerStatus, 0, len(c.brokers))
	for _, m := range c.brokers {
		s := BrokerStatus{ID: m.id, State: m.state, Addr: c.addr(m), DataDir: m.dataDir, ConfigPath: m.configPath,
			LogPath: m.logPath, Since: m.since, Error: m.err}
		switch {
		case m.cmd != nil && m.cmd.Process != nil:
			s.PID = m.cmd.Process.Pid
		case m.b != nil:
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
		out = append(out, c.addr(m))
	}
	return out
}

// BootstrapServers is the comma-separated list of every broker's address
// (running or not: clients skip the ones that do not answer).
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
	Mode          Mode           `json:"mode"`
	ZooKeeper     string         `json:"zookeeper,omitempty"`
	SupervisorPID int            `json:"supervisor_pid"` // the process running the Cluster
	Bootstrap     string         `json:"bootstrap_servers"`
	Brokers       []BrokerStatus `json:"brokers"`
	Updated       time.Time      `json:"updated"`
}

func (c *Cluster) writeState() error {
	st := ClusterState{Mode: c.opts.Mode, ZooKeeper: c.opts.ZooKeeper, SupervisorPID: os.Getpid(),
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

// IDs returns the broker ids, ascending.
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
