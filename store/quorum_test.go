package store

import (
	"context"
	"testing"
	"time"
)

// The quorum history round-trips on both dialects: points in time order within the range, at most
// limit (the newest), a duplicate poll ignored, replicas per poll, and expiry of both tables.
func TestQuorumHistory(t *testing.T) {
	eachDialect(t, func(t *testing.T, s *Store) {
		ctx := context.Background()
		base := time.UnixMilli(1_700_000_000_000)
		for i := range 5 {
			p := QuorumPoint{Cluster: "k", Ts: base.Add(time.Duration(i) * 15 * time.Second).UnixMilli(), LeaderID: int32(1 + i%2),
				LeaderEpoch: int32(3 + i), HighWatermark: int64(100 * i), Voters: 3, MaxVoterLag: int64(i), MaxVoterLagSec: float64(i) / 2}
			reps := []QuorumReplicaPoint{
				{ReplicaID: 1, Voter: true, LogEndOffset: int64(100 * i), Lag: 0, LagSec: 0, FetchAgeSec: 0.5},
				{ReplicaID: 4, Voter: false, LogEndOffset: int64(90 * i), Lag: int64(10 * i), LagSec: -1, FetchAgeSec: -1},
			}
			if err := s.WriteQuorum(ctx, p, reps); err != nil {
				t.Fatal(err)
			}
		}
		dup := QuorumPoint{Cluster: "k", Ts: base.UnixMilli(), LeaderID: 9}
		if err := s.WriteQuorum(ctx, dup, []QuorumReplicaPoint{{ReplicaID: 1}}); err != nil {
			t.Fatalf("duplicate poll: %v", err)
		}
		if err := s.WriteQuorum(ctx, QuorumPoint{Cluster: "other", Ts: base.UnixMilli(), LeaderID: 7}, nil); err != nil {
			t.Fatal(err)
		}

		got, err := s.QuorumHistory(ctx, "k", base, base.Add(time.Hour), 100)
		if err != nil {
			t.Fatal(err)
		}
		if len(got) != 5 || got[0].LeaderID != 1 || got[0].LeaderEpoch != 3 || got[4].MaxVoterLagSec != 2 || got[4].HighWatermark != 400 {
			t.Fatalf("history = %+v", got)
		}
		last, err := s.QuorumHistory(ctx, "k", base, base.Add(time.Hour), 2)
		if err != nil {
			t.Fatal(err)
		}
		if len(last) != 2 || last[0].LeaderEpoch != 6 || last[1].LeaderEpoch != 7 {
			t.Fatalf("newest two = %+v, want epochs 6, 7", last)
		}
		obs, err := s.QuorumReplicaHistory(ctx, "k", 4, base, base.Add(time.Hour), 100)
		if err != nil {
			t.Fatal(err)
		}
		if len(obs) != 5 || obs[4].Lag != 40 || obs[4].Voter || obs[4].LagSec != -1 {
			t.Fatalf("observer history = %+v", obs)
		}

		n, err := s.ExpireQuorum(ctx, base.Add(31*time.Second))
		if err != nil {
			t.Fatal(err)
		}
		if n != 3*3+1 { // three polls of k with two replicas each, and other's one poll
			t.Fatalf("expired %d rows, want 10", n)
		}
		if got, _ := s.QuorumHistory(ctx, "k", base, base.Add(time.Hour), 100); len(got) != 2 {
			t.Fatalf("after expiry %d points, want 2", len(got))
		}
	})
}
