package broker

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"path/filepath"
	"slices"
	"sync"
	"time"

	"github.com/osprey-kafka/osprey/broker/quorum"
	"github.com/osprey-kafka/osprey/broker/storage"
)

// logStore spreads partition logs over the log dirs, one storage.Manager
// per dir (or one memory Manager when log.dirs is not set).
type logStore struct {
	mgrs    []*storage.Manager
	cleaner *storage.Cleaner // nil unless log.cleaner.enable and log dirs; set at start

	mu    sync.Mutex // guards where
	where map[string]*storage.Manager
}

// dataLogs lists a dir's partition logs without the KRaft metadata log
// (__cluster_metadata-0), which shares the metadata dir but belongs to the
// quorum: the broker never opens, retains, reports or deletes it.
func dataLogs(m *storage.Manager) []storage.PartitionLog {
	ls := m.Logs()
	return slices.DeleteFunc(ls, func(pl storage.PartitionLog) bool { return pl.Topic == quorum.MetadataTopic })
}

// managerFor returns the manager of dir, if it is one of the log dirs.
func (s *logStore) managerFor(dir string) (*storage.Manager, bool) {
	for _, m := range s.mgrs {
		if m.Dir() != "" && filepath.Clean(m.Dir()) == filepath.Clean(dir) {
			return m, true
		}
	}
	return nil, false
}

// openLogStore opens every log dir, recovering its logs, and checks or
// writes meta.properties. It returns the cluster id found (or given, or
// generated). dirFailed is told, on a goroutine of its own, when a dir
// goes offline (storage.ErrLogDirOffline).
func openLogStore(cfg Config, log *slog.Logger, dirFailed func(dir string, cause error)) (*logStore, string, error) {
	s := &logStore{where: map[string]*storage.Manager{}}
	clusterID := cfg.ClusterID
	if cfg.KRaft() {
		id, err := checkFormatted(cfg)
		if err != nil {
			return nil, "", err
		}
		clusterID = id
	}
	if len(cfg.LogDirs) == 0 {
		s.mgrs = []*storage.Manager{storage.NewMemoryManager(log, storage.WithDefaultConfig(cfg.brokerLogDefaults()))}
		if clusterID == "" {
			clusterID = newClusterID()
		}
		return s, clusterID, nil
	}
	for _, dir := range cfg.LogDirs {
		m, err := storage.OpenManager(dir, log.With("log_dir", dir), storage.WithDefaultConfig(cfg.brokerLogDefaults()),
			storage.WithLogDirFailureHandler(dirFailed))
		if err != nil {
			s.Close()
			return nil, "", fmt.Errorf("opening log dir %s: %w", dir, err)
		}
		s.mgrs = append(s.mgrs, m)
		props, err := storage.ReadProperties(dirFile(dir, storage.MetaPropertiesFile))
		if err == nil && props["cluster.id"] != "" {
			if clusterID != "" && clusterID != props["cluster.id"] {
				s.Close()
				return nil, "", fmt.Errorf("log dir %s belongs to cluster %s, not %s", dir, props["cluster.id"], clusterID)
			}
			clusterID = props["cluster.id"]
		}
		for _, pl := range dataLogs(m) {
			s.where[tpKey(pl.Topic, pl.Partition)] = m
		}
	}
	if clusterID == "" {
		clusterID = newClusterID()
	}
	if cfg.KRaft() {
		// Formatted ahead (checkFormatted): version 1 files stay as written.
		return s, clusterID, nil
	}
	for _, m := range s.mgrs {
		if err := m.EnsureMetaProperties(clusterID, cfg.BrokerID); err != nil {
			s.Close()
			return nil, "", err
		}
	}
	return s, clusterID, nil
}

func tpKey(topic string, p int32) string { return fmt.Sprintf("%s-%d", topic, p) }

// Open returns the log of topic-partition, creating it in the dir holding
// the fewest logs if no dir has it.
func (s *logStore) Open(topic string, p int32, cfg storage.Config) (storage.Log, error) {
	s.mu.Lock()
	m, ok := s.where[tpKey(topic, p)]
	if !ok {
		m = s.mgrs[0]
		for _, c := range s.mgrs[1:] {
			if len(dataLogs(c)) < len(dataLogs(m)) {
				m = c
			}
		}
		s.where[tpKey(topic, p)] = m
	}
	s.mu.Unlock()
	return m.GetOrCreate(topic, p, cfg)
}

// Delete removes the partition's log and data.
func (s *logStore) Delete(topic string, p int32) error {
	s.mu.Lock()
	m, ok := s.where[tpKey(topic, p)]
	delete(s.where, tpKey(topic, p))
	s.mu.Unlock()
	if !ok {
		return nil
	}
	return m.Delete(topic, p)
}

// orphans lists logs found on disk whose topic is not in known.
func (s *logStore) orphans(known func(topic string) bool) []storage.TopicPartition {
	var out []storage.TopicPartition
	for _, m := range s.mgrs {
		for _, pl := range dataLogs(m) {
			if !known(pl.Topic) {
				out = append(out, pl.TopicPartition)
			}
		}
	}
	return out
}

// online lists the log dirs that have not failed.
func (s *logStore) online() []string {
	var out []string
	for _, m := range s.mgrs {
		if m.Offline() == nil {
			out = append(out, m.Dir())
		}
	}
	return out
}

// runRetention runs each dir's retention and checkpoint loop until ctx ends.
func (s *logStore) runRetention(ctx context.Context, interval time.Duration, wg *sync.WaitGroup) {
	for _, m := range s.mgrs {
		wg.Add(1)
		go func() {
			defer wg.Done()
			m.RunRetention(ctx, interval)
		}()
	}
}

// Close flushes, checkpoints and closes every log.
func (s *logStore) Close() error {
	var errs []error
	for _, m := range s.mgrs {
		errs = append(errs, m.Close())
	}
	return errors.Join(errs...)
}
