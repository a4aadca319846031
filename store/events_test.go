package store

import (
	"context"
	"slices"
	"testing"
	"time"
)

// Events are written, closed and read back by topic, by broker and by time overlap, on both
// dialects; expiry keeps open intervals.
func TestPartitionEvents(t *testing.T) {
	eachDialect(t, func(t *testing.T, s *Store) {
		ctx := context.Background()
		t0 := time.Date(2026, 1, 2, 3, 0, 0, 0, time.UTC)
		min := func(m int) time.Time { return t0.Add(time.Duration(m) * time.Minute) }
		end := min(1)
		shrink := &PartitionEvent{Cluster: "c", Kind: "isr_shrink", Topic: "t", Partition: 0, StartedAt: min(1), EndedAt: &end, Brokers: "3", Detail: "ISR [1 2 3] → [1 2]"}
		ur := &PartitionEvent{Cluster: "c", Kind: "under_replicated", Topic: "t", Partition: 0, StartedAt: min(1), Brokers: "3", Cause: "broker_down"}
		other := &PartitionEvent{Cluster: "c", Kind: "under_replicated", Topic: "u", Partition: 2, StartedAt: min(5), Brokers: "1", Cause: "follower_behind"}
		if err := s.RecordPartitionEvents(ctx, []*PartitionEvent{shrink, ur, other}, nil); err != nil {
			t.Fatal(err)
		}
		open, err := s.OpenPartitionEvents(ctx, "c")
		if err != nil || len(open) != 2 {
			t.Fatalf("open events %+v (%v), want 2", open, err)
		}
		// Broker 2 also dropped out before the interval ended.
		if err := s.RecordPartitionEvents(ctx, nil, []EventClose{{ID: ur.ID, EndedAt: min(4), Brokers: []int32{2, 3}}}); err != nil {
			t.Fatal(err)
		}
		got, err := s.PartitionEvents(ctx, EventFilter{Cluster: "c", Topic: "t", From: t0, To: min(10)})
		if err != nil || len(got) != 2 {
			t.Fatalf("topic t events %+v (%v), want 2", got, err)
		}
		for _, e := range got {
			if e.Kind == "under_replicated" && (e.EndedAt == nil || !e.EndedAt.Equal(min(4)) || !slices.Equal(e.BrokerIDs(), []int32{2, 3})) {
				t.Fatalf("closed interval read back as %+v", e)
			}
		}
		two := int32(2)
		got, err = s.PartitionEvents(ctx, EventFilter{Cluster: "c", Broker: &two, From: t0, To: min(10)})
		if err != nil || len(got) != 1 || got[0].ID != ur.ID {
			t.Fatalf("broker 2 events %+v (%v), want the interval it joined", got, err)
		}
		// Overlap: the still-open interval on u overlaps a later window; the closed ones do not.
		got, err = s.PartitionEvents(ctx, EventFilter{Cluster: "c", From: min(6), To: min(9)})
		if err != nil || len(got) != 1 || got[0].ID != other.ID {
			t.Fatalf("events in minutes 6-9: %+v (%v), want only the open one", got, err)
		}
		if n, err := s.ExpirePartitionEvents(ctx, min(30)); err != nil || n == 0 {
			t.Fatalf("expired %d (%v)", n, err)
		}
		got, _ = s.PartitionEvents(ctx, EventFilter{Cluster: "c", From: t0, To: min(60)})
		if len(got) != 1 || got[0].ID != other.ID {
			t.Fatalf("after expiry: %+v, want the open interval only", got)
		}
	})
}
