package store

import (
	"context"
	"testing"
	"time"
)

// A topic written until minute 2 and idle since, one never written while stored, and a group that
// committed on one of its two topics until minute 3: their first rows and last rises, on both
// dialects.
func TestActivity(t *testing.T) {
	eachDialect(t, func(t *testing.T, s *Store) {
		ctx := context.Background()
		t0 := time.Date(2026, 1, 2, 3, 0, 0, 0, time.UTC)
		ts := func(m int) int64 { return t0.Add(time.Duration(m) * time.Minute).Unix() }
		var b Batch
		for m, end := range []int64{10, 20, 30, 30, 30} {
			b.Topics = append(b.Topics, TopicPoint{Cluster: "c", Topic: "busy", Ts: ts(m), EndOffset: end})
			b.Topics = append(b.Topics, TopicPoint{Cluster: "c", Topic: "still", Ts: ts(m), EndOffset: 5})
			b.Topics = append(b.Topics, TopicPoint{Cluster: "other", Topic: "busy", Ts: ts(m), EndOffset: int64(m)})
		}
		for m, committed := range []int64{1, 2, 3, 4, 4} {
			b.Groups = append(b.Groups, GroupPoint{Cluster: "c", GroupName: "g", Topic: "busy", Ts: ts(m), Committed: committed})
			b.Groups = append(b.Groups, GroupPoint{Cluster: "c", GroupName: "g", Topic: "still", Ts: ts(m), Committed: 7})
		}
		if err := s.WriteBatch(ctx, &b); err != nil {
			t.Fatal(err)
		}
		topics, err := s.TopicActivity(ctx, "c")
		if err != nil {
			t.Fatal(err)
		}
		if a := topics["busy"]; !a.Rose || a.LastRise.Unix() != ts(2) || a.First.Unix() != ts(0) {
			t.Fatalf("busy: %+v, want rose, last at minute 2", a)
		}
		if a := topics["still"]; a.Rose || a.First.Unix() != ts(0) {
			t.Fatalf("still: %+v, want no rise since minute 0", a)
		}
		if len(topics) != 2 {
			t.Fatalf("topics %v: another cluster's series leaked in", topics)
		}
		groups, err := s.GroupActivity(ctx, "c")
		if err != nil {
			t.Fatal(err)
		}
		if a := groups["g"]; !a.Rose || a.LastRise.Unix() != ts(3) {
			t.Fatalf("group g: %+v, want the last commit at minute 3", a)
		}
		recent, err := s.RecentGroupPoints(ctx, "c", t0.Add(3*time.Minute))
		if err != nil || len(recent) != 4 || recent[0].Topic != "busy" || recent[0].Ts != ts(3) || recent[1].Committed != 4 {
			t.Fatalf("points since minute 3: %+v (%v), want busy's 3 and 4 then still's", recent, err)
		}
	})
}
