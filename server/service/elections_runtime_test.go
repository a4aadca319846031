package service

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/osprey-kafka/osprey/admin"
	"github.com/osprey-kafka/osprey/collector"
	"github.com/osprey-kafka/osprey/internal/testenv"
)

// TestElectionOnRuntimeCluster elects on Osprey's own three-broker cluster, whose controller records new
// leaders before the brokers' metadata shows them: the answer's after side is what the metadata shows
// once the election has taken effect, "elected" counts exactly the partitions whose leader changed, and a
// whole-cluster election on the balanced cluster lists every partition as already preferred.
func TestElectionOnRuntimeCluster(t *testing.T) {
	if testing.Short() {
		t.Skip("starts a three-broker cluster")
	}
	ctx := context.Background()
	svc := New(Options{Logger: quietLog(), DataDir: t.TempDir(),
		Collector: collector.Config{OffsetsInterval: time.Hour, GroupsInterval: time.Hour, LogDirsInterval: time.Hour}})
	t.Cleanup(svc.Stop)
	if _, err := svc.StartEmbedded(ctx, "rt", 3, false, 5*time.Second); err != nil {
		t.Fatal(err)
	}
	if err := svc.Start(ctx); err != nil {
		t.Fatal(err)
	}
	c, err := svc.get("rt")
	if err != nil {
		t.Fatal(err)
	}
	who := Caller{Identity: Identity{Name: "test", Kind: "admin-token", Role: RoleAdmin}}
	if err := svc.CreateTopic(ctx, who, "rt", CreateTopicRequest{Name: "payments", Partitions: 6, ReplicationFactor: 2}); err != nil {
		t.Fatal(err)
	}
	// partitions reads the topic's partitions from fresh metadata, checking each with ok.
	partitions := func(ok func(admin.PartitionMetadata) error) error {
		md, err := c.client.Metadata(ctx, []string{"payments"})
		if err != nil {
			return err
		}
		if len(md.Topics) != 1 || len(md.Topics[0].Partitions) != 6 {
			return fmt.Errorf("metadata %+v", md.Topics)
		}
		for _, p := range md.Topics[0].Partitions {
			if err := ok(p); err != nil {
				return fmt.Errorf("partition %d: %w", p.Partition, err)
			}
		}
		return nil
	}
	inSync := func(p admin.PartitionMetadata) error {
		if p.Leader < 0 || len(p.ISR) != len(p.Replicas) {
			return fmt.Errorf("leader %d, ISR %v of %v", p.Leader, p.ISR, p.Replicas)
		}
		return nil
	}
	// The topic is created with every replica in sync.
	testenv.WaitFor(t, 30*time.Second, func() error { return partitions(inSync) })

	// Kill broker 1 and start it again: the partitions it led are led by their other replica now.
	if _, err := svc.BrokerAction(ctx, who, "rt", 1, "kill"); err != nil {
		t.Fatal(err)
	}
	// The leaders move off broker 1.
	testenv.WaitFor(t, 30*time.Second, func() error {
		return partitions(func(p admin.PartitionMetadata) error {
			if p.Leader == 1 || p.Leader < 0 {
				return fmt.Errorf("leader %d", p.Leader)
			}
			return nil
		})
	})
	if _, err := svc.BrokerAction(ctx, who, "rt", 1, "start"); err != nil {
		t.Fatal(err)
	}
	// Broker 1 is back in every ISR.
	testenv.WaitFor(t, 60*time.Second, func() error { return partitions(inSync) })
	if _, err := svc.PollNow(ctx, "rt"); err != nil {
		t.Fatal(err)
	}

	res, err := svc.ElectPreferred(ctx, who, "rt", ElectionScope{Topic: "payments"})
	if err != nil {
		t.Fatal(err)
	}
	if res.Total != 6 || res.Failed != 0 || res.Pending != 0 || res.Elected+res.NotNeeded != 6 {
		t.Fatalf("topic election = %+v", res)
	}
	changed := 0
	for _, it := range res.Items {
		if it.LeaderAfter != it.PreferredLeader {
			t.Errorf("%s-%d: after %d, preferred %d (%s)", it.Topic, it.Partition, it.LeaderAfter, it.PreferredLeader, it.Result)
		}
		if it.LeaderBefore != it.LeaderAfter {
			changed++
			if it.Result != ElectionElected {
				t.Errorf("%s-%d moved %d → %d but is reported %s", it.Topic, it.Partition, it.LeaderBefore, it.LeaderAfter, it.Result)
			}
		}
	}
	if changed == 0 || changed != res.Elected {
		t.Fatalf("%d leaders changed, %d reported elected: %+v", changed, res.Elected, res.Items)
	}
	if len(res.Topics) != 1 || res.Topics[0].PreferredLeaderBefore >= 100 || res.Topics[0].PreferredLeaderAfter != 100 {
		t.Fatalf("topic figures = %+v", res.Topics)
	}
	// The after side is what the cluster shows.
	byPartition := map[int32]int32{}
	for _, it := range res.Items {
		byPartition[it.Partition] = it.LeaderAfter
	}
	if err := partitions(func(p admin.PartitionMetadata) error {
		if p.Leader != byPartition[p.Partition] {
			return fmt.Errorf("leader %d, the election said %d", p.Leader, byPartition[p.Partition])
		}
		return nil
	}); err != nil {
		t.Fatal(err)
	}

	// The whole cluster: the kill moved __consumer_offsets leaders too; they are elected now, and again
	// only the partitions whose leader changed count as elected.
	if _, err := svc.PollNow(ctx, "rt"); err != nil {
		t.Fatal(err)
	}
	res, err = svc.ElectPreferred(ctx, who, "rt", ElectionScope{})
	if err != nil {
		t.Fatal(err)
	}
	changed = 0
	for _, it := range res.Items {
		if it.LeaderAfter != it.PreferredLeader {
			t.Errorf("%s-%d: after %d, preferred %d (%s)", it.Topic, it.Partition, it.LeaderAfter, it.PreferredLeader, it.Result)
		}
		if it.LeaderBefore != it.LeaderAfter {
			changed++
		}
	}
	if changed != res.Elected || res.Failed != 0 || res.Pending != 0 {
		t.Fatalf("%d leaders changed, %d reported elected: %+v", changed, res.Elected, res)
	}

	// The whole cluster, now balanced: nothing elected, every partition listed as already preferred.
	md, err := c.client.Metadata(ctx, nil)
	if err != nil {
		t.Fatal(err)
	}
	all := 0
	for _, tm := range md.Topics {
		all += len(tm.Partitions)
	}
	if _, err := svc.PollNow(ctx, "rt"); err != nil {
		t.Fatal(err)
	}
	res, err = svc.ElectPreferred(ctx, who, "rt", ElectionScope{})
	if err != nil {
		t.Fatal(err)
	}
	if res.Elected != 0 || res.NotNeeded != all || res.Total != all || len(res.Items) != all || all < 6 {
		t.Fatalf("whole-cluster election on a balanced cluster (%d partitions) = %+v", all, res)
	}
}
