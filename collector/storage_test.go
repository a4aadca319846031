package collector

import (
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kfake"

	"github.com/osprey-kafka/osprey/internal/forecast"
)

// Each broker log directory carries its used bytes (the sum of its partition logs) and its growth
// over the window from the polls' sizes; the samples carry the dirs for the history; a topic's disk
// bytes are its replicas' sum and its settle size follows its retention configs.
func TestStorageFromLogDirs(t *testing.T) {
	clk := newFakeClock()
	e := newTestCollector(t, Config{Now: clk.Now}, kfake.SeedTopics(2, "grow"))
	ctx := testCtx(t)
	if err := e.ac.AlterTopicConfigs(ctx, "grow", map[string]string{"retention.bytes": "1000"}, nil); err != nil {
		t.Fatal(err)
	}
	e.produce(t, "grow", map[int32]int{0: 10, 1: 10})
	first := e.col.PollNow(ctx)
	if first.Storage == nil || len(first.Storage.Dirs) == 0 {
		t.Fatalf("storage = %+v, want the brokers' log dirs", first.Storage)
	}
	for _, d := range first.Storage.Dirs {
		if d.Growth != nil || d.Points != 1 {
			t.Fatalf("first poll dir %+v: want no growth from one point", d)
		}
	}
	used := map[dirKey]int64{}
	for _, d := range first.Storage.Dirs {
		used[dirKey{d.Broker, d.Path}] = d.UsedBytes
	}
	clk.Advance(time.Hour)
	e.produce(t, "grow", map[int32]int{0: 10, 1: 10})
	s := e.col.PollNow(ctx)
	var grown int
	var disk int64
	for _, d := range s.Storage.Dirs {
		disk += d.UsedBytes
		prev := used[dirKey{d.Broker, d.Path}]
		want := float64(d.UsedBytes-prev) * 24
		if d.Growth == nil || *d.Growth != want || d.Points != 2 {
			t.Fatalf("dir %+v growth %v, want %v bytes/day over 2 points", d, d.Growth, want)
		}
		if want > 0 {
			grown++
		}
		if d.UsableBytes < 0 && d.DaysUntilFull != nil {
			t.Fatalf("dir %+v: days until full without usable bytes", d)
		}
	}
	if grown == 0 {
		t.Fatal("no log dir grew")
	}
	ts, ok := s.Storage.Topics["grow"]
	if !ok || ts.DiskBytes != disk || ts.Retention == nil || ts.Retention.Bytes != 1000 {
		t.Fatalf("topic storage %+v (retention %+v), want disk %d and retention.bytes 1000", ts, ts.Retention, disk)
	}
	if ts.BytesPerSec <= 0 {
		t.Fatalf("topic storage %+v, want the produce rate of the hour between the polls", ts)
	}
	topic, _ := s.Topic("grow")
	if want := int64(1000 * 2 * topic.ReplicationFactor); ts.Settle.Bytes != want || ts.Settle.Basis != forecast.BasisBytes {
		t.Fatalf("settle %+v, want %d bytes by retention.bytes", ts.Settle, want)
	}
	all := e.sink.All()
	if len(all) == 0 {
		t.Fatal("no samples")
	}
	last := all[len(all)-1]
	if len(last.LogDirs) != len(s.Storage.Dirs) || last.LogDirs[0].UsedBytes != s.Storage.Dirs[0].UsedBytes {
		t.Fatalf("samples log dirs %+v, want the snapshot's %+v", last.LogDirs, s.Storage.Dirs)
	}
}

// Seeded points start a directory's history (a second collector on the same cluster, as after a
// restart), those older than the window are left out, and a dir shows only once it has been read.
func TestStorageSeededHistory(t *testing.T) {
	clk := newFakeClock()
	e := newTestCollector(t, Config{Now: clk.Now, StorageWindow: 2 * time.Hour}, kfake.SeedTopics(1, "t"))
	ctx := testCtx(t)
	first := e.col.PollNow(ctx)
	if len(first.Storage.Dirs) == 0 {
		t.Fatal("no log dirs")
	}
	d0 := first.Storage.Dirs[0]
	col, err := New(Config{Cluster: "test", Now: clk.Now, StorageWindow: 2 * time.Hour}, e.ac, nil, quiet())
	if err != nil {
		t.Fatal(err)
	}
	now := clk.Now()
	col.SeedStorage([]StoragePoint{
		{Broker: d0.Broker, Path: d0.Path, At: now.Add(-3 * time.Hour), Used: 0}, // outside the window
		{Broker: d0.Broker, Path: d0.Path, At: now.Add(-2 * time.Hour), Used: d0.UsedBytes - 2000},
		{Broker: d0.Broker, Path: d0.Path, At: now.Add(-time.Hour), Used: d0.UsedBytes - 1000},
		{Broker: 99, Path: "/gone", At: now.Add(-time.Hour), Used: 5},
	})
	s := col.PollNow(ctx)
	var got *LogDirStorage
	for i, d := range s.Storage.Dirs {
		if d.Broker == 99 {
			t.Fatalf("a seeded dir never read is listed: %+v", d)
		}
		if d.Broker == d0.Broker && d.Path == d0.Path {
			got = &s.Storage.Dirs[i]
		}
	}
	if got == nil {
		t.Fatalf("dir %d %s not in %+v", d0.Broker, d0.Path, s.Storage.Dirs)
	}
	if got.Points != 3 || got.Growth == nil || *got.Growth != 24000 || !got.Since.Equal(now.Add(-2*time.Hour)) {
		t.Fatalf("dir %+v growth %v, want 3 points since 2 h ago at 24000 bytes/day", got, got.Growth)
	}
}

// A directory's history stays within its bound by dropping every other older point.
func TestDirTrackThins(t *testing.T) {
	var tr dirTrack
	t0 := time.Unix(0, 0)
	for i := range maxStoragePoints + 1 {
		tr.observe(forecast.Point{At: t0.Add(time.Duration(i) * time.Second), Used: int64(i)}, 24*time.Hour)
	}
	if len(tr.points) > maxStoragePoints || tr.points[0].Used != 0 || tr.points[len(tr.points)-1].Used != maxStoragePoints {
		t.Fatalf("%d points from %d to %d", len(tr.points), tr.points[0].Used, tr.points[len(tr.points)-1].Used)
	}
	if g, ok := forecast.Growth(tr.points); !ok || g < 86399 || g > 86401 {
		t.Fatalf("growth after thinning %v, want 86400 bytes/day", g)
	}
}

// A topic's produce rate is the bytes written over the window: steady writes give their rate
// however long the collector has run, a read in which retention deleted more than was written
// adds nothing, and the points stay few.
func TestWrittenTrackRate(t *testing.T) {
	var w writtenTrack
	t0 := time.Unix(0, 0)
	if w.add(t0, 0, 24*time.Hour); w.rate() != -1 {
		t.Fatalf("rate from one read = %v, want -1", w.rate())
	}
	for i := 1; i <= 48*60; i++ { // two days of reads a minute apart, 100 B/s
		w.add(t0.Add(time.Duration(i)*time.Minute), 6000, 24*time.Hour)
	}
	if r := w.rate(); r < 99.99 || r > 100.01 || len(w.pts) > writtenSteps+2 {
		t.Fatalf("rate %v over %d points, want 100 B/s over at most %d", r, len(w.pts), writtenSteps+2)
	}
	span := w.pts[len(w.pts)-1].at.Sub(w.pts[0].at)
	if span > 24*time.Hour || span < 23*time.Hour {
		t.Fatalf("points span %v, want about the 24 h window", span)
	}
	end := t0.Add(48 * time.Hour)
	for i := 1; i <= 24*60; i++ { // a day of nothing written
		w.add(end.Add(time.Duration(i)*time.Minute), 0, 24*time.Hour)
	}
	if r := w.rate(); r < 0 || r > 100.0/23 {
		t.Fatalf("rate after a quiet day %v, want about 0", r)
	}
}

func TestRetentionOf(t *testing.T) {
	for _, tc := range []struct {
		kv   map[string]string
		want forecast.Retention
		ok   bool
	}{
		{map[string]string{cfgRetentionMs: "604800000", cfgRetentionBytes: "-1", cfgCleanupPolicy: "delete"}, forecast.Retention{Ms: 604800000, Bytes: -1, Delete: true}, true},
		{map[string]string{cfgRetentionMs: "-1", cfgRetentionBytes: "1024", cfgCleanupPolicy: "compact, delete"}, forecast.Retention{Ms: -1, Bytes: 1024, Delete: true, Compact: true}, true},
		{map[string]string{cfgRetentionMs: "-5", cfgRetentionBytes: "-2", cfgCleanupPolicy: "compact"}, forecast.Retention{Ms: -1, Bytes: -1, Compact: true}, true},
		{map[string]string{cfgRetentionMs: "1000", cfgCleanupPolicy: "delete"}, forecast.Retention{}, false},
	} {
		if got, ok := retentionOf(tc.kv); ok != tc.ok || got != tc.want {
			t.Errorf("retentionOf(%v) = %+v, %v; want %+v, %v", tc.kv, got, ok, tc.want, tc.ok)
		}
	}
}

// A snapshot of an unreachable cluster keeps the last figures of every directory, marked unread,
// without touching the previous snapshot's.
func TestUnreachableStorage(t *testing.T) {
	g := 10.0
	prev := &Storage{Window: time.Hour, Dirs: []LogDirStorage{{Broker: 1, Path: "/d", UsedBytes: 5, Growth: &g}}}
	got := unreachableStorage(prev)
	if len(got.Dirs) != 1 || got.Dirs[0].Error != "cluster unreachable" || got.Dirs[0].Growth != &g || prev.Dirs[0].Error != "" {
		t.Fatalf("unreachable = %+v, previous = %+v", got.Dirs, prev.Dirs)
	}
	if unreachableStorage(nil) != nil {
		t.Fatal("storage before any read")
	}
}
