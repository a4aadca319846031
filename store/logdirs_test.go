package store

import (
	"context"
	"testing"
	"time"
)

// The log-dir history round-trips on both dialects: points per broker and dir in time order from
// since on, -1 kept for unknown file-system figures, a duplicate poll ignored, and expiry.
func TestLogDirHistory(t *testing.T) {
	eachDialect(t, func(t *testing.T, s *Store) {
		ctx := context.Background()
		base := time.UnixMilli(1_700_000_000_000)
		for i := range 4 {
			ts := base.Add(time.Duration(i) * time.Minute).UnixMilli()
			pts := []LogDirPoint{
				{Cluster: "k", BrokerID: 2, Dir: "/data/b", Ts: ts, UsedBytes: int64(1000 * i), TotalBytes: 1 << 40, UsableBytes: 1<<40 - int64(1000*i)},
				{Cluster: "k", BrokerID: 1, Dir: "/data/a", Ts: ts, UsedBytes: int64(10 * i), TotalBytes: -1, UsableBytes: -1},
				{Cluster: "other", BrokerID: 1, Dir: "/x", Ts: ts, UsedBytes: 1},
			}
			if err := s.WriteLogDirs(ctx, pts); err != nil {
				t.Fatal(err)
			}
		}
		if err := s.WriteLogDirs(ctx, []LogDirPoint{{Cluster: "k", BrokerID: 1, Dir: "/data/a", Ts: base.UnixMilli(), UsedBytes: 99}}); err != nil {
			t.Fatalf("duplicate poll: %v", err)
		}
		got, err := s.LogDirHistory(ctx, "k", base.Add(time.Minute), 100)
		if err != nil {
			t.Fatal(err)
		}
		if len(got) != 6 || got[0].BrokerID != 1 || got[0].UsedBytes != 10 || got[0].TotalBytes != -1 ||
			got[2].UsedBytes != 30 || got[3].Dir != "/data/b" || got[5].UsedBytes != 3000 || got[5].UsableBytes != 1<<40-3000 {
			t.Fatalf("history = %+v", got)
		}
		n, err := s.ExpireLogDirs(ctx, base.Add(90*time.Second))
		if err != nil {
			t.Fatal(err)
		}
		if n != 6 { // two polls of three dirs
			t.Fatalf("expired %d rows, want 6", n)
		}
		if got, _ := s.LogDirHistory(ctx, "k", base, 100); len(got) != 4 || got[0].UsedBytes != 20 {
			t.Fatalf("after expiry %+v", got)
		}
	})
}
