package service

import (
	"context"
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kfake"
	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/osprey-kafka/osprey/admin"
	"github.com/osprey-kafka/osprey/collector"
	"github.com/osprey-kafka/osprey/internal/testenv"
	"github.com/osprey-kafka/osprey/store"
)

// With a fixed stored history, the housekeeping page lists the topic idle for 10 days (not the one
// produced to an hour ago), the topic no group reads, the empty group without a commit for 10
// days and the partitions never written; a dry run refuses internal and unknown names and answers
// a token without which nothing is deleted; with it, the topic and the group are deleted and the
// deletion is audited.
func TestHousekeepingListsAndDeletesAfterDryRun(t *testing.T) {
	ctx := context.Background()
	kc, err := kfake.NewCluster(kfake.NumBrokers(1), kfake.SeedTopics(1, "idle", "unread"), kfake.SeedTopics(2, "fresh"))
	if err != nil {
		t.Fatal(err)
	}
	defer kc.Close()
	st := newOpsTestStore(t)
	svc := New(Options{Store: st, Logger: quietLog(), Collector: collector.Config{OffsetsInterval: time.Hour, GroupsInterval: time.Millisecond}})
	if err := svc.AddCluster(ctx, ClusterSpec{Name: "k", Source: "config", Admin: admin.Config{Bootstrap: kc.ListenAddrs()}}); err != nil {
		t.Fatal(err)
	}
	defer svc.Stop()
	cl, err := kgo.NewClient(kgo.SeedBrokers(kc.ListenAddrs()...), kgo.RecordPartitioner(kgo.ManualPartitioner()))
	if err != nil {
		t.Fatal(err)
	}
	defer cl.Close()
	for _, topic := range []string{"idle", "fresh"} {
		if err := cl.ProduceSync(ctx, &kgo.Record{Topic: topic, Partition: 0, Value: []byte("v")}).FirstErr(); err != nil {
			t.Fatal(err)
		}
	}
	adm, err := admin.New(admin.Config{Bootstrap: kc.ListenAddrs()}, quietLog())
	if err != nil {
		t.Fatal(err)
	}
	defer adm.Close()
	for group, topic := range map[string]string{"stale": "idle", "recent": "fresh"} {
		if _, err := adm.CommitOffsets(ctx, group, map[string]map[int32]int64{topic: {0: 0}}); err != nil {
			t.Fatal(err)
		}
	}
	// History: "idle" and "stale" unchanged for 10 days; "fresh" and "recent" moved an hour ago.
	now := time.Now()
	var b store.Batch
	for d := 10; d >= 0; d-- {
		ts := now.Add(-time.Duration(d) * 24 * time.Hour).Unix()
		b.Topics = append(b.Topics, store.TopicPoint{Cluster: "k", Topic: "idle", Ts: ts, EndOffset: 1})
		b.Groups = append(b.Groups, store.GroupPoint{Cluster: "k", GroupName: "stale", Topic: "idle", Ts: ts})
		b.Topics = append(b.Topics, store.TopicPoint{Cluster: "k", Topic: "fresh", Ts: ts})
		b.Groups = append(b.Groups, store.GroupPoint{Cluster: "k", GroupName: "recent", Topic: "fresh", Ts: ts})
	}
	hourAgo := now.Add(-time.Hour).Unix()
	b.Topics = append(b.Topics, store.TopicPoint{Cluster: "k", Topic: "fresh", Ts: hourAgo, EndOffset: 1})
	b.Groups = append(b.Groups, store.GroupPoint{Cluster: "k", GroupName: "recent", Topic: "fresh", Ts: hourAgo, Committed: 1})
	if err := st.WriteBatch(ctx, &b); err != nil {
		t.Fatal(err)
	}
	testenv.WaitFor(t, 10*time.Second, func() error {
		snap, err := svc.PollNow(ctx, "k")
		if err != nil || len(snap.Groups) != 2 || snap.Groups[0].State == "" || snap.Groups[1].State == "" {
			return fmt.Errorf("groups not described yet (%v)", err)
		}
		return nil
	})

	h, err := svc.Housekeeping(ctx, "k", HousekeepingQuery{})
	if err != nil {
		t.Fatal(err)
	}
	if len(h.IdleTopics) != 1 || h.IdleTopics[0].Topic != "idle" || h.IdleTopics[0].LastAt != nil || h.IdleTopics[0].Since == nil {
		t.Fatalf("idle topics %+v, want only idle, quiet since its history began", h.IdleTopics)
	}
	if len(h.UnconsumedTopics) != 1 || h.UnconsumedTopics[0].Topic != "unread" {
		t.Fatalf("unconsumed topics %+v, want only unread", h.UnconsumedTopics)
	}
	if len(h.EmptyGroups) != 1 || h.EmptyGroups[0].Group != "stale" {
		t.Fatalf("empty groups %+v, want only stale", h.EmptyGroups)
	}
	unwritten := map[string]bool{}
	for _, p := range h.UnwrittenPartitions {
		unwritten[p.Topic+"/"+string(rune('0'+p.Partition))] = true
	}
	if len(unwritten) != 2 || !unwritten["fresh/1"] || !unwritten["unread/0"] {
		t.Fatalf("unwritten partitions %v, want fresh/1 and unread/0", unwritten)
	}

	root := Caller{Identity: Identity{Name: "root", Kind: "token", Role: RoleAdmin}}
	req := CleanupRequest{Topics: []string{"idle", "__consumer_offsets", "nope"}, Groups: []string{"stale"}}
	plan, err := svc.Cleanup(ctx, root, "k", req)
	if err != nil {
		t.Fatal(err)
	}
	refused := map[string]string{}
	for _, it := range plan.Items {
		refused[it.Name] = it.Refused
		if it.Deleted {
			t.Fatalf("dry run deleted %s", it.Name)
		}
	}
	if !plan.DryRun || plan.Token == "" || refused["idle"] != "" || refused["stale"] != "" || refused["__consumer_offsets"] != "internal" || refused["nope"] != "unknown" {
		t.Fatalf("plan %+v", plan)
	}
	no := false
	req.DryRun = &no
	req.Token = "0000"
	var ue *UserError
	if _, err := svc.Cleanup(ctx, root, "k", req); !errors.As(err, &ue) || ue.Code != "plan_changed" {
		t.Fatalf("confirm with a wrong token: %v, want plan_changed", err)
	}
	if snap, _ := svc.Snapshot("k"); snap != nil {
		if _, ok := snap.Topic("idle"); !ok {
			t.Fatal("a refused confirmation deleted the topic")
		}
	}
	req.Token = plan.Token
	done, err := svc.Cleanup(ctx, root, "k", req)
	if err != nil {
		t.Fatal(err)
	}
	for _, it := range done.Items {
		if want := it.Refused == ""; it.Deleted != want {
			t.Fatalf("item %+v: deleted %v, want %v", it, it.Deleted, want)
		}
	}
	snap, err := svc.PollNow(ctx, "k")
	if err != nil {
		t.Fatal(err)
	}
	if _, ok := snap.Topic("idle"); ok {
		t.Fatal("topic idle still exists")
	}
	entries, _, err := st.Audit(ctx, store.AuditFilter{})
	if err != nil || len(entries) != 1 || entries[0].Action != "housekeeping.delete" || entries[0].Result != "ok" {
		t.Fatalf("audit %+v (%v), want one housekeeping.delete ok", entries, err)
	}
}
