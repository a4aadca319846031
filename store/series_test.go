package store

import (
	"context"
	"fmt"
	"testing"
	"time"
)

func TestSeriesWriteRollupExpire(t *testing.T) {
	eachDialect(t, func(t *testing.T, s *Store) {
		ctx := context.Background()
		base := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
		// Ten minutes of 15-second polls: 40 raw points per series. Lag climbs 0,10,20,...; rates constant.
		var b Batch
		for i := 0; i < 40; i++ {
			ts := base.Add(time.Duration(i) * 15 * time.Second).Unix()
			b.Topics = append(b.Topics, TopicPoint{Cluster: "c", Topic: "orders", Ts: ts, StartOffset: 5, EndOffset: int64(100 + i), SizeBytes: int64(1000 * i), MsgsPerSec: 2, BytesPerSec: 200})
			b.Groups = append(b.Groups, GroupPoint{Cluster: "c", GroupName: "billing", Topic: "orders", Ts: ts, Committed: int64(90 + i), Lag: int64(10 * i), LagMax: int64(10 * i), LagSeconds: float64(i)})
			b.Brokers = append(b.Brokers, BrokerPoint{Cluster: "c", BrokerID: 1, Ts: ts, Up: float64(i % 2), Leaders: 3, Replicas: 9, LogDirBytes: 1 << 20, MsgsInPerSec: 2, BytesInPerSec: 200})
			b.Clusters = append(b.Clusters, ClusterPoint{Cluster: "c", Ts: ts, Brokers: 3, BrokersUp: 3 - i%2, Topics: 1, Partitions: 3, TotalLag: int64(10 * i), MsgsPerSec: 2, BytesPerSec: 200})
		}
		if err := s.WriteBatch(ctx, &b); err != nil {
			t.Fatal(err)
		}
		// Writing the same cycle twice keeps the first points and does not fail.
		if err := s.WriteBatch(ctx, &b); err != nil {
			t.Fatalf("rewrite: %v", err)
		}
		raw, err := s.TopicSeries(ctx, "c", "orders", SeriesRange{From: base, To: base.Add(time.Hour)})
		if err != nil || len(raw) != 40 || raw[39].EndOffset != 139 {
			t.Fatalf("raw series: %d points, err %v", len(raw), err)
		}

		// Roll up at base+10m+grace: the ten 1-minute buckets and the two 5-minute buckets are complete.
		now := base.Add(10*time.Minute + RollupGrace)
		n, err := s.Rollup(ctx, now)
		if err != nil {
			t.Fatal(err)
		}
		// per series: 10 one-minute rows + 2 five-minute rows; 4 series.
		if n != 4*(10+2) {
			t.Fatalf("rollup wrote %d rows, want %d", n, 4*12)
		}
		minute, _ := s.GroupSeries(ctx, "c", "billing", "", SeriesRange{From: base, To: now, Step: 60})
		if len(minute) != 10 {
			t.Fatalf("1-minute group points = %d, want 10", len(minute))
		}
		// First minute holds lags 0,10,20,30: average 15, max 30.
		if minute[0].Lag != 15 || minute[0].LagMax != 30 || minute[0].Committed != 93 {
			t.Fatalf("first minute = %+v", minute[0])
		}
		five, _ := s.TopicSeries(ctx, "c", "orders", SeriesRange{From: base, To: now, Step: 300})
		if len(five) != 2 || five[0].EndOffset != 119 || five[1].EndOffset != 139 || five[0].MsgsPerSec != 2 {
			t.Fatalf("5-minute topic points = %+v", five)
		}
		br, _ := s.BrokerSeries(ctx, "c", 1, SeriesRange{From: base, To: now, Step: 60})
		if len(br) != 10 || br[0].Up != 0.5 {
			t.Fatalf("broker availability rollup = %+v", br)
		}
		cl, _ := s.ClusterSeries(ctx, "c", SeriesRange{From: base, To: now, Step: 60})
		if len(cl) != 10 || cl[0].BrokersUp != 2 {
			t.Fatalf("cluster rollup = %+v", cl)
		}

		// Rolling up again changes nothing: each bucket exactly once.
		if n, err := s.Rollup(ctx, now); err != nil || n != 0 {
			t.Fatalf("second rollup wrote %d rows, err %v", n, err)
		}
		// No hourly bucket is complete yet.
		if h, _ := s.TopicSeries(ctx, "c", "orders", SeriesRange{From: base, To: now, Step: 3600}); len(h) != 0 {
			t.Fatalf("hourly rows too early: %v", h)
		}

		// Expire with raw kept 5 minutes: only raw points newer than now-5m stay; rollups untouched.
		pol := RetentionPolicy{Raw: 5 * time.Minute, Minute: 48 * time.Hour, FiveMin: 7 * 24 * time.Hour, Hour: 15 * 24 * time.Hour, Audit: time.Hour}
		if _, err := s.Expire(ctx, now, pol); err != nil {
			t.Fatal(err)
		}
		raw, _ = s.TopicSeries(ctx, "c", "orders", SeriesRange{From: base, To: now})
		cutoff := now.Add(-5 * time.Minute).Unix()
		for _, p := range raw {
			if p.Ts < cutoff {
				t.Fatalf("raw point at %d survived cutoff %d", p.Ts, cutoff)
			}
		}
		if len(raw) == 0 || len(raw) == 40 {
			t.Fatalf("expected some raw points kept and some dropped, got %d", len(raw))
		}
		if m, _ := s.GroupSeries(ctx, "c", "billing", "orders", SeriesRange{From: base, To: now, Step: 60}); len(m) != 10 {
			t.Fatalf("minute rollups lost: %d", len(m))
		}
		// Much later, everything expires.
		if _, err := s.Expire(ctx, now.Add(30*24*time.Hour), pol); err != nil {
			t.Fatal(err)
		}
		if m, _ := s.GroupSeries(ctx, "c", "billing", "", SeriesRange{From: base, To: now, Step: 60}); len(m) != 0 {
			t.Fatalf("expired rollups kept: %d", len(m))
		}
	})
}

func TestExpireDeletesInChunks(t *testing.T) {
	eachDialect(t, func(t *testing.T, s *Store) {
		ctx := context.Background()
		var b Batch
		n := deleteChunk*2 + 17
		for i := 0; i < n; i++ {
			b.Topics = append(b.Topics, TopicPoint{Cluster: "c", Topic: fmt.Sprintf("t%d", i%50), Ts: int64(1000 + i)})
		}
		if err := s.WriteBatch(ctx, &b); err != nil {
			t.Fatal(err)
		}
		deleted, err := s.Expire(ctx, time.Unix(1_000_000, 0), RetentionPolicy{Raw: time.Second})
		if err != nil || deleted != int64(n) {
			t.Fatalf("deleted %d, want %d (err %v)", deleted, n, err)
		}
	})
}

func TestStepFor(t *testing.T) {
	now := time.Date(2026, 1, 10, 0, 0, 0, 0, time.UTC)
	pol := RetentionPolicy{Raw: 6 * time.Hour, Minute: 48 * time.Hour, FiveMin: 7 * 24 * time.Hour, Hour: 15 * 24 * time.Hour}
	cases := []struct {
		from time.Duration
		want int
	}{
		{time.Hour, 0},
		{12 * time.Hour, 60},
		{3 * 24 * time.Hour, 300},
		{10 * 24 * time.Hour, 3600},
	}
	for _, c := range cases {
		if got := StepFor(now, now.Add(-c.from), now, pol, 15*time.Second, 3000); got != c.want {
			t.Errorf("range %v: step %d, want %d", c.from, got, c.want)
		}
	}
}
