package service

import (
	"context"
	"encoding/json"
	"fmt"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/osprey-kafka/osprey/collector"
)

// StorageView is a cluster's storage forecast from the latest poll: each broker log directory's
// sizes, growth and days until full, and each topic's size on disk and the size it settles at.
type StorageView struct {
	Time          time.Time      `json:"time" description:"The poll the figures are from"`
	WindowSeconds float64        `json:"windowSeconds" description:"How far back the growth rates reach (collector.storageWindow)"`
	Dirs          []StorageDir   `json:"dirs"`
	Topics        []StorageTopic `json:"topics"`
}

// StorageDir is one broker log directory.
type StorageDir struct {
	Broker            int32      `json:"broker"`
	Path              string     `json:"path"`
	UsedBytes         int64      `json:"usedBytes" description:"Sum of the partition logs in the directory"`
	TotalBytes        int64      `json:"totalBytes" description:"The file system's size (DescribeLogDirs v4); -1 unknown"`
	UsableBytes       int64      `json:"usableBytes" description:"The file system's free bytes usable by the broker (DescribeLogDirs v4); -1 unknown"`
	GrowthBytesPerDay *float64   `json:"growthBytesPerDay" description:"Least-squares slope of the used bytes over the window; null with fewer than two polls"`
	DaysUntilFull     *float64   `json:"daysUntilFull" description:"usableBytes / growth; null when not growing or usable bytes are unknown"`
	Points            int        `json:"points" description:"Polls the growth is computed from"`
	Since             *time.Time `json:"since" description:"Time of the oldest of those polls"`
	Error             string     `json:"error,omitempty" description:"This poll's read failed: the sizes are the last ones read"`
}

// StorageTopic is one topic's storage: its size over all replicas and the size it settles at.
type StorageTopic struct {
	Topic             string  `json:"topic"`
	Internal          bool    `json:"internal"`
	Partitions        int     `json:"partitions"`
	ReplicationFactor int     `json:"replicationFactor"`
	DiskBytes         int64   `json:"diskBytes" description:"Sum of the topic's replicas' logs over every log directory"`
	BytesPerSec       float64 `json:"bytesPerSec" description:"Produce byte rate into one copy: the growth of the leaders' logs averaged over the storage window; -1 before a second poll"`
	RetentionMs       *int64  `json:"retentionMs" description:"retention.ms (-1 no limit); null until the topic's configs were read"`
	RetentionBytes    *int64  `json:"retentionBytes" description:"retention.bytes per partition (-1 no limit); null until read"`
	SettleBytes       int64   `json:"settleBytes" description:"Size the topic settles at over all replicas; -1 when unbounded, compacted or unknown"`
	SettleBasis       string  `json:"settleBasis" enum:"retention_bytes,retention_time,unbounded,compacted,unknown"`
	Compacted         bool    `json:"compacted" description:"cleanup.policy includes compact: a delete bound is then an upper bound"`
}

// maxSeedRows bounds the log-dir points read to seed a collector (about a day of 15 s polls of 10 dirs).
const maxSeedRows = 60_000

// Storage answers the storage forecast from the cluster's latest snapshot.
func (s *Service) Storage(cluster string) (StorageView, error) {
	snap, err := s.snapshot(cluster)
	if err != nil {
		return StorageView{}, err
	}
	return storageView(snap), nil
}

// StorageJSON is Storage's answer encoded as JSON. The forecast only changes when the collector
// polls, so each snapshot's answer is built and encoded once and served as those bytes until the
// next poll: encoding every topic's row on every request was most of the endpoint's cost.
func (s *Service) StorageJSON(cluster string) ([]byte, error) {
	snap, err := s.snapshot(cluster)
	if err != nil {
		return nil, err
	}
	if body, ok := s.storage.get(cluster, snap); ok {
		return body, nil
	}
	body, err := json.Marshal(storageView(snap))
	if err != nil {
		return nil, fmt.Errorf("encoding the storage forecast of %s: %w", cluster, err)
	}
	s.storage.put(cluster, snap, body)
	return body, nil
}

// storageCache keeps each cluster's encoded storage answer for the snapshot it was built from.
type storageCache struct {
	mu      sync.Mutex // guards entries
	entries map[string]storageEntry
}

type storageEntry struct {
	snap *collector.Snapshot
	body []byte
}

func (c *storageCache) get(cluster string, snap *collector.Snapshot) ([]byte, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	e, ok := c.entries[cluster]
	if !ok || e.snap != snap {
		return nil, false
	}
	return e.body, true
}

// put keeps body unless a newer snapshot's answer is already there: two requests may build
// answers for successive snapshots concurrently, and the older one must not win.
func (c *storageCache) put(cluster string, snap *collector.Snapshot, body []byte) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.entries == nil {
		c.entries = map[string]storageEntry{}
	}
	if e, ok := c.entries[cluster]; ok && e.snap != nil && e.snap.Cluster.LastPoll.After(snap.Cluster.LastPoll) {
		return
	}
	c.entries[cluster] = storageEntry{snap: snap, body: body}
}

func storageView(snap *collector.Snapshot) StorageView {
	v := StorageView{Time: snap.Cluster.LastPoll, Dirs: []StorageDir{}, Topics: []StorageTopic{}}
	st := snap.Storage
	if st == nil { // the cluster was unreachable this cycle
		return v
	}
	v.WindowSeconds = st.Window.Seconds()
	for _, d := range st.Dirs {
		sd := StorageDir{Broker: d.Broker, Path: d.Path, UsedBytes: d.UsedBytes, TotalBytes: d.TotalBytes, UsableBytes: d.UsableBytes,
			GrowthBytesPerDay: d.Growth, DaysUntilFull: d.DaysUntilFull, Points: d.Points, Error: d.Error}
		if d.Points > 0 {
			since := d.Since
			sd.Since = &since
		}
		v.Dirs = append(v.Dirs, sd)
	}
	for i := range snap.Topics {
		t := &snap.Topics[i]
		ts, ok := st.Topics[t.Name]
		if !ok {
			continue
		}
		row := StorageTopic{Topic: t.Name, Internal: t.Internal, Partitions: len(t.Partitions), ReplicationFactor: t.ReplicationFactor,
			DiskBytes: ts.DiskBytes, BytesPerSec: ts.BytesPerSec, SettleBytes: ts.Settle.Bytes, SettleBasis: string(ts.Settle.Basis),
			Compacted: ts.Settle.Compacted}
		if r := ts.Retention; r != nil {
			ms, b := r.Ms, r.Bytes
			row.RetentionMs, row.RetentionBytes = &ms, &b
		}
		v.Topics = append(v.Topics, row)
	}
	sort.Slice(v.Topics, func(i, j int) bool { return strings.Compare(v.Topics[i].Topic, v.Topics[j].Topic) < 0 })
	return v
}

// seedStorage starts a new collector's log-dir histories from the stored points of the last
// storage window, so a restarted console shows growth at its first poll. A failed read only costs
// that head start.
func (s *Service) seedStorage(ctx context.Context, cluster string, col *collector.Collector) {
	if s.opts.Store == nil {
		return
	}
	since := s.opts.Now().Add(-col.Config().StorageWindow)
	pts, err := s.opts.Store.LogDirHistory(ctx, cluster, since, maxSeedRows)
	if err != nil {
		s.log.Warn("seeding storage history", "cluster", cluster, "err", err)
		return
	}
	seed := make([]collector.StoragePoint, 0, len(pts))
	for _, p := range pts {
		seed = append(seed, collector.StoragePoint{Broker: p.BrokerID, Path: p.Dir, At: time.UnixMilli(p.Ts), Used: p.UsedBytes})
	}
	col.SeedStorage(seed)
}
