package broker

import (
	"fmt"
	"math"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/osprey-kafka/osprey/broker/quorum"
	"github.com/osprey-kafka/osprey/broker/storage"
	"github.com/prometheus/client_golang/prometheus"
)

// LogCleanerConfig holds the broker's log.cleaner.* properties: the
// cleaner's own settings and the broker-wide defaults of the compaction
// topic configs.
type LogCleanerConfig struct {
	Enable bool // log.cleaner.enable (default true)
	storage.CleanerConfig
	DeleteRetentionMs  int64   // log.cleaner.delete.retention.ms (topic: delete.retention.ms)
	MinCompactionLagMs int64   // log.cleaner.min.compaction.lag.ms (topic: min.compaction.lag.ms)
	MaxCompactionLagMs int64   // log.cleaner.max.compaction.lag.ms (topic: max.compaction.lag.ms)
	MinCleanableRatio  float64 // log.cleaner.min.cleanable.ratio (topic: min.cleanable.dirty.ratio)
}

func defaultLogCleanerConfig() LogCleanerConfig {
	d := storage.DefaultConfig()
	return LogCleanerConfig{Enable: true, CleanerConfig: storage.DefaultCleanerConfig(),
		DeleteRetentionMs: d.DeleteRetentionMs, MinCompactionLagMs: d.MinCompactionLagMs,
		MaxCompactionLagMs: d.MaxCompactionLagMs, MinCleanableRatio: d.MinCleanableDirtyRatio}
}

// parseCleanerProperty parses a log.cleaner.* property (and
// offsets.topic.segment.bytes, which sizes the segments of the compacted
// __consumer_offsets); ok is false for other keys.
func (c *Config) parseCleanerProperty(k, v string) (ok bool, err error) {
	lc := &c.LogCleaner
	ms := func(dst *int64, lo int64) { *dst, err = parseInt64(v, lo) }
	switch k {
	case "log.cleaner.enable":
		lc.Enable, err = strconv.ParseBool(strings.TrimSpace(v))
	case "log.cleaner.threads":
		var n int32
		n, err = parseInt32(v, 0, math.MaxInt32)
		lc.Threads = int(n)
	case "log.cleaner.dedupe.buffer.size":
		ms(&lc.DedupeBufferSize, 0)
	case "log.cleaner.io.buffer.size":
		var n int32
		n, err = parseInt32(v, 0, math.MaxInt32)
		lc.IOBufferSize = int(n)
	case "log.cleaner.io.buffer.load.factor":
		lc.DedupeBufferLoadFactor, err = strconv.ParseFloat(strings.TrimSpace(v), 64)
	case "log.cleaner.io.max.bytes.per.second":
		lc.MaxIOBytesPerSecond, err = strconv.ParseFloat(strings.TrimSpace(v), 64)
	case "log.cleaner.backoff.ms":
		var n int64
		n, err = parseInt64(v, 0)
		lc.Backoff = time.Duration(n) * time.Millisecond
	case "log.cleaner.delete.retention.ms":
		ms(&lc.DeleteRetentionMs, 0)
	case "log.cleaner.min.compaction.lag.ms":
		ms(&lc.MinCompactionLagMs, 0)
	case "log.cleaner.max.compaction.lag.ms":
		ms(&lc.MaxCompactionLagMs, 1)
	case "log.cleaner.min.cleanable.ratio":
		lc.MinCleanableRatio, err = strconv.ParseFloat(strings.TrimSpace(v), 64)
	case "offsets.topic.segment.bytes":
		var n int32
		n, err = parseInt32(v, 1, math.MaxInt32)
		c.OffsetsTopicSegmentBytes = int64(n)
	default:
		return false, nil
	}
	if err == nil && lc.Enable {
		err = lc.CleanerConfig.Validate()
	}
	return true, err
}

// addCleanerProperties adds the log.cleaner.* properties (Properties).
func (c Config) addCleanerProperties(props map[string]string) {
	lc := c.LogCleaner
	f := func(v float64) string { return strconv.FormatFloat(v, 'g', -1, 64) }
	props["log.cleaner.enable"] = strconv.FormatBool(lc.Enable)
	props["log.cleaner.threads"] = strconv.Itoa(lc.Threads)
	props["log.cleaner.dedupe.buffer.size"] = strconv.FormatInt(lc.DedupeBufferSize, 10)
	props["log.cleaner.io.buffer.size"] = strconv.Itoa(lc.IOBufferSize)
	props["log.cleaner.io.buffer.load.factor"] = f(lc.DedupeBufferLoadFactor)
	props["log.cleaner.io.max.bytes.per.second"] = f(lc.MaxIOBytesPerSecond)
	props["log.cleaner.backoff.ms"] = strconv.FormatInt(lc.Backoff.Milliseconds(), 10)
	props["log.cleaner.delete.retention.ms"] = strconv.FormatInt(lc.DeleteRetentionMs, 10)
	props["log.cleaner.min.compaction.lag.ms"] = strconv.FormatInt(lc.MinCompactionLagMs, 10)
	props["log.cleaner.max.compaction.lag.ms"] = strconv.FormatInt(lc.MaxCompactionLagMs, 10)
	props["log.cleaner.min.cleanable.ratio"] = f(lc.MinCleanableRatio)
	if c.OffsetsTopicSegmentBytes > 0 {
		props["offsets.topic.segment.bytes"] = strconv.FormatInt(c.OffsetsTopicSegmentBytes, 10)
	}
}

// applyCleanerDefaults puts the broker's compaction defaults into a topic's
// storage config. Zero values (a Config not built from DefaultConfig) keep
// storage's defaults.
func (c Config) applyCleanerDefaults(sc *storage.Config) {
	lc := c.LogCleaner
	if lc.MaxCompactionLagMs == 0 {
		return
	}
	sc.DeleteRetentionMs = lc.DeleteRetentionMs
	sc.MinCompactionLagMs = lc.MinCompactionLagMs
	sc.MaxCompactionLagMs = lc.MaxCompactionLagMs
	sc.MinCleanableDirtyRatio = lc.MinCleanableRatio
}

// offsetsTopicConfigs are the topic configs __consumer_offsets is created
// with: compacted, as in Kafka, with its own segment size so that the
// segments roll and get cleaned.
func (c Config) offsetsTopicConfigs() map[string]string {
	m := map[string]string{"cleanup.policy": "compact"}
	if c.OffsetsTopicSegmentBytes > 0 {
		m["segment.bytes"] = strconv.FormatInt(c.OffsetsTopicSegmentBytes, 10)
	}
	return m
}

// startLogCleaner starts the cleaner over every log dir when
// log.cleaner.enable is set (a broker with memory logs has nothing to
// clean) and exposes its state as metrics.
func (b *Broker) startLogCleaner() error {
	lc := b.cfg.LogCleaner
	if !lc.Enable || lc.Threads == 0 || len(b.cfg.LogDirs) == 0 {
		return nil
	}
	// The KRaft metadata log may share a log dir; it is the quorum's, never cleaned here.
	notData := func(tp storage.TopicPartition) bool { return tp.Topic == quorum.MetadataTopic }
	c, err := storage.NewCleaner(lc.CleanerConfig, b.store.mgrs, b.log.With("component", "log-cleaner"), storage.WithCleanerFilter(notData))
	if err != nil {
		return fmt.Errorf("log cleaner: %w", err)
	}
	b.store.cleaner = c
	b.metrics.reg.MustRegister(newCleanerCollector(b.cfg.BrokerID, c))
	b.wg.Add(1)
	go func() {
		defer b.wg.Done()
		c.Run(b.ctx)
	}()
	return nil
}

// LogCleanerStates returns the state of every compacted log this broker
// holds, or nil when the cleaner does not run.
func (b *Broker) LogCleanerStates() []storage.LogCleanerState {
	if b.store == nil || b.store.cleaner == nil {
		return nil
	}
	return b.store.cleaner.States()
}

// cleanerCollector exposes the cleaner's state at scrape time under the
// names of Kafka's LogCleaner and LogCleanerManager metrics.
type cleanerCollector struct {
	c      *storage.Cleaner
	labels prometheus.Labels
	descs  map[string]*prometheus.Desc
	mu     sync.Mutex
}

var cleanerMetricHelp = map[string]string{
	"max_dirty_percent":                  "Largest dirty ratio over the compacted logs, in percent (Kafka: LogCleanerManager max-dirty-percent).",
	"max_buffer_utilization_percent":     "Share of the offset map the last clean filled, in percent (Kafka: max-buffer-utilization-percent).",
	"cleaner_recopy_percent":             "Bytes written over bytes read by the last clean, in percent (Kafka: cleaner-recopy-percent).",
	"max_clean_time_secs":                "Duration of the last clean (Kafka: max-clean-time-secs).",
	"time_since_last_run_ms":             "Milliseconds since a clean last finished; 0 before the first (Kafka: LogCleanerManager time-since-last-run-ms).",
	"uncleanable_partitions_count":       "Compacted logs whose cleaning failed (Kafka: uncleanable-partitions-count).",
	"read_bytes_total":                   "Bytes read by cleans since the broker started.",
	"written_bytes_total":                "Bytes written by cleans since the broker started.",
	"log_dirty_ratio":                    "A compacted log's dirty bytes over its cleanable bytes.",
	"log_dirty_bytes":                    "A compacted log's cleanable bytes above its cleaner offset checkpoint.",
	"log_freeable_bytes":                 "Estimate of the bytes cleaning a compacted log now would remove.",
	"log_cleaned_bytes_total":            "Bytes of a compacted log read by its cleans since the broker started.",
	"log_last_cleaned_timestamp_seconds": "When a clean of a compacted log last finished (Unix seconds), 0 if not since start.",
}

func newCleanerCollector(brokerID int32, c *storage.Cleaner) *cleanerCollector {
	cc := &cleanerCollector{c: c, labels: prometheus.Labels{"broker_id": strconv.Itoa(int(brokerID))}, descs: map[string]*prometheus.Desc{}}
	for name, help := range cleanerMetricHelp {
		var vars []string
		if strings.HasPrefix(name, "log_") {
			vars = []string{"topic", "partition"}
		}
		cc.descs[name] = prometheus.NewDesc(prometheus.BuildFQName("osprey", "log_cleaner", name), help, vars, cc.labels)
	}
	return cc
}

func (cc *cleanerCollector) Describe(ch chan<- *prometheus.Desc) {
	for _, d := range cc.descs {
		ch <- d
	}
}

func (cc *cleanerCollector) Collect(ch chan<- prometheus.Metric) {
	cc.mu.Lock()
	defer cc.mu.Unlock()
	g := func(name string, v float64, lv ...string) {
		typ := prometheus.GaugeValue
		if strings.HasSuffix(name, "_total") {
			typ = prometheus.CounterValue
		}
		ch <- prometheus.MustNewConstMetric(cc.descs[name], typ, v, lv...)
	}
	t := cc.c.Totals()
	g("max_dirty_percent", 100*t.MaxDirtyRatio)
	g("max_buffer_utilization_percent", 100*t.MaxBufferUtilization)
	g("cleaner_recopy_percent", 100*t.RecopyRatio)
	g("max_clean_time_secs", t.MaxCleanTimeSeconds)
	since := 0.0
	if t.LastRunMs > 0 {
		since = float64(time.Now().UnixMilli() - t.LastRunMs)
	}
	g("time_since_last_run_ms", since)
	g("uncleanable_partitions_count", float64(t.UncleanablePartitions))
	g("read_bytes_total", float64(t.BytesRead))
	g("written_bytes_total", float64(t.BytesWritten))
	for _, s := range cc.c.States() {
		p := strconv.Itoa(int(s.Partition))
		g("log_dirty_ratio", s.DirtyRatio, s.Topic, p)
		g("log_dirty_bytes", float64(s.DirtyBytes), s.Topic, p)
		g("log_freeable_bytes", float64(s.FreeableBytes), s.Topic, p)
		g("log_cleaned_bytes_total", float64(s.BytesCleaned), s.Topic, p)
		g("log_last_cleaned_timestamp_seconds", float64(s.LastCleanedMs)/1000, s.Topic, p)
	}
}
