package storage

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/osprey-kafka/osprey/internal/topicname"
)

// TopicPartition names a partition.
type TopicPartition struct {
	Topic     string
	Partition int32
}

// String gives Kafka's directory name, <topic>-<partition>.
func (tp TopicPartition) String() string {
	return tp.Topic + "-" + strconv.FormatInt(int64(tp.Partition), 10)
}

// PartitionLog is one entry of Manager.Logs.
type PartitionLog struct {
	TopicPartition
	Log Log
}

// Kafka's checkpoint file names in a log dir.
const (
	RecoveryPointCheckpointFile  = "recovery-point-offset-checkpoint"
	LogStartOffsetCheckpointFile = "log-start-offset-checkpoint"
	ReplicationCheckpointFile    = "replication-offset-checkpoint"
	MetaPropertiesFile           = "meta.properties"
	lockFileName                 = ".lock"
	deleteDirSuffix              = "-delete"
)

// ManagerOption configures a Manager.
type ManagerOption func(*Manager)

// WithDefaultConfig sets the config that logs found on disk at open get
// until GetOrCreate or UpdateConfig gives them their topic's config (the
// topic configs live in the metadata store, not in the log dir). Default:
// DefaultConfig().
func WithDefaultConfig(cfg Config) ManagerOption { return func(m *Manager) { m.defaultCfg = cfg } }

// WithClock replaces time.Now (tests of roll and retention).
func WithClock(now func() time.Time) ManagerOption { return func(m *Manager) { m.now = now } }

// WithLogDirFailureHandler makes the dir go offline at its first write-path
// I/O error (see ErrLogDirOffline) and sets f to be told, once and on a
// goroutine of its own: Kafka's ReplicaManager.handleLogDirFailure. f may
// close the Manager. Without it the dir never goes offline and each error
// is only returned to its caller.
func WithLogDirFailureHandler(f func(dir string, cause error)) ManagerOption {
	return func(m *Manager) { m.onFail = f }
}

// Manager owns the partition logs of one log.dir (or of memory). Its lock
// guards only the map of logs; each Log has its own lock.
type Manager struct {
	dir        string // "" for a memory manager
	logger     *slog.Logger
	defaultCfg Config
	now        func() time.Time
	lock       *os.File // flock'ed .lock, so two brokers never share a dir
	onFail     func(dir string, cause error)
	// health says whether the dir is online; shared with its file logs.
	// Nil for a memory manager and without WithLogDirFailureHandler.
	health *dirHealth

	mu     sync.Mutex // guards logs and closed
	logs   map[TopicPartition]Log
	closed bool

	ckMu sync.Mutex // serialises checkpoint file writes

	cleanMu        sync.Mutex               // guards cleanerOffsets and writes of cleaner-offset-checkpoint
	cleanerOffsets map[TopicPartition]int64 // first dirty offset of each cleaned log
}

// NewMemoryManager returns a Manager whose logs are memory logs (for
// handler tests). Checkpoints and meta.properties are no-ops.
func NewMemoryManager(logger *slog.Logger, opts ...ManagerOption) *Manager {
	m := newManager("", logger, opts)
	return m
}

func newManager(dir string, logger *slog.Logger, opts []ManagerOption) *Manager {
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	m := &Manager{dir: dir, logger: logger, defaultCfg: DefaultConfig(), now: time.Now, logs: map[TopicPartition]Log{}}
	for _, o := range opts {
		o(m)
	}
	return m
}

// OpenManager opens (creating if needed) the log dir, takes its lock
// file, removes partition directories left marked for deletion, and opens
// every partition directory in it, recovering each log from its
// checkpoints (segments after the recovery point are verified and a torn
// or corrupt tail is truncated, with a Warn log line).
func OpenManager(dir string, logger *slog.Logger, opts ...ManagerOption) (*Manager, error) {
	m := newManager(dir, logger, opts)
	if m.onFail != nil {
		m.health = &dirHealth{dir: dir, logger: m.logger, onFail: m.onFail}
	}
	if err := m.defaultCfg.Validate(); err != nil {
		return nil, fmt.Errorf("default log config: %w", err)
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, fmt.Errorf("creating log dir: %w", errors.Join(ErrStorage, err))
	}
	lf, err := os.OpenFile(filepath.Join(dir, lockFileName), os.O_CREATE|os.O_RDWR, 0o644)
	if err != nil {
		return nil, fmt.Errorf("opening lock file: %w", errors.Join(ErrStorage, err))
	}
	if err := syscall.Flock(int(lf.Fd()), syscall.LOCK_EX|syscall.LOCK_NB); err != nil {
		lf.Close()
		return nil, fmt.Errorf("log dir %s is in use by another process: %w", dir, errors.Join(ErrStorage, err))
	}
	m.lock = lf

	recovery, err := readCheckpoint(filepath.Join(dir, RecoveryPointCheckpointFile))
	if err != nil {
		m.logger.Warn("unreadable checkpoint; recovering all segments", "file", RecoveryPointCheckpointFile, "err", err)
	}
	starts, err := readCheckpoint(filepath.Join(dir, LogStartOffsetCheckpointFile))
	if err != nil {
		m.logger.Warn("unreadable checkpoint", "file", LogStartOffsetCheckpointFile, "err", err)
	}
	hws, err := readCheckpoint(filepath.Join(dir, ReplicationCheckpointFile))
	if err != nil {
		m.logger.Warn("unreadable checkpoint", "file", ReplicationCheckpointFile, "err", err)
	}
	if m.cleanerOffsets, err = readCheckpoint(filepath.Join(dir, CleanerOffsetCheckpointFile)); err != nil {
		// Kafka's answer too: the logs are cleaned again from their start.
		m.logger.Warn("unreadable checkpoint; compacted logs will be cleaned from their start", "file", CleanerOffsetCheckpointFile, "err", err)
		m.cleanerOffsets = map[TopicPartition]int64{}
	}

	ents, err := os.ReadDir(dir)
	if err != nil {
		m.closeLock()
		return nil, fmt.Errorf("listing log dir: %w", errors.Join(ErrStorage, err))
	}
	for _, e := range ents {
		if !e.IsDir() {
			continue
		}
		name := e.Name()
		if strings.HasSuffix(name, deleteDirSuffix) {
			if err := os.RemoveAll(filepath.Join(dir, name)); err != nil {
				m.logger.Warn("removing deleted partition dir", "dir", name, "err", err)
			}
			continue
		}
		tp, ok := parsePartitionDir(name)
		if !ok {
			continue // -future, -stray and foreign directories are left alone
		}
		st := logState{recoveryPoint: -1, logStart: -1, hw: -1}
		if v, ok := recovery[tp]; ok {
			st.recoveryPoint = v
		}
		if v, ok := starts[tp]; ok {
			st.logStart = v
		}
		if v, ok := hws[tp]; ok {
			st.hw = v
		}
		l, err := openFileLog(filepath.Join(dir, name), m.defaultCfg, st, m.logger, m.now)
		if err != nil {
			m.closeAll()
			return nil, fmt.Errorf("opening partition %s: %w", name, err)
		}
		l.health = m.health
		m.logs[tp] = l
	}
	if err := m.WriteCheckpoints(); err != nil {
		m.closeAll()
		return nil, err
	}
	return m, nil
}

// logState is what the checkpoints say about a log; -1 = unknown.
type logState struct {
	recoveryPoint int64
	logStart      int64
	hw            int64
}

// ValidTopicName applies Kafka's rules (internal/topicname), which also keep
// a topic name from escaping the log dir.
func ValidTopicName(topic string) error {
	if err := topicname.Validate(topic); err != nil {
		return fmt.Errorf("%w: topic name %v", ErrInvalidConfig, err)
	}
	return nil
}

func parsePartitionDir(name string) (TopicPartition, bool) {
	i := strings.LastIndexByte(name, '-')
	if i <= 0 {
		return TopicPartition{}, false
	}
	p, err := strconv.ParseInt(name[i+1:], 10, 32)
	if err != nil || p < 0 || ValidTopicName(name[:i]) != nil {
		return TopicPartition{}, false
	}
	return TopicPartition{Topic: name[:i], Partition: int32(p)}, true
}

// Dir is the log dir ("" for a memory manager).
func (m *Manager) Dir() string { return m.dir }

// Offline is nil while the dir is online, else the error (wrapping
// ErrLogDirOffline and the I/O error that caused it) every log of the dir
// answers with.
func (m *Manager) Offline() error { return m.health.err() }

// GetOrCreate returns the partition's log, creating an empty one if it
// does not exist. cfg becomes the log's config either way (a log found on
// disk at open has the default config until then).
func (m *Manager) GetOrCreate(topic string, partition int32, cfg Config) (Log, error) {
	if err := ValidTopicName(topic); err != nil {
		return nil, err
	}
	if partition < 0 {
		return nil, fmt.Errorf("%w: partition %d", ErrInvalidConfig, partition)
	}
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	tp := TopicPartition{topic, partition}
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.closed {
		return nil, ErrLogClosed
	}
	if err := m.health.err(); err != nil {
		return nil, err
	}
	if l, ok := m.logs[tp]; ok {
		return l, l.SetConfig(cfg)
	}
	var l Log
	if m.dir == "" {
		ml := NewMemoryLog(cfg).(*memoryLog)
		ml.now = m.now
		l = ml
	} else {
		fl, err := openFileLog(filepath.Join(m.dir, tp.String()), cfg, logState{recoveryPoint: -1, logStart: -1, hw: -1}, m.logger, m.now)
		if err != nil {
			return nil, m.health.check(fmt.Errorf("creating partition %s: %w", tp, err))
		}
		fl.health = m.health
		l = fl
	}
	m.logs[tp] = l
	return l, nil
}

// Get returns the partition's log if this dir has it.
func (m *Manager) Get(topic string, partition int32) (Log, bool) {
	m.mu.Lock()
	defer m.mu.Unlock()
	l, ok := m.logs[TopicPartition{topic, partition}]
	return l, ok
}

// Delete closes the partition's log and removes its data: the directory
// is first renamed to <topic>-<p>.<uuid>-delete (as Kafka does, so a crash
// mid-delete never leaves a half-deleted live partition) and then removed.
// Reads already handed out keep working until closed. Deleting a partition
// this dir does not have is not an error.
func (m *Manager) Delete(topic string, partition int32) error {
	tp := TopicPartition{topic, partition}
	// The manager lock is held until the directory is renamed, so a
	// concurrent GetOrCreate of the same partition starts a fresh one.
	m.mu.Lock()
	l, ok := m.logs[tp]
	if !ok {
		m.mu.Unlock()
		return nil
	}
	delete(m.logs, tp)
	fl, isFile := l.(*fileLog)
	if !isFile {
		m.mu.Unlock()
		return l.Close()
	}
	fl.closeForDelete()
	var id [16]byte
	_, _ = rand.Read(id[:])
	src := filepath.Join(m.dir, tp.String())
	dst := filepath.Join(m.dir, tp.String()+"."+hex.EncodeToString(id[:])+deleteDirSuffix)
	err := os.Rename(src, dst)
	m.mu.Unlock()
	if err != nil {
		return m.health.check(fmt.Errorf("marking %s for deletion: %w", tp, errors.Join(ErrStorage, err)))
	}
	if err := syncDir(m.dir); err != nil {
		return m.health.check(err)
	}
	if err := os.RemoveAll(dst); err != nil {
		return m.health.check(fmt.Errorf("removing %s: %w", dst, errors.Join(ErrStorage, err)))
	}
	if err := m.dropCleanerCheckpoint(tp); err != nil {
		return err
	}
	return m.WriteCheckpoints()
}

// UpdateConfig sets cfg on every partition of topic held here.
func (m *Manager) UpdateConfig(topic string, cfg Config) error {
	if err := cfg.Validate(); err != nil {
		return err
	}
	for _, pl := range m.Logs() {
		if pl.Topic == topic {
			if err := pl.Log.SetConfig(cfg); err != nil {
				return fmt.Errorf("config of %s: %w", pl.TopicPartition, err)
			}
		}
	}
	return nil
}

// Logs lists the logs, sorted by topic then partition.
func (m *Manager) Logs() []PartitionLog {
	m.mu.Lock()
	out := make([]PartitionLog, 0, len(m.logs))
	for tp, l := range m.logs {
		out = append(out, PartitionLog{tp, l})
	}
	m.mu.Unlock()
	sort.Slice(out, func(i, j int) bool {
		if out[i].Topic != out[j].Topic {
			return out[i].Topic < out[j].Topic
		}
		return out[i].Partition < out[j].Partition
	})
	return out
}

// EnforceRetention runs one retention pass over all logs (see
// Log.DeleteExpired) and returns the number of segments deleted.
func (m *Manager) EnforceRetention() int {
	total := 0
	now := m.now().UnixMilli()
	for _, pl := range m.Logs() {
		n, err := pl.Log.DeleteExpired(now)
		if err != nil && !errors.Is(err, ErrLogClosed) && !errors.Is(err, ErrLogDirOffline) {
			m.logger.Warn("retention failed", "partition", pl.TopicPartition.String(), "err", err)
		}
		if n > 0 {
			m.logger.Info("deleted segments by retention", "partition", pl.TopicPartition.String(), "segments", n,
				"log_start_offset", pl.Log.LogStartOffset())
		}
		total += n
	}
	return total
}

// RunRetention runs a retention pass, flushes logs whose flush.ms has
// passed, and writes the checkpoint files every interval (Kafka's log.retention.check.interval.ms) until ctx is done.
// It blocks; run it in its own goroutine.
func (m *Manager) RunRetention(ctx context.Context, interval time.Duration) {
	t := time.NewTicker(interval)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		m.EnforceRetention()
		now := m.now().UnixMilli()
		for _, pl := range m.Logs() {
			if fl, ok := pl.Log.(*fileLog); ok {
				if err := fl.flushIfDue(now); err != nil && !errors.Is(err, ErrLogDirOffline) {
					m.logger.Warn("flush.ms flush failed", "partition", pl.TopicPartition.String(), "err", err)
				}
			}
		}
		if err := m.WriteCheckpoints(); err != nil && !errors.Is(err, ErrLogDirOffline) {
			m.logger.Warn("writing checkpoints", "err", err)
		}
	}
}

// WriteCheckpoints writes recovery-point-offset-checkpoint,
// log-start-offset-checkpoint and replication-offset-checkpoint, each
// atomically (temporary file, fsync, rename, fsync of the dir).
func (m *Manager) WriteCheckpoints() error {
	if m.dir == "" {
		return nil
	}
	m.ckMu.Lock()
	defer m.ckMu.Unlock()
	m.mu.Lock()
	closed := m.closed
	m.mu.Unlock()
	if closed {
		// After Close the map is empty: writing would erase the state
		// Close just saved.
		return nil
	}
	if err := m.health.err(); err != nil {
		// The recovery points of a failed dir say nothing reliable.
		return err
	}
	return m.health.check(m.writeCheckpointsLocked())
}

// writeCheckpointsLocked does the work of WriteCheckpoints. ckMu held.
func (m *Manager) writeCheckpointsLocked() error {
	if m.dir == "" {
		return nil
	}
	rec, starts, hws := map[TopicPartition]int64{}, map[TopicPartition]int64{}, map[TopicPartition]int64{}
	for _, pl := range m.Logs() {
		fl, ok := pl.Log.(*fileLog)
		if !ok {
			continue
		}
		rp, ls, hw, ok := fl.checkpointState()
		if !ok {
			continue
		}
		rec[pl.TopicPartition], starts[pl.TopicPartition], hws[pl.TopicPartition] = rp, ls, hw
	}
	for _, c := range []struct {
		name string
		vals map[TopicPartition]int64
	}{{RecoveryPointCheckpointFile, rec}, {LogStartOffsetCheckpointFile, starts}, {ReplicationCheckpointFile, hws}} {
		if err := writeCheckpoint(filepath.Join(m.dir, c.name), c.vals); err != nil {
			return err
		}
	}
	return nil
}

// EnsureMetaProperties checks meta.properties against the broker's
// identity, writing it if missing (ZooKeeper-mode format, version=0). A
// different broker.id or cluster.id is an error, as in Kafka.
func (m *Manager) EnsureMetaProperties(clusterID string, brokerID int32) error {
	if m.dir == "" {
		return nil
	}
	path := filepath.Join(m.dir, MetaPropertiesFile)
	props, err := ReadProperties(path)
	switch {
	case err == nil:
		if got := props["broker.id"]; got != strconv.Itoa(int(brokerID)) {
			return fmt.Errorf("%s has broker.id=%s but this broker is %d", path, got, brokerID)
		}
		if got := props["cluster.id"]; got != "" && clusterID != "" && got != clusterID {
			return fmt.Errorf("%s has cluster.id=%s but the cluster is %s", path, got, clusterID)
		}
		return nil
	case errors.Is(err, os.ErrNotExist):
		body := fmt.Sprintf("#\n#%s\nversion=0\nbroker.id=%d\ncluster.id=%s\n",
			m.now().UTC().Format("Mon Jan 02 15:04:05 MST 2006"), brokerID, clusterID)
		return m.health.check(writeFileAtomic(path, []byte(body)))
	default:
		return err
	}
}

// Close flushes and closes every log, writes the checkpoint files (so the
// recovery points equal the log end offsets and the next open recovers
// nothing) and releases the dir lock. An offline dir is closed without
// writing anything (closeOffline).
func (m *Manager) Close() error {
	m.mu.Lock()
	if m.closed {
		m.mu.Unlock()
		return nil
	}
	m.mu.Unlock()
	if m.health.err() != nil {
		return m.closeOffline()
	}
	var errs []error
	for _, pl := range m.Logs() {
		if err := pl.Log.Flush(); err != nil && !errors.Is(err, ErrLogClosed) {
			errs = append(errs, fmt.Errorf("flushing %s: %w", pl.TopicPartition, err))
		}
	}
	// Checkpoints are written and the manager marked closed under ckMu,
	// so a retention loop still running cannot write after this one.
	m.ckMu.Lock()
	if err := m.writeCheckpointsLocked(); err != nil {
		errs = append(errs, err)
	}
	m.mu.Lock()
	m.closed = true
	m.mu.Unlock()
	m.ckMu.Unlock()
	errs = append(errs, m.closeAll())
	return errors.Join(errs...)
}

// closeOffline closes a failed dir as Kafka's closeHandlers does: file
// descriptors released, nothing flushed and no checkpoint written, so the
// next open recovers every log from the last checkpoints written while
// the dir was healthy.
func (m *Manager) closeOffline() error {
	m.ckMu.Lock()
	m.mu.Lock()
	m.closed = true
	logs := m.logs
	m.logs = map[TopicPartition]Log{}
	m.mu.Unlock()
	m.ckMu.Unlock()
	for _, l := range logs {
		if fl, ok := l.(*fileLog); ok {
			fl.closeForDelete()
		}
	}
	m.closeLock()
	return nil
}

func (m *Manager) closeAll() error {
	var errs []error
	m.mu.Lock()
	logs := m.logs
	m.logs = map[TopicPartition]Log{}
	m.mu.Unlock()
	for tp, l := range logs {
		if err := l.Close(); err != nil && !errors.Is(err, ErrLogClosed) {
			errs = append(errs, fmt.Errorf("closing %s: %w", tp, err))
		}
	}
	m.closeLock()
	return errors.Join(errs...)
}

func (m *Manager) closeLock() {
	if m.lock != nil {
		m.lock.Close() // closing releases the flock
		m.lock = nil
	}
}
