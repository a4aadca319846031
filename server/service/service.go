// Package service is the console's business layer: it owns one admin client and one collector per
// cluster, feeds the collectors' samples to the store, runs retention, and offers context-first methods
// the HTTP handlers call. Handlers never touch kafka-go, kmsg or gorm; they go through here.
package service

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sort"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/osprey-kafka/osprey/admin"
	"github.com/osprey-kafka/osprey/alert"
	"github.com/osprey-kafka/osprey/collector"
	"github.com/osprey-kafka/osprey/store"
)

// Options configures the service.
type Options struct {
	Store  *store.Store
	Logger *slog.Logger
	// Collector holds the poll settings shared by every cluster (Cluster is filled in per cluster).
	Collector collector.Config
	// Retention says how long series are kept; RetentionInterval how often rollup + expiry run.
	Retention         store.RetentionPolicy
	RetentionInterval time.Duration
	// Now is the clock (tests); nil means time.Now.
	Now func() time.Time
	// Watch, when set, is called for each cluster added (alerting).
	Watch Watcher
	// DataDir holds the runtime clusters' data (<DataDir>/runtime/<name>) and the embedded cluster's.
	DataDir string
	// Binary is the osprey executable that child-process brokers run (default: this executable).
	Binary string
	// GroupStatus, when set, gives a group's Burrow-style window status (from the alert evaluator).
	GroupStatus func(cluster, group string) (alert.GroupStatus, bool)
	// GroupStatuses, when set, gives every group's status name (OK/WARN/ERR) for list pages.
	GroupStatuses func(cluster string) map[string]string
	// OnReassignment, when set, is told each change of a reassignment started from the console (started,
	// progress, completed, cancelled, failed) as the server records it, for the event stream. It is
	// called from requests and from the reassignment watcher, and must not block.
	OnReassignment func(ReassignmentEvent)
	// Search bounds message searches (zero fields: DefaultSearchLimits).
	Search SearchLimits
	// Directory, when set, checks sign-in passwords (LDAP); AllowLocal lets local accounts sign in too.
	Directory  Directory
	AllowLocal bool
	// OIDC, when set, offers single sign-on with an OpenID Connect provider.
	OIDC OIDC
	// Instance, when set, names this console among several sharing one database (MariaDB): each
	// cluster is then polled, its samples written and its alerts evaluated only by the console
	// holding its lease (cluster_leases); the others serve its pages from the snapshot the holder
	// stores. Empty (SQLite, one console): every cluster is always polled here.
	Instance string
	// OnLease, when set, is told when this console gains or loses a cluster's lease (alerting takes
	// over or forgets the cluster's alerts). Called from the cluster's lease loop.
	OnLease func(ctx context.Context, cluster string, held bool)
	// SessionIdle and SessionAbsolute end sign-in sessions unused for that long and that long after
	// sign-in (zero: 30 minutes and 12 hours).
	SessionIdle, SessionAbsolute time.Duration
	// AvailabilityIndexEvents bounds each cluster's in-memory index of availability events, which
	// answers the timelines (zero: DefaultAvailabilityIndexEvents).
	AvailabilityIndexEvents int
	// SampleBuffer bounds the time-series samples kept in memory while the database does not answer.
	SampleBuffer SampleBufferOptions
}

// ClusterSpec declares a cluster to monitor.
type ClusterSpec struct {
	Name string
	// Source is where the cluster came from: config, embedded or runtime.
	Source string
	Admin  admin.Config
	// Cleaner reports the brokers' log cleaners (runtime clusters); nil for other clusters.
	Cleaner collector.CleanerSource
	// Security reports the brokers' failed authentications and client quota throttling (runtime
	// clusters); nil for other clusters.
	Security collector.SecuritySource
	// Shares reports the in-flight state of share groups' share-partitions (runtime clusters);
	// nil for other clusters.
	Shares collector.ShareStateSource
}

// cluster is one monitored cluster and the parts that serve it.
type cluster struct {
	spec      ClusterSpec
	client    *admin.Client
	collector *collector.Collector
	unwatch   func()
	// stopWatch ends the reassignment watcher's subscription (closing its channel ends the goroutine).
	stopWatch func()
	// avail turns the watcher's snapshots into availability events; owned by the watcher goroutine.
	avail *availRecorder
	// events holds the availability events in memory for the timelines (nil without a store).
	events *availIndex
	// lease is the cluster's polling lease when several consoles share the database (Options.Instance);
	// nil otherwise.
	lease *leaseKeeper
	// stopLease ends the lease loop; leaseDone is closed when it has returned.
	stopLease context.CancelFunc
	leaseDone chan struct{}
}

// Watcher is told about every cluster's collector (the alert evaluator subscribes to its snapshots);
// it returns the function that stops watching.
type Watcher func(name string, col *collector.Collector) (unwatch func())

// Service is the console's core. Safe for concurrent use.
type Service struct {
	opts Options
	log  *slog.Logger

	mu       sync.RWMutex // guards clusters, running, runCtx
	clusters map[string]*cluster
	running  bool
	runCtx   context.Context

	cancel context.CancelFunc
	wg     sync.WaitGroup

	configs configCache
	orders  orderCache
	storage storageCache
	runtime runtimeSet

	// adminTokenHash is the SHA-256 (hex) of the admin token; set once at start by SetupAdminToken.
	adminTokenHash atomic.Value

	// reassignProgress is the last reassignment progress published per reassignment (its own lock).
	reassignProgress progressMemo

	// searches counts running and ended message searches (its own lock).
	searches searchSet

	// samples queues every cluster's samples for the store (its own lock); nil without a store.
	samples *sampleBuffer
	// auths remembers recently verified sessions and API tokens for when the database does not answer.
	auths authCache
}

// ErrUnknownCluster is returned for a cluster name the console does not know.
var ErrUnknownCluster = errors.New("unknown cluster")

// New builds the service; it does no I/O.
func New(opts Options) *Service {
	if opts.Logger == nil {
		opts.Logger = slog.Default()
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	if opts.RetentionInterval <= 0 {
		opts.RetentionInterval = time.Minute
	}
	s := &Service{opts: opts, log: opts.Logger.With("component", "service"), clusters: map[string]*cluster{}}
	if opts.Store != nil {
		bo := opts.SampleBuffer
		if bo.WriteTimeout <= 0 {
			bo.WriteTimeout = opts.Collector.SinkTimeout
		}
		s.samples = newSampleBuffer(&storeSink{st: opts.Store}, opts.Store.Ping, bo, s.log, opts.Now)
	}
	return s
}

// DatabaseStatus says whether the console's writes reach its database and how many samples wait
// in memory or were dropped; nil without a database.
func (s *Service) DatabaseStatus() *DatabaseStatus {
	if s.samples == nil {
		return nil
	}
	st := s.samples.Status()
	return &st
}

// AddCluster registers a cluster, records it in the store, and starts polling it if the service runs.
func (s *Service) AddCluster(ctx context.Context, spec ClusterSpec) error {
	if spec.Admin.Name == "" {
		spec.Admin.Name = spec.Name
	}
	client, err := admin.New(spec.Admin, s.opts.Logger)
	if err != nil {
		return err
	}
	ccfg := s.opts.Collector
	ccfg.Cluster = spec.Name
	ccfg.Cleaner = spec.Cleaner
	ccfg.Security = spec.Security
	ccfg.Shares = spec.Shares
	var sink collector.Sink = &storeSink{}
	if s.samples != nil {
		sink = s.samples
	}
	var lease *leaseKeeper
	if s.opts.Instance != "" && s.opts.Store != nil {
		lease = newLeaseKeeper(s.opts.Store, spec.Name, s.opts.Instance, 0, nil)
		ccfg.Hold = lease.Held
		sink = heldSink{Sink: sink, lease: lease}
	}
	col, err := collector.New(ccfg, client, sink, s.opts.Logger)
	if err != nil {
		_ = client.Close()
		return err
	}
	if lease != nil {
		// Taken over after two missed renewals (leaseLoop renews twice per interval).
		lease.ttl = 2 * col.Config().OffsetsInterval
	}
	if s.opts.Store != nil {
		if err := s.opts.Store.UpsertCluster(ctx, &store.Cluster{Name: spec.Name, Source: spec.Source,
			BootstrapServers: strings.Join(spec.Admin.Bootstrap, ","), ZooKeeper: spec.Admin.ZooKeeper}); err != nil {
			_ = client.Close()
			return err
		}
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if _, dup := s.clusters[spec.Name]; dup {
		_ = client.Close()
		return fmt.Errorf("cluster %q is already registered", spec.Name)
	}
	s.seedCatchUp(ctx, spec.Name, col)
	s.seedStorage(ctx, spec.Name, col)
	c := &cluster{spec: spec, client: client, collector: col, lease: lease}
	if s.opts.Store != nil {
		c.events = newAvailIndex(spec.Name, s.opts.AvailabilityIndexEvents)
	}
	if s.opts.Watch != nil {
		c.unwatch = s.opts.Watch(spec.Name, col)
	}
	s.clusters[spec.Name] = c
	if s.running {
		if err := s.startCluster(s.runCtx, c); err != nil {
			delete(s.clusters, spec.Name)
			_ = client.Close()
			return err
		}
	}
	return nil
}

// startCluster starts a cluster's collector and the watcher that notices finished reassignments
// without anyone viewing the page. Lock should be held.
func (s *Service) startCluster(ctx context.Context, c *cluster) error {
	if err := c.collector.Start(ctx); err != nil {
		return err
	}
	ch, cancel := c.collector.Subscribe(1)
	c.stopWatch = cancel
	if c.events != nil {
		s.wg.Add(1)
		go func() { defer s.wg.Done(); s.loadAvailability(ctx, c) }()
	}
	if c.lease != nil {
		lctx, stop := context.WithCancel(ctx)
		c.stopLease, c.leaseDone = stop, make(chan struct{})
		s.wg.Add(1)
		go func() { defer s.wg.Done(); defer close(c.leaseDone); s.leaseLoop(lctx, c) }()
	}
	s.wg.Add(1)
	go func() {
		defer s.wg.Done()
		for snap := range ch {
			if snap.Cluster.Shared {
				s.syncAvailability(ctx, c) // the holder of the lease records what it polled
				continue
			}
			if c.lease != nil {
				s.shareSnapshot(ctx, c, snap)
				s.syncAvailability(ctx, c) // what an earlier holder wrote
			}
			// A broker of a large cluster going down opens an interval on each of its partitions at once.
			actx, adone := context.WithTimeout(ctx, time.Minute)
			if err := s.recordAvailability(actx, c, snap); err != nil {
				s.log.Warn("recording availability events", "cluster", c.spec.Name, "err", err)
			}
			adone()
			cctx, done := context.WithTimeout(ctx, 10*time.Second)
			if err := s.CheckReassignments(cctx, c.spec.Name); err != nil {
				s.log.Debug("checking reassignments", "cluster", c.spec.Name, "err", err)
			}
			done()
		}
	}()
	return nil
}

// RemoveCluster stops polling a cluster and forgets it.
func (s *Service) RemoveCluster(name string) error {
	s.mu.Lock()
	c, ok := s.clusters[name]
	delete(s.clusters, name)
	s.mu.Unlock()
	if !ok {
		return fmt.Errorf("%w %q", ErrUnknownCluster, name)
	}
	if c.unwatch != nil {
		c.unwatch()
	}
	if c.stopWatch != nil {
		c.stopWatch()
	}
	c.collector.Stop()
	s.releaseLease(c)
	return c.client.Close()
}

// releaseLease ends a held lease on a clean stop, so another console takes the cluster over at once.
func (s *Service) releaseLease(c *cluster) {
	if c.lease == nil {
		return
	}
	if c.stopLease != nil {
		c.stopLease()
		<-c.leaseDone
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := c.lease.Release(ctx); err != nil {
		s.log.Warn("releasing the cluster's lease", "cluster", c.spec.Name, "err", err)
	}
}

// Start launches every collector and the retention loop, and returns.
func (s *Service) Start(ctx context.Context) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.running {
		return errors.New("service already started")
	}
	ctx, s.cancel = context.WithCancel(ctx)
	s.runCtx = ctx
	for _, c := range s.clusters {
		if err := s.startCluster(ctx, c); err != nil {
			return err
		}
	}
	s.running = true
	if s.opts.Store != nil {
		s.wg.Add(2)
		go func() { defer s.wg.Done(); s.retentionLoop(ctx) }()
		go func() { defer s.wg.Done(); s.samples.run(ctx) }()
	}
	return nil
}

// Stop stops the collectors and the retention loop and closes the cluster clients.
func (s *Service) Stop() {
	s.mu.Lock()
	if s.cancel != nil {
		s.cancel()
	}
	s.running = false
	clusters := make([]*cluster, 0, len(s.clusters))
	for _, c := range s.clusters {
		clusters = append(clusters, c)
	}
	s.mu.Unlock()
	for _, c := range clusters {
		if c.stopWatch != nil {
			c.stopWatch()
		}
	}
	s.wg.Wait()
	for _, c := range clusters {
		c.collector.Stop()
		s.releaseLease(c)
		if err := c.client.Close(); err != nil {
			s.log.Warn("closing cluster client", "cluster", c.spec.Name, "err", err)
		}
	}
	// Supervised clusters stop last: nothing polls them any more.
	s.stopRuntime()
}

func (s *Service) retentionLoop(ctx context.Context) {
	t := time.NewTicker(s.opts.RetentionInterval)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		s.RunRetention(ctx)
	}
}

// RunRetention rolls up complete buckets and expires old rows once.
func (s *Service) RunRetention(ctx context.Context) {
	now := s.opts.Now()
	if n, err := s.opts.Store.Rollup(ctx, now); err != nil {
		s.log.Warn("rollup failed", "err", err)
	} else if n > 0 {
		s.log.Debug("rolled up series", "rows", n)
	}
	if n, err := s.opts.Store.Expire(ctx, now, s.opts.Retention); err != nil {
		s.log.Warn("expiry failed", "err", err)
	} else if n > 0 {
		s.log.Debug("expired rows", "rows", n)
	}
	// Availability events, the quorum and the log-dir histories are kept as long as the coarsest series, so a
	// timeline reaches as far back as the charts beside it.
	if keep := s.opts.Retention.Hour; keep > 0 {
		if _, err := s.opts.Store.ExpireQuorum(ctx, now.Add(-keep)); err != nil {
			s.log.Warn("expiry failed", "err", err)
		}
		if _, err := s.opts.Store.ExpirePartitionEvents(ctx, now.Add(-keep)); err != nil {
			s.log.Warn("expiry failed", "err", err)
		} else {
			s.expireAvailability(now.Add(-keep))
		}
		if _, err := s.opts.Store.ExpireLogDirs(ctx, now.Add(-keep)); err != nil {
			s.log.Warn("expiry failed", "err", err)
		}
	}
}

func (s *Service) get(name string) (*cluster, error) {
	s.mu.RLock()
	defer s.mu.RUnlock()
	c, ok := s.clusters[name]
	if !ok {
		return nil, fmt.Errorf("%w %q", ErrUnknownCluster, name)
	}
	return c, nil
}

// Snapshot returns a cluster's latest snapshot; nil (with no error) before its first poll.
func (s *Service) Snapshot(name string) (*collector.Snapshot, error) {
	c, err := s.get(name)
	if err != nil {
		return nil, err
	}
	return c.collector.Latest(), nil
}

// Subscribe delivers every new snapshot of a cluster until cancel is called.
func (s *Service) Subscribe(name string, buffer int) (<-chan *collector.Snapshot, func(), error) {
	c, err := s.get(name)
	if err != nil {
		return nil, nil, err
	}
	ch, cancel := c.collector.Subscribe(buffer)
	return ch, cancel, nil
}

// PollNow runs one collection cycle for a cluster right away (after a mutation, so the next view shows it).
func (s *Service) PollNow(ctx context.Context, name string) (*collector.Snapshot, error) {
	c, err := s.get(name)
	if err != nil {
		return nil, err
	}
	return c.collector.PollNow(ctx), nil
}

// ClusterSummary is a cluster row: its identity plus figures from the latest snapshot (nil until polled).
type ClusterSummary struct {
	Name             string   `json:"name"`
	Source           string   `json:"source"`
	BootstrapServers []string `json:"bootstrapServers"`
	ZooKeeper        string   `json:"zookeeper"`
	Embedded         bool     `json:"embedded"`
	Brokers          *int     `json:"brokers"`
	BrokersUp        *int     `json:"brokersUp"`
	Topics           *int     `json:"topics"`
	Partitions       *int     `json:"partitions"`
	UnderReplicated  *int     `json:"underReplicated"`
	Offline          *int     `json:"offline"`
	UnderMinISR      *int     `json:"underMinIsr"`
	// Starting counts partitions, and BrokersStarting brokers, of a new topic or cluster still
	// electing leaders / registering (the collector's starting grace): not counted as degraded.
	Starting        *int       `json:"starting"`
	BrokersStarting *int       `json:"brokersStarting"`
	Groups          *int       `json:"groups"`
	Lag             *int64     `json:"lag"`
	MsgsPerSec      *float64   `json:"msgsPerSec"`
	BytesPerSec     *float64   `json:"bytesPerSec"`
	Controller      *int32     `json:"controller"`
	LastPoll        *time.Time `json:"lastPoll"`
	// StaleSince is set while the cluster does not answer: when the figures shown were polled.
	StaleSince *time.Time `json:"staleSince,omitempty" description:"Set while the cluster does not answer: when the figures shown were last polled"`
	Partial    bool       `json:"partial"`
	Errors     []string   `json:"errors,omitempty"`
	// InternalIncluded says whether the topic figures above (topics, partitions, their health
	// counts, messages/s, bytes/s) include internal topics. By default they do not, as the topics
	// list does not; Internal is the internal topics' share either way (nil until polled).
	InternalIncluded bool                 `json:"internalIncluded"`
	Internal         *collector.TopicSums `json:"internal"`
	// KRaft says the brokers answer DescribeQuorum: the cluster has a Quorum page, and Controller is
	// the quorum leader; otherwise it is a ZooKeeper-mode cluster.
	KRaft bool `json:"kraft"`
}

// Clusters lists every cluster by name with its latest figures, internal topics left out of the
// totals. Answers from memory.
func (s *Service) Clusters() []ClusterSummary { return s.ClusterSummaries(false) }

// ClusterSummaries lists every cluster by name with its latest figures; internal says whether the
// topic totals include internal topics. Answers from memory.
func (s *Service) ClusterSummaries(internal bool) []ClusterSummary {
	s.mu.RLock()
	list := make([]*cluster, 0, len(s.clusters))
	for _, c := range s.clusters {
		list = append(list, c)
	}
	s.mu.RUnlock()
	sort.Slice(list, func(i, j int) bool { return list[i].spec.Name < list[j].spec.Name })
	out := make([]ClusterSummary, 0, len(list))
	for _, c := range list {
		out = append(out, summarize(c, internal))
	}
	return out
}

// Cluster returns one cluster's summary, internal topics left out of the totals.
func (s *Service) Cluster(name string) (ClusterSummary, error) { return s.ClusterSummary(name, false) }

// ClusterSummary returns one cluster's summary; internal says whether the topic totals include
// internal topics.
func (s *Service) ClusterSummary(name string, internal bool) (ClusterSummary, error) {
	c, err := s.get(name)
	if err != nil {
		return ClusterSummary{}, err
	}
	return summarize(c, internal), nil
}

func summarize(c *cluster, internal bool) ClusterSummary {
	sum := ClusterSummary{
		Name: c.spec.Name, Source: c.spec.Source, BootstrapServers: c.spec.Admin.Bootstrap,
		ZooKeeper: c.spec.Admin.ZooKeeper, Embedded: c.spec.Source == "embedded", InternalIncluded: internal,
	}
	snap := c.collector.Latest()
	if snap == nil {
		return sum
	}
	t := snap.Totals
	in := t.Internal
	sum.Internal = &in
	if !internal {
		t = t.UserTopics() // the same rule as the topics list's default
	}
	sum.Brokers, sum.BrokersUp, sum.Topics, sum.Partitions = &t.Brokers, &t.BrokersUp, &t.Topics, &t.Partitions
	sum.UnderReplicated, sum.Offline, sum.UnderMinISR, sum.Groups = &t.UnderReplicated, &t.Offline, &t.UnderMinISR, &t.Groups
	sum.Starting, sum.BrokersStarting = &t.Starting, &t.BrokersStarting
	sum.Lag, sum.MsgsPerSec, sum.BytesPerSec = &t.Lag, &t.MsgsPerSec, &t.BytesPerSec
	if snap.Cluster.Controller >= 0 {
		ctl := snap.Cluster.Controller
		sum.Controller = &ctl
	}
	sum.KRaft = snap.Cluster.KRaft
	lp := snap.Cluster.LastPoll
	sum.LastPoll = &lp
	sum.StaleSince = snap.Cluster.StaleSince
	sum.Partial = snap.Cluster.Partial
	for _, e := range snap.Cluster.Errors {
		sum.Errors = append(sum.Errors, e.Source+": "+e.Message)
	}
	return sum
}
