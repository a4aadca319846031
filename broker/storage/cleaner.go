package storage

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"math"
	"path/filepath"
	"sort"
	"sync"
	"time"
)

// CleanerOffsetCheckpointFile is Kafka's per-log-dir file holding, per
// compacted partition, the offset where the dirty part of its log begins.
const CleanerOffsetCheckpointFile = "cleaner-offset-checkpoint"

// CleanerConfig is the log cleaner's configuration, under Kafka's broker
// property names.
type CleanerConfig struct {
	Threads                int           // log.cleaner.threads (default 1)
	DedupeBufferSize       int64         // log.cleaner.dedupe.buffer.size (default 128 MiB), shared by the threads
	DedupeBufferLoadFactor float64       // log.cleaner.io.buffer.load.factor (default 0.9)
	IOBufferSize           int           // log.cleaner.io.buffer.size (default 512 KiB), per read and write buffer
	MaxIOBytesPerSecond    float64       // log.cleaner.io.max.bytes.per.second (default unlimited), read + written, all threads
	Backoff                time.Duration // log.cleaner.backoff.ms (default 15 s): sleep when no log needs cleaning
}

// DefaultCleanerConfig returns Kafka's defaults.
func DefaultCleanerConfig() CleanerConfig {
	return CleanerConfig{
		Threads:                1,
		DedupeBufferSize:       128 << 20,
		DedupeBufferLoadFactor: 0.9,
		IOBufferSize:           512 << 10,
		MaxIOBytesPerSecond:    math.MaxFloat64,
		Backoff:                15 * time.Second,
	}
}

// Validate checks the values against Kafka's bounds.
func (c CleanerConfig) Validate() error {
	switch {
	case c.Threads < 0:
		return fmt.Errorf("%w: log.cleaner.threads %d is negative", ErrInvalidConfig, c.Threads)
	case c.DedupeBufferSize < offsetMapSlot*int64(max(c.Threads, 1)):
		return fmt.Errorf("%w: log.cleaner.dedupe.buffer.size %d is too small for %d threads", ErrInvalidConfig, c.DedupeBufferSize, c.Threads)
	case !(c.DedupeBufferLoadFactor > 0 && c.DedupeBufferLoadFactor <= 1):
		return fmt.Errorf("%w: log.cleaner.io.buffer.load.factor %v is not in (0, 1]", ErrInvalidConfig, c.DedupeBufferLoadFactor)
	case c.IOBufferSize < 0:
		return fmt.Errorf("%w: log.cleaner.io.buffer.size %d is negative", ErrInvalidConfig, c.IOBufferSize)
	case !(c.MaxIOBytesPerSecond > 0):
		return fmt.Errorf("%w: log.cleaner.io.max.bytes.per.second %v must be positive", ErrInvalidConfig, c.MaxIOBytesPerSecond)
	case c.Backoff < 0:
		return fmt.Errorf("%w: log.cleaner.backoff.ms is negative", ErrInvalidConfig)
	}
	return nil
}

// LogCleanerState is what the cleaner knows of one compacted log, for
// metrics and the console.
type LogCleanerState struct {
	TopicPartition
	Dir              string
	FirstDirtyOffset int64   // cleaner-offset-checkpoint (or the log start)
	CleanBytes       int64   // bytes below the first dirty offset
	DirtyBytes       int64   // cleanable bytes from the first dirty offset on
	DirtyRatio       float64 // DirtyBytes / (CleanBytes + DirtyBytes)
	LastCleanedMs    int64   // when a clean of this log last finished, 0 if never (since start)
	BytesCleaned     int64   // bytes read by cleans of this log since start
	BytesFreed       int64   // bytes cleans of this log removed since start
	// FreeableBytes estimates what cleaning now would remove: the dirty
	// bytes times the share the last clean removed (all dirty bytes before
	// the first clean, so an upper bound then).
	FreeableBytes int64
	Uncleanable   string // why cleaning this log failed, "" if it did not
}

// CleanerTotals are the cleaner-wide figures Kafka's LogCleaner reports.
type CleanerTotals struct {
	Cleans                   int64
	BytesRead, BytesWritten  int64
	LastRunMs                int64   // when the last clean finished
	MaxBufferUtilization     float64 // share of the offset map the last clean filled (0..1)
	MaxCleanTimeSeconds      float64 // duration of the last clean
	RecopyRatio              float64 // written/read of the last clean
	UncleanablePartitions    int
	MaxDirtyRatio            float64 // largest dirty ratio over the compacted logs
	DedupeBufferBytesPerPass int64   // memory of each thread's offset map
}

// CleanerOption configures a Cleaner.
type CleanerOption func(*Cleaner)

// WithCleanerClock replaces time.Now (delete horizons, compaction lags).
func WithCleanerClock(now func() time.Time) CleanerOption {
	return func(c *Cleaner) { c.now = now }
}

// WithCleanHook calls hook at each step of every segment swap (the Step*
// names); an error from it stops the clean there leaving the files as they
// are, as a crash would. For tests of crash points.
func WithCleanHook(hook func(step string) error) CleanerOption {
	return func(c *Cleaner) { c.hook = hook }
}

// WithCleanerFilter makes the cleaner leave alone the logs for which
// skip returns true (a log that shares a log dir but is not the broker's,
// such as the KRaft metadata log).
func WithCleanerFilter(skip func(TopicPartition) bool) CleanerOption {
	return func(c *Cleaner) { c.skip = skip }
}

// Cleaner compacts the logs of some Managers whose cleanup.policy includes
// compact, as Kafka's LogCleaner does: each of its threads repeatedly takes
// the dirtiest log (dirty ratio above min.cleanable.dirty.ratio, or past
// max.compaction.lag.ms, or holding tombstones past their delete horizon),
// maps the keys of its dirty part into a bounded offset map, and rewrites
// the segments below the end of the mapped part keeping the latest record
// of each key. Memory logs are not cleaned.
//
// Locking: mu guards the fields below it; it is never held during I/O.
// Each log is cleaned by at most one thread at a time (inProgress).
type Cleaner struct {
	cfg    CleanerConfig
	mgrs   []*Manager
	logger *slog.Logger
	now    func() time.Time
	hook   func(step string) error
	skip   func(TopicPartition) bool
	thr    *throttler

	mu          sync.Mutex
	inProgress  map[*fileLog]bool
	logs        map[*fileLog]*logCleanStats
	uncleanable map[*fileLog]string
	totals      CleanerTotals
}

// logCleanStats is the per-log part of LogCleanerState the cleaner keeps.
type logCleanStats struct {
	lastCleanedMs, bytesCleaned, bytesFreed int64
	lastKeptShare                           float64 // written/read of the last clean, -1 before one
	deleteHorizonMs                         int64   // latest delete horizon set or seen; the log is cleaned again once it passes
}

// NewCleaner makes a cleaner over the logs of mgrs. It starts nothing.
func NewCleaner(cfg CleanerConfig, mgrs []*Manager, logger *slog.Logger, opts ...CleanerOption) (*Cleaner, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	c := &Cleaner{cfg: cfg, mgrs: mgrs, logger: logger, now: time.Now,
		inProgress: map[*fileLog]bool{}, logs: map[*fileLog]*logCleanStats{}, uncleanable: map[*fileLog]string{}}
	for _, o := range opts {
		o(c)
	}
	c.thr = newThrottler(cfg.MaxIOBytesPerSecond, c.now, time.Sleep)
	c.totals.DedupeBufferBytesPerPass = c.mapMemory()
	return c, nil
}

func (c *Cleaner) mapMemory() int64 {
	return min(c.cfg.DedupeBufferSize/int64(max(c.cfg.Threads, 1)), math.MaxInt32)
}

// Run runs the cleaner threads until ctx is done. It blocks.
func (c *Cleaner) Run(ctx context.Context) {
	var wg sync.WaitGroup
	for i := 0; i < c.cfg.Threads; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			c.thread(ctx)
		}()
	}
	wg.Wait()
}

func (c *Cleaner) thread(ctx context.Context) {
	m := newOffsetMap(c.mapMemory(), c.cfg.DedupeBufferLoadFactor)
	for ctx.Err() == nil {
		cleaned, err := c.cleanFilthiest(m)
		if err != nil {
			c.logger.Warn("log cleaning failed", "err", err)
		}
		if cleaned {
			continue
		}
		select {
		case <-ctx.Done():
		case <-time.After(c.cfg.Backoff):
		}
	}
}

// CleanOnce cleans the dirtiest log that needs it, if any, with an offset
// map of one thread's share of the buffer, and reports whether it cleaned
// one. For tests and tools; Run is the cleaner's loop.
func (c *Cleaner) CleanOnce() (bool, error) {
	return c.cleanFilthiest(newOffsetMap(c.mapMemory(), c.cfg.DedupeBufferLoadFactor))
}

// candidate is a compacted log with its cleanable range.
type candidate struct {
	m  *Manager
	tp TopicPartition
	l  *fileLog
	r  cleanRange
}

// compactedLogs lists the file logs with a compact policy and their ranges.
func (c *Cleaner) compactedLogs(nowMs int64) []candidate {
	var out []candidate
	for _, m := range c.mgrs {
		for _, pl := range m.Logs() {
			fl, ok := pl.Log.(*fileLog)
			if !ok || !fl.Config().compacts() || (c.skip != nil && c.skip(pl.TopicPartition)) {
				continue
			}
			r, err := fl.cleanableRange(m.cleanerCheckpoint(pl.TopicPartition), nowMs)
			if err != nil {
				continue
			}
			out = append(out, candidate{m: m, tp: pl.TopicPartition, l: fl, r: r})
		}
	}
	return out
}

// grab picks the log to clean and marks it in progress (Kafka's
// grabFilthiestCompactedLog).
func (c *Cleaner) grab(nowMs int64) (candidate, bool) {
	cands := c.compactedLogs(nowMs)
	c.mu.Lock()
	defer c.mu.Unlock()
	best, found := candidate{}, false
	maxRatio := 0.0
	for _, cd := range cands {
		maxRatio = max(maxRatio, cd.r.ratio())
		if c.inProgress[cd.l] || c.uncleanable[cd.l] != "" || cd.r.dirtyBytes == 0 {
			continue
		}
		if !(cd.r.needNow || cd.r.ratio() > cd.r.cfg.MinCleanableDirtyRatio) {
			continue
		}
		if !found || cd.r.ratio() > best.r.ratio() {
			best, found = cd, true
		}
	}
	c.totals.MaxDirtyRatio = maxRatio
	if !found {
		// Logs whose tombstones have passed their delete horizon are cleaned
		// even when not dirty, so the tombstones go.
		for _, cd := range cands {
			st := c.logs[cd.l]
			if !c.inProgress[cd.l] && c.uncleanable[cd.l] == "" && st != nil && st.deleteHorizonMs > 0 && st.deleteHorizonMs <= nowMs && len(cd.r.segs) > 0 {
				best, found = cd, true
				break
			}
		}
	}
	if found {
		c.inProgress[best.l] = true
	}
	return best, found
}

func (c *Cleaner) cleanFilthiest(m *offsetMap) (bool, error) {
	start := c.now()
	cd, ok := c.grab(start.UnixMilli())
	if !ok {
		return false, nil
	}
	defer func() {
		c.mu.Lock()
		delete(c.inProgress, cd.l)
		c.mu.Unlock()
	}()
	m.clear()
	cl := &cleaning{l: cd.l, r: cd.r, m: m, nowMs: start.UnixMilli(), ioBuf: max(c.cfg.IOBufferSize, 64<<10), throttle: c.thr.throttle, hook: c.hook}
	stats, err := cl.run()
	if err != nil {
		switch {
		case errors.Is(err, errCleanAborted), errors.Is(err, ErrLogClosed):
			c.logger.Info("log cleaning dropped: the log changed meanwhile", "partition", cd.tp.String(), "err", err)
			return true, nil
		case cl.crashed:
			return true, err
		case errors.Is(err, ErrLogDirOffline):
			return true, nil
		}
		// As Kafka's cleaner does, an I/O error takes the dir offline.
		cd.m.health.check(err)
		c.mu.Lock()
		c.uncleanable[cd.l] = err.Error()
		c.mu.Unlock()
		return true, fmt.Errorf("cleaning %s (now marked uncleanable): %w", cd.tp, err)
	}
	if stats.Segments > 0 || stats.EndOffset > cd.r.firstDirty {
		if err := cd.m.health.check(cd.m.setCleanerCheckpoint(cd.tp, stats.EndOffset)); err != nil {
			c.logger.Warn("writing cleaner offset checkpoint", "partition", cd.tp.String(), "err", err)
		}
	}
	c.record(cd, stats, start, m)
	return true, nil
}

// record updates the statistics after a clean.
func (c *Cleaner) record(cd candidate, s CleanStats, start time.Time, m *offsetMap) {
	end := c.now()
	c.mu.Lock()
	defer c.mu.Unlock()
	st := c.logs[cd.l]
	if st == nil {
		st = &logCleanStats{lastKeptShare: -1}
		c.logs[cd.l] = st
	}
	st.lastCleanedMs = end.UnixMilli()
	st.bytesCleaned += s.BytesRead
	st.bytesFreed += max(s.BytesRead-s.BytesWritten, 0)
	if s.BytesRead > 0 {
		st.lastKeptShare = float64(s.BytesWritten) / float64(s.BytesRead)
	}
	st.deleteHorizonMs = s.DeleteHorizonMs
	t := &c.totals
	t.Cleans++
	t.BytesRead += s.BytesRead
	t.BytesWritten += s.BytesWritten
	t.LastRunMs = end.UnixMilli()
	t.MaxBufferUtilization = float64(s.MapKeys) / float64(max(len(m.slots)/offsetMapSlot, 1))
	t.MaxCleanTimeSeconds = end.Sub(start).Seconds()
	if s.BytesRead > 0 {
		t.RecopyRatio = float64(s.BytesWritten) / float64(s.BytesRead)
	}
	c.logger.Info("cleaned log", "partition", cd.tp.String(), "segments", s.Segments, "bytes_read", s.BytesRead,
		"bytes_written", s.BytesWritten, "records_kept", s.RecordsKept, "records_read", s.RecordsRead,
		"tombstones_removed", s.TombstonesRemoved, "first_dirty_offset", s.EndOffset, "keys_mapped", s.MapKeys,
		"duration", end.Sub(start))
}

// States lists the compacted logs with their cleaning state, sorted by
// topic and partition.
func (c *Cleaner) States() []LogCleanerState {
	cands := c.compactedLogs(c.now().UnixMilli())
	c.mu.Lock()
	defer c.mu.Unlock()
	out := make([]LogCleanerState, 0, len(cands))
	for _, cd := range cands {
		s := LogCleanerState{TopicPartition: cd.tp, Dir: cd.m.Dir(), FirstDirtyOffset: cd.r.firstDirty,
			CleanBytes: cd.r.cleanBytes, DirtyBytes: cd.r.dirtyBytes, DirtyRatio: cd.r.ratio(),
			FreeableBytes: cd.r.dirtyBytes, Uncleanable: c.uncleanable[cd.l]}
		if st := c.logs[cd.l]; st != nil {
			s.LastCleanedMs, s.BytesCleaned, s.BytesFreed = st.lastCleanedMs, st.bytesCleaned, st.bytesFreed
			if st.lastKeptShare >= 0 {
				s.FreeableBytes = int64(float64(cd.r.dirtyBytes) * (1 - st.lastKeptShare))
			}
		}
		out = append(out, s)
	}
	sort.Slice(out, func(i, j int) bool {
		if out[i].Topic != out[j].Topic {
			return out[i].Topic < out[j].Topic
		}
		return out[i].Partition < out[j].Partition
	})
	return out
}

// Totals returns the cleaner-wide figures.
func (c *Cleaner) Totals() CleanerTotals {
	c.mu.Lock()
	defer c.mu.Unlock()
	t := c.totals
	n := 0
	for _, why := range c.uncleanable {
		if why != "" {
			n++
		}
	}
	t.UncleanablePartitions = n
	return t
}

// throttler keeps the cleaner's I/O under a rate, as Kafka's Throttler:
// bytes are counted and, every checkInterval, the cleaner sleeps long
// enough to bring the observed rate down to the desired one.
type throttler struct {
	rate  float64
	now   func() time.Time
	sleep func(time.Duration)

	mu       sync.Mutex
	periodAt time.Time
	observed float64
}

const throttleCheckInterval = 300 * time.Millisecond

func newThrottler(rate float64, now func() time.Time, sleep func(time.Duration)) *throttler {
	return &throttler{rate: rate, now: now, sleep: sleep, periodAt: now()}
}

func (t *throttler) throttle(n int64) {
	if t.rate == math.MaxFloat64 {
		return
	}
	t.mu.Lock()
	defer t.mu.Unlock()
	t.observed += float64(n)
	elapsed := t.now().Sub(t.periodAt)
	if elapsed < throttleCheckInterval {
		return
	}
	if t.observed/elapsed.Seconds() > t.rate {
		want := time.Duration(t.observed / t.rate * float64(time.Second))
		if d := want - elapsed; d > 0 {
			t.sleep(d)
		}
	}
	t.periodAt, t.observed = t.now(), 0
}

// cleanerCheckpoint is the partition's first dirty offset as checkpointed,
// or -1.
func (m *Manager) cleanerCheckpoint(tp TopicPartition) int64 {
	m.cleanMu.Lock()
	defer m.cleanMu.Unlock()
	if v, ok := m.cleanerOffsets[tp]; ok {
		return v
	}
	return -1
}

// setCleanerCheckpoint records the partition's first dirty offset and
// rewrites cleaner-offset-checkpoint.
func (m *Manager) setCleanerCheckpoint(tp TopicPartition, off int64) error {
	m.cleanMu.Lock()
	defer m.cleanMu.Unlock()
	if m.cleanerOffsets == nil {
		m.cleanerOffsets = map[TopicPartition]int64{}
	}
	m.cleanerOffsets[tp] = off
	return m.writeCleanerCheckpointLocked()
}

// dropCleanerCheckpoint forgets a deleted partition.
func (m *Manager) dropCleanerCheckpoint(tp TopicPartition) error {
	m.cleanMu.Lock()
	defer m.cleanMu.Unlock()
	if _, ok := m.cleanerOffsets[tp]; !ok {
		return nil
	}
	delete(m.cleanerOffsets, tp)
	return m.writeCleanerCheckpointLocked()
}

// writeCleanerCheckpointLocked writes the file. cleanMu held.
func (m *Manager) writeCleanerCheckpointLocked() error {
	if m.dir == "" {
		return nil
	}
	return writeCheckpoint(filepath.Join(m.dir, CleanerOffsetCheckpointFile), m.cleanerOffsets)
}
