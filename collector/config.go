package collector

import (
	"fmt"
	"time"
)

// Config holds one poller's settings; zero values take the defaults.
type Config struct {
	// Cluster is the cluster name stamped on snapshots and samples.
	Cluster string
	// OffsetsInterval is the base cycle: metadata, offsets, committed offsets (15 s).
	OffsetsInterval time.Duration
	// GroupsInterval refreshes the group list and descriptions (30 s).
	GroupsInterval time.Duration
	// LogDirsInterval refreshes the topics' min.insync.replicas (60 s). Log-dir sizes are read
	// every cycle, since the byte rates are computed from them alongside the message rates.
	LogDirsInterval time.Duration
	// ZKInterval refreshes ZooKeeper state when the cluster has ZooKeeper (30 s).
	ZKInterval time.Duration
	// CallTimeout bounds each Kafka call (10 s).
	CallTimeout time.Duration
	// Concurrency caps the per-broker/per-coordinator calls in flight (8).
	Concurrency int
	// HistoryPoints is the per-partition log-end history used for lag seconds (20).
	HistoryPoints int
	// SinkTimeout bounds one Sink.WriteSamples call (30 s).
	SinkTimeout time.Duration
	// StartingGrace is how long a partition or broker that has not yet been healthy since this
	// collector first saw it counts as starting rather than degraded (2 min): leaders of a topic
	// created seconds ago, or of a cluster whose brokers are still registering, are being elected.
	// Starting partitions and brokers are flagged, left out of the under-replicated / offline /
	// under-min-ISR / down counts and not alerted on; once the grace has passed they count as
	// degraded like any other.
	StartingGrace time.Duration
	// ForgetBrokersAfter drops a broker from snapshots once it has been absent
	// from metadata and from every replica list this long; until then it is
	// listed as down. 0 keeps it (down) for the collector's lifetime.
	ForgetBrokersAfter time.Duration
	// CatchUpWindow is how far back the catch-up estimate's consume and produce rates reach (10 min).
	CatchUpWindow time.Duration
	// FlapWindow is how far back Partition.ISRChanges counts ISR changes (10 min).
	FlapWindow time.Duration
	// StorageWindow is how far back a log directory's growth rate reaches (24 h).
	StorageWindow time.Duration
	// Cleaner reports the brokers' log cleaners (cleaner.go); nil for a cluster that does not
	// report them, whose compacted topics then show their policy only.
	Cleaner CleanerSource
	// Security reports the brokers' failed authentications and client quota throttling
	// (security.go); nil for a cluster that does not report them.
	Security SecuritySource
	// Shares reports the in-flight state of share groups' share-partitions (share.go); nil for a
	// cluster that does not report it, whose share groups then show start offsets and lag only.
	Shares ShareStateSource
	// Hold, when set, says whether this console may poll the cluster now (it holds the cluster's
	// lease among several consoles sharing one database): the loop skips its cycles and PollNow
	// returns the latest snapshot while it returns false. Nil: always.
	Hold func() bool
	// Now is the clock the figures are computed on (observation times, rates, lag seconds, the
	// starting grace, the refresh intervals); nil means time.Now. Tests inject a fake one. The
	// poll loop's ticker runs on real time.
	Now func() time.Time
}

func (c Config) withDefaults() Config {
	def := func(d *time.Duration, v time.Duration) {
		if *d <= 0 {
			*d = v
		}
	}
	def(&c.OffsetsInterval, 15*time.Second)
	def(&c.GroupsInterval, 30*time.Second)
	def(&c.LogDirsInterval, 60*time.Second)
	def(&c.ZKInterval, 30*time.Second)
	def(&c.CallTimeout, 10*time.Second)
	def(&c.SinkTimeout, 30*time.Second)
	def(&c.StartingGrace, 2*time.Minute)
	def(&c.CatchUpWindow, 10*time.Minute)
	def(&c.FlapWindow, 10*time.Minute)
	def(&c.StorageWindow, 24*time.Hour)
	if c.Now == nil {
		c.Now = time.Now
	}
	if c.Concurrency <= 0 {
		c.Concurrency = 8
	}
	if c.HistoryPoints < 2 {
		c.HistoryPoints = 20
	}
	return c
}

// Validate reports settings that cannot work.
func (c Config) Validate() error {
	if c.Cluster == "" {
		return fmt.Errorf("collector: cluster name is required")
	}
	if c.OffsetsInterval < 0 || c.GroupsInterval < 0 || c.LogDirsInterval < 0 || c.ZKInterval < 0 || c.ForgetBrokersAfter < 0 || c.StartingGrace < 0 || c.CatchUpWindow < 0 || c.FlapWindow < 0 || c.StorageWindow < 0 {
		return fmt.Errorf("collector %s: intervals must not be negative", c.Cluster)
	}
	return nil
}
