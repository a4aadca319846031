package collector

import (
	"cmp"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/osprey-kafka/osprey/internal/forecast"
)

// Storage is a snapshot's storage figures: each broker log directory with its growth over
// Config.StorageWindow and the days until it is full at that rate, and each topic's bytes on disk
// with the size it settles at under its retention (see internal/forecast and docs/HISTORY.md).
type Storage struct {
	Window time.Duration
	// Dirs is sorted by broker and path.
	Dirs []LogDirStorage
	// Topics has every topic whose size was read.
	Topics map[string]TopicStorage
}

// LogDirStorage is one broker log directory. TotalBytes and UsableBytes are -1 when the broker
// does not report them (DescribeLogDirs before v4). Error is set when this cycle's read of the
// broker's log dirs failed: the sizes are then the last ones read.
type LogDirStorage struct {
	Broker      int32
	Path        string
	UsedBytes   int64
	TotalBytes  int64
	UsableBytes int64
	Error       string
	// Growth is the used bytes' least-squares slope over the window, in bytes a day; nil with
	// fewer than two polls in the window.
	Growth *float64
	// DaysUntilFull is UsableBytes / Growth; nil when not growing or usable bytes are unknown.
	DaysUntilFull *float64
	// Points is how many polls the growth is computed from, Since the oldest one's time.
	Points int
	Since  time.Time
}

// TopicStorage is one topic's bytes on disk (all replicas) and the size it settles at.
// Retention is nil until the topic's retention configs have been read. BytesPerSec is the produce
// rate into one copy averaged over the storage window (-1 before a second log-dir read).
type TopicStorage struct {
	DiskBytes   int64
	BytesPerSec float64
	Retention   *forecast.Retention
	Settle      forecast.Settle
}

// LogDirSample is one log directory's point in the storage history.
type LogDirSample struct {
	Broker                             int32
	Path                               string
	UsedBytes, TotalBytes, UsableBytes int64
}

// maxStoragePoints bounds a directory's kept polls; past it every other older point is dropped,
// which thins the history evenly and keeps the least-squares line's reach.
const maxStoragePoints = 2048

type dirKey struct {
	broker int32
	path   string
}

// dirTrack is one log directory: the last read and its used bytes over the window, oldest first.
type dirTrack struct {
	last   LogDirStorage
	seenAt time.Time
	points []forecast.Point
}

func (t *dirTrack) observe(p forecast.Point, window time.Duration) {
	if n := len(t.points); n > 0 && !p.At.After(t.points[n-1].At) {
		return
	}
	t.points = append(t.points, p)
	cut := 0
	for cut < len(t.points) && p.At.Sub(t.points[cut].At) > window {
		cut++
	}
	t.points = t.points[cut:]
	if len(t.points) > maxStoragePoints {
		half := len(t.points) / 2
		kept := t.points[:0]
		for i, q := range t.points {
			if i >= half || i%2 == 0 {
				kept = append(kept, q)
			}
		}
		t.points = kept
	}
}

// StoragePoint is one stored log-dir size, for SeedStorage.
type StoragePoint struct {
	Broker int32
	Path   string
	At     time.Time
	Used   int64
}

// SeedStorage starts the log directories' histories from stored points (each directory's in time
// order), so that after a restart the growth reaches back over Config.StorageWindow at once.
// Call before Start.
func (c *Collector) SeedStorage(points []StoragePoint) {
	c.pollMu.Lock()
	defer c.pollMu.Unlock()
	since := c.cfg.Now().Add(-c.cfg.StorageWindow)
	for _, p := range points {
		if p.At.Before(since) {
			continue
		}
		k := dirKey{p.Broker, p.Path}
		t := c.st.dirs[k]
		if t == nil {
			t = &dirTrack{last: LogDirStorage{Broker: p.Broker, Path: p.Path, TotalBytes: -1, UsableBytes: -1}}
			c.st.dirs[k] = t
		}
		t.observe(forecast.Point{At: p.At, Used: p.Used}, c.cfg.StorageWindow)
	}
}

// observeDirs records this cycle's log-dir reads (under pollMu): read dirs are observed at `at`;
// a broker whose read failed keeps its dirs' last figures with the error; dirs neither read nor
// failing for a whole window are forgotten.
func (c *Collector) observeDirs(read []LogDirStorage, failed map[int32]string, at time.Time) {
	st := &c.st
	for _, d := range read {
		k := dirKey{d.Broker, d.Path}
		t := st.dirs[k]
		if t == nil {
			t = &dirTrack{}
			st.dirs[k] = t
		}
		t.last, t.seenAt = d, at
		t.observe(forecast.Point{At: at, Used: d.UsedBytes}, c.cfg.StorageWindow)
	}
	for k, t := range st.dirs {
		if e, ok := failed[k.broker]; ok && !t.seenAt.IsZero() {
			t.last.Error = e
			continue
		}
		if at.Sub(t.seenAt) > c.cfg.StorageWindow {
			delete(st.dirs, k)
		}
	}
}

// storage computes the snapshot's storage figures from the directories' histories and the
// topics' sizes and retention (under pollMu).
func (c *Collector) storage(s *Snapshot) *Storage {
	st := &c.st
	out := &Storage{Window: c.cfg.StorageWindow, Topics: make(map[string]TopicStorage, len(s.Topics))}
	for _, t := range st.dirs {
		if t.seenAt.IsZero() {
			continue // seeded, not read since the start
		}
		d := t.last
		d.Growth, d.DaysUntilFull, d.Points = nil, nil, len(t.points)
		if len(t.points) > 0 {
			d.Since = t.points[0].At
		}
		if g, ok := forecast.Growth(t.points); ok {
			d.Growth = &g
			if days, ok := forecast.DaysUntilFull(d.UsableBytes, g); ok {
				d.DaysUntilFull = &days
			}
		}
		out.Dirs = append(out.Dirs, d)
	}
	slices.SortFunc(out.Dirs, func(a, b LogDirStorage) int {
		return cmp.Or(cmp.Compare(a.Broker, b.Broker), strings.Compare(a.Path, b.Path))
	})
	for i := range s.Topics {
		t := &s.Topics[i]
		disk, ok := st.topicDisk[t.Name]
		if !ok {
			continue
		}
		ts := TopicStorage{DiskBytes: disk, Settle: forecast.Settle{Bytes: -1, Basis: forecast.BasisUnknown}}
		ts.BytesPerSec = -1
		if w := st.written[t.Name]; w != nil {
			ts.BytesPerSec = w.rate()
		}
		if r, ok := st.retention[t.Name]; ok {
			ts.Retention = &r
			ts.Settle = forecast.SettleSize(r, len(t.Partitions), t.ReplicationFactor, ts.BytesPerSec)
		}
		out.Topics[t.Name] = ts
	}
	return out
}

// storageSamples is a snapshot's log directories as history points: the ones read this cycle.
func storageSamples(s *Storage) []LogDirSample {
	if s == nil {
		return nil
	}
	out := make([]LogDirSample, 0, len(s.Dirs))
	for _, d := range s.Dirs {
		if d.Error == "" {
			out = append(out, LogDirSample{Broker: d.Broker, Path: d.Path, UsedBytes: d.UsedBytes, TotalBytes: d.TotalBytes, UsableBytes: d.UsableBytes})
		}
	}
	return out
}

// Topic configs the collector reads when they are due (Config.LogDirsInterval).
const (
	cfgMinISR         = "min.insync.replicas"
	cfgRetentionMs    = "retention.ms"
	cfgRetentionBytes = "retention.bytes"
	cfgCleanupPolicy  = "cleanup.policy"
)

var topicConfigKeys = []string{cfgMinISR, cfgRetentionMs, cfgRetentionBytes, cfgCleanupPolicy}

// retentionOf parses a topic's retention configs; ok is false when any of them is missing.
func retentionOf(kv map[string]string) (forecast.Retention, bool) {
	ms, err1 := strconv.ParseInt(kv[cfgRetentionMs], 10, 64)
	bytes, err2 := strconv.ParseInt(kv[cfgRetentionBytes], 10, 64)
	policy, ok := kv[cfgCleanupPolicy]
	if err1 != nil || err2 != nil || !ok {
		return forecast.Retention{}, false
	}
	r := forecast.Retention{Ms: max(ms, -1), Bytes: max(bytes, -1)}
	for _, p := range strings.Split(policy, ",") {
		switch strings.TrimSpace(p) {
		case "delete":
			r.Delete = true
		case "compact":
			r.Compact = true
		}
	}
	return r, true
}

// unreachableStorage is the previous figures with every directory marked unread, so that what
// was said about them (an alert on days until full) is neither repeated as fresh nor dropped.
func unreachableStorage(prev *Storage) *Storage {
	if prev == nil {
		return nil
	}
	out := *prev
	out.Dirs = make([]LogDirStorage, len(prev.Dirs))
	for i, d := range prev.Dirs {
		d.Error = "cluster unreachable"
		out.Dirs[i] = d
	}
	return &out
}

// writtenTrack is the bytes written to one topic's leaders since the collector first read its
// size (the sum of each read's growth over the previous one; a read in which retention deleted
// more than was written adds nothing), at points at least window/writtenSteps apart, oldest first,
// reaching back over the window. The newest point moves with every read.
type writtenTrack struct {
	total float64
	pts   []writtenPoint
}

type writtenPoint struct {
	at    time.Time
	total float64
}

// writtenSteps bounds a topic's points (about 65): a rate over a day needs no finer grain, and a
// cluster may have many topics.
const writtenSteps = 64

func (w *writtenTrack) add(at time.Time, grown float64, window time.Duration) {
	w.total += grown
	p := writtenPoint{at, w.total}
	if n := len(w.pts); n >= 2 && w.pts[n-1].at.Sub(w.pts[n-2].at) < window/writtenSteps {
		w.pts[n-1] = p
	} else {
		w.pts = append(w.pts, p)
	}
	cut := 0
	for cut < len(w.pts)-2 && at.Sub(w.pts[cut].at) > window {
		cut++
	}
	w.pts = w.pts[cut:]
}

// rate is the bytes written per second between the oldest and the newest point; -1 with fewer
// than two points.
func (w *writtenTrack) rate() float64 {
	n := len(w.pts)
	if n < 2 {
		return -1
	}
	dt := w.pts[n-1].at.Sub(w.pts[0].at).Seconds()
	if dt <= 0 {
		return -1
	}
	return (w.pts[n-1].total - w.pts[0].total) / dt
}

// observeWritten adds each topic's growth since the previous log-dir read to its written track
// (under pollMu; before prevTopicSz is replaced), and forgets deleted topics.
func (c *Collector) observeWritten(topicSz map[string]int64, at time.Time) {
	st := &c.st
	for t, sz := range topicSz {
		w := st.written[t]
		if w == nil {
			w = &writtenTrack{}
			st.written[t] = w
		}
		var grown float64
		if prev, ok := st.prevTopicSz[t]; ok && sz > prev {
			grown = float64(sz - prev)
		}
		w.add(at, grown, c.cfg.StorageWindow)
	}
	for t := range st.written {
		if _, ok := topicSz[t]; !ok {
			delete(st.written, t)
		}
	}
}
