package service

import (
	"context"
	"net/http"
	"slices"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kerr"

	"github.com/osprey-kafka/osprey/admin"
	"github.com/osprey-kafka/osprey/collector"
)

func TestElectionScopes(t *testing.T) {
	snap := testSnapshot(3, nil, map[string][][]int32{
		"orders":   {{1, 2}, {2, 3}, {3, 1}},
		"payments": {{1, 2}, {2, 1}},
	}, map[TopicPartition]int32{{"orders", 0}: 2, {"orders", 2}: 1, {"payments", 1}: 1})

	elect, items, err := electionTargets(snap, ElectionScope{})
	if err != nil {
		t.Fatal(err)
	}
	// The whole cluster's scope lists every partition, those already led by their preferred replica too.
	if !slices.Equal(elect["orders"], []int32{0, 2}) || !slices.Equal(elect["payments"], []int32{1}) || len(items) != 5 {
		t.Fatalf("all: elect %v items %+v", elect, items)
	}
	elect, items, err = electionTargets(snap, ElectionScope{Topic: "orders"})
	if err != nil || len(elect) != 1 || len(items) != 3 || items[1].Result != ElectionNotNeeded {
		t.Fatalf("topic: elect %v items %+v err %v", elect, items, err)
	}
	elect, items, err = electionTargets(snap, ElectionScope{Partitions: []TopicPartition{{"payments", 0}, {"payments", 1}, {"payments", 1}}})
	if err != nil || !slices.Equal(elect["payments"], []int32{1}) || len(items) != 2 {
		t.Fatalf("partitions: elect %v items %+v err %v", elect, items, err)
	}
	_, _, err = electionTargets(snap, ElectionScope{Topic: "nope"})
	wantUserError(t, err, http.StatusBadRequest, "unknown_topic", "nope")
	_, _, err = electionTargets(snap, ElectionScope{Partitions: []TopicPartition{{"orders", 7}, {"gone", 0}}})
	wantUserError(t, err, http.StatusBadRequest, "unknown_topic", "gone")
	_, _, err = electionTargets(snap, ElectionScope{Partitions: []TopicPartition{{"orders", 7}}})
	wantUserError(t, err, http.StatusBadRequest, "unknown_partition", "orders-7")
	_, _, err = electionTargets(snap, ElectionScope{Topic: "orders", Partitions: []TopicPartition{{"payments", 0}}})
	wantUserError(t, err, http.StatusBadRequest, "bad_request")
}

func TestElectReadsLeadersFromFreshMetadata(t *testing.T) {
	replicas := map[string][][]int32{"orders": {{1, 2}, {2, 3}, {3, 1}, {2, 3}}}
	// The snapshot is older than the cluster: it shows orders-2 led by 1, which the metadata no longer does.
	snap := testSnapshot(3, nil, replicas, map[TopicPartition]int32{{"orders", 0}: 2, {"orders", 2}: 1, {"orders", 3}: 3})
	before := testMetadata(3, replicas, map[TopicPartition]int32{{"orders", 0}: 2, {"orders", 3}: 3})
	// The controller moves orders-0 to its preferred replica, but the brokers' metadata shows it only
	// from the fourth read on; orders-3's new leader never shows.
	elected := testMetadata(3, replicas, map[TopicPartition]int32{{"orders", 3}: 3})
	fa := &fakeOpsAdmin{metadata: func(call int) *admin.Metadata {
		if call < 4 {
			return before
		}
		return elected
	}}
	o := newTestOps(fa, nil)
	o.settle = time.Second
	polled := 0
	o.poll = func(context.Context) *collector.Snapshot { polled++; return snap }
	res, err := o.elect(context.Background(), snap, ElectionScope{Topic: "orders"})
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(fa.elected["orders"], []int32{0, 3}) {
		t.Fatalf("elected %v: want orders-0 and orders-3 (orders-2 is led by its preferred replica now)", fa.elected)
	}
	if res.Total != 4 || res.Elected != 1 || res.NotNeeded != 2 || res.Pending != 1 || res.Failed != 0 || polled != 1 {
		t.Fatalf("res = %+v polled %d", res, polled)
	}
	want := []ElectionPartition{
		{Topic: "orders", Partition: 0, LeaderBefore: 2, PreferredLeader: 1, LeaderAfter: 1, Result: ElectionElected},
		{Topic: "orders", Partition: 1, LeaderBefore: 2, PreferredLeader: 2, LeaderAfter: 2, Result: ElectionNotNeeded},
		{Topic: "orders", Partition: 2, LeaderBefore: 3, PreferredLeader: 3, LeaderAfter: 3, Result: ElectionNotNeeded},
	}
	if !slices.Equal(res.Items[:3], want) {
		t.Fatalf("items = %+v\nwant    %+v", res.Items[:3], want)
	}
	if p := res.Items[3]; p.Result != ElectionPending || p.LeaderBefore != 3 || p.LeaderAfter != 3 || p.Error == "" {
		t.Fatalf("orders-3 = %+v: the controller accepted, the metadata never showed it", p)
	}
	// Elected counts exactly the partitions whose leader changed.
	changed := 0
	for _, it := range res.Items {
		if it.LeaderAfter != it.LeaderBefore {
			changed++
		}
	}
	if changed != res.Elected {
		t.Fatalf("%d leaders changed, %d reported elected", changed, res.Elected)
	}
	if len(res.Topics) != 1 || res.Topics[0].PreferredLeaderBefore != 50 || res.Topics[0].PreferredLeaderAfter != 75 {
		t.Fatalf("topics = %+v", res.Topics)
	}

	// A whole-cluster election on a balanced cluster: every partition is already preferred, and listed.
	fa.elected, fa.mdCalls = nil, 0
	fa.metadata = func(int) *admin.Metadata { return elected }
	res, err = o.elect(context.Background(), snap, ElectionScope{})
	if err != nil {
		t.Fatal(err)
	}
	if res.Total != 4 || res.NotNeeded != 3 || res.Pending != 1 || len(res.Items) != 4 {
		t.Fatalf("all = %+v", res)
	}
	fa.elected = nil
	fa.metadata = func(int) *admin.Metadata { return testMetadata(3, replicas, nil) }
	res, err = o.elect(context.Background(), snap, ElectionScope{})
	if err != nil || res.Total != 4 || res.NotNeeded != 4 || res.Elected != 0 || len(res.Items) != 4 || fa.elected != nil {
		t.Fatalf("balanced: res %+v err %v elected %v", res, err, fa.elected)
	}

	// Every election failing is an error.
	fa.elected = nil
	fa.metadata = func(int) *admin.Metadata { return before }
	fa.electErr = map[TopicPartition]error{{"orders", 0}: refusal("ElectLeaders", kerr.PreferredLeaderNotAvailable), {"orders", 3}: refusal("ElectLeaders", kerr.PreferredLeaderNotAvailable)}
	_, err = o.elect(context.Background(), snap, ElectionScope{})
	wantUserError(t, err, http.StatusBadGateway, "kafka_error", "orders-0")
}
