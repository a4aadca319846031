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
		// A window that starts inside an interval finds it after the events that started in the
		// window, by broker too; the instant before the window is not in it.
		three := int32(3)
		got, err = s.PartitionEvents(ctx, EventFilter{Cluster: "c", Broker: &three, From: min(2), To: min(10)})
		if err != nil || len(got) != 1 || got[0].ID != ur.ID {
			t.Fatalf("broker 3 events in minutes 2-10: %+v (%v), want the interval begun at minute 1", got, err)
		}
		got, err = s.PartitionEvents(ctx, EventFilter{Cluster: "c", From: min(2), To: min(10)})
		if err != nil || len(got) != 2 || got[0].ID != other.ID || got[1].ID != ur.ID {
			t.Fatalf("events in minutes 2-10: %+v (%v), want the one begun at 5, then the one begun at 1", got, err)
		}
		got, err = s.PartitionEvents(ctx, EventFilter{Cluster: "c", From: min(2), To: min(10), Limit: 1})
		if err != nil || len(got) != 1 || got[0].ID != other.ID {
			t.Fatalf("events in minutes 2-10, limit 1: %+v (%v), want the newest", got, err)
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

// A broker of a large cluster going down and coming back: 1,200 intervals opened in one call and
// closed in the next, in batches, each with its own id and broker rows, on both dialects.
func TestPartitionEventsInBatches(t *testing.T) {
	eachDialect(t, func(t *testing.T, s *Store) {
		ctx := context.Background()
		t0 := time.Date(2026, 1, 2, 3, 0, 0, 0, time.UTC)
		var add []*PartitionEvent
		for i := 0; i < 1200; i++ {
			add = append(add, &PartitionEvent{Cluster: "c", Kind: "under_replicated", Topic: "t", Partition: int32(i), StartedAt: t0, Brokers: "3", Cause: "broker_down"})
		}
		if err := s.RecordPartitionEvents(ctx, add, nil); err != nil {
			t.Fatal(err)
		}
		var closes []EventClose
		for _, e := range add {
			closes = append(closes, EventClose{ID: e.ID, EndedAt: t0.Add(time.Minute), Brokers: []int32{3, int32(e.Partition % 2)}})
		}
		if err := s.RecordPartitionEvents(ctx, nil, closes); err != nil {
			t.Fatal(err)
		}
		open, err := s.OpenPartitionEvents(ctx, "c")
		if err != nil || len(open) != 0 {
			t.Fatalf("%d still open (%v), want none", len(open), err)
		}
		three, one := int32(3), int32(1)
		for _, c := range []struct {
			broker *int32
			want   int
		}{{&three, 1200}, {&one, 600}} {
			got, err := s.PartitionEvents(ctx, EventFilter{Cluster: "c", Broker: c.broker, From: t0, To: t0.Add(time.Hour), Limit: 5000})
			if err != nil || len(got) != c.want {
				t.Fatalf("broker %d: %d events (%v), want %d", *c.broker, len(got), err, c.want)
			}
		}
	})
}
